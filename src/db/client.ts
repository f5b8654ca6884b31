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
export type ControlDb = ReturnType<typeof controlDb>;

/** Whether a failed write broke a unique index: the database's answer to two requests racing past a check. */
export function isUniqueViolation(error: unknown): boolean {
  const text = String(error instanceof Error ? `${error.message} ${String(error.cause ?? '')}` : error);
  return text.includes('UNIQUE constraint failed');
}
