import { eq, sql } from 'drizzle-orm';
import { controlDb, type TenantDb, tenantDb } from '../db/client';
import { tenants } from '../db/control';
import type { Env } from '../env';
import { ApiError } from './errors';
import { LruCache } from './lru-cache';

/**
 * What the registry accepts as a tenant id (a slug): the operator API validates new ids with it,
 * the document states it for `X-Tenant-ID`, and a header that does not match is refused before
 * any lookup.
 */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;
export const TENANT_ID_MAX_LENGTH = 63;

export function isTenantId(value: string): boolean {
  return TENANT_ID_PATTERN.test(value);
}

export const tiers = ['STARTER', 'PROFESSIONAL', 'ENTERPRISE', 'CUSTOM'] as const;
export type Tier = (typeof tiers)[number];

export const capabilities = {
  SCT01: 'B2C customers',
  SCT02: 'B2B customers (organizations)',
  SCT11: 'Documents and document-based verification',
  SCT12: 'Third-party provider (TPP) management',
} as const;
export type Capability = keyof typeof capabilities;
export const capabilityCodes = Object.keys(capabilities) as Capability[];

/** Tiers whose default set includes each capability; CUSTOM tenants get what the operator sets. */
const defaultTiersFor: Record<Capability, readonly Tier[]> = {
  SCT01: ['STARTER', 'PROFESSIONAL', 'ENTERPRISE', 'CUSTOM'],
  SCT02: ['PROFESSIONAL', 'ENTERPRISE', 'CUSTOM'],
  SCT11: ['PROFESSIONAL', 'ENTERPRISE', 'CUSTOM'],
  SCT12: ['ENTERPRISE', 'CUSTOM'],
};

export const defaultRateLimitPerMinute: Record<Tier, number> = {
  STARTER: 100,
  PROFESSIONAL: 500,
  ENTERPRISE: 2000,
  CUSTOM: 500,
};

export function requiredTiers(capability: Capability): readonly Tier[] {
  return defaultTiersFor[capability];
}

function tierCapabilities(tier: Tier): Capability[] {
  if (tier === 'CUSTOM') return ['SCT01'];
  return capabilityCodes.filter((code) => defaultTiersFor[code].includes(tier));
}

export interface Tenant {
  id: string;
  name: string;
  tier: Tier;
  status: 'ACTIVE' | 'SUSPENDED';
  capabilities: readonly Capability[];
  rateLimitPerMinute: number;
  d1Binding: string;
  settings: Record<string, unknown>;
  /** Web origins whose pages may call the API for this tenant (CORS); `settings.corsOrigins`. */
  corsOrigins: readonly string[];
}

type TenantRow = typeof tenants.$inferSelect;

export function tenantFromRow(row: TenantRow): Tenant {
  return {
    id: row.id,
    name: row.name,
    tier: row.tier,
    status: row.status,
    capabilities: (row.capabilities as Capability[] | null) ?? tierCapabilities(row.tier),
    rateLimitPerMinute: row.rateLimitPerMinute ?? defaultRateLimitPerMinute[row.tier],
    d1Binding: row.d1Binding,
    settings: row.settings,
    corsOrigins: corsOriginsOf(row.settings),
  };
}

export function corsOriginsOf(settings: Record<string, unknown>): string[] {
  const origins = settings.corsOrigins;
  return Array.isArray(origins)
    ? origins.filter((origin): origin is string => typeof origin === 'string')
    : [];
}

/**
 * Registry entries are read on every request, so each isolate keeps them briefly. A change
 * made through the operator API is seen at once by the isolate that made it and within the
 * TTL by the others. Registered tenants are few; ids found unregistered are whatever clients
 * send, so that memory is bounded and forgets the least recently asked first.
 */
export const TENANT_CACHE_TTL_MS = 30_000;
export const UNKNOWN_TENANT_CACHE_SIZE = 1000;
const registered = new Map<string, { tenant: Tenant; expiresAt: number }>();
const unregistered = new LruCache<string, number>(UNKNOWN_TENANT_CACHE_SIZE);

/** Origins some tenant allows, or no tenant does: by the preflight, which names no tenant. */
const corsOriginAllowed = new LruCache<string, { allowed: boolean; expiresAt: number }>(
  UNKNOWN_TENANT_CACHE_SIZE,
);

export function forgetTenant(tenantId: string): void {
  registered.delete(tenantId);
  unregistered.delete(tenantId);
  // Which origins moved is not known here, and the answers are few and cheap to ask again.
  corsOriginAllowed.clear();
}

/**
 * Whether any registered tenant lists `origin` in its CORS origins: one read of the
 * registry (tenants are few) per origin and isolate every TTL. Only well-formed origins get here.
 */
export async function isCorsOriginOfSomeTenant(env: Env, origin: string): Promise<boolean> {
  const now = Date.now();
  const known = corsOriginAllowed.get(origin);
  if (known && known.expiresAt > now) return known.allowed;
  const row = await controlDb(env.CONTROL_DB)
    .select({ id: tenants.id })
    .from(tenants)
    .where(
      sql`exists (select 1 from json_each(${tenants.settings}, '$.corsOrigins') where json_each.value = ${origin})`,
    )
    .limit(1)
    .get();
  const allowed = row !== undefined;
  corsOriginAllowed.set(origin, { allowed, expiresAt: now + TENANT_CACHE_TTL_MS });
  return allowed;
}

/** What this isolate knows without a read: the tenant, `null` for unregistered, `undefined` if it must ask. */
export function cachedTenant(tenantId: string): Tenant | null | undefined {
  const now = Date.now();
  const known = registered.get(tenantId);
  if (known && known.expiresAt > now) return known.tenant;
  const unknownUntil = unregistered.get(tenantId);
  if (unknownUntil !== undefined && unknownUntil > now) return null;
  return undefined;
}

export async function findTenant(env: Env, tenantId: string): Promise<Tenant | null> {
  const cached = cachedTenant(tenantId);
  if (cached !== undefined) return cached;
  const row = await controlDb(env.CONTROL_DB).select().from(tenants).where(eq(tenants.id, tenantId)).get();
  const expiresAt = Date.now() + TENANT_CACHE_TTL_MS;
  if (!row) {
    registered.delete(tenantId);
    unregistered.set(tenantId, expiresAt);
    return null;
  }
  const tenant = tenantFromRow(row);
  unregistered.delete(tenantId);
  registered.set(tenantId, { tenant, expiresAt });
  return tenant;
}

/** Resolves an active tenant or throws the problem the contract names for each failure. */
export async function requireActiveTenant(env: Env, tenantId: string): Promise<Tenant> {
  const tenant = await findTenant(env, tenantId);
  if (!tenant) throw new ApiError('tenant_not_found', { detail: `No tenant '${tenantId}' is registered.` });
  if (tenant.status === 'SUSPENDED') throw new ApiError('tenant_suspended');
  return tenant;
}

export function isTenantDbBinding(name: string): boolean {
  return /^TENANT_DB_[A-Z0-9_]+$/.test(name);
}

export function tenantDatabase(env: Env, tenant: Tenant): TenantDb {
  const binding = isTenantDbBinding(tenant.d1Binding)
    ? (env as unknown as Record<string, D1Database | undefined>)[tenant.d1Binding]
    : undefined;
  if (!binding) {
    throw new ApiError('tenant_unavailable', {
      detail: `Tenant '${tenant.id}' is registered but its database is not bound to this deployment.`,
    });
  }
  return tenantDb(binding);
}

function hasCapability(tenant: Tenant, capability: Capability): boolean {
  return tenant.capabilities.includes(capability);
}

export function requireCapability(tenant: Tenant, capability: Capability): void {
  if (hasCapability(tenant, capability)) return;
  throw new ApiError('capability_not_enabled', {
    detail: `Capability ${capability} (${capabilities[capability]}) is not enabled for tier ${tenant.tier}.`,
    extensions: { capability, requiredTiers: requiredTiers(capability) },
  });
}
