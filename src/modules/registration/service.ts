import { and, eq } from 'drizzle-orm';
import { isUniqueViolation } from '../../db/client';
import { consents, customers, users } from '../../db/tenant';
import { passwordProblems } from '../../platform/auth/password-policy';
import { hashPassword } from '../../platform/auth/passwords';
import type { ServiceContext } from '../../platform/context';
import { ApiError, validationError } from '../../platform/errors';
import { newId } from '../../platform/ids';
import { commit, event } from '../../platform/unit-of-work';
import { type ConsentType, requiredConsentTypes } from '../consents/schemas';
import { consentRecord } from '../consents/service';
import type { CustomerView } from '../customers/schemas';
import { dateOfBirthProblems, presentCustomer } from '../customers/service';
import type { RegisterIndividualInput } from './schemas';

/** Versions of the documents a registration accepts; tenants may set their own in the registry settings. */
const DEFAULT_CONSENT_VERSION = '1.0';

export async function emailInUse(ctx: ServiceContext, email: string): Promise<boolean> {
  const existing = await ctx.db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.tenantId, ctx.tenant.id), eq(users.email, email)))
    .get();
  return existing !== undefined;
}

export async function registerIndividual(
  ctx: ServiceContext,
  input: RegisterIndividualInput,
): Promise<CustomerView & { userId: string }> {
  const fieldErrors = [
    ...(await passwordProblems(input.password, input.email)).map((message) => ({
      path: 'password',
      message,
    })),
    ...dateOfBirthProblems(input.dateOfBirth, ctx.now),
  ];
  if (fieldErrors.length > 0) throw validationError(fieldErrors);
  if (await emailInUse(ctx, input.email)) throw new ApiError('email_taken');

  const { email, password, phone, consents: accepted, ...profile } = input;
  const now = ctx.now.toISOString();
  const customerId = newId('customer', ctx.now.getTime());
  const userId = newId('user', ctx.now.getTime());
  const displayName = [profile.firstName, profile.middleName, profile.lastName].filter(Boolean).join(' ');
  const customerRow = {
    id: customerId,
    tenantId: ctx.tenant.id,
    type: 'INDIVIDUAL' as const,
    status: 'PENDING_EMAIL_VERIFICATION',
    email,
    phone,
    displayName,
    profile,
    emailVerifiedAt: null,
    phoneVerifiedAt: null,
    createdBy: ctx.actor.type === 'anonymous' ? null : ctx.actor.id,
    createdAt: now,
    updatedAt: now,
  };
  const version = (ctx.tenant.settings.consentVersion as string | undefined) ?? DEFAULT_CONSENT_VERSION;
  const consentTypes: ConsentType[] = [
    ...requiredConsentTypes,
    ...(accepted.marketing ? ['MARKETING' as const] : []),
  ];

  try {
    await commit(ctx, {
      statements: [
        ctx.db.insert(customers).values(customerRow),
        ctx.db.insert(users).values({
          id: userId,
          tenantId: ctx.tenant.id,
          email,
          kind: 'CUSTOMER',
          customerId,
          passwordHash: await hashPassword(password),
          displayName,
          createdAt: now,
          updatedAt: now,
        }),
        ...consentTypes.map((type) =>
          ctx.db.insert(consents).values(consentRecord(ctx, customerId, { type, version })),
        ),
      ],
      audit: [
        {
          action: 'customer.registered',
          targetType: 'customer',
          targetId: customerId,
          data: {
            type: 'INDIVIDUAL',
            selfRegistered: ctx.actor.type === 'anonymous',
            consents: consentTypes,
          },
        },
      ],
      events: [event('customer.created', { customerId, type: 'INDIVIDUAL', status: customerRow.status })],
    });
  } catch (error) {
    // Two registrations raced past the check above: the unique index decides, the loser gets 409.
    if (isUniqueViolation(error)) throw new ApiError('email_taken');
    throw error;
  }
  return { ...presentCustomer(customerRow), userId };
}
