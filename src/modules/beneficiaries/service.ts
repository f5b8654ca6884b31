import { and, desc, eq, isNull, lt, ne, type SQL, sql } from 'drizzle-orm';
import { sealPurposes } from '../../db/customer-data';
import { beneficiaries } from '../../db/tenant';
import { recentlyAuthenticated, STEP_UP_MAX_AGE_SECONDS } from '../../platform/auth/recent-auth';
import type { ServiceContext } from '../../platform/context';
import { ApiError, notFound, validationError } from '../../platform/errors';
import type { EventData } from '../../platform/events';
import { fieldDigest } from '../../platform/field-encryption';
import { newId } from '../../platform/ids';
import { searchTerms } from '../../platform/lookup-digests';
import { decodeCursor, toPage } from '../../platform/pagination';
import { type CustomerKey, loadCustomerKeys, seal, unseal } from '../../platform/personal-data';
import { commitUnlessRefused, event } from '../../platform/unit-of-work';
import { assertOrganizationRole, commitUnlessErased, requireCustomerRow } from '../customers/service';
import { type AccountInput, checkAccount } from './account-rules';
import {
  needsAcknowledgement,
  type PayeeResult,
  type PayeeVerifier,
  sandboxPayeeVerifier,
} from './payee-verifier';
import type {
  BeneficiaryListQuery,
  BeneficiaryStatus,
  BeneficiaryView,
  ConfirmBeneficiaryInput,
  CreateBeneficiaryInput,
  UpdateBeneficiaryInput,
} from './schemas';

export type BeneficiaryRow = typeof beneficiaries.$inferSelect;

/** What `details` seals: everything personal about the payee. */
interface BeneficiaryDetails {
  name: string;
  nickname: string | null;
  email: string | null;
  account: AccountInput;
  suggestedName: string | null;
}

/** How long a beneficiary added without a recent authentication waits for its confirmation. */
export const CONFIRMATION_WINDOW_SECONDS = 24 * 60 * 60;

/** Organization roles that may add, change, confirm and delete an organization's beneficiaries. */
const approverRoles = ['ADMIN_USER', 'TRANSACTION_APPROVER'] as const;

/**
 * Which verifier answers. Only the sandbox exists: a tenant's VoP/CoP provider is chosen here
 * once one is integrated (the interface is ./payee-verifier.ts).
 */
export function payeeVerifierFor(_ctx: ServiceContext): PayeeVerifier {
  return sandboxPayeeVerifier;
}

const detailsPurpose = (beneficiaryId: string) => `${sealPurposes.beneficiaryDetails}:${beneficiaryId}`;

function sealDetails(ctx: ServiceContext, key: CustomerKey, id: string, details: BeneficiaryDetails) {
  return seal(key, ctx.tenant.id, detailsPurpose(id), details);
}

function openDetails(ctx: ServiceContext, key: CustomerKey, row: BeneficiaryRow) {
  return unseal<BeneficiaryDetails>(key, ctx.tenant.id, detailsPurpose(row.id), row.details);
}

function customerDigest(ctx: ServiceContext, purpose: string, customerId: string, value: string) {
  return fieldDigest(
    { rootKey: ctx.env.FIELD_ENCRYPTION_KEY, tenantId: ctx.tenant.id, purpose, recordId: customerId },
    value,
  );
}

function searchDigests(ctx: ServiceContext, customerId: string, ...values: (string | null)[]) {
  const terms = searchTerms(...values.filter((value): value is string => value !== null));
  return Promise.all(
    terms.map((term) => customerDigest(ctx, sealPurposes.beneficiarySearch, customerId, term)),
  );
}

export function presentBeneficiary(row: BeneficiaryRow, details: BeneficiaryDetails): BeneficiaryView {
  const { account } = details;
  return {
    id: row.id,
    customerId: row.customerId,
    name: details.name,
    type: row.type,
    nickname: details.nickname,
    email: details.email,
    network: row.network,
    currency: row.currency,
    country: row.country,
    account: {
      iban: account.iban ?? null,
      bic: account.bic ?? null,
      accountNumber: account.accountNumber ?? null,
      sortCode: account.sortCode ?? null,
      routingNumber: account.routingNumber ?? null,
      accountType: account.accountType ?? null,
      last4: row.last4,
    },
    modulusCheck: row.modulusCheck,
    payeeVerification: {
      status: row.payeeStatus,
      suggestedName: details.suggestedName,
      scheme: row.payeeScheme,
      provider: row.payeeProvider,
      reference: row.payeeReference,
      checkedAt: row.payeeCheckedAt,
    },
    status: row.status,
    confirmationExpiresAt: row.confirmationExpiresAt,
    confirmedAt: row.confirmedAt,
    payeeWarningAcknowledgedAt: row.payeeWarningAcknowledgedAt,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    deletedAt: row.deletedAt,
  };
}

/** Whether the caller is the customer's own login, or one of its organization's users. */
function isTheCustomer(ctx: ServiceContext, customerId: string): boolean {
  return (
    ctx.actor.type === 'user' && ctx.actor.userKind === 'CUSTOMER' && ctx.actor.customerId === customerId
  );
}

/** A beneficiary the caller may see, with the key that opens it; anyone else's is 404. */
async function requireBeneficiary(ctx: ServiceContext, beneficiaryId: string) {
  const row = await ctx.db
    .select()
    .from(beneficiaries)
    .where(and(eq(beneficiaries.tenantId, ctx.tenant.id), eq(beneficiaries.id, beneficiaryId)))
    .get();
  const customerUser = ctx.actor.type === 'user' && ctx.actor.userKind === 'CUSTOMER';
  if (!row || (customerUser && !isTheCustomer(ctx, row.customerId))) throw notFound('beneficiary');
  const key = (
    await loadCustomerKeys(ctx.db, ctx.env.FIELD_ENCRYPTION_KEY, ctx.tenant.id, [row.customerId])
  ).get(row.customerId);
  // The key goes with erasure, which deletes the rows in the same batch: no key, no beneficiary.
  if (!key) throw notFound('beneficiary');
  return { row, key, details: await openDetails(ctx, key, row) };
}

/** The customer a write is for: visible, not erased, not closed, and its approver if an organization. */
async function requireWritableCustomer(ctx: ServiceContext, customerId: string, action: string) {
  const customer = await requireCustomerRow(ctx, customerId);
  await assertOrganizationRole(ctx, customer, approverRoles, action);
  if (customer.status === 'CLOSED')
    throw new ApiError('customer_closed', { detail: 'The customer is closed.' });
  return customer;
}

/**
 * Writes only if nobody changed the beneficiary since it was read: a stale `updated_at` becomes
 * NULL, which its NOT NULL constraint refuses, rolling back the batch with its audit and events.
 */
function guardedUpdate(ctx: ServiceContext, row: BeneficiaryRow, values: Partial<BeneficiaryRow>) {
  return ctx.db
    .update(beneficiaries)
    .set({
      ...values,
      updatedAt: sql`CASE WHEN ${beneficiaries.updatedAt} = ${row.updatedAt} THEN ${ctx.now.toISOString()} END`,
    })
    .where(and(eq(beneficiaries.tenantId, ctx.tenant.id), eq(beneficiaries.id, row.id)));
}

type BeneficiaryChange =
  | 'beneficiary.payee_verified'
  | 'beneficiary.updated'
  | 'beneficiary.confirmed'
  | 'beneficiary.deleted';

/**
 * Commits a change of one beneficiary with its audit row and event of the same name. Audit rows
 * name the customer as their target, so export and erasure find them with the customer's.
 */
async function changeBeneficiary<T extends BeneficiaryChange>(
  ctx: ServiceContext,
  row: BeneficiaryRow,
  values: Partial<BeneficiaryRow>,
  type: T,
  data: Omit<EventData<T>, 'customerId' | 'beneficiaryId'>,
  auditOnly: Record<string, unknown> = {},
): Promise<void> {
  const ids = { customerId: row.customerId, beneficiaryId: row.id };
  await commitUnlessRefused(
    ctx,
    {
      statements: [guardedUpdate(ctx, row, values)],
      audit: [
        {
          action: type,
          targetType: 'customer',
          targetId: row.customerId,
          data: { beneficiaryId: row.id, ...data, ...auditOnly },
        },
      ],
      events: [event(type, { ...ids, ...data } as EventData<T>)],
    },
    {
      violates: 'beneficiaries.updated_at',
      refusal: () =>
        new ApiError('concurrent_update', {
          detail: 'The beneficiary changed meanwhile: read it again and retry.',
        }),
    },
  );
}

async function existingBeneficiaryId(ctx: ServiceContext, customerId: string, fingerprint: string) {
  const existing = await ctx.db
    .select({ id: beneficiaries.id })
    .from(beneficiaries)
    .where(
      and(
        eq(beneficiaries.tenantId, ctx.tenant.id),
        eq(beneficiaries.customerId, customerId),
        eq(beneficiaries.accountFingerprint, fingerprint),
        isNull(beneficiaries.deletedAt),
      ),
    )
    .get();
  return existing?.id;
}

function beneficiaryExists(existingId: string | undefined): ApiError {
  return new ApiError('beneficiary_exists', {
    detail: 'The customer already has a beneficiary for this account.',
    ...(existingId ? { extensions: { existingId } } : {}),
  });
}

/**
 * Adds a beneficiary. The unique index over the account fingerprint reserves the account first,
 * so of concurrent identical requests one wins before any payee check is paid for; then the
 * payee is verified and its result stored. A customer's own login with a recent authentication
 * adds it trusted (ACTIVE); anyone else (staff, API clients, a stale login) adds it pending.
 */
export async function createBeneficiary(
  ctx: ServiceContext,
  customerId: string,
  input: CreateBeneficiaryInput,
): Promise<BeneficiaryView> {
  const customer = await requireWritableCustomer(ctx, customerId, "add the organization's beneficiaries");
  const checked = checkAccount(input);
  if (!checked.ok) throw validationError(checked.errors);
  const { value } = checked;
  const id = newId('beneficiary', ctx.now.getTime());
  const trusted =
    isTheCustomer(ctx, customerId) && recentlyAuthenticated(ctx.actor, STEP_UP_MAX_AGE_SECONDS, ctx.now);
  const status: BeneficiaryStatus = trusted ? 'ACTIVE' : 'PENDING_CONFIRMATION';
  const now = ctx.now.toISOString();
  const details: BeneficiaryDetails = {
    name: input.name,
    nickname: input.nickname ?? null,
    email: input.email ?? null,
    account: value.account,
    suggestedName: null,
  };
  const fingerprint = await customerDigest(
    ctx,
    sealPurposes.beneficiaryAccount,
    customerId,
    value.duplicateKey,
  );
  const row: BeneficiaryRow = {
    id,
    tenantId: ctx.tenant.id,
    customerId,
    type: input.type,
    network: value.network,
    currency: value.currency,
    country: value.country,
    status,
    details: await sealDetails(ctx, customer.key, id, details),
    last4: value.last4,
    accountFingerprint: fingerprint,
    searchDigests: await searchDigests(ctx, customerId, details.name, details.nickname),
    modulusCheck: value.modulusCheck,
    payeeStatus: 'NOT_CHECKED',
    payeeScheme: null,
    payeeProvider: null,
    payeeReference: null,
    payeeCheckedAt: null,
    confirmationExpiresAt: trusted
      ? null
      : new Date(ctx.now.getTime() + CONFIRMATION_WINDOW_SECONDS * 1000).toISOString(),
    confirmedAt: trusted ? now : null,
    confirmedBy: trusted ? (ctx.actor.type === 'user' ? ctx.actor.id : null) : null,
    payeeWarningAcknowledgedAt: null,
    createdBy: ctx.actor.type === 'anonymous' ? null : ctx.actor.id,
    createdAt: now,
    updatedAt: now,
    deletedAt: null,
  };
  await commitUnlessErased(
    ctx,
    customerId,
    {
      statements: [ctx.db.insert(beneficiaries).values(row)],
      audit: [
        {
          action: 'beneficiary.created',
          targetType: 'customer',
          targetId: customerId,
          data: { beneficiaryId: id, network: row.network, status, modulusCheck: row.modulusCheck },
        },
      ],
      events: [event('beneficiary.created', { customerId, beneficiaryId: id, network: row.network, status })],
    },
    {
      duplicates: 'beneficiaries.account_fingerprint',
      refusal: async () => beneficiaryExists(await existingBeneficiaryId(ctx, customerId, fingerprint)),
    },
  );
  return presentBeneficiary(...(await recordPayeeCheck(ctx, customer.key, row, details)));
}

/**
 * Runs the payee check and stores its answer. It informs and never blocks: a verifier that
 * fails leaves `NOT_CHECKED`, and the beneficiary stands.
 */
async function recordPayeeCheck(
  ctx: ServiceContext,
  key: CustomerKey,
  row: BeneficiaryRow,
  details: BeneficiaryDetails,
): Promise<[BeneficiaryRow, BeneficiaryDetails]> {
  let result: PayeeResult;
  try {
    result = await payeeVerifierFor(ctx).verify({
      beneficiaryId: row.id,
      network: row.network,
      name: details.name,
      type: row.type,
      account: details.account,
    });
  } catch (error) {
    ctx.logger.warn('payee verification failed', { beneficiaryId: row.id, error: String(error) });
    return [row, details];
  }
  if (result.status === 'NOT_CHECKED') return [row, details];
  const checkedDetails = { ...details, suggestedName: result.suggestedName };
  const values = {
    details: await sealDetails(ctx, key, row.id, checkedDetails),
    payeeStatus: result.status,
    payeeScheme: result.scheme,
    payeeProvider: result.provider,
    payeeReference: result.reference,
    payeeCheckedAt: ctx.now.toISOString(),
  };
  await changeBeneficiary(
    ctx,
    row,
    values,
    'beneficiary.payee_verified',
    { status: result.status, scheme: result.scheme },
    { provider: result.provider },
  );
  return [{ ...row, ...values }, checkedDetails];
}

export async function getBeneficiary(ctx: ServiceContext, beneficiaryId: string): Promise<BeneficiaryView> {
  const { row, details } = await requireBeneficiary(ctx, beneficiaryId);
  return presentBeneficiary(row, details);
}

/** Newest first; deleted beneficiaries only when asked for by `status=DELETED`. */
export async function listBeneficiaries(
  ctx: ServiceContext,
  customerId: string,
  query: BeneficiaryListQuery,
): Promise<{ data: BeneficiaryView[]; nextCursor: string | null }> {
  const customer = await requireCustomerRow(ctx, customerId);
  const after = decodeCursor(query.cursor, 'ben');
  const filters: (SQL | undefined)[] = [
    eq(beneficiaries.tenantId, ctx.tenant.id),
    eq(beneficiaries.customerId, customerId),
    after ? lt(beneficiaries.id, after) : undefined,
    query.status ? eq(beneficiaries.status, query.status) : ne(beneficiaries.status, 'DELETED'),
    query.network ? eq(beneficiaries.network, query.network) : undefined,
    query.currency ? eq(beneficiaries.currency, query.currency) : undefined,
    query.q ? await matchesEveryWord(ctx, customerId, query.q) : undefined,
  ];
  const rows = await ctx.db
    .select()
    .from(beneficiaries)
    .where(and(...filters))
    .orderBy(desc(beneficiaries.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit);
  const key = customer.key;
  const data = await Promise.all(
    page.data.map(async (row) => presentBeneficiary(row, await openDetails(ctx, key, row))),
  );
  return { data, nextCursor: page.nextCursor };
}

/** The query's words are at most 100 characters, so at most 50 words: well within D1's parameters. */
async function matchesEveryWord(ctx: ServiceContext, customerId: string, q: string): Promise<SQL> {
  const digests = await searchDigests(ctx, customerId, q);
  if (digests.length === 0) return sql`0`;
  return and(
    ...digests.map(
      (digest) =>
        sql`EXISTS (SELECT 1 FROM json_each(${beneficiaries.searchDigests}) WHERE json_each.value = ${digest})`,
    ),
  ) as SQL;
}

function refuseDeleted(row: BeneficiaryRow): void {
  if (row.status === 'DELETED') throw new ApiError('beneficiary_deleted');
}

export async function updateBeneficiary(
  ctx: ServiceContext,
  beneficiaryId: string,
  patch: UpdateBeneficiaryInput,
): Promise<BeneficiaryView> {
  const { row, key, details } = await requireBeneficiary(ctx, beneficiaryId);
  await requireWritableCustomer(ctx, row.customerId, "change the organization's beneficiaries");
  refuseDeleted(row);
  const changed = {
    ...details,
    ...(patch.nickname !== undefined ? { nickname: patch.nickname } : {}),
    ...(patch.email !== undefined ? { email: patch.email } : {}),
  };
  const changedFields = (['nickname', 'email'] as const).filter((field) => patch[field] !== undefined);
  const values = {
    details: await sealDetails(ctx, key, row.id, changed),
    searchDigests: await searchDigests(ctx, row.customerId, changed.name, changed.nickname),
  };
  await changeBeneficiary(ctx, row, values, 'beneficiary.updated', { changedFields });
  return presentBeneficiary({ ...row, ...values, updatedAt: ctx.now.toISOString() }, changed);
}

/**
 * Makes a pending beneficiary trusted. The route demands a recent authentication; only the
 * customer's own login (or its organization's approver) confirms: staff and API clients cannot
 * vouch for a payee. Idempotent once ACTIVE. After a `NO_MATCH` or `CLOSE_MATCH` the customer
 * must acknowledge the warning, and the audit row keeps that it did.
 */
export async function confirmBeneficiary(
  ctx: ServiceContext,
  beneficiaryId: string,
  input: ConfirmBeneficiaryInput,
): Promise<BeneficiaryView> {
  const { row, details } = await requireBeneficiary(ctx, beneficiaryId);
  if (!isTheCustomer(ctx, row.customerId)) {
    throw new ApiError('forbidden', {
      detail: 'Only the customer itself (or its organization’s approver) confirms a beneficiary.',
    });
  }
  await requireWritableCustomer(ctx, row.customerId, "confirm the organization's beneficiaries");
  refuseDeleted(row);
  if (row.status === 'ACTIVE') return presentBeneficiary(row, details);
  if (row.confirmationExpiresAt !== null && row.confirmationExpiresAt <= ctx.now.toISOString()) {
    throw new ApiError('confirmation_expired', {
      detail: `The confirmation deadline passed at ${row.confirmationExpiresAt}: delete the beneficiary and add it again.`,
    });
  }
  const acknowledged = needsAcknowledgement(row.payeeStatus);
  if (acknowledged && input.acknowledgePayeeWarning !== true) {
    throw new ApiError('payee_warning_not_acknowledged', {
      detail: `The payee check answered ${row.payeeStatus}: confirm with acknowledgePayeeWarning: true to proceed at the customer's risk.`,
    });
  }
  const now = ctx.now.toISOString();
  const values = {
    status: 'ACTIVE' as const,
    confirmedAt: now,
    confirmedBy: ctx.actor.type === 'user' ? ctx.actor.id : null,
    confirmationExpiresAt: null,
    payeeWarningAcknowledgedAt: acknowledged ? now : null,
  };
  await changeBeneficiary(
    ctx,
    row,
    values,
    'beneficiary.confirmed',
    { payeeWarningAcknowledged: acknowledged },
    { payeeStatus: row.payeeStatus, amr: ctx.actor.type === 'user' ? [...ctx.actor.amr] : [] },
  );
  return presentBeneficiary({ ...row, ...values, updatedAt: now }, details);
}

/** Leaves a tombstone, so the account can be added again; deleting it twice answers the tombstone. */
export async function deleteBeneficiary(
  ctx: ServiceContext,
  beneficiaryId: string,
): Promise<BeneficiaryView> {
  const { row, details } = await requireBeneficiary(ctx, beneficiaryId);
  if (row.status === 'DELETED') return presentBeneficiary(row, details);
  await requireWritableCustomer(ctx, row.customerId, "delete the organization's beneficiaries");
  const now = ctx.now.toISOString();
  const values = { status: 'DELETED' as const, deletedAt: now, confirmationExpiresAt: null };
  await changeBeneficiary(ctx, row, values, 'beneficiary.deleted', {});
  return presentBeneficiary({ ...row, ...values, updatedAt: now }, details);
}

/** The export's presentation of a customer's beneficiary rows (src/modules/export/service.ts). */
export async function presentBeneficiariesForExport(
  ctx: ServiceContext,
  key: CustomerKey,
  rows: readonly Pick<
    BeneficiaryRow,
    Exclude<keyof BeneficiaryRow, 'tenantId' | 'accountFingerprint' | 'searchDigests'>
  >[],
): Promise<BeneficiaryView[]> {
  return Promise.all(
    rows.map(async (row) => {
      const full = { ...row, tenantId: ctx.tenant.id, accountFingerprint: '', searchDigests: [] };
      return presentBeneficiary(full, await openDetails(ctx, key, full));
    }),
  );
}
