import { base64Decode, base64Encode, timingSafeEqual } from '../crypto';

/**
 * PBKDF2-SHA256 is the strongest password hash WebCrypto offers in workerd, and 100,000
 * iterations is the most production Workers allow (local workerd does not enforce the cap, so
 * a test pins this constant). Parameters are stored in each hash so they can be raised later.
 */
export const PBKDF2_ITERATIONS = 100_000;
const SALT_BYTES = 16;
const KEY_BITS = 256;
const encoder = new TextEncoder();

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(password), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    key,
    KEY_BITS,
  );
  return new Uint8Array(bits);
}

function formatHash(iterations: number, salt: Uint8Array, hash: Uint8Array): string {
  return `pbkdf2-sha256$${iterations}$${base64Encode(salt)}$${base64Encode(hash)}`;
}

/**
 * Format: `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>`. Only tests pass `iterations`,
 * to make the hashes of an older configuration.
 */
export async function hashPassword(password: string, iterations = PBKDF2_ITERATIONS): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  return formatHash(iterations, salt, await derive(password, salt, iterations));
}

/**
 * A well-formed hash that no password matches (its "digest" is random bytes), for accounts
 * waiting for their user to choose a password: checking a password against it costs the same
 * work as against a real hash, so timing does not tell such accounts apart.
 */
export function unusablePasswordHash(): string {
  const random = (length: number) => crypto.getRandomValues(new Uint8Array(length));
  return formatHash(PBKDF2_ITERATIONS, random(SALT_BYTES), random(KEY_BITS / 8));
}

export interface PasswordCheck {
  valid: boolean;
  /** True when the hash was made with weaker parameters than today's and should be replaced. */
  needsRehash: boolean;
}

export async function verifyPassword(password: string, stored: string): Promise<PasswordCheck> {
  const [scheme, iterationsText, saltText, hashText] = stored.split('$');
  const iterations = Number(iterationsText);
  if (scheme !== 'pbkdf2-sha256' || !Number.isInteger(iterations) || !saltText || !hashText) {
    return { valid: false, needsRehash: false };
  }
  const hash = await derive(password, base64Decode(saltText), iterations);
  return {
    valid: timingSafeEqual(base64Encode(hash), hashText),
    needsRehash: iterations < PBKDF2_ITERATIONS,
  };
}
