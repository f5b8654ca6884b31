import { describe, expect, it } from 'vitest';
import { adminHeaders, createApiClient, createTenant, type TestTenant, unique } from '../helpers/factories';
import { call } from '../helpers/http';
import { expectProblem } from '../helpers/problems';

/** A tenant whose front ends are at `origins`, set as the operator would. */
async function tenantWithOrigins(origins: string[]): Promise<TestTenant> {
  const tenant = await createTenant();
  const response = await call('PATCH', `/platform/tenants/${tenant.id}`, {
    headers: adminHeaders(),
    body: { corsOrigins: origins },
  });
  expect(response.status, response.text).toBe(200);
  expect(response.body.corsOrigins).toEqual(origins);
  return tenant;
}

const freshOrigin = () => `https://${unique('app')}.example`;

function preflight(path: string, origin: string, method = 'GET') {
  return call('OPTIONS', path, {
    headers: {
      Origin: origin,
      'Access-Control-Request-Method': method,
      'Access-Control-Request-Headers': 'authorization,x-tenant-id',
    },
  });
}

describe('CORS per tenant', () => {
  it('lets a listed origin read the tenant’s answers, problems included, without credentials', async () => {
    const origin = freshOrigin();
    const tenant = await tenantWithOrigins([origin, freshOrigin()]);
    const client = await createApiClient(tenant, ['customers:read']);
    const listed = await call('GET', '/customers', {
      tenant: tenant.id,
      token: client.token,
      headers: { Origin: origin },
    });
    expect(listed.status).toBe(200);
    expect(listed.headers.get('Access-Control-Allow-Origin')).toBe(origin);
    expect(listed.headers.get('Access-Control-Expose-Headers')).toContain('X-Request-Id');
    expect(listed.headers.get('Access-Control-Allow-Credentials')).toBeNull();
    expect(listed.headers.get('Vary')).toContain('Origin');

    const refused = await call('GET', '/customers', { tenant: tenant.id, headers: { Origin: origin } });
    expectProblem(refused, 401, 'authentication_required');
    expect(refused.headers.get('Access-Control-Allow-Origin')).toBe(origin);
  });

  it('gives an unlisted origin nothing to read', async () => {
    const tenant = await tenantWithOrigins([freshOrigin()]);
    for (const origin of ['https://evil.example', 'null', `${freshOrigin()}/`]) {
      const response = await call('GET', '/customers', { tenant: tenant.id, headers: { Origin: origin } });
      expect(response.status).toBe(401);
      expect(response.headers.get('Access-Control-Allow-Origin'), origin).toBeNull();
      expect(response.headers.get('Vary')).toContain('Origin');
    }
  });

  it('does not let another tenant’s origin read this tenant’s answers', async () => {
    const theirs = freshOrigin();
    await tenantWithOrigins([theirs]);
    const ours = await tenantWithOrigins([freshOrigin()]);
    const client = await createApiClient(ours, ['customers:read']);
    const response = await call('GET', '/customers', {
      tenant: ours.id,
      token: client.token,
      headers: { Origin: theirs },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });

  it('answers a preflight for an origin some tenant lists, with the path’s methods and the headers read', async () => {
    const origin = freshOrigin();
    await tenantWithOrigins([origin]);
    const allowed = await preflight('/customers', origin);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('Access-Control-Allow-Origin')).toBe(origin);
    expect(allowed.headers.get('Access-Control-Allow-Methods')).toBe('GET, HEAD');
    expect(allowed.headers.get('Access-Control-Allow-Headers')).toContain('X-Tenant-ID');
    expect(allowed.headers.get('Access-Control-Allow-Headers')).toContain('Idempotency-Key');
    expect(allowed.headers.get('Access-Control-Max-Age')).toBe('600');
    expect(allowed.headers.get('Access-Control-Allow-Credentials')).toBeNull();

    for (const [path, who, method] of [
      ['/customers', 'https://evil.example', 'GET'],
      ['/customers', origin, 'DELETE'],
      ['/no-such-route', origin, 'GET'],
    ] as const) {
      const refused = await preflight(path, who, method);
      expect(refused.status, `${method} ${path} from ${who}`).toBe(204);
      expect(refused.headers.get('Access-Control-Allow-Origin'), `${method} ${path} from ${who}`).toBeNull();
    }
  });

  it('stops at once when the operator removes the origin', async () => {
    const origin = freshOrigin();
    const tenant = await tenantWithOrigins([origin]);
    expect((await preflight('/customers', origin)).headers.get('Access-Control-Allow-Origin')).toBe(origin);
    const cleared = await call('PATCH', `/platform/tenants/${tenant.id}`, {
      headers: adminHeaders(),
      body: { corsOrigins: null },
    });
    expect(cleared.body.corsOrigins).toEqual([]);
    expect((await preflight('/customers', origin)).headers.get('Access-Control-Allow-Origin')).toBeNull();
    const answer = await call('GET', '/customers', { tenant: tenant.id, headers: { Origin: origin } });
    expect(answer.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });

  it('takes only exact https origins (http for localhost), never a wildcard', async () => {
    const tenant = await createTenant();
    for (const origin of [
      '*',
      'null',
      'http://app.example',
      'https://app.example/',
      'https://app.example/path',
    ]) {
      const response = await call('PATCH', `/platform/tenants/${tenant.id}`, {
        headers: adminHeaders(),
        body: { corsOrigins: [origin] },
      });
      expectProblem(response, 422, 'validation_failed');
    }
    const local = await call('PATCH', `/platform/tenants/${tenant.id}`, {
      headers: adminHeaders(),
      body: { corsOrigins: ['http://localhost:5173'] },
    });
    expect(local.body.corsOrigins).toEqual(['http://localhost:5173']);
  });

  it('keeps the operator routes closed to pages of any origin', async () => {
    const origin = freshOrigin();
    await tenantWithOrigins([origin]);
    const response = await call('GET', '/platform/tenants', {
      headers: { ...adminHeaders(), Origin: origin },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });
});
