import { and, eq, isNotNull, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { type CustomerDataEntry, customerData } from '../../db/customer-data';
import type { ServiceContext } from '../../platform/context';
import { ApiError } from '../../platform/errors';
import { deleteUnderPrefix } from '../../platform/object-storage';
import { ERASED } from '../../platform/personal-data';
import { event } from '../../platform/unit-of-work';
import { type CustomerIds, columnOf, customerIds, forTheCustomer } from '../customers/data-map';
import type { CustomerView } from '../customers/schemas';
import {
  commitGuarded,
  endCustomerAccess,
  guardedUpdate,
  presentCustomer,
  requireCustomerRow,
} from '../customers/service';
import type { ErasureInput } from './schemas';

/** What erasure does to one mapped table's rows of the customer (src/db/customer-data.ts). */
function erasureOf(ctx: ServiceContext, entry: CustomerDataEntry, ids: CustomerIds): BatchItem<'sqlite'>[] {
  const { table, erase } = entry;
  if (erase.action === 'keep') return [];
  if (erase.action === 'delete') {
    return forTheCustomer(ctx, entry, ids, (filter) => ctx.db.delete(table).where(filter));
  }
  const set = erase.stamp ? { ...erase.set, [erase.stamp]: ctx.now.toISOString() } : erase.set;
  const scrubbed = forTheCustomer(ctx, entry, ids, (filter) => ctx.db.update(table).set(set).where(filter));
  const json = erase.json;
  if (!json) return scrubbed;
  const column = columnOf(table, json.column);
  const kind = columnOf(table, json.kind);
  return [
    ...scrubbed,
    ...Object.entries(json.fields).flatMap(([kindValue, field]) =>
      forTheCustomer(ctx, entry, ids, (filter) =>
        ctx.db
          .update(table)
          .set({ [json.column]: sql`json_set(${column}, ${`$.${field}`}, ${ERASED})` })
          .where(and(filter, eq(kind, kindValue), isNotNull(sql`json_extract(${column}, ${`$.${field}`})`))),
      ),
    ),
  ];
}

/**
 * Deletes the customer's objects the map declares (R2), after the batch: by then they are
 * ciphertext under a destroyed key, so a failure here leaves nothing readable, and the document
 * sweep (src/modules/documents/lifecycle.ts) removes what is left of tombstoned documents.
 */
async function deleteCustomerObjects(ctx: ServiceContext, customerId: string): Promise<void> {
  for (const entry of Object.values(customerData) as CustomerDataEntry[]) {
    if (!entry.objects) continue;
    await deleteUnderPrefix(ctx.env[entry.objects.bucket], entry.objects.prefix(ctx.tenant.id, customerId));
  }
}

/**
 * GDPR Art. 17 erasure by crypto-shredding: the customer's data key is deleted, so its sealed
 * personal data (profile, login identities, event payloads) cannot be read from this database
 * or any copy made of it later (src/platform/personal-data.ts). What each table loses or keeps,
 * and why, is declared once in the customer-data map (src/db/customer-data.ts): what was never
 * sealed is deleted, and records kept for legal reasons (consents, the audit trail) are
 * pseudonymised. All of it is one batch with its audit row and event.
 *
 * Sessions and third-party grants end first: should the batch fail, the customer is locked
 * out, never erased with a way in left open.
 */
export async function eraseCustomer(
  ctx: ServiceContext,
  customerId: string,
  input: ErasureInput,
): Promise<CustomerView> {
  const row = await requireCustomerRow(ctx, customerId);
  if (row.legalHoldPlacedAt !== null) {
    throw new ApiError('legal_hold', {
      detail: `A legal hold placed on ${row.legalHoldPlacedAt} applies: release it before erasing the customer.`,
    });
  }
  await endCustomerAccess(ctx, customerId, 'CUSTOMER_ERASED');
  const ids = await customerIds(ctx, customerId);
  const now = ctx.now.toISOString();
  const { customers: root, ...tables } = customerData;
  await commitGuarded(ctx, {
    statements: [
      guardedUpdate(ctx, row, { ...root.erase.set, status: 'CLOSED', erasedAt: now }),
      ...Object.values(tables).flatMap((entry) => erasureOf(ctx, entry, ids)),
    ],
    audit: [
      {
        action: 'customer.erased',
        targetType: 'customer',
        targetId: customerId,
        data: {
          logins: ids.logins.length,
          organizationPeople: ids.people.length,
          requestReference: input.reference ?? null,
        },
      },
    ],
    events: [event('customer.erased', { customerId })],
  });
  await deleteCustomerObjects(ctx, customerId);
  return presentCustomer({ ...row, status: 'CLOSED', key: null, erasedAt: now, updatedAt: now });
}
