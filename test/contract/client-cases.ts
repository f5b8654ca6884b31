import { eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { clients } from '../../src/db/tenant';
import { adminHeaders, createApiClient, createTenant, database, type TestTenant } from '../helpers/factories';
import { call, clientSecretBasic } from '../helpers/http';
import { expectOAuthError } from '../helpers/problems';

/**
 * An OAuth endpoint: the client authenticates inside the request (RFC 6749 §2.3) and names the
 * tenant, which the document cannot show as `security`, so its cases are written by hand.
 */
export interface ClientAuthenticatedRoute {
  method: string;
  /** Below /v2/customer. */
  path: string;
  /** A valid form for `client`, without its credentials. */
  form: (tenant: TestTenant, client: { id: string; token: string }) => Promise<Record<string, string>>;
}

/**
 * The cases of an OAuth endpoint: both client authentication methods without a tenant header,
 * then missing, wrong, unknown and revoked credentials, a tenant header naming another tenant,
 * and a suspended tenant. Failures are RFC 6749 error bodies.
 */
export function itHandlesTheClientCases(route: ClientAuthenticatedRoute): void {
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
