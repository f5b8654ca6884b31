/*
 * Type-only imports from src are erased when Node strips types, so the scripts stay in step with
 * the worker's tiers and capabilities without loading modules that only resolve in the bundler.
 */
import type { Capability, Tier } from '../../src/platform/tenancy';
import { insertStatement } from './sql.ts';

/** A record, not an array, so the compiler fails here when a tier is added to or removed from src. */
const tierSet: Record<Tier, true> = { STARTER: true, PROFESSIONAL: true, ENTERPRISE: true, CUSTOM: true };
export const tiers = Object.keys(tierSet) as Tier[];

export function isTier(value: string): value is Tier {
  return Object.hasOwn(tierSet, value);
}

/** The same rule as `TenantIdSchema` in src/modules/tenants/schemas.ts. */
const TENANT_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;

export function isTenantId(value: string): boolean {
  return TENANT_ID.test(value);
}

export interface TenantDefinition {
  id: string;
  name: string;
  tier: Tier;
  /** Operator-set capability set; omitted means the tier's default. */
  capabilities?: Capability[];
  /** Operator-set requests per minute; omitted means the tier's default. */
  rateLimitPerMinute?: number;
}

/** `acme-bank` → `TENANT_DB_ACME_BANK`, which `isTenantDbBinding` in src/platform/tenancy.ts accepts. */
export function tenantBinding(tenantId: string): string {
  return `TENANT_DB_${tenantId.toUpperCase().replaceAll('-', '_')}`;
}

export function tenantDatabaseName(tenantId: string): string {
  return `fincore-tenant-${tenantId}`;
}

/**
 * Registers the tenant in the control database. OR IGNORE: a tenant already registered keeps
 * whatever the operator has since changed through the platform API.
 */
export function registryStatement(tenant: TenantDefinition, now: string): string {
  return insertStatement(
    'tenants',
    {
      id: tenant.id,
      name: tenant.name,
      tier: tenant.tier,
      status: 'ACTIVE',
      capabilities: tenant.capabilities ? JSON.stringify(tenant.capabilities) : null,
      rate_limit_per_minute: tenant.rateLimitPerMinute ?? null,
      d1_binding: tenantBinding(tenant.id),
      settings: '{}',
      created_at: now,
      updated_at: now,
    },
    { orIgnore: true },
  );
}
