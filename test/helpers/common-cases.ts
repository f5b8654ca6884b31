import { eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { clients } from '../../src/db/tenant';
import type { Permission } from '../../src/platform/auth/permissions';
import type { Capability, Tier } from '../../src/platform/tenancy';
import {
  adminHeaders,
  createApiClient,
  createStaff,
  createTenant,
  database,
  mintToken,
  type TestTenant,
} from './factories';
import { call, clientSecretBasic } from './http';
import { expectOAuthError, expectProblem } from './problems';

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

/** An OAuth endpoint: the client authenticates inside the request (RFC 6749 §2.3) and names the tenant. */
export interface ClientAuthenticatedRouteUnderTest {
  method: 'POST';
  clientAuthenticated: true;
  /** Below /v2/customer. */
  path: string;
  /** A valid form for `client`, without its credentials. */
  form: (tenant: TestTenant, client: { id: string; token: string }) => Promise<Record<string, string>>;
}

/**
 * The cases every tenant route must get right, registered as tests: no token, bad token,
 * expired token, another tenant's token, missing permission, missing capability and another
 * tenant's resource id.
 */
export function itHandlesTheCommonCases(route: RouteUnderTest | ClientAuthenticatedRouteUnderTest): void {
  if ('clientAuthenticated' in route) {
    itHandlesTheClientCases(route);
    return;
  }
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

/**
 * The cases of an OAuth endpoint: both client authentication methods without a tenant header,
 * then missing, wrong, unknown and revoked credentials, a tenant header naming another tenant,
 * and a suspended tenant. Failures are RFC 6749 error bodies.
 */
function itHandlesTheClientCases(route: ClientAuthenticatedRouteUnderTest): void {
  async function setup() {
    const tenant = await createTenant();
    const client = await createApiClient(tenant, ['customers:read']);
    return { tenant, client, form: await route.form(tenant, client) };
  }

  it('serves client_secret_basic and client_secret_post without a tenant header, with RateLimit headers', async () => {
    const { tenant, client, form } = await setup();
    const basic = await call(route.method, route.path, {
      form,
      headers: { Authorization: clientSecretBasic(client.id, client.clientSecret) },
    });
    expect(basic.status, basic.text).toBe(200);
    expect(basic.headers.get('Cache-Control')).toBe('no-store');
    expect(basic.headers.get('RateLimit')).toMatch(/;r=\d+;t=\d+$/);
    expect(basic.headers.get('X-Request-Id')).toMatch(/^req_/);
    const post = await call(route.method, route.path, {
      form: {
        ...(await route.form(tenant, client)),
        client_id: client.id,
        client_secret: client.clientSecret,
      },
    });
    expect(post.status, post.text).toBe(200);
  });

  it('refuses a request without client authentication (401 invalid_client)', async () => {
    const { form } = await setup();
    const response = await call(route.method, route.path, { form });
    expectOAuthError(response, 401, 'invalid_client');
    expect(response.headers.get('WWW-Authenticate')).toMatch(/^Basic /);
  });

  it('refuses a wrong secret and an unknown client alike (401 invalid_client)', async () => {
    const { client, form } = await setup();
    for (const [id, secret] of [
      [client.id, `${client.clientSecret}x`],
      ['cli_00000000000000000000000000', client.clientSecret],
    ] as const) {
      expectOAuthError(
        await call(route.method, route.path, {
          form,
          headers: { Authorization: clientSecretBasic(id, secret) },
        }),
        401,
        'invalid_client',
      );
      expectOAuthError(
        await call(route.method, route.path, { form: { ...form, client_id: id, client_secret: secret } }),
        401,
        'invalid_client',
      );
    }
  });

  it('refuses malformed Basic credentials with a Basic challenge (401 invalid_client, never 500)', async () => {
    const { client, form } = await setup();
    for (const authorization of [
      `Basic ${btoa(`${client.id}:%E0%A4%A`)}`, // broken percent-encoding in the secret
      `Basic ${btoa(`%ZZ:${client.clientSecret}`)}`, // and in the id
      `Basic ${btoa(`${client.id}:%C3`)}`, // a percent-encoded byte that is not UTF-8
      `Basic ${btoa(client.id)}`, // no colon
      'Basic not*base64!',
      'Basic ',
      `basic ${btoa(`${client.id}:%E0%A4%A`)}`, // the scheme is case-insensitive (RFC 9110 §11.1)
    ]) {
      const response = await call(route.method, route.path, {
        form,
        headers: { Authorization: authorization },
      });
      expectOAuthError(response, 401, 'invalid_client');
      expect(response.headers.get('WWW-Authenticate'), authorization).toMatch(/^Basic /);
    }
  });

  it('refuses two client authentication methods in one request (400 invalid_request, RFC 6749 §2.3)', async () => {
    const { tenant, client, form } = await setup();
    const other = await createApiClient(tenant, ['customers:read']);
    const headers = { Authorization: clientSecretBasic(client.id, client.clientSecret) };
    const doubled: Record<string, string>[] = [
      { client_secret: client.clientSecret },
      { client_id: client.id, client_secret: client.clientSecret },
      { client_id: other.id },
      { client_id: other.id, client_secret: other.clientSecret },
    ];
    for (const extra of doubled) {
      expectOAuthError(
        await call(route.method, route.path, { form: { ...form, ...extra }, headers }),
        400,
        'invalid_request',
      );
    }
    // Naming the same client in the form as well is one method, not two.
    const same = await call(route.method, route.path, { form: { ...form, client_id: client.id }, headers });
    expect(same.status, same.text).toBe(200);
  });

  it('refuses a revoked client (401 invalid_client)', async () => {
    const { tenant, client, form } = await setup();
    await database(tenant).update(clients).set({ status: 'REVOKED' }).where(eq(clients.id, client.id));
    expectOAuthError(
      await call(route.method, route.path, {
        form,
        headers: { Authorization: clientSecretBasic(client.id, client.clientSecret) },
      }),
      401,
      'invalid_client',
    );
  });

  it('accepts a tenant header naming the client’s tenant and refuses one naming another (401)', async () => {
    const { tenant, client, form } = await setup();
    const other = await createTenant();
    const headers = { Authorization: clientSecretBasic(client.id, client.clientSecret) };
    const own = await call(route.method, route.path, { form, tenant: tenant.id, headers });
    expect(own.status, own.text).toBe(200);
    expectOAuthError(
      await call(route.method, route.path, { form, tenant: other.id, headers }),
      401,
      'invalid_client',
    );
  });

  it('refuses the client of a suspended tenant (403 tenant_suspended)', async () => {
    const { tenant, client, form } = await setup();
    const suspend = await call('PATCH', `/platform/tenants/${tenant.id}`, {
      headers: adminHeaders(),
      body: { status: 'SUSPENDED' },
    });
    expect(suspend.status, suspend.text).toBe(200);
    const response = await call(route.method, route.path, {
      form,
      headers: { Authorization: clientSecretBasic(client.id, client.clientSecret) },
    });
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ code: 'tenant_suspended' });
  });
}
