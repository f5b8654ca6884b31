import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { createApiClient, createTenant } from '../helpers/factories';
import { call, clientSecretBasic, ISSUER } from '../helpers/http';

describe('POST /oauth/token (client_credentials)', () => {
  it('issues an ES256 token with client_secret_basic, without a tenant header', async () => {
    const tenant = await createTenant();
    const client = await createApiClient(tenant, ['customers:read', 'customers:write']);
    const response = await call<Record<string, unknown>>('POST', '/oauth/token', {
      form: { grant_type: 'client_credentials', scope: 'customers:read' },
      headers: { Authorization: clientSecretBasic(client.id, client.clientSecret) },
    });
    expect(response.status, response.text).toBe(200);
    expect(response.headers.get('Cache-Control')).toBe('no-store');
    expect(response.body).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'customers:read' });
    const token = String(response.body.access_token);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', kid: 'test-key' });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      iss: ISSUER,
      aud: ISSUER,
      sub: client.id,
      tid: tenant.id,
      scope: 'customers:read',
    });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBeLessThanOrEqual(600);
    for (const claim of ['jti', 'auth_time', 'amr']) expect(claims).toHaveProperty(claim);
  });

  it('accepts client_secret_post and a matching tenant header', async () => {
    const tenant = await createTenant();
    const client = await createApiClient(tenant, ['customers:read']);
    const response = await call('POST', '/oauth/token', {
      tenant: tenant.id,
      form: { grant_type: 'client_credentials', client_id: client.id, client_secret: client.clientSecret },
    });
    expect(response.status).toBe(200);
    expect(response.body.scope).toBe('customers:read');
  });

  it('refuses a wrong secret, an unknown client and another tenant’s header alike (401 invalid_client)', async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    const client = await createApiClient(tenant, ['customers:read']);
    const attempts: { tenant?: string; form: Record<string, string> }[] = [
      { form: { grant_type: 'client_credentials', client_id: client.id, client_secret: 'wrong' } },
      {
        form: {
          grant_type: 'client_credentials',
          client_id: 'cli_unknown',
          client_secret: client.clientSecret,
        },
      },
      {
        tenant: other.id,
        form: { grant_type: 'client_credentials', client_id: client.id, client_secret: client.clientSecret },
      },
      { form: { grant_type: 'client_credentials' } },
    ];
    for (const attempt of attempts) {
      const response = await call('POST', '/oauth/token', attempt);
      expect(response.status).toBe(401);
      expect(response.headers.get('Content-Type')).toBe('application/json');
      expect(response.body).toMatchObject({ error: 'invalid_client', code: 'invalid_client' });
      expect(typeof response.body.error_description).toBe('string');
    }
  });

  it('refuses a scope beyond the client’s permissions and unsupported grants in RFC 6749 form', async () => {
    const tenant = await createTenant();
    const client = await createApiClient(tenant, ['customers:read']);
    const scope = await call('POST', '/oauth/token', {
      form: {
        grant_type: 'client_credentials',
        client_id: client.id,
        client_secret: client.clientSecret,
        scope: 'customers:write',
      },
    });
    expect(scope.status).toBe(400);
    expect(scope.body.error).toBe('invalid_scope');
    const grant = await call('POST', '/oauth/token', {
      form: { grant_type: 'password', client_id: client.id, client_secret: client.clientSecret },
    });
    expect(grant.status).toBe(400);
    expect(grant.body.error).toBe('unsupported_grant_type');
    const missing = await call('POST', '/oauth/token', { form: {} });
    expect(missing.status).toBe(422);
    expect(missing.body.error).toBe('invalid_request');
  });

  it('issues tokens the API accepts for the client’s permissions only', async () => {
    const tenant = await createTenant();
    const reader = await createApiClient(tenant, ['customers:read']);
    expect((await call('GET', '/customers', { tenant: tenant.id, token: reader.token })).status).toBe(200);
    const writer = await createApiClient(tenant, ['customers:write']);
    expect((await call('GET', '/customers', { tenant: tenant.id, token: writer.token })).status).toBe(403);
  });
});

describe('GET /.well-known/jwks.json', () => {
  it('publishes the public signing key only', async () => {
    const response = await call<{ keys: Record<string, unknown>[] }>('GET', '/.well-known/jwks.json');
    expect(response.status).toBe(200);
    expect(response.body.keys).toHaveLength(1);
    expect(response.body.keys[0]).toMatchObject({
      kty: 'EC',
      crv: 'P-256',
      kid: 'test-key',
      alg: 'ES256',
      use: 'sig',
    });
    expect(response.body.keys[0]).not.toHaveProperty('d');
  });
});
