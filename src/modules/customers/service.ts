import { type AnyColumn, and, desc, eq, gte, lt, or, type SQL, sql } from 'drizzle-orm';
import { customers } from '../../db/tenant';
import type { ServiceContext } from '../../platform/context';
import { notFound } from '../../platform/errors';
import { decodeCursor, toPage } from '../../platform/pagination';
import type { CustomerListQuery, CustomerStatus, CustomerView, IndividualProfile } from './schemas';

type CustomerRow = typeof customers.$inferSelect;

export function presentCustomer(row: CustomerRow): CustomerView {
  return {
    id: row.id,
    type: row.type,
    status: row.status as CustomerStatus,
    email: row.email,
    phone: row.phone,
    emailVerified: row.emailVerifiedAt !== null,
    phoneVerified: row.phoneVerifiedAt !== null,
    individual: row.type === 'INDIVIDUAL' ? (row.profile as IndividualProfile) : null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/**
 * Customers may see only their own record; to them any other id does not exist, so the
 * answer is the same 404 as for an id of another tenant.
 */
export function assertCustomerVisible(ctx: ServiceContext, customerId: string): void {
  if (ctx.actor.type === 'user' && ctx.actor.userKind === 'CUSTOMER' && ctx.actor.customerId !== customerId) {
    throw notFound('customer');
  }
}

export async function getCustomer(ctx: ServiceContext, customerId: string): Promise<CustomerView> {
  assertCustomerVisible(ctx, customerId);
  const row = await ctx.db
    .select()
    .from(customers)
    .where(and(eq(customers.tenantId, ctx.tenant.id), eq(customers.id, customerId)))
    .get();
  if (!row) throw notFound('customer');
  return presentCustomer(row);
}

/**
 * Case-insensitive (ASCII, as SQLite's `lower`) substring match, the term taken literally. Not
 * LIKE: D1 refuses LIKE patterns over 50 bytes, and the term may be 100 characters.
 */
function contains(column: AnyColumn, term: string): SQL {
  return sql`instr(lower(${column}), lower(${term})) > 0`;
}

export async function listCustomers(
  ctx: ServiceContext,
  query: CustomerListQuery,
): Promise<{ data: CustomerView[]; nextCursor: string | null }> {
  const after = decodeCursor(query.cursor, 'cus');
  const filters: (SQL | undefined)[] = [
    eq(customers.tenantId, ctx.tenant.id),
    after ? lt(customers.id, after) : undefined,
    query.type ? eq(customers.type, query.type) : undefined,
    query.status ? eq(customers.status, query.status) : undefined,
    query.email ? eq(customers.email, query.email.trim().toLowerCase()) : undefined,
    query.createdFrom ? gte(customers.createdAt, new Date(query.createdFrom).toISOString()) : undefined,
    query.createdTo ? lt(customers.createdAt, new Date(query.createdTo).toISOString()) : undefined,
    query.q
      ? or(contains(customers.displayName, query.q), contains(customers.email, query.q.toLowerCase()))
      : undefined,
  ];
  const rows = await ctx.db
    .select()
    .from(customers)
    .where(and(...filters))
    .orderBy(desc(customers.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit);
  return { data: page.data.map(presentCustomer), nextCursor: page.nextCursor };
}
