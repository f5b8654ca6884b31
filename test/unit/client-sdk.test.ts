import { describe, expect, it } from 'vitest';
import { createClient, isProblemError, unwrap } from '../../client/index';

/*
 * The SDK's request handling against a scripted server: `answers` are returned in order and
 * every request the SDK sends is kept.
 */
function server(answers: ((request: Request) => Response)[]) {
  const seen: Request[] = [];
  return {
    seen,
    fetch: async (request: Request) => {
      seen.push(request);
      const answer = answers.shift();
      if (!answer) throw new Error(`unexpected ${request.method} ${request.url}`);
      return answer(request);
    },
  };
}

const token =
  (value: string, expiresIn = 900) =>
  () =>
    Response.json({ access_token: value, token_type: 'Bearer', expires_in: expiresIn, scope: '' });
const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  () =>
    Response.json(body, { status, headers });
const problem = (status: number, code: string, headers: Record<string, string> = {}) =>
  json(
    status,
    {
      type: `/v2/customer/problems/${code}`,
      title: code,
      status,
      code,
      detail: code,
      instance: '/',
      requestId: 'req_1',
    },
    {
      'Content-Type': 'application/problem+json',
      ...headers,
    },
  );
const options = { baseUrl: 'http://api.test', tenant: 'acme', clientId: 'cli_1', clientSecret: 's3cret' };

describe('the client SDK', () => {
  it('gets a client-credentials token once, and sends it with the tenant', async () => {
    const api = server([
      token('t1'),
      json(200, { data: [], nextCursor: null }),
      json(200, { data: [], nextCursor: null }),
    ]);
    const client = createClient({ ...options, fetch: api.fetch });
    await client.GET('/v2/customer/customers');
    await client.GET('/v2/customer/customers');
    const [tokenRequest, first, second] = api.seen;
    expect(tokenRequest?.url).toBe('http://api.test/v2/customer/oauth/token');
    expect(tokenRequest?.headers.get('Authorization')).toBe(`Basic ${btoa('cli_1:s3cret')}`);
    expect(await tokenRequest?.text()).toBe('grant_type=client_credentials');
    for (const request of [first, second]) {
      expect(request?.headers.get('Authorization')).toBe('Bearer t1');
      expect(request?.headers.get('X-Tenant-ID')).toBe('acme');
    }
  });

  it('fetches a new token when the old one nears its expiry or is refused', async () => {
    const api = server([
      token('short', 10),
      json(200, { data: [], nextCursor: null }),
      token('t2'),
      problem(401, 'invalid_token'),
      token('t3'),
      json(200, { data: [], nextCursor: null }),
    ]);
    const client = createClient({ ...options, fetch: api.fetch });
    unwrap(await client.GET('/v2/customer/customers'));
    // 10 s is within the renewal margin: the next call renews it; t2 is refused, so t3 is fetched.
    unwrap(await client.GET('/v2/customer/customers'));
    const calls = api.seen.filter((request) => !request.url.endsWith('/oauth/token'));
    expect(calls.map((request) => request.headers.get('Authorization'))).toEqual([
      'Bearer short',
      'Bearer t2',
      'Bearer t3',
    ]);
  });

  it('retries a 429 after Retry-After with the same Idempotency-Key', async () => {
    const api = server([
      token('t1'),
      problem(429, 'rate_limited', { 'Retry-After': '0' }),
      json(201, { id: 'cus_1' }),
    ]);
    const client = createClient({ ...options, fetch: api.fetch });
    const created = unwrap(await client.POST('/v2/customer/individuals', { body: {} as never }));
    expect(created).toEqual({ id: 'cus_1' });
    const [, first, retry] = api.seen;
    expect(first?.headers.get('Idempotency-Key')).toMatch(/^[0-9a-f-]{36}$/);
    expect(retry?.headers.get('Idempotency-Key')).toBe(first?.headers.get('Idempotency-Key'));
  });

  it('gives up on a 429 that asks for a longer wait than allowed, as a typed problem', async () => {
    const api = server([token('t1'), problem(429, 'rate_limited', { 'Retry-After': '3600' })]);
    const client = createClient({ ...options, fetch: api.fetch });
    const result = await client.GET('/v2/customer/customers');
    let caught: unknown;
    try {
      unwrap(result);
    } catch (error) {
      caught = error;
    }
    expect(isProblemError(caught, 'rate_limited')).toBe(true);
    expect(caught).toMatchObject({ status: 429, problem: { code: 'rate_limited' } });
  });
});
