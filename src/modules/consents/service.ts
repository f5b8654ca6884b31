import { and, desc, eq } from 'drizzle-orm';
import { consents, customers } from '../../db/tenant';
import type { ServiceContext } from '../../platform/context';
import { ApiError, notFound, validationError } from '../../platform/errors';
import { newId } from '../../platform/ids';
import { commit, event } from '../../platform/unit-of-work';
import {
  assertCustomerVisible,
  assertOrganizationRole,
  commitUnlessErased,
  customerErased,
} from '../customers/service';
import { actsForTheBank } from '../export/disclosure';
import {
  type ConsentStatus,
  type ConsentType,
  type ConsentView,
  type GrantConsentInput,
  requiredConsentTypes,
} from './schemas';

export type ConsentRow = typeof consents.$inferSelect;

/**
 * The proof a regulator asks for: who accepted which version, when, from where. The IP and
 * User-Agent are the customer's device; a consent staff or an API client record for the customer
 * (on the phone, from the tenant's backend) has none, and its audit entry names who recorded it:
 * the customer, who reads its consents, is not shown a staff member's address.
 */
export function consentRecord(
  ctx: ServiceContext,
  customerId: string,
  grant: { type: ConsentType; version: string; expiresAt?: string },
) {
  return {
    id: newId('consent', ctx.now.getTime()),
    tenantId: ctx.tenant.id,
    customerId,
    type: grant.type,
    version: grant.version,
    status: 'GRANTED' as const,
    acceptedAt: ctx.now.toISOString(),
    ...(actsForTheBank(ctx.actor)
      ? { ip: null, userAgent: null }
      : { ip: ctx.ip ?? null, userAgent: ctx.userAgent?.slice(0, 512) ?? null }),
    expiresAt: grant.expiresAt ? new Date(grant.expiresAt).toISOString() : null,
  };
}

export function presentConsent(row: ConsentRow): ConsentView {
  return {
    id: row.id,
    customerId: row.customerId,
    type: row.type as ConsentType,
    version: row.version,
    status: row.status as ConsentStatus,
    acceptedAt: row.acceptedAt,
    ip: row.ip,
    userAgent: row.userAgent,
    expiresAt: row.expiresAt,
    withdrawnAt: row.withdrawnAt,
  };
}

/** The customer whose consents these are; an erased customer's are neither shown nor changed (409). */
async function requireUnerasedCustomer(ctx: ServiceContext, customerId: string) {
  assertCustomerVisible(ctx, customerId);
  const customer = await ctx.db
    .select({
      id: customers.id,
      type: customers.type,
      status: customers.status,
      erasedAt: customers.erasedAt,
    })
    .from(customers)
    .where(and(eq(customers.tenantId, ctx.tenant.id), eq(customers.id, customerId)))
    .get();
  if (!customer) throw notFound('customer');
  if (customer.erasedAt !== null) throw customerErased(customer.erasedAt);
  return customer;
}

export async function listConsents(
  ctx: ServiceContext,
  customerId: string,
): Promise<{ data: ConsentView[] }> {
  await requireUnerasedCustomer(ctx, customerId);
  const rows = await ctx.db
    .select()
    .from(consents)
    .where(and(eq(consents.tenantId, ctx.tenant.id), eq(consents.customerId, customerId)))
    .orderBy(desc(consents.id))
    .limit(500);
  return { data: rows.map(presentConsent) };
}

/** A new grant of a type replaces the one in force, which stays in the history as SUPERSEDED. */
export async function grantConsent(
  ctx: ServiceContext,
  customerId: string,
  input: GrantConsentInput,
): Promise<ConsentView> {
  const customer = await requireUnerasedCustomer(ctx, customerId);
  await assertOrganizationRole(ctx, customer, ['ADMIN_USER'], "grant the organization's consents");
  if (customer.status === 'CLOSED')
    throw new ApiError('customer_closed', { detail: 'The customer is closed.' });
  if (input.expiresAt && new Date(input.expiresAt) <= ctx.now) {
    throw validationError([{ path: 'expiresAt', message: 'must be in the future' }]);
  }
  const record = consentRecord(ctx, customerId, input);
  await commitUnlessErased(ctx, customerId, {
    statements: [
      ctx.db
        .update(consents)
        .set({ status: 'SUPERSEDED' })
        .where(
          and(
            eq(consents.tenantId, ctx.tenant.id),
            eq(consents.customerId, customerId),
            eq(consents.type, input.type),
            eq(consents.status, 'GRANTED'),
          ),
        ),
      ctx.db.insert(consents).values(record),
    ],
    audit: [
      {
        action: 'consent.granted',
        targetType: 'customer',
        targetId: customerId,
        data: { consentId: record.id, type: input.type, version: input.version },
      },
    ],
    events: [event('consent.granted', { customerId, consentId: record.id, type: input.type })],
  });
  return presentConsent({ ...record, withdrawnAt: null });
}

export async function withdrawConsent(
  ctx: ServiceContext,
  customerId: string,
  consentId: string,
): Promise<ConsentView> {
  const customer = await requireUnerasedCustomer(ctx, customerId);
  await assertOrganizationRole(ctx, customer, ['ADMIN_USER'], "withdraw the organization's consents");
  const row = await ctx.db
    .select()
    .from(consents)
    .where(
      and(
        eq(consents.tenantId, ctx.tenant.id),
        eq(consents.customerId, customerId),
        eq(consents.id, consentId),
      ),
    )
    .get();
  if (!row) throw notFound('consent');
  const type = row.type as ConsentType;
  if (requiredConsentTypes.includes(type)) {
    throw new ApiError('consent_not_withdrawable', {
      detail: `${type} is required for the relationship; it ends only when the customer is closed.`,
    });
  }
  if (row.status !== 'GRANTED') {
    throw new ApiError('consent_not_in_force', { detail: `The consent is ${row.status}, not in force.` });
  }
  const withdrawnAt = ctx.now.toISOString();
  await commit(ctx, {
    statements: [
      ctx.db
        .update(consents)
        .set({ status: 'WITHDRAWN', withdrawnAt })
        .where(
          and(
            eq(consents.tenantId, ctx.tenant.id),
            eq(consents.id, consentId),
            eq(consents.status, 'GRANTED'),
          ),
        ),
    ],
    audit: [
      {
        action: 'consent.withdrawn',
        targetType: 'customer',
        targetId: customerId,
        data: { consentId, type },
      },
    ],
    events: [event('consent.withdrawn', { customerId, consentId, type })],
  });
  return presentConsent({ ...row, status: 'WITHDRAWN', withdrawnAt });
}
