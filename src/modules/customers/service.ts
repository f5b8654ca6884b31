import { and, desc, eq, inArray, lt, type SQL, sql } from 'drizzle-orm';
import { perInstance, type TenantDb } from '../../db/client';
import { sealPurposes } from '../../db/customer-data';
import { customerKeys, customerSearchTerms, customers, organizationPeople, users } from '../../db/tenant';
import type { ServiceContext } from '../../platform/context';
import { ApiError, type FieldError, notFound, validationError } from '../../platform/errors';
import { emailDigest, searchTermDigest, searchTerms } from '../../platform/lookup-digests';
import { createdRange, decodeCursor, toPage } from '../../platform/pagination';
import { type CustomerKey, seal, unseal, unwrapCustomerKey } from '../../platform/personal-data';
import { ageOn } from '../../platform/schemas';
import { type Change, commitUnlessRefused, event, type Guard } from '../../platform/unit-of-work';
import { revokeUserSessions } from '../auth/sessions';
import { revokeCustomerGrants } from '../oauth/service';
import type { UpdateOrganizationInput } from '../organizations/schemas';
import { revokeCustomerConsents } from '../tpp-consents/service';
import {
  type ChangeStatusInput,
  type CustomerListQuery,
  type CustomerStatus,
  type CustomerView,
  type IndividualProfile,
  identityFields,
  MINIMUM_AGE,
  type OrganizationProfile,
  organizationIdentityFields,
  statusTransitions,
  type UpdateCustomerInput,
} from './schemas';

export type StoredCustomer = typeof customers.$inferSelect;

/** The personal part of a customer: sealed under its data key at rest (`customers.personal`). */
export interface PersonalData {
  email: string;
  phone: string | null;
  displayName: string;
  profile: Record<string, unknown>;
}

/** A customer as services work with it: the stored row with its personal data opened. */
export type CustomerRow = Omit<StoredCustomer, 'personal' | 'emailDigest'> &
  PersonalData & { key: CustomerKey; erasedAt: null };

/** What is left of an erased customer: no key, no personal data. */
export type ErasedCustomer = Omit<StoredCustomer, 'personal' | 'emailDigest'> & {
  key: null;
  erasedAt: string;
};

export function presentCustomer(row: CustomerRow | ErasedCustomer): CustomerView {
  const personal = row.erasedAt === null ? row : null;
  return {
    id: row.id,
    type: row.type,
    status: row.status as CustomerStatus,
    email: personal?.email ?? null,
    phone: personal?.phone ?? null,
    emailVerified: row.emailVerifiedAt !== null,
    phoneVerified: row.phoneVerifiedAt !== null,
    individual: personal && row.type === 'INDIVIDUAL' ? (personal.profile as IndividualProfile) : null,
    organization: personal && row.type === 'BUSINESS' ? (personal.profile as OrganizationProfile) : null,
    erasedAt: row.erasedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/**
 * Customers may see only their own record; to them any other id does not exist, so the
 * answer is the same 404 as for an id of another tenant.
 */
export function assertCustomerVisible(ctx: ServiceContext, customerId: string): void {
  if (ctx.actor.type === 'user' && ctx.actor.userKind === 'CUSTOMER' && ctx.actor.customerId !== customerId) {
    throw notFound('customer');
  }
}

/** Customers with their wrapped data key, which the same round trip brings along. */
function selectCustomers(db: TenantDb) {
  return db
    .select({ customer: customers, wrappedKey: customerKeys.wrappedKey })
    .from(customers)
    .leftJoin(
      customerKeys,
      and(eq(customerKeys.tenantId, customers.tenantId), eq(customerKeys.customerId, customers.id)),
    );
}

/**
 * The read nearly every customer route starts with, built once per database: building the SQL
 * of the join is more of a read's CPU than opening its sealed data.
 */
const customerById = perInstance((db: TenantDb) =>
  selectCustomers(db)
    .where(
      and(
        eq(customers.tenantId, sql.placeholder('tenantId')),
        eq(customers.id, sql.placeholder('customerId')),
      ),
    )
    .prepare(),
);

async function openCustomer(
  ctx: ServiceContext,
  { customer, wrappedKey }: { customer: StoredCustomer; wrappedKey: string | null },
): Promise<CustomerRow | ErasedCustomer> {
  const { personal, emailDigest: _digest, ...rest } = customer;
  if (rest.erasedAt !== null || personal === null || wrappedKey === null) {
    return { ...rest, key: null, erasedAt: rest.erasedAt ?? rest.updatedAt };
  }
  const key = await unwrapCustomerKey(ctx.env.FIELD_ENCRYPTION_KEY, ctx.tenant.id, customer.id, wrappedKey);
  const data = await unseal<PersonalData>(key, ctx.tenant.id, sealPurposes.customerPersonal, personal);
  return { ...rest, ...data, key, erasedAt: null };
}

/** A customer visible to the caller, or what is left of it once erased; else 404. */
async function requireCustomer(
  ctx: ServiceContext,
  customerId: string,
): Promise<CustomerRow | ErasedCustomer> {
  assertCustomerVisible(ctx, customerId);
  const row = await customerById(ctx.db).get({ tenantId: ctx.tenant.id, customerId });
  if (!row) throw notFound('customer');
  return openCustomer(ctx, row);
}

export async function getCustomer(ctx: ServiceContext, customerId: string): Promise<CustomerView> {
  return presentCustomer(await requireCustomer(ctx, customerId));
}

/**
 * The sealed columns and search-index rows that store `personal` for a customer. Given what it
 * replaces, the index is rewritten only when the name or email it is built from changed.
 */
export async function storePersonal(
  ctx: ServiceContext,
  key: CustomerKey,
  personal: PersonalData,
  replaced?: PersonalData,
) {
  const rootKey = ctx.env.FIELD_ENCRYPTION_KEY;
  const columns = {
    personal: await seal(key, ctx.tenant.id, sealPurposes.customerPersonal, personal),
    emailDigest: await emailDigest(rootKey, ctx.tenant.id, personal.email),
  };
  if (replaced?.displayName === personal.displayName && replaced.email === personal.email) {
    return { columns, searchIndex: [] };
  }
  const terms = searchTerms(personal.displayName, personal.email);
  const digests = await Promise.all(terms.map((term) => searchTermDigest(rootKey, ctx.tenant.id, term)));
  return {
    columns,
    searchIndex: [
      ctx.db
        .delete(customerSearchTerms)
        .where(
          and(
            eq(customerSearchTerms.tenantId, ctx.tenant.id),
            eq(customerSearchTerms.customerId, key.customerId),
          ),
        ),
      ...digests.map((termDigest) =>
        ctx.db
          .insert(customerSearchTerms)
          .values({ tenantId: ctx.tenant.id, termDigest, customerId: key.customerId }),
      ),
    ],
  };
}

export async function listCustomers(
  ctx: ServiceContext,
  query: CustomerListQuery,
): Promise<{ data: CustomerView[]; nextCursor: string | null }> {
  const after = decodeCursor(query.cursor, 'cus');
  const rootKey = ctx.env.FIELD_ENCRYPTION_KEY;
  const filters: (SQL | undefined)[] = [
    eq(customers.tenantId, ctx.tenant.id),
    after ? lt(customers.id, after) : undefined,
    query.type ? eq(customers.type, query.type) : undefined,
    query.status ? eq(customers.status, query.status) : undefined,
    query.email
      ? eq(customers.emailDigest, await emailDigest(rootKey, ctx.tenant.id, query.email))
      : undefined,
    ...createdRange(customers.createdAt, query),
    query.q ? await matchesEveryTerm(ctx, query.q) : undefined,
  ];
  const rows = await selectCustomers(ctx.db)
    .where(and(...filters))
    .orderBy(desc(customers.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit, (row) => row.customer.id);
  const opened = await Promise.all(page.data.map((row) => openCustomer(ctx, row)));
  return { data: opened.map(presentCustomer), nextCursor: page.nextCursor };
}

/** Customers whose index holds a digest of every word of `q`. */
async function matchesEveryTerm(ctx: ServiceContext, q: string): Promise<SQL> {
  const terms = searchTerms(q);
  if (terms.length === 0) return sql`0`;
  const digests = await Promise.all(
    terms.map((term) => searchTermDigest(ctx.env.FIELD_ENCRYPTION_KEY, ctx.tenant.id, term)),
  );
  const matching = ctx.db
    .select({ customerId: customerSearchTerms.customerId })
    .from(customerSearchTerms)
    .where(
      and(eq(customerSearchTerms.tenantId, ctx.tenant.id), inArray(customerSearchTerms.termDigest, digests)),
    )
    .groupBy(customerSearchTerms.customerId)
    .having(sql`count(*) = ${digests.length}`);
  return inArray(customers.id, matching);
}

export function dateOfBirthProblems(dateOfBirth: string, now: Date): FieldError[] {
  if (dateOfBirth > now.toISOString().slice(0, 10))
    return [{ path: 'dateOfBirth', message: 'must not be in the future' }];
  if (ageOn(dateOfBirth, now) < MINIMUM_AGE) {
    return [{ path: 'dateOfBirth', message: `the customer must be at least ${MINIMUM_AGE} years old` }];
  }
  return [];
}

/** Statuses reached only through an approved verification. */
const verifiedStatuses: readonly CustomerStatus[] = ['VERIFIED', 'ACTIVE', 'SUSPENDED'];

/**
 * An organization's own users act on it by their organization role (docs/api.md, Profiles): every employee
 * may read it, `allowed` may do the rest. Staff and API clients passed the route's permission
 * already, and an individual acts on itself.
 */
export async function assertOrganizationRole(
  ctx: ServiceContext,
  customer: Pick<StoredCustomer, 'id' | 'type'>,
  allowed: readonly string[],
  action: string,
): Promise<void> {
  if (customer.type !== 'BUSINESS' || !(ctx.actor.type === 'user' && ctx.actor.userKind === 'CUSTOMER'))
    return;
  const employee = await ctx.db
    .select({ role: organizationPeople.role })
    .from(organizationPeople)
    .where(
      and(
        eq(organizationPeople.tenantId, ctx.tenant.id),
        eq(organizationPeople.customerId, customer.id),
        eq(organizationPeople.kind, 'EMPLOYEE'),
        eq(organizationPeople.userId, ctx.actor.id),
      ),
    )
    .get();
  if (!employee?.role || !allowed.includes(employee.role)) {
    throw new ApiError('forbidden', {
      detail: `Only employees with the organization role ${allowed.join(' or ')} may ${action}.`,
      extensions: { organizationRoles: allowed },
    });
  }
}

/** What `guardedUpdate` and `unlessErased` set to NULL to refuse their batch. */
const CUSTOMER_GUARD_COLUMN = 'customers.updated_at';

/**
 * A statement that fails its batch if the customer has been erased (it sets the NOT NULL
 * `updated_at` to NULL then, and otherwise rewrites it unchanged): for changes that add rows
 * about a customer, which an erasure committing meanwhile would otherwise leave behind.
 */
export function unlessErased(ctx: ServiceContext, customerId: string) {
  return ctx.db
    .update(customers)
    .set({ updatedAt: sql`CASE WHEN ${customers.erasedAt} IS NULL THEN ${customers.updatedAt} END` })
    .where(and(eq(customers.tenantId, ctx.tenant.id), eq(customers.id, customerId)));
}

/** The refusal of a batch holding `unlessErased`: the customer was erased meanwhile (409). */
export function erasedGuard(ctx: ServiceContext): Guard {
  return { violates: CUSTOMER_GUARD_COLUMN, refusal: () => customerErased(ctx.now.toISOString()) };
}

/**
 * Commits a change that adds rows about a customer, unless the customer was erased meanwhile
 * (409); `guards` are the change's own.
 */
export function commitUnlessErased(
  ctx: ServiceContext,
  customerId: string,
  change: Change,
  ...guards: readonly Guard[]
) {
  return commitUnlessRefused(
    ctx,
    { ...change, statements: [...change.statements, unlessErased(ctx, customerId)] },
    erasedGuard(ctx),
    ...guards,
  );
}

export function customerErased(erasedAt: string): ApiError {
  return new ApiError('customer_erased', {
    detail: `The customer's personal data was erased on ${erasedAt}.`,
  });
}

/** A customer that still has its personal data; an erased one cannot be acted on (409). */
export async function requireCustomerRow(ctx: ServiceContext, customerId: string): Promise<CustomerRow> {
  const row = await requireCustomer(ctx, customerId);
  if (row.erasedAt !== null) throw customerErased(row.erasedAt);
  return row;
}

/**
 * Writes only if nobody changed the row since it was read, so no update is silently lost. A
 * stale row gets a null `updated_at`, which its NOT NULL constraint refuses: the whole batch —
 * audit row and events included — rolls back, where a WHERE clause would only skip the row.
 * The version is `updated_at` and the legal hold: a hold leaves `updated_at` as it was (`touch:
 * false`, since the customer sees it), yet an erasure read before the hold must still fail.
 */
export function guardedUpdate(
  ctx: ServiceContext,
  row: CustomerRow,
  values: Partial<StoredCustomer>,
  options: { touch?: boolean } = {},
) {
  const next = options.touch === false ? customers.updatedAt : ctx.now.toISOString();
  return ctx.db
    .update(customers)
    .set({
      ...values,
      updatedAt: sql`CASE WHEN ${customers.updatedAt} = ${row.updatedAt} AND ${customers.legalHoldPlacedAt} IS ${row.legalHoldPlacedAt} THEN ${next} END`,
    })
    .where(and(eq(customers.tenantId, ctx.tenant.id), eq(customers.id, row.id)));
}

/** Commits a change that went through `guardedUpdate`; a lost race becomes 409. */
export async function commitGuarded(ctx: ServiceContext, change: Change): Promise<void> {
  await commitUnlessRefused(ctx, change, {
    violates: CUSTOMER_GUARD_COLUMN,
    refusal: () =>
      new ApiError('concurrent_update', {
        detail: 'The customer was changed by another request; read it again and retry.',
      }),
  });
}

function isStaff(ctx: ServiceContext): boolean {
  return !(ctx.actor.type === 'user' && ctx.actor.userKind === 'CUSTOMER');
}

/**
 * What differs between the two kinds of profile when one changes: the fields a verification
 * vouches for (docs/api.md, Statuses and transitions), the name shown in listings and the checks beyond the schema.
 */
interface ProfileRules {
  identityFields: readonly string[];
  displayName(profile: Record<string, unknown>): string;
  problems(patch: Record<string, unknown>, now: Date): FieldError[];
}

const profileRules: Record<CustomerRow['type'], ProfileRules> = {
  INDIVIDUAL: {
    identityFields,
    displayName: (profile) =>
      [profile.firstName, profile.middleName, profile.lastName].filter(Boolean).join(' '),
    problems: (patch, now) =>
      typeof patch.dateOfBirth === 'string' ? dateOfBirthProblems(patch.dateOfBirth, now) : [],
  },
  BUSINESS: {
    identityFields: organizationIdentityFields,
    displayName: (profile) => String(profile.legalName),
    problems: (patch, now) =>
      typeof patch.incorporationDate === 'string'
        ? incorporationDateProblems(patch.incorporationDate, now)
        : [],
  },
};

export function incorporationDateProblems(incorporationDate: string, now: Date): FieldError[] {
  return incorporationDate > now.toISOString().slice(0, 10)
    ? [{ path: 'incorporationDate', message: 'must not be in the future' }]
    : [];
}

/** The name listings and searches show: the person's full name, or the legal name. */
export function displayNameOf(type: CustomerRow['type'], profile: Record<string, unknown>): string {
  return profileRules[type].displayName(profile);
}

/** What PATCH /customers/{customerId} and PATCH /organizations/{organizationId} may change. */
type ProfilePatch = UpdateCustomerInput | UpdateOrganizationInput;
type ProfileField = keyof IndividualProfile | keyof OrganizationProfile;
type OtherField = Exclude<keyof UpdateCustomerInput | keyof UpdateOrganizationInput, ProfileField>;

/**
 * Where each field of a profile update that is not a profile field is kept: `sealed` beside the
 * profile in the personal data, `column` in the plain `customers` column of that name. Profile
 * fields are sealed into the profile. A field added to an update schema must be listed here, or
 * this does not compile: it is never sealed, or stored in the clear, by default.
 */
const otherFieldStorage = { phone: 'sealed' } as const satisfies {
  [F in OtherField]: F extends keyof PersonalData
    ? 'sealed'
    : F extends keyof StoredCustomer
      ? 'column'
      : never;
};
type SealedField = {
  [F in OtherField]: (typeof otherFieldStorage)[F] extends 'sealed' ? F : never;
}[OtherField];
type ColumnField = Exclude<OtherField, SealedField>;

/** A patch split by where each field is kept, with the fields whose value it changes. */
function splitPatch(row: CustomerRow, patch: ProfilePatch) {
  const storage: Record<string, 'sealed' | 'column' | undefined> = otherFieldStorage;
  const split = {
    profile: {} as Record<string, unknown>,
    sealed: {} as Partial<Pick<PersonalData, SealedField>>,
    columns: {} as Partial<Pick<StoredCustomer, ColumnField & keyof StoredCustomer>>,
    changedFields: [] as string[],
  };
  for (const [field, value] of Object.entries(patch)) {
    const kept = Object.hasOwn(storage, field) ? storage[field] : undefined;
    const target: Record<string, unknown> =
      kept === 'sealed' ? split.sealed : kept === 'column' ? split.columns : split.profile;
    target[field] = value;
    const current = kept === undefined ? row.profile[field] : row[field as keyof CustomerRow];
    if (JSON.stringify(value) !== JSON.stringify(current)) split.changedFields.push(field);
  }
  return split;
}

/**
 * Changes an INDIVIDUAL customer's profile fields; a business profile changes through
 * PATCH /organizations/{organizationId}.
 */
export async function updateCustomer(
  ctx: ServiceContext,
  customerId: string,
  patch: UpdateCustomerInput,
): Promise<CustomerView> {
  const row = await requireCustomerRow(ctx, customerId);
  if (row.type !== 'INDIVIDUAL') {
    throw new ApiError('customer_is_organization', {
      detail: 'A business profile is changed with PATCH /organizations/{organizationId}.',
    });
  }
  return updateProfile(ctx, row, patch);
}

/**
 * Changes profile fields. Identity fields of a verified customer may be corrected by staff only,
 * and doing so sends the customer back to REGISTERED: the verification no longer matches.
 */
export async function updateProfile(
  ctx: ServiceContext,
  row: CustomerRow,
  patch: ProfilePatch,
): Promise<CustomerView> {
  const customerId = row.id;
  const rules = profileRules[row.type];
  if (row.status === 'CLOSED') throw new ApiError('customer_closed', { detail: 'The customer is closed.' });
  const { profile: profilePatch, sealed, columns, changedFields } = splitPatch(row, patch);
  const profile = { ...row.profile, ...profilePatch };
  const problems = rules.problems(profilePatch, ctx.now);
  if (problems.length > 0) throw validationError(problems);
  if (changedFields.length === 0) return presentCustomer(row);

  const changedIdentityFields = changedFields.filter((field) => rules.identityFields.includes(field));
  const identityChanged = changedIdentityFields.length > 0;
  const invalidatesVerification = identityChanged && verifiedStatuses.includes(row.status as CustomerStatus);
  if (invalidatesVerification && !isStaff(ctx)) {
    throw new ApiError('reverification_required', {
      detail: `Changing ${changedIdentityFields.join(', ')} after verification needs staff review and a new verification.`,
    });
  }
  const status: CustomerStatus = invalidatesVerification ? 'REGISTERED' : (row.status as CustomerStatus);
  const personal: PersonalData = {
    email: row.email,
    phone: row.phone,
    ...sealed,
    displayName: rules.displayName(profile),
    profile,
  };
  const stored = await storePersonal(ctx, row.key, personal, row);
  const values = {
    ...columns,
    status,
    ...(changedFields.includes('phone') ? { phoneVerifiedAt: null } : {}),
  };
  await commitGuarded(ctx, {
    statements: [guardedUpdate(ctx, row, { ...stored.columns, ...values }), ...stored.searchIndex],
    audit: [
      { action: 'customer.updated', targetType: 'customer', targetId: customerId, data: { changedFields } },
    ],
    events: [
      event('customer.updated', { customerId, changedFields }),
      ...(status !== row.status
        ? [
            event(
              'customer.status_changed',
              {
                customerId,
                from: row.status,
                to: status,
                reason: 'Identity fields changed after verification',
              },
              row.key,
            ),
          ]
        : []),
    ],
  });
  return presentCustomer({ ...row, ...personal, ...values, updatedAt: ctx.now.toISOString() });
}

/** Moves a customer along the lifecycle; closing also ends every session of its users. */
export async function changeCustomerStatus(
  ctx: ServiceContext,
  customerId: string,
  input: ChangeStatusInput,
): Promise<CustomerView> {
  const row = await requireCustomerRow(ctx, customerId);
  const from = row.status as CustomerStatus;
  if (!statusTransitions[from].includes(input.status)) {
    throw new ApiError('invalid_transition', {
      detail: `A ${from} customer cannot become ${input.status}; allowed: ${statusTransitions[from].join(', ') || 'none (final)'}.`,
      extensions: { from, to: input.status, allowed: statusTransitions[from] },
    });
  }
  await commitGuarded(ctx, {
    statements: [guardedUpdate(ctx, row, { status: input.status })],
    audit: [
      {
        action: 'customer.status_changed',
        targetType: 'customer',
        targetId: customerId,
        data: { from, to: input.status, reason: input.reason },
      },
    ],
    events: [
      event('customer.status_changed', { customerId, from, to: input.status, reason: input.reason }, row.key),
    ],
  });
  if (input.status === 'CLOSED') await endCustomerAccess(ctx, customerId, 'CUSTOMER_CLOSED');
  return presentCustomer({ ...row, status: input.status, updatedAt: ctx.now.toISOString() });
}

/**
 * Ends every way in for a customer: the sessions of its logins and the grants of third parties
 * acting for it. Returns the ids of its logins.
 */
export async function endCustomerAccess(
  ctx: ServiceContext,
  customerId: string,
  reason: 'CUSTOMER_CLOSED' | 'CUSTOMER_ERASED',
): Promise<string[]> {
  const logins = await ctx.db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.tenantId, ctx.tenant.id), eq(users.customerId, customerId)));
  for (const login of logins) await revokeUserSessions(ctx, login.id, reason);
  await revokeCustomerConsents(ctx, customerId, reason);
  await revokeCustomerGrants(ctx, customerId, reason);
  return logins.map((login) => login.id);
}
