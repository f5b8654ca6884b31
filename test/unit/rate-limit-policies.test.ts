import { describe, expect, it } from 'vitest';
import type { Principal } from '../../src/platform/auth/principal';
import { bucketOf, type RequestSubject } from '../../src/platform/rate-limit/policies';
import type { Tenant } from '../../src/platform/tenancy';

const tenant: Tenant = {
  id: 'acme',
  name: 'Acme',
  tier: 'STARTER',
  status: 'ACTIVE',
  capabilities: [],
  rateLimitPerMinute: 100,
  d1Binding: 'TENANT_DB_DEMO_STARTER',
  settings: {},
  corsOrigins: [],
};
const ip = '203.0.113.7';
const anonymous: RequestSubject = { ip, tenant, principal: { type: 'anonymous', ip } };
const client: Principal = { type: 'client', id: 'cli_1', permissions: new Set(), amr: [], authTime: 0 };

describe('rate-limit bucket objects', () => {
  it('keeps the buckets of one tenant and address in one object, each under its own key', () => {
    const buckets = (['tenant', 'login', 'password-reset', 'code-verification'] as const).map((name) =>
      bucketOf(name, anonymous),
    );
    expect(new Set(buckets.map((bucket) => bucket.object))).toEqual(new Set(['acme:ip:203.0.113.7']));
    expect(new Set(buckets.map((bucket) => bucket.key)).size).toBe(buckets.length);
  });

  it('gives any other bucket an object of its own, named by its key', () => {
    const others = [bucketOf('tenant', { ip, tenant, principal: client }), bucketOf('public', { ip })];
    for (const bucket of others) expect(bucket.object).toBe(bucket.key);
    expect(others.map((bucket) => bucket.key)).toEqual(['acme:cli_1', 'public:203.0.113.7']);
  });
});
