import { drizzle } from 'drizzle-orm/d1';
import * as controlSchema from './control';
import * as tenantSchema from './tenant';

/**
 * What `make` gives for an object (a binding, a drizzle instance), made once per object: bindings
 * and the drizzle instances over them outlive requests in an isolate.
 */
export function perInstance<K extends object, T>(make: (instance: K) => T): (instance: K) => T {
  const made = new WeakMap<K, T>();
  return (instance) => {
    const known = made.get(instance);
    if (known) return known;
    const value = make(instance);
    made.set(instance, value);
    return value;
  };
}

// Making a drizzle instance walks the whole schema (its relational config), a tenth of a cheap
// read's CPU when done per request.
export const tenantDb = perInstance((database: D1Database) => drizzle(database, { schema: tenantSchema }));
export const controlDb = perInstance((database: D1Database) => drizzle(database, { schema: controlSchema }));

export type TenantDb = ReturnType<typeof tenantDb>;

function errorText(error: unknown): string {
  return String(error instanceof Error ? `${error.message} ${String(error.cause ?? '')}` : error);
}

/**
 * Whether a D1 write (or the batch it was in, which then rolled back) hit a unique index; with
 * `column` (`table.column`), one of whose columns it is, for a batch that writes several.
 */
export function isUniqueViolation(error: unknown, column?: string): boolean {
  const failed = /UNIQUE constraint failed: ([^\n]*)/.exec(errorText(error));
  return failed !== null && (column === undefined || (failed[1] ?? '').includes(column));
}

/**
 * Whether a D1 write (or the batch it was in, which then rolled back) was refused by the named
 * guard: NULL written into the NOT NULL column `table.column`, or a value the named CHECK
 * constraint rejects. SQLite names the column or constraint after the colon.
 */
export function isGuardViolation(error: unknown, columnOrConstraint: string): boolean {
  const text = errorText(error);
  return ['NOT NULL', 'CHECK'].some((kind) =>
    text.includes(`${kind} constraint failed: ${columnOrConstraint}`),
  );
}

/** A drizzle query builder, which can tell what it would bind. */
export type StatementWithParameters = { toSQL(): { params: unknown[] } };

/** D1 binds at most this many parameters per statement (SQLite's own limit is far higher). */
export const D1_MAX_BOUND_PARAMETERS = 100;

/**
 * Builds one statement per part of a caller-sized list (the values of an `IN (…)`, the rows of a
 * multi-row insert) so that none binds more than D1 allows. How many parameters each value and
 * the rest of the statement take is measured on the statement itself, not counted by hand:
 * run the parts in one `db.batch` (atomic) or side by side (reads), and concatenate.
 */
export function withinParameterLimit<T, S extends StatementWithParameters>(
  values: readonly T[],
  build: (part: T[]) => S,
): S[] {
  if (values.length === 0) return [];
  const [first, second] = values as [T, ...T[]];
  const withOne = build([first]).toSQL().params.length;
  const perValue = second === undefined ? 0 : build([first, second]).toSQL().params.length - withOne;
  const fixed = withOne - perValue;
  if (withOne > D1_MAX_BOUND_PARAMETERS) {
    throw new Error(
      `a statement binds ${withOne} parameters for a single value; D1 allows ${D1_MAX_BOUND_PARAMETERS}`,
    );
  }
  const size = perValue === 0 ? values.length : Math.floor((D1_MAX_BOUND_PARAMETERS - fixed) / perValue);
  const statements: S[] = [];
  for (let start = 0; start < values.length; start += size) {
    statements.push(build(values.slice(start, start + size)));
  }
  return statements;
}
