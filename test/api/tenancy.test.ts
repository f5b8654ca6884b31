import { describe, expect, it } from 'vitest';
import { rateLimitPolicies } from '../../src/platform/rate-limit/policies';
import { adminHeaders, createStaff, createTenant, randomIp, unique } from '../helpers/factories';
import { type ApiResponse, call } from '../helpers/http';
import { expectProblem } from '../helpers/problems';

describe('tenant resolution', () => {
  it('needs X-Tenant-ID on tenant routes (400)', async () => {
    const response = await call('GET', '/customers');
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('tenant_required');
  });

  it('answers 404 tenant_not_found for an unknown tenant', async () => {
    const response = await call('GET', '/customers', { tenant: 'no-such-tenant' });
    expect(response.status).toBe(404);
    expect(response.body.code).toBe('tenant_not_found');
  });

  it('answers 403 tenant_suspended once the operator suspends it, and serves again after reactivation', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const suspend = await call('PATCH', `/platform/tenants/${tenant.id}`, {
      headers: adminHeaders(),
      body: { status: 'SUSPENDED' },
    });
    expect(suspend.status).toBe(200);
    const refused = await call('GET', '/customers', { tenant: tenant.id, token: staff.token });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('tenant_suspended');
    await call('PATCH', `/platform/tenants/${tenant.id}`, {
      headers: adminHeaders(),
      body: { status: 'ACTIVE' },
    });
    expect((await call('GET', '/customers', { tenant: tenant.id, token: staff.token })).status).toBe(200);
  });

  it('answers 503 tenant_unavailable for a registered tenant whose database is not bound', async () => {
    const tenant = await createTenant({ binding: 'TENANT_DB_NOT_DEPLOYED' });
    const response = await call('GET', '/customers', { tenant: tenant.id });
    expect(response.status).toBe(503);
    expect(response.body.code).toBe('tenant_unavailable');
    expect(response.headers.get('Content-Type')).toBe('application/problem+json');
  });
});

describe('X-Tenant-ID', () => {
  it('is refused with 400 when it is not a tenant id, before any lookup, and not echoed', async () => {
    const oversized = 'a'.repeat(5000);
    for (const tenant of [oversized, 'a'.repeat(64), 'Acme', 'x', '-acme', 'acme_bank', "acme' OR 1=1"]) {
      const response = await call('GET', '/customers', { tenant });
      expect(response.status, tenant.slice(0, 20)).toBe(400);
      expect(response.body.code).toBe('tenant_required');
      expect(response.body.detail).not.toContain(tenant);
    }
    expect((await call('GET', '/customers', { tenant: oversized })).text).not.toContain('a'.repeat(64));
  });

  it('names an unknown tenant in the answer only as the well-formed id it is', async () => {
    const tenant = unique('nope');
    const response = await call('GET', '/customers', { tenant });
    expect(response.status).toBe(404);
    expect(response.body.detail).toBe(`No tenant '${tenant}' is registered.`);
  });

  it('costs failed resolutions against the per-IP public bucket: 700 unknown tenants from one IP meet 429', async () => {
    const known = await createTenant();
    const headers = { 'CF-Connecting-IP': randomIp() };
    // A few ids, so most lookups are answered by the isolate's memory of unknown tenants.
    const unknown = Array.from({ length: 10 }, () => unique('nope'));
    const request = (index: number) => call('GET', '/customers', { tenant: unknown[index % 10], headers });
    const started = Date.now();
    const responses: ApiResponse[] = [];
    for (let round = 0; round < 7; round++) {
      responses.push(...(await Promise.all(Array.from({ length: 100 }, (_, index) => request(index)))));
    }
    // The bucket refills ten requests a second: on a slow machine the burst itself earns some.
    for (let extra = 0; extra < 300 && !responses.some((response) => response.status === 429); extra++) {
      responses.push(await request(extra));
    }
    const refilled = Math.ceil(((Date.now() - started) / 60_000) * rateLimitPolicies.public.capacity);
    const notFound = responses.filter((response) => response.status === 404);
    expect(notFound.length).toBeGreaterThanOrEqual(rateLimitPolicies.public.capacity);
    expect(notFound.length).toBeLessThanOrEqual(rateLimitPolicies.public.capacity + refilled);
    const limited = responses.filter((response) => response.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    for (const response of responses) {
      expect(response.headers.get('RateLimit-Policy')).toBe('"public";q=600;w=60');
      expect(response.headers.get('RateLimit')).toMatch(/^"public";r=\d+;t=\d+$/);
    }
    for (const response of limited) {
      expect(response.body.code).toBe('rate_limited');
      expect(Number(response.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1);
    }
    // Malformed ids are charged to the same bucket.
    const malformed = await call('GET', '/customers', { tenant: 'Not An Id', headers });
    expect(malformed.headers.get('RateLimit-Policy')).toBe('"public";q=600;w=60');
    // Another address is not throttled.
    expect((await call('GET', '/customers', { tenant: unique('nope') })).status).toBe(404);
    // Healthy requests never pay the public bucket: a tenant this isolate knows is served to
    // the throttled address under its own limit (only a registry read is refused to it).
    const login = { email: `${unique('nobody')}@example.com`, password: 'not the password' };
    expect((await call('POST', '/auth/login', { tenant: known.id, body: login })).status).toBe(401);
    const served = await call('POST', '/auth/login', { tenant: known.id, headers, body: login });
    expect(served.status).toBe(401);
    expect(served.headers.get('RateLimit-Policy')).toMatch(/^"professional";/);
  }, 120_000);
});

describe('operator routes', () => {
  it('are limited per IP like every route without a tenant, and say so in RateLimit headers', async () => {
    const response = await call('GET', '/platform/tenants', {
      headers: { ...adminHeaders(), 'CF-Connecting-IP': '192.0.2.10' },
    });
    expect(response.headers.get('RateLimit-Policy')).toBe('"public";q=600;w=60');
    expect(response.headers.get('RateLimit')).toMatch(/^"public";r=599;t=\d+$/);
    // Served from the lease the first request brought (a quarter of the 599 left): its r states only
    // what is left of the lease, which no other isolate can have spent.
    const health = await call('GET', '/health', { headers: { 'CF-Connecting-IP': '192.0.2.10' } });
    expect(health.headers.get('RateLimit')).toMatch(/^"public";r=148;t=\d+$/);
  });

  it('need the platform admin token', async () => {
    expect((await call('GET', '/platform/tenants')).status).toBe(401);
    const wrong = await call('GET', '/platform/tenants', { headers: { Authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('invalid_token');
  });

  it('refuse a tenant token', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    expect((await call('GET', '/platform/tenants', { token: staff.token })).status).toBe(401);
  });

  it('register, list, read and change tenants', async () => {
    const id = unique('acme');
    const created = await call('POST', '/platform/tenants', {
      headers: adminHeaders(),
      body: { id, name: 'Acme', tier: 'STARTER', d1Binding: 'TENANT_DB_DEMO_STARTER' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id,
      tier: 'STARTER',
      capabilities: ['SCT01'],
      rateLimitPerMinute: 100,
      databaseBound: true,
    });

    const duplicate = await call('POST', '/platform/tenants', {
      headers: adminHeaders(),
      body: { id, name: 'Acme', tier: 'STARTER', d1Binding: 'TENANT_DB_DEMO_STARTER' },
    });
    expectProblem(duplicate, 409, 'tenant_exists');

    const list = await call<{ data: { id: string }[] }>('GET', '/platform/tenants', {
      headers: adminHeaders(),
    });
    expect(list.body.data.map((tenant) => tenant.id)).toContain(id);

    const upgraded = await call('PATCH', `/platform/tenants/${id}`, {
      headers: adminHeaders(),
      body: { tier: 'ENTERPRISE', rateLimitPerMinute: 3000 },
    });
    expect(upgraded.body).toMatchObject({
      tier: 'ENTERPRISE',
      capabilities: ['SCT01', 'SCT02', 'SCT11', 'SCT12'],
      rateLimitPerMinute: 3000,
    });

    const custom = await call('PATCH', `/platform/tenants/${id}`, {
      headers: adminHeaders(),
      body: { tier: 'CUSTOM', capabilities: ['SCT01', 'SCT11'], rateLimitPerMinute: null },
    });
    expect(custom.body).toMatchObject({
      tier: 'CUSTOM',
      capabilities: ['SCT01', 'SCT11'],
      customRateLimit: null,
    });

    expect((await call('GET', `/platform/tenants/${id}`, { headers: adminHeaders() })).body.tier).toBe(
      'CUSTOM',
    );
    expect((await call('GET', '/platform/tenants/nobody-here', { headers: adminHeaders() })).status).toBe(
      404,
    );
  });

  it('validate registrations', async () => {
    const response = await call('POST', '/platform/tenants', {
      headers: adminHeaders(),
      body: { id: 'Bad Id!', name: '', tier: 'GOLD', d1Binding: 'db' },
    });
    expect(response.status).toBe(422);
    const paths = (response.body.errors as { path: string }[]).map((error) => error.path);
    expect(paths).toEqual(expect.arrayContaining(['id', 'name', 'tier', 'd1Binding']));
  });
});
