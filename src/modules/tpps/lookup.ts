import { and, eq } from 'drizzle-orm';
import { tpps } from '../../db/tenant';
import type { ServiceContext } from '../../platform/context';
import { notFound } from '../../platform/errors';

/* Row lookups of TPPs, shared by the registry and the consents without importing each other. */

type TppRow = typeof tpps.$inferSelect;

export async function findTpp(ctx: ServiceContext, tppId: string): Promise<TppRow | undefined> {
  return ctx.db
    .select()
    .from(tpps)
    .where(and(eq(tpps.tenantId, ctx.tenant.id), eq(tpps.id, tppId)))
    .get();
}

export async function requireTpp(ctx: ServiceContext, tppId: string): Promise<TppRow> {
  const row = await findTpp(ctx, tppId);
  if (!row) throw notFound('TPP');
  return row;
}
