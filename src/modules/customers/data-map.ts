import { and, eq, getTableColumns, inArray, type SQL, sql } from 'drizzle-orm';
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { type StatementWithParameters, withinParameterLimit } from '../../db/client';
import type { CustomerDataEntry, Holds } from '../../db/customer-data';
import { organizationPeople, users } from '../../db/tenant';
import type { ServiceContext } from '../../platform/context';

/** The ids of a customer that the data map's ties name (src/db/customer-data.ts). */
export type CustomerIds = Record<Holds, string[]>;

export async function customerIds(ctx: ServiceContext, customerId: string): Promise<CustomerIds> {
  const tenantId = ctx.tenant.id;
  const [logins, people] = await ctx.db.batch([
    ctx.db
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.tenantId, tenantId), eq(users.customerId, customerId)))
      .orderBy(users.id),
    ctx.db
      .select({ id: organizationPeople.id })
      .from(organizationPeople)
      .where(and(eq(organizationPeople.tenantId, tenantId), eq(organizationPeople.customerId, customerId))),
  ]);
  const loginIds = logins.map((login) => login.id);
  const personIds = people.map((person) => person.id);
  return {
    customer: [customerId],
    logins: loginIds,
    people: personIds,
    subjects: [customerId, ...loginIds, ...personIds],
  };
}

/** A mapped table's column by its property name; the schema test keeps every name real. */
export function columnOf(table: SQLiteTable, name: string): SQLiteColumn {
  const column = (getTableColumns(table) as Record<string, SQLiteColumn>)[name];
  if (!column) throw new Error(`the data map names a column ${name} its table does not have`);
  return column;
}

/**
 * The statements that reach an entry's rows of the customer: one per tie and per part of the
 * tie's ids, so that none binds more than D1 allows. A row is the customer's when any tie holds,
 * so run all of them (in one batch for writes; for reads, merge the results).
 */
export function forTheCustomer<S extends StatementWithParameters>(
  ctx: ServiceContext,
  entry: Pick<CustomerDataEntry, 'table' | 'ties'>,
  ids: CustomerIds,
  build: (filter: SQL) => S,
): S[] {
  const tenant = columnOf(entry.table, 'tenantId');
  return entry.ties.flatMap((tie) => {
    const column = columnOf(entry.table, tie.column);
    return withinParameterLimit(ids[tie.holds], (part) => {
      // The ids go as one JSON array: an OR per id would pass D1's expression depth limit (100).
      const matches =
        tie.match === 'mentions'
          ? sql`exists (select 1 from json_each(${JSON.stringify(part)}) as mentioned where instr(${column}, json_quote(mentioned.value)) > 0)`
          : inArray(column, part);
      return build(and(eq(tenant, ctx.tenant.id), matches) as SQL);
    });
  });
}
