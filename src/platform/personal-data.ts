import { and, eq, inArray } from 'drizzle-orm';
import { type TenantDb, withinParameterLimit } from '../db/client';
import { sealPurposes } from '../db/customer-data';
import { customerKeys } from '../db/tenant';
import { base64Encode } from './crypto';
import {
  type DerivedKeyMemory,
  decryptField,
  encryptField,
  encryptionKey,
  type FieldContext,
} from './field-encryption';
import { TenantMemory } from './tenant-memory';

/**
 * Crypto-shredding (GDPR Art. 17). Each customer's personal data is encrypted under a data key
 * of its own, stored only wrapped under a key derived from FIELD_ENCRYPTION_KEY (a Worker
 * secret, in no database). Erasing a customer deletes its wrapped key, so every copy of its
 * personal data made from then on — the live rows, later backups and exports, event payloads
 * already delivered to the log — is ciphertext nobody can open. A backup taken before the
 * erasure holds the wrapped key as it holds everything else: such backups reach the erasure
 * when they expire (D1 Time Travel: 30 days), which README's "Erasure and backups" spells out.
 *
 * Equality lookups (login by email, the `email` filter, the search index) use keyed digests
 * under the tenant's key (src/platform/lookup-digests.ts), never the value itself.
 */

/** A customer's unwrapped data key: what seals and opens its personal fields. */
export interface CustomerKey {
  customerId: string;
  /** base64 of 32 random bytes; never stored unwrapped. */
  dataKey: string;
}

/** What the personal fields of erased customers read as: their key, and with it the data, is gone. */
export const ERASED = '[erased]';

function wrapContext(rootKey: string, tenantId: string, customerId: string): FieldContext {
  return { rootKey, tenantId, purpose: sealPurposes.customerDataKey, recordId: customerId };
}

/**
 * What a customer's data key opens is derived from it once per key object: a read that meets the
 * customer again within the unwrapped keys' memory (below) derives nothing. Kept beside the key
 * rather than on it, so the key object stays the two strings it is.
 */
const derivedFromCustomerKeys = new WeakMap<CustomerKey, DerivedKeyMemory>();

function subjectMemory(key: CustomerKey): DerivedKeyMemory {
  let memory = derivedFromCustomerKeys.get(key);
  if (!memory) {
    memory = new Map();
    derivedFromCustomerKeys.set(key, memory);
  }
  return memory;
}

function sealContext(key: CustomerKey, tenantId: string, purpose: string): FieldContext {
  return {
    rootKey: key.dataKey,
    tenantId,
    purpose,
    recordId: key.customerId,
    subjectMemory: subjectMemory(key),
  };
}

/**
 * Unwrapped data keys, with what was derived from them, remembered by the isolate for 30 s like
 * the caller identities of `/me` (src/modules/access/service.ts): unwrapping and deriving were a
 * fifth of a customer read's CPU. Crypto-shredding is not weakened:
 *
 * - an entry answers only the wrapped key as stored, read from the database by the same request,
 *   and the erasure deletes that row, so no read after an erasure can reach its entry;
 * - the erasure is a commit, which makes this isolate forget the tenant's entries at once
 *   (src/platform/tenant-memory.ts); other isolates drop theirs within the 30 s;
 * - nothing is written anywhere: the memory is the isolate's, gone with it.
 */
const UNWRAPPED_KEY_TTL_MS = 30_000;
const unwrappedKeys = new TenantMemory<CustomerKey>({
  ttlMs: UNWRAPPED_KEY_TTL_MS,
  tenants: 64,
  entriesPerTenant: 1024,
});

/** A fresh data key for a new customer and the statement that stores it wrapped. */
export async function newCustomerKey(
  db: TenantDb,
  rootKey: string,
  tenantId: string,
  customerId: string,
  now: Date,
) {
  const key: CustomerKey = { customerId, dataKey: base64Encode(crypto.getRandomValues(new Uint8Array(32))) };
  const wrappedKey = await encryptField(wrapContext(rootKey, tenantId, customerId), key.dataKey);
  return {
    key,
    statement: db
      .insert(customerKeys)
      .values({ tenantId, customerId, wrappedKey, createdAt: now.toISOString() }),
  };
}

export async function unwrapCustomerKey(
  rootKey: string,
  tenantId: string,
  customerId: string,
  wrappedKey: string,
): Promise<CustomerKey> {
  // The additional data binds the wrapped key to tenant and customer: both name the entry too.
  return unwrappedKeys.through(tenantId, JSON.stringify([rootKey, customerId, wrappedKey]), async () => ({
    customerId,
    dataKey: await decryptField(wrapContext(rootKey, tenantId, customerId), wrappedKey),
  }));
}

/**
 * The data keys of several customers in one query; erased customers are missing from the map.
 * For reads that meet many customers at once (event log, listings).
 */
export async function loadCustomerKeys(
  db: TenantDb,
  rootKey: string,
  tenantId: string,
  customerIds: readonly string[],
): Promise<Map<string, CustomerKey>> {
  const unique = [...new Set(customerIds)];
  if (unique.length === 0) return new Map();
  const parts = await Promise.all(
    withinParameterLimit(unique, (ids) =>
      db
        .select()
        .from(customerKeys)
        .where(and(eq(customerKeys.tenantId, tenantId), inArray(customerKeys.customerId, ids))),
    ),
  );
  const rows = parts.flat();
  const keys = await Promise.all(
    rows.map((row) => unwrapCustomerKey(rootKey, tenantId, row.customerId, row.wrappedKey)),
  );
  return new Map(keys.map((key) => [key.customerId, key]));
}

/** Encrypts a JSON value under the customer's data key; `purpose` keeps kinds of value apart. */
export function seal(key: CustomerKey, tenantId: string, purpose: string, value: unknown): Promise<string> {
  return encryptField(sealContext(key, tenantId, purpose), JSON.stringify(value));
}

export async function unseal<T>(
  key: CustomerKey,
  tenantId: string,
  purpose: string,
  sealed: string,
): Promise<T> {
  return JSON.parse(await decryptField(sealContext(key, tenantId, purpose), sealed)) as T;
}

/**
 * The key of one document's bytes: derived from the customer's data key and the document id, so
 * erasing the customer makes every copy of every document unreadable, and no two documents share
 * a key (a random nonce per chunk stays far within AES-GCM's limits).
 */
export function documentContentKey(
  key: CustomerKey,
  tenantId: string,
  documentId: string,
): Promise<CryptoKey> {
  return encryptionKey({
    rootKey: key.dataKey,
    tenantId,
    purpose: `${sealPurposes.documentContent}:${documentId}`,
    subjectMemory: subjectMemory(key),
  });
}
