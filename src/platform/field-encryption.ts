// With its extension: Node runs this module in the seed scripts (through lookup-digests.ts).
import { base64Decode, base64UrlDecode, base64UrlEncode } from './crypto.ts';

/**
 * Encryption at rest for single fields that must never sit in a database in the clear (TOTP
 * secrets; later national id and document numbers), and keyed digests to look such values up.
 *
 * - Keys are derived with HKDF-SHA256 (RFC 5869) from a 256-bit root key, with the tenant and a
 *   purpose label in `info`: every tenant and every purpose has its own key, so a key that leaks
 *   from one place opens nothing elsewhere. The salt is empty: RFC 5869 §3.1 makes it optional
 *   when the input is already uniformly random, as the root key is.
 * - AES-256-GCM with a random 96-bit IV per value (NIST SP 800-38D §8.2.2 allows 2^32 random IVs
 *   per key; one key per tenant and purpose stays far below that).
 * - The additional authenticated data names tenant, purpose and the record the value belongs to,
 *   so a ciphertext copied into another row (another user's TOTP secret) fails to decrypt there
 *   instead of quietly working.
 * - Stored as `v1.<iv>.<ciphertext and tag>` (base64url): the version names the derivation and
 *   the cipher, so either can change later while old rows stay readable.
 */

export interface FieldKeyContext {
  /**
   * base64 of the 32-byte root key the field key is derived from: `env.FIELD_ENCRYPTION_KEY`, or
   * a key of the data subject's own (crypto-shredding: erase that key and its fields are gone).
   */
  rootKey: string;
  tenantId: string;
  /** What the value is, e.g. `totp-secret`: values of one purpose cannot be read as another. */
  purpose: string;
  /**
   * Set when the root key is one data subject's own: the memory its derived keys are kept in,
   * which lives with the subject's unwrapped key (src/platform/personal-data.ts) and is forgotten
   * with it, never in this module's memory of the deployment's keys.
   */
  subjectMemory?: DerivedKeyMemory;
}

/** Derived keys by what they were derived for, each derived once. */
export type DerivedKeyMemory = Map<string, Promise<CryptoKey>>;

export interface FieldContext extends FieldKeyContext {
  /** The record the value belongs to (a user id), authenticated with the ciphertext. */
  recordId: string;
}

const FORMAT_VERSION = 'v1';
const IV_BYTES = 12;
const ROOT_KEY_BYTES = 32;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

type DerivedKeyUse = 'encryption' | 'digest';

/**
 * Keys derived from the deployment's root key, per tenant, purpose and use: a bounded set that
 * every request needs (lookups, unwrapping), so each is derived once per isolate.
 */
const derivedKeys: DerivedKeyMemory = new Map();
const DERIVED_KEYS_KEPT = 10_000;

function deriveKey(context: FieldKeyContext, use: DerivedKeyUse): Promise<CryptoKey> {
  const memory = context.subjectMemory ?? derivedKeys;
  const id = JSON.stringify([context.rootKey, context.tenantId, context.purpose, use]);
  let key = memory.get(id);
  if (!key) {
    if (memory.size >= DERIVED_KEYS_KEPT) memory.clear();
    key = deriveKeyOnce(context, use);
    // A failed derivation (a malformed root key) is not kept: the next call throws afresh.
    key.catch(() => memory.delete(id));
    memory.set(id, key);
  }
  return key;
}

async function deriveKeyOnce(context: FieldKeyContext, use: DerivedKeyUse): Promise<CryptoKey> {
  const rootKey = base64Decode(context.rootKey);
  if (rootKey.length !== ROOT_KEY_BYTES) {
    throw new Error(`The field-encryption root key must be ${ROOT_KEY_BYTES} bytes of base64.`);
  }
  const hkdf = await crypto.subtle.importKey('raw', rootKey, 'HKDF', false, ['deriveKey']);
  // JSON keeps the parts unambiguous whatever characters they hold.
  const info = encoder.encode(
    JSON.stringify([`fincore-field-${use}`, FORMAT_VERSION, context.tenantId, context.purpose]),
  );
  const params = { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info };
  return use === 'encryption'
    ? crypto.subtle.deriveKey(params, hkdf, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
    : crypto.subtle.deriveKey(params, hkdf, { name: 'HMAC', hash: 'SHA-256', length: 256 }, false, ['sign']);
}

/**
 * The AES-256-GCM key of a context, for values too large to be one field (a document's bytes,
 * encrypted chunk by chunk with their own additional data).
 */
export function encryptionKey(context: FieldKeyContext): Promise<CryptoKey> {
  return deriveKey(context, 'encryption');
}

function additionalData(context: FieldContext): Uint8Array {
  return encoder.encode(
    JSON.stringify([FORMAT_VERSION, context.tenantId, context.purpose, context.recordId]),
  );
}

export async function encryptField(context: FieldContext, plaintext: string): Promise<string> {
  const key = await deriveKey(context, 'encryption');
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ciphertext = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: additionalData(context) },
    key,
    encoder.encode(plaintext),
  );
  return [FORMAT_VERSION, base64UrlEncode(iv), base64UrlEncode(new Uint8Array(ciphertext))].join('.');
}

/**
 * The plaintext of a value `encryptField` stored for the same context. A value that is
 * malformed, tampered with or from another context throws: stored data never fails quietly.
 */
export async function decryptField(context: FieldContext, stored: string): Promise<string> {
  const [version, iv, ciphertext, ...rest] = stored.split('.');
  if (version !== FORMAT_VERSION || !iv || !ciphertext || rest.length > 0) {
    throw new Error(`Not a ${FORMAT_VERSION} encrypted field.`);
  }
  const key = await deriveKey(context, 'encryption');
  try {
    const plaintext = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: base64UrlDecode(iv), additionalData: additionalData(context) },
      key,
      base64UrlDecode(ciphertext),
    );
    return decoder.decode(plaintext);
  } catch {
    throw new Error(
      `The ${context.purpose} field of ${context.recordId} does not decrypt: wrong key, context or tampered.`,
    );
  }
}

/**
 * A keyed digest (HMAC-SHA256, base64url) of a value for equality lookups without storing the
 * value: deterministic for one context, useless to anyone without the root key, and bound to
 * the record, so the same value of two users digests differently.
 */
export async function fieldDigest(context: FieldContext, value: string): Promise<string> {
  const key = await deriveKey(context, 'digest');
  const mac = await crypto.subtle.sign(
    'HMAC',
    key,
    encoder.encode(JSON.stringify([context.recordId, value])),
  );
  return base64UrlEncode(new Uint8Array(mac));
}
