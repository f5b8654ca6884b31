import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { sessions } from '../../src/db/tenant';
import worker from '../../src/index';
import { createStaff, createTenant, database, randomIp, STAFF_PASSWORD } from '../helpers/factories';
import { BASE } from '../helpers/http';

type Environment = 'production' | 'test';

/**
 * Logs a staff user in through the worker's fetch handler configured for `environment`, with
 * exactly the headers given, and returns the client IP its session recorded.
 */
async function recordedIp(environment: Environment, headers: Record<string, string>): Promise<string | null> {
  const tenant = await createTenant();
  const staff = await createStaff(tenant);
  const request = new Request(`${BASE}/auth/login`, {
    method: 'POST',
    headers: { ...headers, 'X-Tenant-ID': tenant.id, 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: staff.email, password: STAFF_PASSWORD, accountType: 'STAFF' }),
  });
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, { ...env, ENVIRONMENT: environment }, ctx);
  await waitOnExecutionContext(ctx);
  const body = await response.json<{ sessionId: string }>();
  expect(response.status, JSON.stringify(body)).toBe(200);
  const row = await database(tenant)
    .select({ ip: sessions.ip })
    .from(sessions)
    .where(and(eq(sessions.tenantId, tenant.id), eq(sessions.id, body.sessionId)))
    .get();
  return row?.ip ?? null;
}

describe('the client IP', () => {
  it('in production is only CF-Connecting-IP, which the edge sets: X-Forwarded-For is not believed', async () => {
    const edge = randomIp();
    expect(await recordedIp('production', { 'CF-Connecting-IP': edge, 'X-Forwarded-For': randomIp() })).toBe(
      edge,
    );
    expect(await recordedIp('production', { 'X-Forwarded-For': randomIp() })).toBe('unknown');
  });

  it('in test (and development) falls back to the first X-Forwarded-For address', async () => {
    const forwarded = randomIp();
    expect(await recordedIp('test', { 'X-Forwarded-For': `${forwarded}, ${randomIp()}` })).toBe(forwarded);
    const edge = randomIp();
    expect(await recordedIp('test', { 'CF-Connecting-IP': edge, 'X-Forwarded-For': randomIp() })).toBe(edge);
  });

  it('is no address when the header does not hold one, in either environment', async () => {
    for (const environment of ['production', 'test'] as const) {
      expect(await recordedIp(environment, { 'CF-Connecting-IP': `${randomIp()}, ${randomIp()}` })).toBe(
        'unknown',
      );
      expect(await recordedIp(environment, { 'CF-Connecting-IP': 'x'.repeat(5000) })).toBe('unknown');
    }
  });
});
