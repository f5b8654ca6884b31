import type { z } from '@hono/zod-openapi';
import { and, asc, eq, type SQL, sql } from 'drizzle-orm';
import { controlDb } from '../../db/client';
import { tenants } from '../../db/control';
import type { Env } from '../../env';
import { ApiError } from '../../platform/errors';
import { forgetTenant, tenantFromRow } from '../../platform/tenancy';
import { TppSettingsSchema } from '../tpps/schemas';
import { changedPolicy, presentPolicy, verificationSettings } from '../verifications/policy';
import { WebAuthnSettingsSchema } from '../webauthn/schemas';
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
    webauthn: row.settings.webauthn ? WebAuthnSettingsSchema.parse(row.settings.webauthn) : null,
    tpp: row.settings.tpp ? TppSettingsSchema.parse(row.settings.tpp) : null,
    corsOrigins: [...tenant.corsOrigins],
    verification: presentPolicy(row.settings),
    documentScanner: typeof row.settings.documentScanner === 'string' ? row.settings.documentScanner : null,
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
  if (!row) throw new ApiError('tenant_exists', { detail: `A tenant '${input.id}' is already registered.` });
  forgetTenant(row.id);
  return present(env, row);
}

/** Changes one key of the settings JSON in place, so concurrent changes to other keys survive. */
function withSetting(settings: SQL, key: string, value: unknown): SQL {
  const path = `$.${key}`;
  return value === null
    ? sql`json_remove(${settings}, ${path})`
    : sql`json_set(${settings}, ${path}, json(${JSON.stringify(value)}))`;
}

/** The settings keys a change sets, nested so that one statement writes them all. */
function settingsChange(input: z.infer<typeof UpdateTenantSchema>, verification: unknown) {
  const keys = (['webauthn', 'tpp', 'corsOrigins', 'documentScanner'] as const).filter(
    (key) => input[key] !== undefined,
  );
  if (keys.length === 0 && verification === undefined) return {};
  let settings: SQL = sql`${tenants.settings}`;
  for (const key of keys) {
    const value = key === 'corsOrigins' && input.corsOrigins?.length === 0 ? null : input[key];
    settings = withSetting(settings, key, value);
  }
  if (verification !== undefined) settings = withSetting(settings, 'verification', verification);
  return { settings };
}

/**
 * The verification policy after the change, computed from the row as read: the update then
 * applies only if the row is unchanged since (`updated_at`), so two rotations at once cannot
 * both keep the same predecessor — one is refused with 409 and retried.
 */
async function verificationChange(
  env: Env,
  tenantId: string,
  input: z.infer<typeof UpdateTenantSchema>,
  now: Date,
) {
  if (input.verification === undefined) return undefined;
  const row = await controlDb(env.CONTROL_DB).select().from(tenants).where(eq(tenants.id, tenantId)).get();
  if (!row) throw new ApiError('not_found', { detail: `No tenant '${tenantId}' is registered.` });
  const change = await changedPolicy(env, tenantId, verificationSettings(row), input.verification, now);
  return { ...change, readAt: row.updatedAt };
}

export async function updateTenant(
  env: Env,
  tenantId: string,
  input: z.infer<typeof UpdateTenantSchema>,
  now = new Date(),
): Promise<TenantView> {
  const verification = await verificationChange(env, tenantId, input, now);
  const updated = await controlDb(env.CONTROL_DB)
    .update(tenants)
    .set({
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.tier !== undefined ? { tier: input.tier } : {}),
      ...(input.status !== undefined ? { status: input.status } : {}),
      ...(input.capabilities !== undefined ? { capabilities: input.capabilities } : {}),
      ...(input.rateLimitPerMinute !== undefined ? { rateLimitPerMinute: input.rateLimitPerMinute } : {}),
      ...settingsChange(input, verification?.settings),
      updatedAt: now.toISOString(),
    })
    .where(
      and(eq(tenants.id, tenantId), verification ? eq(tenants.updatedAt, verification.readAt) : undefined),
    )
    .returning();
  const row = updated[0];
  if (!row && verification) {
    throw new ApiError('concurrent_update', {
      detail: 'The tenant was changed meanwhile; read it again and retry.',
    });
  }
  if (!row) throw new ApiError('not_found', { detail: `No tenant '${tenantId}' is registered.` });
  forgetTenant(tenantId);
  return {
    ...present(env, row),
    ...(verification?.issuedCallbackSecret
      ? { issuedCallbackSecret: verification.issuedCallbackSecret }
      : {}),
  };
}
