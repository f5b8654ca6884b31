import { env, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { answerHealthDirectly } from '../../src/modules/system/health';
import { rateLimitPolicies } from '../../src/platform/rate-limit/policies';
import { BASE, call } from '../helpers/http';
import { expectProblem } from '../helpers/problems';

/** A fresh address per test, so no test shares the per-IP bucket. */
const freshIp = () => `10.${[0, 0, 0].map(() => Math.floor(Math.random() * 250) + 1).join('.')}`;

const remaining = (response: { headers: Headers }) =>
  Number(/;r=(\d+);/.exec(response.headers.get('RateLimit') ?? '')?.[1]);

describe('GET /health', () => {
  // The exact path is answered before the router (src/modules/system/health.ts); with a query
  // the router answers it: both answers must be the route the document declares.
  it('answers before the router exactly as the router does: headers, body and the same bucket', async () => {
    const ip = freshIp();
    const direct = await call('GET', '/health', { headers: { 'CF-Connecting-IP': ip } });
    const routed = await call('GET', '/health?via=router', { headers: { 'CF-Connecting-IP': ip } });
    for (const response of [direct, routed]) {
      expect(response.status).toBe(200);
      expect(Object.keys(response.body as object).sort()).toEqual(['status', 'time']);
      expect(response.body).toMatchObject({ status: 'ok' });
      expect(new Date(String(response.body.time)).toISOString()).toBe(response.body.time);
      expect(response.headers.get('X-Request-Id')).toMatch(/^req_/);
    }
    expect([...direct.headers.keys()].sort()).toEqual([...routed.headers.keys()].sort());
    for (const name of ['Content-Type', 'RateLimit-Policy'])
      expect(direct.headers.get(name)).toBe(routed.headers.get(name));
    // The same bucket: the first took its token and a lease, the second spent from that lease.
    expect(remaining(direct)).toBe(rateLimitPolicies.public.capacity - 1);
    expect(remaining(routed)).toBeLessThan(remaining(direct));
  });

  it('is answered without the router for the exact path, and by it for anything else', async () => {
    const headers = { 'CF-Connecting-IP': freshIp() };
    const routed: string[] = [];
    const router = (url: string) => () => {
      routed.push(url);
      return new Response(null, { status: 418 });
    };
    for (const url of [`${BASE}/health`, `${BASE}/health?x=1`, `${BASE}/healthz`, `${BASE}/x/health`]) {
      await answerHealthDirectly(new Request(url, { headers }), env, router(url));
    }
    await answerHealthDirectly(new Request(`${BASE}/health`, { method: 'HEAD' }), env, router('HEAD'));
    expect(routed).toEqual([`${BASE}/health?x=1`, `${BASE}/healthz`, `${BASE}/x/health`, 'HEAD']);
  });

  it('echoes a safe X-Request-Id and replaces an unsafe one', async () => {
    const echoed = await SELF.fetch(`${BASE}/health`, { headers: { 'X-Request-Id': 'trace.42:a-b_c' } });
    expect(echoed.headers.get('X-Request-Id')).toBe('trace.42:a-b_c');
    const replaced = await SELF.fetch(`${BASE}/health`, { headers: { 'X-Request-Id': 'a b' } });
    expect(replaced.headers.get('X-Request-Id')).toMatch(/^req_/);
  });

  it('serves an address exactly its public quota a minute, 20 at a time, then a 429 problem', async () => {
    const ip = freshIp();
    const { capacity } = rateLimitPolicies.public;
    const answers: Awaited<ReturnType<typeof call>>[] = [];
    const started = Date.now();
    // Until a refusal: the bucket refills 10 tokens a second, so a slow run needs a batch more.
    while (!answers.some((answer) => answer.status === 429) && answers.length < 2 * capacity) {
      answers.push(
        ...(await Promise.all(
          Array.from({ length: 20 }, () => call('GET', '/health', { headers: { 'CF-Connecting-IP': ip } })),
        )),
      );
    }
    // A bucket refills as it is spent: capacity per window, pro rata, and never a token more.
    const refilled = Math.ceil(
      ((Date.now() - started) / 1000) * (capacity / rateLimitPolicies.public.windowSeconds),
    );
    const served = answers.filter((answer) => answer.status === 200).length;
    expect(served).toBeGreaterThanOrEqual(capacity);
    expect(served).toBeLessThanOrEqual(capacity + refilled);
    // The refusal itself, not a request after it: by then the bucket may hold a refilled token.
    const refused = answers.find((answer) => answer.status !== 200);
    expect(refused).toBeDefined();
    expectProblem(refused as (typeof answers)[number], 429, 'rate_limited');
    expect(refused?.headers.get('Retry-After')).toMatch(/^\d+$/);
    expect(refused?.headers.get('X-Request-Id')).toMatch(/^req_/);
  });

  it('leaves every other method to the router: HEAD is answered, DELETE is 405', async () => {
    const head = await SELF.fetch(`${BASE}/health`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expectProblem(await call('DELETE', '/health'), 405, 'method_not_allowed');
  });
});
