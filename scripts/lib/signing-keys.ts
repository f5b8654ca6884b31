/*
 * The access-token signing keys, in the JWT_SIGNING_KEYS format src/env.ts declares:
 * `{ "current": <private ES256 JWK with kid>, "previous": <public JWK> | null }`.
 * WebCrypto only (no node:crypto), so the test runs the very same code inside workerd and checks
 * it against the worker's own token verification and JWKS.
 */

export interface SigningKeys {
  current: JsonWebKey & { kid: string };
  previous: (JsonWebKey & { kid: string }) | null;
}

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (byte) =>
    byte.toString(16).padStart(2, '0'),
  ).join('');
}

/** `key-2026-11-25-3f9a0c`: sortable by creation day, unique by its random tail. */
export function newKeyId(now = new Date()): string {
  return `key-${now.toISOString().slice(0, 10)}-${randomHex(3)}`;
}

export async function newSigningKey(kid: string): Promise<SigningKeys['current']> {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const jwk = (await crypto.subtle.exportKey('jwk', pair.privateKey)) as JsonWebKey;
  return { ...jwk, kid, alg: 'ES256', use: 'sig' };
}

export async function newSigningKeys(kid: string): Promise<string> {
  const keys: SigningKeys = { current: await newSigningKey(kid), previous: null };
  return JSON.stringify(keys);
}

function parse(source: string): SigningKeys {
  let keys: Partial<SigningKeys>;
  try {
    keys = JSON.parse(source);
  } catch {
    throw new Error('JWT_SIGNING_KEYS is not JSON.');
  }
  if (!keys.current?.kid || !keys.current.d) {
    throw new Error('JWT_SIGNING_KEYS.current must be a private ES256 JWK with a kid.');
  }
  return { current: keys.current, previous: keys.previous ?? null };
}

/**
 * A new key becomes current; the current one stays as `previous` (public part only) so tokens it
 * signed keep verifying until they expire. The key before it is dropped: rotate again only once
 * every token of the previous key has expired (10 minutes, plus 5 of JWKS caching).
 */
export async function rotateSigningKeys(
  source: string,
  kid = newKeyId(),
): Promise<{ value: string; kid: string; previousKid: string; droppedKid: string | null }> {
  const { current, previous } = parse(source);
  if (kid === current.kid) throw new Error(`The new key id ${kid} is the current one.`);
  const { kty, crv, x, y } = current;
  const keys: SigningKeys = {
    current: await newSigningKey(kid),
    previous: { kty, crv, x, y, kid: current.kid, alg: 'ES256', use: 'sig' },
  };
  return { value: JSON.stringify(keys), kid, previousKid: current.kid, droppedKid: previous?.kid ?? null };
}
