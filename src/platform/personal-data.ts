import { and, eq, inArray } from 'drizzle-orm';
import { type TenantDb, withinParameterLimit } from '../db/client';
import { sealPurposes } from '../db/customer-data';
import { customerKeys } from '../db/tenant';
import { base64Encode } from './crypto';
import { decryptField, encryptField, encryptionKey, type FieldContext } from './field-encryption';

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

function sealContext(key: CustomerKey, tenantId: string, purpose: string): FieldContext {
  return { rootKey: key.dataKey, tenantId, purpose, recordId: key.customerId, subjectKey: true };
}

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
  return { customerId, dataKey: await decryptField(wrapContext(rootKey, tenantId, customerId), wrappedKey) };
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
    subjectKey: true,
  });
}
