import { drizzle } from 'drizzle-orm/d1';
import * as controlSchema from './control';
import * as tenantSchema from './tenant';

export function tenantDb(database: D1Database) {
  return drizzle(database, { schema: tenantSchema });
}

export function controlDb(database: D1Database) {
  return drizzle(database, { schema: controlSchema });
}

export type TenantDb = ReturnType<typeof tenantDb>;

function errorText(error: unknown): string {
  return String(error instanceof Error ? `${error.message} ${String(error.cause ?? '')}` : error);
}

/** Whether a D1 write (or the batch it was in, which then rolled back) hit a unique index. */
export function isUniqueViolation(error: unknown): boolean {
  return errorText(error).includes('UNIQUE constraint failed');
}

/** Whether a D1 write (or the batch it was in, which then rolled back) failed the named CHECK. */
export function isCheckViolation(error: unknown, constraint: string): boolean {
  const text = errorText(error);
  return text.includes('CHECK constraint failed') && text.includes(constraint);
}

/** Whether a D1 write (or the batch it was in, which then rolled back) set the named NOT NULL column to null. */
export function isNotNullViolation(error: unknown, column: string): boolean {
  const text = errorText(error);
  return text.includes('NOT NULL constraint failed') && text.includes(column);
}
