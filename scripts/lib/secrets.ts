/*
 * WebCrypto (`globalThis.crypto`) rather than `node:crypto`: Node's global `crypto` is node:crypto's
 * WebCrypto, and staying on the global API keeps the seed builders runnable inside workerd, where
 * a test checks them against the worker's own password verification and OAuth token endpoint.
 */

/** Must equal `PBKDF2_ITERATIONS` in src/platform/auth/passwords.ts (test/scripts/demo-seed.test.ts checks the format). */
const PBKDF2_ITERATIONS = 100_000;
const SALT_BYTES = 16;
const KEY_BITS = 256;
const encoder = new TextEncoder();

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** URL-safe random text: `bytes` of entropy, no padding. */
export function randomSecret(bytes = 32): string {
  return base64(crypto.getRandomValues(new Uint8Array(bytes)))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
}

async function derive(
  password: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(password), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    key,
    KEY_BITS,
  );
  return new Uint8Array(bits);
}

/** Same format as src/platform/auth/passwords.ts: `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>`. */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, salt, PBKDF2_ITERATIONS);
  return `pbkdf2-sha256$${PBKDF2_ITERATIONS}$${base64(salt)}$${base64(hash)}`;
}

/**
 * Whether `stored` (a hash as `hashPassword` writes it) is of `password` with the current
 * iteration count: a seed whose stored hashes all match has nothing to rewrite.
 */
export async function isCurrentHashOf(password: string, stored: string): Promise<boolean> {
  const [scheme, iterations, salt, hash] = stored.split('$');
  if (scheme !== 'pbkdf2-sha256' || Number(iterations) !== PBKDF2_ITERATIONS || !salt || !hash) return false;
  const saltBytes = Uint8Array.from(atob(salt), (char) => char.charCodeAt(0));
  return base64(await derive(password, saltBytes, PBKDF2_ITERATIONS)) === hash;
}

/** Lower-case hex SHA-256, the form client secrets are stored in. */
export async function sha256Hex(value: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(value)));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
