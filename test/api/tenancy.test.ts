import { describe, expect, it } from 'vitest';
import { adminHeaders, createStaff, createTenant, unique } from '../helpers/factories';
import { call } from '../helpers/http';

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

describe('operator routes', () => {
  it('are limited per IP like every route without a tenant, and say so in RateLimit headers', async () => {
    const response = await call('GET', '/platform/tenants', {
      headers: { ...adminHeaders(), 'CF-Connecting-IP': '192.0.2.10' },
    });
    expect(response.headers.get('RateLimit-Policy')).toBe('"public";q=600;w=60');
    expect(response.headers.get('RateLimit')).toMatch(/^"public";r=599;t=\d+$/);
    const health = await call('GET', '/health', { headers: { 'CF-Connecting-IP': '192.0.2.10' } });
    expect(health.headers.get('RateLimit')).toMatch(/^"public";r=598;t=\d+$/);
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
    expect(duplicate.status).toBe(409);

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
