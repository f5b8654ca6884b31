import type { z } from '@hono/zod-openapi';
import { asc, eq } from 'drizzle-orm';
import { controlDb } from '../../db/client';
import { tenants } from '../../db/control';
import type { Env } from '../../env';
import { ApiError } from '../../platform/errors';
import { forgetTenant, tenantFromRow } from '../../platform/tenancy';
import type { CreateTenantSchema, TenantSchema, UpdateTenantSchema } from './schemas';

type TenantView = z.infer<typeof TenantSchema>;

function present(env: Env, row: typeof tenants.$inferSelect): TenantView {
  const tenant = tenantFromRow(row);
  return {
    id: row.id,
    name: row.name,
    tier: row.tier,
    status: row.status,
    capabilities: [...tenant.capabilities],
    capabilityOverride: row.capabilities ?? null,
    rateLimitPerMinute: tenant.rateLimitPerMinute,
    customRateLimit: row.rateLimitPerMinute ?? null,
    d1Binding: row.d1Binding,
    databaseBound: row.d1Binding in env,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export async function listTenants(env: Env): Promise<TenantView[]> {
  const rows = await controlDb(env.CONTROL_DB).select().from(tenants).orderBy(asc(tenants.id));
  return rows.map((row) => present(env, row));
}

export async function getTenant(env: Env, tenantId: string): Promise<TenantView> {
  const row = await controlDb(env.CONTROL_DB).select().from(tenants).where(eq(tenants.id, tenantId)).get();
  if (!row) throw new ApiError('not_found', { detail: `No tenant '${tenantId}' is registered.` });
  return present(env, row);
}

export async function registerTenant(
  env: Env,
  input: z.infer<typeof CreateTenantSchema>,
  now = new Date(),
): Promise<TenantView> {
  const inserted = await controlDb(env.CONTROL_DB)
    .insert(tenants)
    .values({
      id: input.id,
      name: input.name,
      tier: input.tier,
      d1Binding: input.d1Binding,
      capabilities: input.capabilities ?? null,
      rateLimitPerMinute: input.rateLimitPerMinute ?? null,
      settings: {},
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    })
    .onConflictDoNothing()
    .returning();
  const row = inserted[0];
  if (!row) throw new ApiError('conflict', { detail: `A tenant '${input.id}' is already registered.` });
  forgetTenant(row.id);
  return present(env, row);
}

export async function updateTenant(
  env: Env,
  tenantId: string,
  input: z.infer<typeof UpdateTenantSchema>,
  now = new Date(),
): Promise<TenantView> {
  const updated = await controlDb(env.CONTROL_DB)
    .update(tenants)
    .set({
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.tier !== undefined ? { tier: input.tier } : {}),
      ...(input.status !== undefined ? { status: input.status } : {}),
      ...(input.capabilities !== undefined ? { capabilities: input.capabilities } : {}),
      ...(input.rateLimitPerMinute !== undefined ? { rateLimitPerMinute: input.rateLimitPerMinute } : {}),
      updatedAt: now.toISOString(),
    })
    .where(eq(tenants.id, tenantId))
    .returning();
  const row = updated[0];
  if (!row) throw new ApiError('not_found', { detail: `No tenant '${tenantId}' is registered.` });
  forgetTenant(tenantId);
  return present(env, row);
}
