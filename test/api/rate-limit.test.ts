import { describe, expect, it } from 'vitest';
import { createApiClient, createCustomer, createStaff, createTenant } from '../helpers/factories';
import { call, clientSecretBasic } from '../helpers/http';
import { expectOAuthError } from '../helpers/problems';

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

  it('lets exactly the limit through when twenty requests of one principal race for a leased bucket', async () => {
    const tenant = await createTenant({ tier: 'CUSTOM', capabilities: ['SCT01'], rateLimitPerMinute: 8 });
    const staff = await createStaff(tenant);
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => call('GET', '/customers', { tenant: tenant.id, token: staff.token })),
    );
    // One token every 7.5 s: a slow machine may earn one during the race.
    const allowed = responses.filter((response) => response.status === 200).length;
    expect(allowed).toBeGreaterThanOrEqual(8);
    expect(allowed).toBeLessThanOrEqual(9);
    expect(responses.filter((response) => response.status === 429)).toHaveLength(20 - allowed);
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

  it('takes a route’s declared cost from the bucket: a GDPR export costs ten reads', async () => {
    // A bucket of 12 refills one token every 5 s: the test's requests all happen well within that.
    const tenant = await createTenant({ tier: 'CUSTOM', capabilities: ['SCT01'], rateLimitPerMinute: 12 });
    const { customerId } = await createCustomer(tenant);
    // The client's first token, from /oauth/token, takes one token of the client's bucket.
    const client = await createApiClient(tenant, ['customers:read']);
    const request = (path: string) => call('GET', path, { tenant: tenant.id, token: client.token });
    const exported = await request(`/customers/${customerId}/export`);
    expect(exported.status, exported.text).toBe(200);
    expect(exported.headers.get('RateLimit')).toMatch(/^"custom";r=1;t=\d+$/);
    const again = await request(`/customers/${customerId}/export`);
    expect(again.status).toBe(429);
    // Nine tokens short at one per 5 s.
    expect(Number(again.headers.get('Retry-After'))).toBeGreaterThan(30);
    // The refusal of a costly request does not refuse a cheap one the bucket can still serve.
    const read = await request(`/customers/${customerId}`);
    expect(read.status, read.text).toBe(200);
    expect(read.headers.get('RateLimit')).toMatch(/^"custom";r=0;t=\d+$/);
  });

  it('limits /oauth/* per client with the tenant’s bucket: 429 with RateLimit headers, as an RFC 6749 error', async () => {
    const tenant = await createTenant({ tier: 'CUSTOM', capabilities: ['SCT01'], rateLimitPerMinute: 3 });
    const client = await createApiClient(tenant, ['customers:read']);
    const authorization = { Authorization: clientSecretBasic(client.id, client.clientSecret) };
    const issued = await call('POST', '/oauth/token', {
      form: { grant_type: 'client_credentials' },
      headers: authorization,
    });
    expect(issued.status, issued.text).toBe(200);
    expect(issued.headers.get('RateLimit-Policy')).toBe('"custom";q=3;w=60');
    // The client's API calls share the bucket its token requests take from.
    const read = await call('GET', '/customers', { tenant: tenant.id, token: client.token });
    expect(read.status, read.text).toBe(200);
    expect(read.headers.get('RateLimit')).toMatch(/^"custom";r=0;t=\d+$/);
    for (const path of ['/oauth/token', '/oauth/introspect', '/oauth/revoke']) {
      const limited = await call<Record<string, unknown>>('POST', path, {
        form: { grant_type: 'client_credentials', token: client.token },
        headers: authorization,
      });
      expectOAuthError(limited, 429, 'temporarily_unavailable');
      expect(limited.body.code, path).toBe('rate_limited');
      expect(limited.headers.get('RateLimit-Policy'), path).toBe('"custom";q=3;w=60');
      expect(limited.headers.get('RateLimit'), path).toMatch(/^"custom";r=0;t=\d+$/);
      expect(Number(limited.headers.get('Retry-After')), path).toBeGreaterThanOrEqual(1);
    }
  });
});
