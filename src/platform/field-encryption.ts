import type { Env } from '../env';
import { base64Decode, base64UrlDecode, base64UrlEncode } from './crypto';

/**
 * Encryption at rest of single fields (webhook secrets, TOTP seeds, …): AES-256-GCM with a key
 * derived by HKDF-SHA256 from the FIELD_ENCRYPTION_KEY secret. The tenant and the purpose go into
 * HKDF's `info`, so every tenant and every kind of field has its own key; the additional data
 * binds a ciphertext to its subject, so a value copied onto another row does not decrypt.
 * Format: `v1.<iv base64url>.<ciphertext and tag base64url>`.
 */
export interface FieldContext {
  tenantId: string;
  /** What the field is, e.g. `webhook-secret`; part of the key derivation. */
  purpose: string;
  /** The row the value belongs to, e.g. the endpoint id; bound as additional data. */
  subjectId: string;
}

const VERSION = 'v1';
const IV_BYTES = 12;
const encoder = new TextEncoder();

const keys = new Map<string, Promise<CryptoKey>>();

function derivedKey(env: Env, context: FieldContext): Promise<CryptoKey> {
  const info = JSON.stringify(['fincore-field-encryption', VERSION, context.tenantId, context.purpose]);
  const cacheKey = `${env.FIELD_ENCRYPTION_KEY}\n${info}`;
  let key = keys.get(cacheKey);
  if (!key) {
    key = (async () => {
      const master = base64Decode(env.FIELD_ENCRYPTION_KEY);
      if (master.length !== 32) throw new Error('FIELD_ENCRYPTION_KEY must be base64 of 32 bytes');
      const material = await crypto.subtle.importKey('raw', master, 'HKDF', false, ['deriveKey']);
      return crypto.subtle.deriveKey(
        { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(32), info: encoder.encode(info) },
        material,
        { name: 'AES-GCM', length: 256 },
        false,
        ['encrypt', 'decrypt'],
      );
    })();
    // A failed derivation (a bad secret) must not be cached for the life of the isolate.
    key.catch(() => keys.delete(cacheKey));
    keys.set(cacheKey, key);
  }
  return key;
}

function additionalData(context: FieldContext): Uint8Array {
  return encoder.encode(JSON.stringify([context.tenantId, context.purpose, context.subjectId]));
}

export async function encryptField(env: Env, context: FieldContext, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ciphertext = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: additionalData(context) },
    await derivedKey(env, context),
    encoder.encode(plaintext),
  );
  return `${VERSION}.${base64UrlEncode(iv)}.${base64UrlEncode(new Uint8Array(ciphertext))}`;
}

export async function decryptField(env: Env, context: FieldContext, ciphertext: string): Promise<string> {
  const [version, iv, data, ...rest] = ciphertext.split('.');
  if (version !== VERSION || !iv || !data || rest.length > 0) {
    throw new Error('not an encrypted field of a known version');
  }
  const plaintext = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: base64UrlDecode(iv), additionalData: additionalData(context) },
    await derivedKey(env, context),
    base64UrlDecode(data),
  );
  return new TextDecoder().decode(plaintext);
}
