import type { BatchItem } from 'drizzle-orm/batch';
import { consents, customers, users } from '../../db/tenant';
import { passwordProblems } from '../../platform/auth/password-policy';
import { hashPassword } from '../../platform/auth/passwords';
import { identityColumns, type LoginEmail, loginEmailIs } from '../../platform/auth/user-identity';
import type { ServiceContext } from '../../platform/context';
import { ApiError, type FieldError, validationError } from '../../platform/errors';
import { newId } from '../../platform/ids';
import { normaliseEmail } from '../../platform/lookup-digests';
import { type CustomerKey, newCustomerKey } from '../../platform/personal-data';
import { commitUnlessRefused, event, type Guard } from '../../platform/unit-of-work';
import { type ConsentType, requiredConsentTypes } from '../consents/schemas';
import { consentRecord } from '../consents/service';
import type { CustomerView } from '../customers/schemas';
import {
  type CustomerRow,
  dateOfBirthProblems,
  displayNameOf,
  type PersonalData,
  presentCustomer,
  storePersonal,
} from '../customers/service';
import type { RegisterIndividualInput } from './schemas';

/** Versions of the documents a registration accepts; tenants may set their own in the registry settings. */
const DEFAULT_CONSENT_VERSION = '1.0';

/** Whether the email has a login in its namespace: customers' for registrations, staff's for invitations. */
export async function emailInUse(ctx: ServiceContext, login: LoginEmail): Promise<boolean> {
  const existing = await ctx.db
    .select({ id: users.id })
    .from(users)
    .where(await loginEmailIs(ctx, login))
    .get();
  return existing !== undefined;
}

/**
 * The refusal of a login insert that raced past `emailInUse`: the unique index on the email's
 * digest decides, and the loser gets 409.
 */
export const emailTakenGuard: Guard = {
  duplicates: 'users.email_digest',
  refusal: () => new ApiError('email_taken'),
};

export async function registerIndividual(
  ctx: ServiceContext,
  input: RegisterIndividualInput,
): Promise<CustomerView & { userId: string }> {
  const { email, password, phone, consents: accepted, ...profile } = input;
  return registerCustomer(ctx, {
    type: 'INDIVIDUAL',
    email,
    phone,
    profile,
    login: { email, password, displayName: displayNameOf('INDIVIDUAL', profile), passwordPath: 'password' },
    marketing: accepted.marketing === true,
    problems: dateOfBirthProblems(input.dateOfBirth, ctx.now),
  });
}

export interface NewCustomer {
  type: CustomerRow['type'];
  email: string;
  phone: string;
  profile: Record<string, unknown>;
  /** The customer's first login: the person itself, or an organization's first administrator. */
  login: { email: string; password: string; displayName: string; passwordPath: string };
  marketing: boolean;
  /** Checks beyond the schema that the caller ran on its own fields. */
  problems: FieldError[];
  /** Rows that come into being with the customer, given its id, its login's id and its data key. */
  related?: (created: {
    customerId: string;
    userId: string;
    key: CustomerKey;
  }) => Promise<BatchItem<'sqlite'>[]>;
}

/**
 * Creates a customer in PENDING_EMAIL_VERIFICATION with its login, the consents given at sign-up,
 * an audit row and `customer.created`, all in one batch.
 */
export async function registerCustomer(
  ctx: ServiceContext,
  customer: NewCustomer,
): Promise<CustomerView & { userId: string }> {
  const { login } = customer;
  const fieldErrors = [
    ...(await passwordProblems(login.password, login.email)).map((message) => ({
      path: login.passwordPath,
      message,
    })),
    ...customer.problems,
  ];
  if (fieldErrors.length > 0) throw validationError(fieldErrors);
  if (await emailInUse(ctx, { kind: 'CUSTOMER', email: login.email })) throw new ApiError('email_taken');

  const now = ctx.now.toISOString();
  const customerId = newId('customer', ctx.now.getTime());
  const userId = newId('user', ctx.now.getTime());
  const { key, statement: storeKey } = await newCustomerKey(
    ctx.db,
    ctx.env.FIELD_ENCRYPTION_KEY,
    ctx.tenant.id,
    customerId,
    ctx.now,
  );
  const personal: PersonalData = {
    email: normaliseEmail(customer.email),
    phone: customer.phone,
    displayName: displayNameOf(customer.type, customer.profile),
    profile: customer.profile,
  };
  const stored = await storePersonal(ctx, key, personal);
  const customerRow: CustomerRow = {
    id: customerId,
    tenantId: ctx.tenant.id,
    type: customer.type,
    status: 'PENDING_EMAIL_VERIFICATION',
    ...personal,
    key,
    emailVerifiedAt: null,
    phoneVerifiedAt: null,
    legalHoldReason: null,
    legalHoldPlacedAt: null,
    legalHoldPlacedBy: null,
    erasedAt: null,
    createdBy: ctx.actor.type === 'anonymous' ? null : ctx.actor.id,
    createdAt: now,
    updatedAt: now,
  };
  const version = (ctx.tenant.settings.consentVersion as string | undefined) ?? DEFAULT_CONSENT_VERSION;
  const consentTypes: ConsentType[] = [
    ...requiredConsentTypes,
    ...(customer.marketing ? ['MARKETING' as const] : []),
  ];

  await commitUnlessRefused(
    ctx,
    {
      statements: [
        storeKey,
        ctx.db.insert(customers).values({
          id: customerId,
          tenantId: ctx.tenant.id,
          type: customerRow.type,
          status: customerRow.status,
          ...stored.columns,
          createdBy: customerRow.createdBy,
          createdAt: now,
          updatedAt: now,
        }),
        ...stored.searchIndex,
        ctx.db.insert(users).values({
          id: userId,
          tenantId: ctx.tenant.id,
          ...(await identityColumns(ctx, userId, login, key)),
          kind: 'CUSTOMER',
          customerId,
          passwordHash: await hashPassword(login.password),
          createdAt: now,
          updatedAt: now,
        }),
        ...consentTypes.map((type) =>
          ctx.db.insert(consents).values(consentRecord(ctx, customerId, { type, version })),
        ),
        ...((await customer.related?.({ customerId, userId, key })) ?? []),
      ],
      audit: [
        {
          action: 'customer.registered',
          targetType: 'customer',
          targetId: customerId,
          data: {
            type: customer.type,
            selfRegistered: ctx.actor.type === 'anonymous',
            consents: consentTypes,
          },
        },
      ],
      events: [event('customer.created', { customerId, type: customer.type, status: customerRow.status })],
    },
    emailTakenGuard,
  );
  return { ...presentCustomer(customerRow), userId };
}
