/*
 * Two isolates of the worker sharing every store (vitest.config.ts, `secondIsolate`): what one
 * isolate keeps in memory, a rate-limit lease or the memory that a session was not revoked, must
 * not let a caller past a limit or a revocation by spreading requests over isolates.
 */
import { describe, expect, it } from 'vitest';
import { createCustomer, createTenant, type TestTenant } from '../helpers/factories';
import { call } from '../helpers/http';
import { expectProblem } from '../helpers/problems';

/** `r` of a `RateLimit` header: what the answer says the caller has left. */
function remaining(response: { headers: Headers }): number {
  const match = /;r=(\d+);/.exec(response.headers.get('RateLimit') ?? '');
  expect(match, 'RateLimit header').not.toBeNull();
  return Number(match?.[1]);
}

/** A fresh customer of the tenant, and a read of its profile through either isolate. */
async function customerReads(tenant: TestTenant) {
  const customer = await createCustomer(tenant);
  const read = (via: 'first' | 'second') =>
    call('GET', `/customers/${customer.customerId}`, { tenant: tenant.id, token: customer.accessToken, via });
  return { customer, read };
}

describe('two isolates', () => {
  it('serve one principal exactly its tier’s limit together, leases and all', async () => {
    const tenant = await createTenant({ tier: 'STARTER' });
    const { read } = await customerReads(tenant);
    const started = Date.now();
    const statuses: number[] = [];
    // Rounds of 20 parallel requests, half to each isolate, until both refuse.
    while (statuses.filter((status) => status === 429).length < 20 && statuses.length < 400) {
      const round = await Promise.all(
        Array.from({ length: 20 }, (_, index) => read(index % 2 === 0 ? 'first' : 'second')),
      );
      statuses.push(...round.map((response) => response.status));
    }
    expect(new Set(statuses)).toEqual(new Set([200, 429]));
    // The bucket earns a request every 0.6 s; the login that made the token took one.
    const refilled = Math.floor(((Date.now() - started) / 60_000) * 100) + 1;
    const allowed = statuses.filter((status) => status === 200).length;
    expect(allowed).toBeLessThanOrEqual(99 + refilled);
    // Refused early by at most what sits in the other isolate's lease: a quarter of what was left.
    expect(allowed).toBeGreaterThanOrEqual(75);
  });

  it('never states in RateLimit more than the caller can still spend there', async () => {
    const tenant = await createTenant({ tier: 'STARTER' });
    const { read } = await customerReads(tenant);
    // The first isolate takes a lease, then the second drains the rest of the bucket.
    expect((await read('first')).status).toBe(200);
    let drained = 0;
    while ((await read('second')).status === 200) drained += 1;
    expect(drained).toBeGreaterThan(0);
    const fromLease = await read('first');
    expect(fromLease.status).toBe(200);
    const stated = remaining(fromLease);
    expect(stated).toBeGreaterThan(0);
    for (let spent = 0; spent < stated; spent++) expect((await read('first')).status).toBe(200);
  });

  it('refuses a session revoked through the other isolate within the bound, with both memories on', async () => {
    const tenant = await createTenant();
    const { customer, read } = await customerReads(tenant);
    // The second isolate now remembers the session as not revoked (for 1 s in the tests, 30 s by default).
    expect((await read('second')).status).toBe(200);
    expect((await read('second')).status).toBe(200);
    const logout = await call('POST', '/auth/logout', { tenant: tenant.id, token: customer.accessToken });
    expect(logout.status, logout.text).toBe(204);
    expectProblem(await read('first'), 401, 'invalid_token');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expectProblem(await read('second'), 401, 'invalid_token');
  });
});
