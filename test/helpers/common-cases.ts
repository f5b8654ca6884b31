import { expect, it } from 'vitest';
import type { Permission } from '../../src/platform/auth/permissions';
import type { Capability, Tier } from '../../src/platform/tenancy';
import { createApiClient, createStaff, createTenant, mintToken, type TestTenant } from './factories';
import { call } from './http';
import { expectProblem } from './problems';

export interface RouteUnderTest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Creates what the route needs in `tenant` and returns the path (below /v2/customer) and body. */
  setup: (tenant: TestTenant) => Promise<{ path: string; body?: unknown }>;
  /** Whether anonymous callers are served (public routes). */
  anonymous?: boolean;
  /** The route reads no access token at all (login, refresh): only the tenant cases apply. */
  tokenless?: boolean;
  /** The route acts on the caller's login session: an API client's token gets 403. */
  userOnly?: boolean;
  permission?: Permission;
  /** The capability and a tenant set-up that lacks it (a lower tier, or CUSTOM without it). */
  capability?: { code: Capability; without: { tier: Tier; capabilities?: Capability[] } };
  /** The route addresses a resource by id: another tenant's id must be 404. */
  ownsResource?: boolean;
  tier?: Tier;
}

/**
 * The cases every tenant route must get right, registered as tests: no token, bad token,
 * expired token, another tenant's token, missing permission, missing capability and another
 * tenant's resource id.
 */
export function itHandlesTheCommonCases(route: RouteUnderTest): void {
  const tier = route.tier ?? 'ENTERPRISE';

  it('needs a known tenant (400 without X-Tenant-ID, 404 for an unknown one)', async () => {
    const tenant = await createTenant({ tier });
    const { path, body } = await route.setup(tenant);
    expectProblem(await call(route.method, path, { body }), 400, 'tenant_required');
    expectProblem(
      await call(route.method, path, { tenant: `${tenant.id}-unknown`, body }),
      404,
      'tenant_not_found',
    );
  });

  if (route.tokenless) return;

  if (route.userOnly) {
    it("refuses an API client's token (403 user_session_required)", async () => {
      const tenant = await createTenant({ tier });
      const { path, body } = await route.setup(tenant);
      const client = await createApiClient(tenant, route.permission ? [route.permission] : []);
      expectProblem(
        await call(route.method, path, { tenant: tenant.id, token: client.token, body }),
        403,
        'user_session_required',
      );
    });
  }

  if (!route.anonymous) {
    it('refuses a request without a token (401)', async () => {
      const tenant = await createTenant({ tier });
      const { path, body } = await route.setup(tenant);
      expectProblem(
        await call(route.method, path, { tenant: tenant.id, body }),
        401,
        'authentication_required',
      );
    });
  }

  it('refuses a malformed or forged token (401)', async () => {
    const tenant = await createTenant({ tier });
    const { path, body } = await route.setup(tenant);
    const staff = await createStaff(tenant);
    const [header, payload] = staff.token.split('.');
    const forged = `${header}.${payload}.${'A'.repeat(86)}`;
    expectProblem(
      await call(route.method, path, { tenant: tenant.id, token: forged, body }),
      401,
      'invalid_token',
    );
    expectProblem(
      await call(route.method, path, { tenant: tenant.id, token: 'not-a-jwt', body }),
      401,
      'invalid_token',
    );
  });

  it('refuses an expired token (401)', async () => {
    const tenant = await createTenant({ tier });
    const { path, body } = await route.setup(tenant);
    const staff = await createStaff(tenant);
    const expired = await mintToken(
      tenant,
      { sub: staff.id, ptype: 'staff', scope: route.permission ?? '' },
      { now: new Date(Date.now() - 3_600_000), ttlSeconds: 600 },
    );
    const response = await call(route.method, path, { tenant: tenant.id, token: expired, body });
    expectProblem(response, 401, 'invalid_token');
    expect(response.body.detail).toMatch(/expired/);
  });

  it("refuses another tenant's token (403 tenant_mismatch)", async () => {
    const tenant = await createTenant({ tier });
    const other = await createTenant({ tier });
    const { path, body } = await route.setup(tenant);
    const outsider = await createStaff(other);
    expectProblem(
      await call(route.method, path, { tenant: tenant.id, token: outsider.token, body }),
      403,
      'tenant_mismatch',
    );
  });

  if (route.permission) {
    const permission = route.permission;
    it(`refuses a principal without ${permission} (403 forbidden)`, async () => {
      const tenant = await createTenant({ tier });
      const { path, body } = await route.setup(tenant);
      const staff = await createStaff(tenant, { permissions: [] });
      const response = await call(route.method, path, { tenant: tenant.id, token: staff.token, body });
      expectProblem(response, 403, 'forbidden');
      expect(response.body.permission).toBe(permission);
    });
  }

  if (route.capability) {
    const { code, without } = route.capability;
    it(`refuses a ${without.tier} tenant without ${code} (403 capability_not_enabled)`, async () => {
      const tenant = await createTenant(without);
      const { path, body } = await route.setup(tenant);
      const staff = await createStaff(tenant);
      const response = await call(route.method, path, { tenant: tenant.id, token: staff.token, body });
      expectProblem(response, 403, 'capability_not_enabled');
      expect(response.body.capability).toBe(code);
      expect(response.body.requiredTiers).toContain('ENTERPRISE');
    });
  }

  if (route.ownsResource) {
    it("answers 404 for another tenant's resource, with no trace of it", async () => {
      const owner = await createTenant({ tier });
      const intruder = await createTenant({ tier });
      const { path, body } = await route.setup(owner);
      const staff = await createStaff(intruder);
      const response = await call(route.method, path, { tenant: intruder.id, token: staff.token, body });
      expectProblem(response, 404, 'not_found');
      const id = path.split('/').find((segment) => /^[a-z]{3}_/.test(segment));
      if (id) expect(response.text.replaceAll(path, '')).not.toContain(id);
    });
  }
}
