import { and, desc, eq, lt, or, type SQL } from 'drizzle-orm';
import { customers, users } from '../../db/tenant';
import type { ServiceContext } from '../../platform/context';
import { ApiError, type FieldError, notFound, validationError } from '../../platform/errors';
import { containsText, createdRange, decodeCursor, toPage } from '../../platform/pagination';
import { ageOn } from '../../platform/schemas';
import { commit, event } from '../../platform/unit-of-work';
import { revokeUserSessions } from '../auth/sessions';
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

export type CustomerRow = typeof customers.$inferSelect;

export function presentCustomer(row: CustomerRow): CustomerView {
  return {
    id: row.id,
    type: row.type,
    status: row.status as CustomerStatus,
    email: row.email,
    phone: row.phone,
    emailVerified: row.emailVerifiedAt !== null,
    phoneVerified: row.phoneVerifiedAt !== null,
    individual: row.type === 'INDIVIDUAL' ? (row.profile as IndividualProfile) : null,
    organization: row.type === 'BUSINESS' ? (row.profile as OrganizationProfile) : null,
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

export async function getCustomer(ctx: ServiceContext, customerId: string): Promise<CustomerView> {
  assertCustomerVisible(ctx, customerId);
  const row = await ctx.db
    .select()
    .from(customers)
    .where(and(eq(customers.tenantId, ctx.tenant.id), eq(customers.id, customerId)))
    .get();
  if (!row) throw notFound('customer');
  return presentCustomer(row);
}

export async function listCustomers(
  ctx: ServiceContext,
  query: CustomerListQuery,
): Promise<{ data: CustomerView[]; nextCursor: string | null }> {
  const after = decodeCursor(query.cursor, 'cus');
  const filters: (SQL | undefined)[] = [
    eq(customers.tenantId, ctx.tenant.id),
    after ? lt(customers.id, after) : undefined,
    query.type ? eq(customers.type, query.type) : undefined,
    query.status ? eq(customers.status, query.status) : undefined,
    query.email ? eq(customers.email, query.email.trim().toLowerCase()) : undefined,
    ...createdRange(customers.createdAt, query),
    query.q
      ? or(containsText(customers.displayName, query.q), containsText(customers.email, query.q.toLowerCase()))
      : undefined,
  ];
  const rows = await ctx.db
    .select()
    .from(customers)
    .where(and(...filters))
    .orderBy(desc(customers.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit);
  return { data: page.data.map(presentCustomer), nextCursor: page.nextCursor };
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

export async function requireCustomerRow(ctx: ServiceContext, customerId: string): Promise<CustomerRow> {
  assertCustomerVisible(ctx, customerId);
  const row = await ctx.db
    .select()
    .from(customers)
    .where(and(eq(customers.tenantId, ctx.tenant.id), eq(customers.id, customerId)))
    .get();
  if (!row) throw notFound('customer');
  return row;
}

/** Writes only if nobody changed the row since it was read, so no update is silently lost. */
function guardedUpdate(ctx: ServiceContext, row: CustomerRow, values: Partial<CustomerRow>) {
  return ctx.db
    .update(customers)
    .set({ ...values, updatedAt: ctx.now.toISOString() })
    .where(
      and(
        eq(customers.tenantId, ctx.tenant.id),
        eq(customers.id, row.id),
        eq(customers.updatedAt, row.updatedAt),
      ),
    )
    .returning({ id: customers.id });
}

function assertApplied(results: unknown[]): void {
  const [rows] = results as [{ id: string }[]];
  if (rows.length === 0) {
    throw new ApiError('conflict', {
      detail: 'The customer was changed by another request; read it again and retry.',
    });
  }
}

function isStaff(ctx: ServiceContext): boolean {
  return !(ctx.actor.type === 'user' && ctx.actor.userKind === 'CUSTOMER');
}

/**
 * What differs between the two kinds of profile when one changes: the fields a verification
 * vouches for (API.md §6), the name shown in listings and the checks beyond the schema.
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

/**
 * Changes an INDIVIDUAL customer's profile fields; a business profile changes through
 * PATCH /organizations/{id}.
 */
export async function updateCustomer(
  ctx: ServiceContext,
  customerId: string,
  patch: UpdateCustomerInput,
): Promise<CustomerView> {
  const row = await requireCustomerRow(ctx, customerId);
  if (row.type !== 'INDIVIDUAL') {
    throw new ApiError('conflict', {
      detail: 'A business profile is changed with PATCH /organizations/{id}.',
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
  patch: { phone?: string } & Record<string, unknown>,
): Promise<CustomerView> {
  const customerId = row.id;
  const rules = profileRules[row.type];
  if (row.status === 'CLOSED') throw new ApiError('conflict', { detail: 'The customer is closed.' });
  const { phone, ...profilePatch } = patch;
  const profile = { ...row.profile, ...profilePatch };
  const changedFields = Object.keys(patch).filter((field) =>
    field === 'phone'
      ? phone !== row.phone
      : JSON.stringify(profilePatch[field]) !== JSON.stringify(row.profile[field]),
  );
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
  const values: Partial<CustomerRow> = {
    profile,
    displayName: rules.displayName(profile),
    status,
    ...(phone !== undefined && phone !== row.phone ? { phone, phoneVerifiedAt: null } : {}),
  };
  const { results } = await commit(ctx, {
    statements: [guardedUpdate(ctx, row, values)],
    audit: [
      { action: 'customer.updated', targetType: 'customer', targetId: customerId, data: { changedFields } },
    ],
    events: [
      event('customer.updated', { customerId, changedFields }),
      ...(status !== row.status
        ? [
            event('customer.status_changed', {
              customerId,
              from: row.status,
              to: status,
              reason: 'Identity fields changed after verification',
            }),
          ]
        : []),
    ],
  });
  assertApplied(results);
  return presentCustomer({ ...row, ...values, updatedAt: ctx.now.toISOString() } as CustomerRow);
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
  const { results } = await commit(ctx, {
    statements: [guardedUpdate(ctx, row, { status: input.status })],
    audit: [
      {
        action: 'customer.status_changed',
        targetType: 'customer',
        targetId: customerId,
        data: { from, to: input.status, reason: input.reason },
      },
    ],
    events: [event('customer.status_changed', { customerId, from, to: input.status, reason: input.reason })],
  });
  assertApplied(results);
  if (input.status === 'CLOSED') await endCustomerSessions(ctx, customerId);
  return presentCustomer({ ...row, status: input.status, updatedAt: ctx.now.toISOString() });
}

async function endCustomerSessions(ctx: ServiceContext, customerId: string): Promise<void> {
  const logins = await ctx.db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.tenantId, ctx.tenant.id), eq(users.customerId, customerId)));
  for (const login of logins) await revokeUserSessions(ctx, login.id, 'CUSTOMER_CLOSED');
}
