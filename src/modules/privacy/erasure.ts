import { and, eq, inArray, isNotNull, type SQL, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import { type StatementWithParameters, withinParameterLimit } from '../../db/client';
import {
  auditEvents,
  authorizationCodes,
  consents,
  contactVerificationCodes,
  customerKeys,
  customerSearchTerms,
  idempotencyKeys,
  organizationPeople,
  passwordTokens,
  recoveryCodes,
  sessions,
  totpCredentials,
  totpEnrolments,
  users,
  webauthnChallenges,
  webauthnCredentials,
} from '../../db/tenant';
import { actorId } from '../../platform/auth/principal';
import type { ServiceContext } from '../../platform/context';
import { ApiError } from '../../platform/errors';
import { ERASED } from '../../platform/personal-data';
import { event } from '../../platform/unit-of-work';
import type { CustomerView } from '../customers/schemas';
import {
  type CustomerRow,
  commitGuarded,
  endCustomerAccess,
  guardedUpdate,
  presentCustomer,
  requireCustomerRow,
} from '../customers/service';
import type { ErasureInput, LegalHoldInput, LegalHoldView } from './schemas';

function presentLegalHold(
  row: Pick<CustomerRow, 'id' | 'legalHoldReason' | 'legalHoldPlacedAt' | 'legalHoldPlacedBy'>,
): LegalHoldView {
  return {
    customerId: row.id,
    active: row.legalHoldPlacedAt !== null,
    reason: row.legalHoldReason,
    placedAt: row.legalHoldPlacedAt,
    placedBy: row.legalHoldPlacedBy,
  };
}

/** A hold leaves `updatedAt`, which the customer sees, as it was: its moving would tell of the hold. */
const unseenByTheCustomer = { touch: false };

export async function getLegalHold(ctx: ServiceContext, customerId: string): Promise<LegalHoldView> {
  return presentLegalHold(await requireCustomerRow(ctx, customerId));
}

/** Places (or restates the reason of) a legal hold; erasure is refused while it applies. */
export async function placeLegalHold(
  ctx: ServiceContext,
  customerId: string,
  input: LegalHoldInput,
): Promise<LegalHoldView> {
  const row = await requireCustomerRow(ctx, customerId);
  const hold = {
    legalHoldReason: input.reason,
    legalHoldPlacedAt: row.legalHoldPlacedAt ?? ctx.now.toISOString(),
    legalHoldPlacedBy: row.legalHoldPlacedBy ?? actorId(ctx.actor),
  };
  await commitGuarded(ctx, {
    statements: [guardedUpdate(ctx, row, hold, unseenByTheCustomer)],
    audit: [
      {
        action: 'customer.legal_hold_placed',
        targetType: 'customer',
        targetId: customerId,
        data: { reason: input.reason },
      },
    ],
    events: row.legalHoldPlacedAt === null ? [event('customer.legal_hold_placed', { customerId })] : [],
  });
  return presentLegalHold({ ...row, ...hold });
}

export async function releaseLegalHold(ctx: ServiceContext, customerId: string): Promise<void> {
  const row = await requireCustomerRow(ctx, customerId);
  if (row.legalHoldPlacedAt === null) {
    throw new ApiError('no_legal_hold', { detail: 'No legal hold applies to the customer.' });
  }
  await commitGuarded(ctx, {
    statements: [
      guardedUpdate(
        ctx,
        row,
        { legalHoldReason: null, legalHoldPlacedAt: null, legalHoldPlacedBy: null },
        unseenByTheCustomer,
      ),
    ],
    audit: [{ action: 'customer.legal_hold_released', targetType: 'customer', targetId: customerId }],
    events: [event('customer.legal_hold_released', { customerId })],
  });
}

/**
 * Audit fields that people fill in freely, so they may name the customer: staff's reasons and the
 * names users give their passkeys. Reason codes (`LOGOUT`, …) are no one's data and stay.
 */
const freeTextAuditFields: Record<string, string> = {
  'customer.status_changed': 'reason',
  'customer.legal_hold_placed': 'reason',
  'passkey.added': 'name',
  'passkey.removed': 'name',
};

/**
 * GDPR Art. 17 erasure by crypto-shredding: the customer's data key is deleted, so its sealed
 * personal data (profile, login identities, event payloads) cannot be read from this database
 * or any copy made of it later (src/platform/personal-data.ts). What was never sealed goes too: logins and their credentials, sessions
 * (devices, IPs), the people of an organization, search digests, cached idempotent replies.
 * Consents and audit rows stay as the record of what happened, pseudonymised: the ids in them
 * are random and now lead nowhere, and their IPs, user agents and free-text reasons go.
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
  const userIds = await endCustomerAccess(ctx, customerId, 'CUSTOMER_ERASED');
  const tenantId = ctx.tenant.id;
  const people = await ctx.db
    .select({ id: organizationPeople.id })
    .from(organizationPeople)
    .where(and(eq(organizationPeople.tenantId, tenantId), eq(organizationPeople.customerId, customerId)));
  const subjects = [customerId, ...userIds, ...people.map((person) => person.id)];
  const now = ctx.now.toISOString();
  // An organization can have more logins and people than one statement may name: statements
  // that list them are repeated per part, all in the one batch.
  const forLogins = <S extends BatchItem<'sqlite'> & StatementWithParameters>(
    build: (ofLogins: (column: SQLiteColumn) => SQL) => S,
  ) => withinParameterLimit(userIds, (ids) => build((column) => inArray(column, ids)));
  const aboutTheCustomer = <S extends BatchItem<'sqlite'> & StatementWithParameters>(
    build: (about: SQL | undefined) => S,
  ) => [
    ...withinParameterLimit(subjects, (ids) =>
      build(and(eq(auditEvents.tenantId, tenantId), inArray(auditEvents.targetId, ids))),
    ),
    ...forLogins((ofLogins) => build(and(eq(auditEvents.tenantId, tenantId), ofLogins(auditEvents.actorId)))),
  ];
  await commitGuarded(ctx, {
    statements: [
      guardedUpdate(ctx, row, {
        status: 'CLOSED',
        personal: null,
        emailDigest: null,
        erasedAt: now,
      }),
      ctx.db
        .delete(customerKeys)
        .where(and(eq(customerKeys.tenantId, tenantId), eq(customerKeys.customerId, customerId))),
      ctx.db
        .delete(customerSearchTerms)
        .where(
          and(eq(customerSearchTerms.tenantId, tenantId), eq(customerSearchTerms.customerId, customerId)),
        ),
      ctx.db
        .delete(contactVerificationCodes)
        .where(
          and(
            eq(contactVerificationCodes.tenantId, tenantId),
            eq(contactVerificationCodes.customerId, customerId),
          ),
        ),
      ctx.db
        .delete(authorizationCodes)
        .where(and(eq(authorizationCodes.tenantId, tenantId), eq(authorizationCodes.customerId, customerId))),
      ctx.db
        .delete(organizationPeople)
        .where(and(eq(organizationPeople.tenantId, tenantId), eq(organizationPeople.customerId, customerId))),
      ctx.db
        .update(consents)
        .set({ ip: null, userAgent: null })
        .where(and(eq(consents.tenantId, tenantId), eq(consents.customerId, customerId))),
      // What each login holds: sessions, tokens, second factors.
      ...[
        sessions,
        passwordTokens,
        totpEnrolments,
        totpCredentials,
        recoveryCodes,
        webauthnCredentials,
        webauthnChallenges,
      ].flatMap((table) =>
        forLogins((ofLogins) =>
          ctx.db.delete(table).where(and(eq(table.tenantId, tenantId), ofLogins(table.userId))),
        ),
      ),
      ...forLogins((ofLogins) =>
        ctx.db.delete(idempotencyKeys).where(
          and(
            eq(idempotencyKeys.tenantId, tenantId),
            // Their own requests: keys are scoped by principal id.
            ofLogins(idempotencyKeys.scope),
          ),
        ),
      ),
      ...forLogins((ofLogins) =>
        ctx.db.delete(users).where(and(eq(users.tenantId, tenantId), ofLogins(users.id))),
      ),
      // Cached replies about the customer, whoever asked (staff who registered it, its employees).
      ctx.db
        .delete(idempotencyKeys)
        .where(and(eq(idempotencyKeys.tenantId, tenantId), eq(idempotencyKeys.subjectId, customerId))),
      ...aboutTheCustomer((about) => ctx.db.update(auditEvents).set({ ip: null }).where(about)),
      ...Object.entries(freeTextAuditFields).flatMap(([action, field]) =>
        aboutTheCustomer((about) =>
          ctx.db
            .update(auditEvents)
            .set({ data: sql`json_set(${auditEvents.data}, ${`$.${field}`}, ${ERASED})` })
            .where(
              and(
                about,
                eq(auditEvents.action, action),
                isNotNull(sql`json_extract(${auditEvents.data}, ${`$.${field}`})`),
              ),
            ),
        ),
      ),
    ],
    audit: [
      {
        action: 'customer.erased',
        targetType: 'customer',
        targetId: customerId,
        data: {
          logins: userIds.length,
          organizationPeople: people.length,
          requestReference: input.reference ?? null,
        },
      },
    ],
    events: [event('customer.erased', { customerId })],
  });
  return presentCustomer({ ...row, status: 'CLOSED', key: null, erasedAt: now, updatedAt: now });
}
