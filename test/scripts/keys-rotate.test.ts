import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { rotateSigningKeys } from '../../scripts/lib/signing-keys';
import worker from '../../src/index';
import { verifyAccessToken } from '../../src/platform/auth/tokens';
import { createApiClient, createTenant } from '../helpers/factories';
import { BASE, ISSUER } from '../helpers/http';

/*
 * `npm run keys:rotate` writes the value `rotateSigningKeys` returns; here the worker itself runs
 * with that value, as it would after `wrangler secret put` or a restart of `npm start`.
 */

async function fetchWith(signingKeys: string, path: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const headers = new Headers(init.headers);
  headers.set('CF-Connecting-IP', '10.254.0.1');
  const response = await worker.fetch(
    new Request(`${BASE}${path}`, { ...init, headers }),
    { ...env, JWT_SIGNING_KEYS: signingKeys },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

describe('signing key rotation', () => {
  it('publishes the new and the previous key, and keeps tokens of the previous key valid', async () => {
    const tenant = await createTenant();
    // Issued by the worker with the keys it runs with now.
    const client = await createApiClient(tenant, ['customers:read']);
    const before = JSON.parse(env.JWT_SIGNING_KEYS) as { current: { kid: string } };
    const rotated = await rotateSigningKeys(env.JWT_SIGNING_KEYS, 'key-rotated');
    expect(rotated).toMatchObject({ kid: 'key-rotated', previousKid: before.current.kid, droppedKid: null });

    const jwks = (await (await fetchWith(rotated.value, '/.well-known/jwks.json')).json()) as {
      keys: Record<string, unknown>[];
    };
    expect(jwks.keys.map((key) => key.kid)).toEqual(['key-rotated', before.current.kid]);
    for (const key of jwks.keys) expect(key).not.toHaveProperty('d');

    expect(decodeProtectedHeader(client.token).kid).toBe(before.current.kid);
    await expect(
      verifyAccessToken({ ...env, JWT_SIGNING_KEYS: rotated.value }, client.token, ISSUER),
    ).resolves.toMatchObject({ sub: client.id });
    const read = await fetchWith(rotated.value, '/customers', {
      headers: { Authorization: `Bearer ${client.token}`, 'X-Tenant-ID': tenant.id },
    });
    expect(read.status).toBe(200);

    const issued = await fetchWith(rotated.value, '/oauth/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: client.id,
        client_secret: client.clientSecret,
      }),
    });
    const { access_token: fresh } = (await issued.json()) as { access_token: string };
    expect(decodeProtectedHeader(fresh).kid).toBe('key-rotated');
  });

  it('drops the key before the previous one on the next rotation', async () => {
    const first = await rotateSigningKeys(env.JWT_SIGNING_KEYS, 'key-one');
    const second = await rotateSigningKeys(first.value, 'key-two');
    expect(second).toMatchObject({ kid: 'key-two', previousKid: 'key-one' });
    const keys = JSON.parse(second.value) as {
      current: Record<string, unknown>;
      previous: Record<string, unknown>;
    };
    expect(keys.current).toMatchObject({ kid: 'key-two', alg: 'ES256', crv: 'P-256' });
    expect(keys.current).toHaveProperty('d');
    expect(keys.previous).toMatchObject({ kid: 'key-one', alg: 'ES256' });
    expect(keys.previous).not.toHaveProperty('d');
    const original = JSON.parse(env.JWT_SIGNING_KEYS) as { current: { kid: string } };
    expect(second.droppedKid).toBe(original.current.kid);
  });

  it('refuses a value that is not a key set', async () => {
    await expect(rotateSigningKeys('not json')).rejects.toThrow(/not JSON/);
    await expect(rotateSigningKeys(JSON.stringify({ current: { kid: 'public-only' } }))).rejects.toThrow(
      /private ES256 JWK/,
    );
  });
});
