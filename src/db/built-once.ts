import { fillPlaceholders, getTableColumns, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { RunnableQuery } from 'drizzle-orm/runnable-query';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { TenantDb } from './client';

/** What statements built once may be built from: their database and tenant, the cache's key. */
export interface TenantScope {
  db: TenantDb;
  tenant: { id: string };
}

/**
 * The parts of drizzle's prepared query that `db.batch` uses: it binds `getQuery().params` to
 * `stmt` and maps the rows with `mapResult`. drizzle-orm is pinned in package.json; an upgrade that
 * changes these is caught by every test that logs in.
 */
interface BatchPreparedQuery {
  query: { sql: string; params: unknown[] };
  getQuery(): { sql: string; params: unknown[] };
}

interface Preparable {
  _prepare(isOneTimeQuery?: boolean): BatchPreparedQuery;
}

/** A statement of `builtOnce`, bound: a batch item whose rows are typed as its builder's. */
export type BoundStatements<S extends readonly BatchItem<'sqlite'>[]> = {
  [K in keyof S]: RunnableQuery<S[K]['_']['result'], 'sqlite'>;
};

/**
 * Statements whose SQL drizzle builds once per database and tenant in an isolate, with
 * `sql.placeholder(name)` for whatever differs between uses: building is a cheap statement's
 * largest cost in the worker (about a fifth of a login's CPU beside its password hash went to
 * building its thirteen statements). Each use binds `values` (every placeholder's, by name; a missing one
 * throws) and gives items for `db.batch`, in `build`'s order. `build` sees only the scope, so no
 * value of one request can be built into the SQL another reuses.
 */
export function builtOnce<S extends readonly BatchItem<'sqlite'>[]>(
  build: (scope: TenantScope) => S,
): (scope: TenantScope, values: Record<string, unknown>) => BoundStatements<S> {
  const built = new WeakMap<TenantDb, Map<string, BatchPreparedQuery[]>>();
  return (scope, values) => {
    let ofDb = built.get(scope.db);
    if (!ofDb) {
      ofDb = new Map();
      built.set(scope.db, ofDb);
    }
    let prepared = ofDb.get(scope.tenant.id);
    if (!prepared) {
      const tenant = { id: scope.tenant.id };
      prepared = build({ db: scope.db, tenant }).map((statement) =>
        (statement as unknown as Preparable)._prepare(false),
      );
      ofDb.set(tenant.id, prepared);
    }
    return prepared.map((query) => {
      const bound = { sql: query.query.sql, params: fillPlaceholders(query.query.params, values) };
      const use: BatchPreparedQuery = Object.create(query, { getQuery: { value: () => bound } });
      return { _prepare: () => use };
    }) as unknown as BoundStatements<S>;
  };
}

/**
 * One row into `table` by an INSERT built once (`builtOnce`), every column a placeholder: a column
 * the row leaves out is written NULL, never its default, so only for tables without defaults.
 */
export function rowInsert<T extends SQLiteTable>(table: T) {
  const names = Object.keys(getTableColumns(table));
  const unset = Object.fromEntries(names.map((name) => [name, null]));
  const insert = builtOnce(
    (scope) =>
      [
        scope.db
          .insert(table)
          .values(Object.fromEntries(names.map((name) => [name, sql.placeholder(name)])) as never),
      ] as const,
  );
  return (scope: TenantScope, row: T['$inferInsert']) => insert(scope, { ...unset, ...row })[0];
}
