import { describe, expect, it } from 'vitest';
import { createStaff, createTenant } from '../helpers/factories';
import { call } from '../helpers/http';

describe('rate limiting', () => {
  it('lets a STARTER principal through 100 times a minute, then answers 429 with Retry-After', async () => {
    const tenant = await createTenant({ tier: 'STARTER' });
    const staff = await createStaff(tenant);
    const request = () => call('GET', '/customers?limit=1', { tenant: tenant.id, token: staff.token });
    const started = Date.now();
    const responses = await Promise.all(Array.from({ length: 101 }, request));
    // The bucket refills one request every 0.6 s: on a slow machine the burst itself earns some.
    for (let extra = 0; extra < 20 && !responses.some((response) => response.status === 429); extra++) {
      responses.push(await request());
    }
    const refilled = Math.floor(((Date.now() - started) / 60_000) * 100) + 1;
    const allowed = responses.filter((response) => response.status === 200).length;
    expect(allowed).toBeGreaterThanOrEqual(100);
    expect(allowed).toBeLessThanOrEqual(100 + refilled);
    const limited = responses.find((response) => response.status === 429);
    expect(limited?.body.code).toBe('rate_limited');
    expect(Number(limited?.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1);
    expect(limited?.headers.get('RateLimit-Policy')).toBe('"starter";q=100;w=60');
    expect(limited?.headers.get('RateLimit')).toMatch(/^"starter";r=0;t=\d+$/);
    for (const response of responses)
      expect(response.headers.get('RateLimit-Policy')).toBe('"starter";q=100;w=60');
  });

  it('uses the configured limit of a CUSTOM tenant', async () => {
    const tenant = await createTenant({ tier: 'CUSTOM', capabilities: ['SCT01'], rateLimitPerMinute: 5 });
    const staff = await createStaff(tenant);
    const statuses = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await call('GET', '/customers', { tenant: tenant.id, token: staff.token })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('keeps the buckets of two principals independent', async () => {
    const tenant = await createTenant({ tier: 'CUSTOM', capabilities: ['SCT01'], rateLimitPerMinute: 2 });
    const first = await createStaff(tenant);
    const second = await createStaff(tenant);
    for (let i = 0; i < 2; i++) await call('GET', '/customers', { tenant: tenant.id, token: first.token });
    expect((await call('GET', '/customers', { tenant: tenant.id, token: first.token })).status).toBe(429);
    const other = await call('GET', '/customers', { tenant: tenant.id, token: second.token });
    expect(other.status).toBe(200);
    expect(other.headers.get('RateLimit')).toMatch(/^"custom";r=1;t=\d+$/);
  });

  it('limits anonymous callers per IP and counts failed authentication too', async () => {
    const tenant = await createTenant({ tier: 'CUSTOM', capabilities: ['SCT01'], rateLimitPerMinute: 2 });
    const headers = { 'CF-Connecting-IP': '203.0.113.7' };
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await call('GET', '/customers', { tenant: tenant.id, token: 'bad', headers })).status);
    }
    expect(statuses).toEqual([401, 401, 429]);
    const fromElsewhere = await call('GET', '/customers', {
      tenant: tenant.id,
      headers: { 'CF-Connecting-IP': '203.0.113.8' },
    });
    expect(fromElsewhere.status).toBe(401);
    expect(fromElsewhere.headers.get('RateLimit')).toMatch(/r=1;/);
  });
});
