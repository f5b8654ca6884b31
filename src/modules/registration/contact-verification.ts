import { and, eq, gt, lt, lte, sql } from 'drizzle-orm';
import { sealPurposes } from '../../db/customer-data';
import { contactVerificationCodes, users } from '../../db/tenant';
import { readConfig } from '../../env';
import type { ServiceContext } from '../../platform/context';
import { timingSafeEqual } from '../../platform/crypto';
import { ApiError, notFound } from '../../platform/errors';
import { type FieldContext, fieldDigest } from '../../platform/field-encryption';
import { commit, event } from '../../platform/unit-of-work';
import type { CustomerView } from '../customers/schemas';
import {
  assertOrganizationRole,
  type CustomerRow,
  commitGuarded,
  guardedUpdate,
  presentCustomer,
  requireCustomerRow,
} from '../customers/service';
import type { VerifiableContact, VerificationCodeConfirmationInput, VerificationCodeIssued } from './schemas';

export const CODE_LIFETIME_MS = 10 * 60 * 1000;
/** Wrong codes a code survives: 5 guesses in 10^6 is a 1 in 200,000 chance per code sent. */
export const MAX_CODE_ATTEMPTS = 5;
/** One message per customer and contact per minute, so nobody can flood an inbox or a phone. */
export const RESEND_INTERVAL_MS = 60 * 1000;
const CODE_DIGITS = 6;

const channels = {
  EMAIL: { channel: 'EMAIL', template: 'EMAIL_VERIFICATION', noun: 'email address' },
  PHONE: { channel: 'SMS', template: 'PHONE_VERIFICATION', noun: 'phone number' },
} as const;

/**
 * Codes are stored as HMAC-SHA256 digests under a per-tenant key derived from
 * FIELD_ENCRYPTION_KEY: a plain hash of one of only 10^6 codes is reversed by trying them all.
 */
function digestContext(ctx: ServiceContext, customerId: string, contact: VerifiableContact): FieldContext {
  return {
    rootKey: ctx.env.FIELD_ENCRYPTION_KEY,
    tenantId: ctx.tenant.id,
    purpose: sealPurposes.verificationCode[contact],
    recordId: customerId,
  };
}

/** The address a code went to is kept only as a digest: enough to tell whether it is still the customer's. */
function recipientDigest(
  ctx: ServiceContext,
  customerId: string,
  contact: VerifiableContact,
  recipient: string,
): Promise<string> {
  return fieldDigest(
    {
      ...digestContext(ctx, customerId, contact),
      purpose: sealPurposes.verificationRecipient[contact],
    },
    recipient,
  );
}

/** Six uniformly random digits: values at or above the largest multiple of 10^6 are drawn again. */
function newCode(): string {
  const range = 10 ** CODE_DIGITS;
  const limit = Math.floor(2 ** 32 / range) * range;
  const [value] = crypto.getRandomValues(new Uint32Array(1));
  if (value === undefined || value >= limit) return newCode();
  return String(value % range).padStart(CODE_DIGITS, '0');
}

/** The address a code for `contact` goes to, or why the contact cannot be verified now. */
function recipientOf(customer: CustomerRow, contact: VerifiableContact): string {
  if (customer.status === 'CLOSED')
    throw new ApiError('customer_closed', { detail: 'The customer is closed.' });
  const recipient = contact === 'EMAIL' ? customer.email : customer.phone;
  if (!recipient) throw new ApiError('no_phone_number', { detail: 'The customer has no phone number.' });
  const verifiedAt = contact === 'EMAIL' ? customer.emailVerifiedAt : customer.phoneVerifiedAt;
  if (verifiedAt) {
    throw new ApiError('contact_already_verified', {
      detail: `The ${channels[contact].noun} is already verified.`,
    });
  }
  return recipient;
}

function codeOf(ctx: ServiceContext, customerId: string, contact: VerifiableContact) {
  return and(
    eq(contactVerificationCodes.tenantId, ctx.tenant.id),
    eq(contactVerificationCodes.customerId, customerId),
    eq(contactVerificationCodes.contact, contact),
  );
}

async function requireLogin(ctx: ServiceContext, customerId: string): Promise<string> {
  const login = await ctx.db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.tenantId, ctx.tenant.id), eq(users.customerId, customerId)))
    .get();
  if (!login) throw notFound('customer');
  return login.id;
}

/**
 * Sends a new code to the customer's email or phone through a `notification.requested`
 * event; it replaces any earlier code. The resend limit is one conditional upsert, so two
 * concurrent requests cannot both send a message.
 */
export async function issueVerificationCode(
  ctx: ServiceContext,
  contact: VerifiableContact,
  customerId: string,
): Promise<VerificationCodeIssued> {
  const customer = await requireCustomerRow(ctx, customerId);
  await assertOrganizationRole(ctx, customer, ['ADMIN_USER'], "verify the organization's contacts");
  const recipient = recipientOf(customer, contact);
  const userId = await requireLogin(ctx, customerId);
  const code = newCode();
  const createdAt = ctx.now.toISOString();
  const expiresAt = new Date(ctx.now.getTime() + CODE_LIFETIME_MS).toISOString();
  const row = {
    codeDigest: await fieldDigest(digestContext(ctx, customerId, contact), code),
    recipientDigest: await recipientDigest(ctx, customerId, contact, recipient),
    attempts: 0,
    createdAt,
    expiresAt,
  };
  const claimed = await ctx.db
    .insert(contactVerificationCodes)
    .values({ tenantId: ctx.tenant.id, customerId, contact, ...row })
    .onConflictDoUpdate({
      target: [
        contactVerificationCodes.tenantId,
        contactVerificationCodes.customerId,
        contactVerificationCodes.contact,
      ],
      set: row,
      setWhere: lte(
        contactVerificationCodes.createdAt,
        new Date(ctx.now.getTime() - RESEND_INTERVAL_MS).toISOString(),
      ),
    })
    .returning({ createdAt: contactVerificationCodes.createdAt })
    .get();
  if (!claimed) throw await resendTooSoon(ctx, customerId, contact);

  const { channel, template } = channels[contact];
  await commit(ctx, {
    statements: [],
    audit: [
      {
        action: 'customer.verification_code_sent',
        targetType: 'customer',
        targetId: customerId,
        data: { contact },
      },
    ],
    events: [
      event(
        'notification.requested',
        { channel, template, userId, customerId, recipient, code, expiresAt },
        customer.key,
      ),
    ],
  });
  if (readConfig(ctx.env).environment === 'development') {
    ctx.logger.info('verification_code_issued', { customerId, contact, code, expiresAt });
  }
  return {
    customerId,
    contact,
    expiresAt,
    resendAvailableAt: new Date(ctx.now.getTime() + RESEND_INTERVAL_MS).toISOString(),
  };
}

async function resendTooSoon(
  ctx: ServiceContext,
  customerId: string,
  contact: VerifiableContact,
): Promise<ApiError> {
  const current = await ctx.db
    .select({ createdAt: contactVerificationCodes.createdAt })
    .from(contactVerificationCodes)
    .where(codeOf(ctx, customerId, contact))
    .get();
  const availableAt = current ? Date.parse(current.createdAt) + RESEND_INTERVAL_MS : ctx.now.getTime();
  const seconds = Math.max(1, Math.ceil((availableAt - ctx.now.getTime()) / 1000));
  return new ApiError('rate_limited', {
    detail: `A code was sent less than ${RESEND_INTERVAL_MS / 1000} seconds ago; request another in ${seconds} seconds.`,
    headers: { 'Retry-After': String(seconds) },
  });
}

function invalidCode(detail: string, attemptsRemaining = 0): ApiError {
  return new ApiError('invalid_code', { detail, extensions: { attemptsRemaining } });
}

/**
 * Checks a code. Every attempt is counted by one conditional UPDATE before the comparison, so
 * concurrent guesses cannot exceed the limit; a right code is then spent by a conditional
 * DELETE, so of two concurrent confirmations exactly one changes the customer. A confirmed
 * email moves a new customer from PENDING_EMAIL_VERIFICATION to REGISTERED.
 */
export async function confirmVerificationCode(
  ctx: ServiceContext,
  contact: VerifiableContact,
  input: VerificationCodeConfirmationInput,
): Promise<CustomerView> {
  const customer = await requireCustomerRow(ctx, input.customerId);
  await assertOrganizationRole(ctx, customer, ['ADMIN_USER'], "verify the organization's contacts");
  const recipient = recipientOf(customer, contact);
  const { noun } = channels[contact];
  const live = codeOf(ctx, customer.id, contact);
  const attempt = await ctx.db
    .update(contactVerificationCodes)
    .set({ attempts: sql`${contactVerificationCodes.attempts} + 1` })
    .where(
      and(
        live,
        lt(contactVerificationCodes.attempts, MAX_CODE_ATTEMPTS),
        gt(contactVerificationCodes.expiresAt, ctx.now.toISOString()),
      ),
    )
    .returning({
      codeDigest: contactVerificationCodes.codeDigest,
      recipientDigest: contactVerificationCodes.recipientDigest,
      attempts: contactVerificationCodes.attempts,
    })
    .get();
  if (!attempt) {
    throw invalidCode(
      `No usable code: it expired, was voided by ${MAX_CODE_ATTEMPTS} wrong attempts, or none was sent. Request a new one.`,
    );
  }
  if (attempt.recipientDigest !== (await recipientDigest(ctx, customer.id, contact, recipient))) {
    throw invalidCode(`The code was sent to a ${noun} the customer no longer has. Request a new one.`);
  }
  const digest = await fieldDigest(digestContext(ctx, customer.id, contact), input.code);
  if (!timingSafeEqual(digest, attempt.codeDigest)) {
    const remaining = MAX_CODE_ATTEMPTS - attempt.attempts;
    throw invalidCode(
      remaining > 0
        ? `The code is wrong; ${remaining} attempt${remaining === 1 ? '' : 's'} left.`
        : `The code is wrong and now void after ${MAX_CODE_ATTEMPTS} wrong attempts. Request a new one.`,
      remaining,
    );
  }
  const spent = await ctx.db
    .delete(contactVerificationCodes)
    .where(and(live, eq(contactVerificationCodes.codeDigest, attempt.codeDigest)))
    .returning({ customerId: contactVerificationCodes.customerId })
    .get();
  if (!spent) throw invalidCode('The code was used or replaced a moment ago. Request a new one if needed.');

  const now = ctx.now.toISOString();
  const from = customer.status;
  const to = contact === 'EMAIL' && from === 'PENDING_EMAIL_VERIFICATION' ? 'REGISTERED' : from;
  const values = contact === 'EMAIL' ? { emailVerifiedAt: now, status: to } : { phoneVerifiedAt: now };
  // The guard also keeps the contact and status the code was checked against.
  await commitGuarded(ctx, {
    statements: [guardedUpdate(ctx, customer, values)],
    audit: [
      {
        action: 'customer.contact_verified',
        targetType: 'customer',
        targetId: customer.id,
        data: { contact, ...(to !== from ? { from, to } : {}) },
      },
    ],
    events: [
      event('customer.contact_verified', { customerId: customer.id, contact }),
      ...(to !== from
        ? [
            event(
              'customer.status_changed',
              { customerId: customer.id, from, to, reason: 'Email address verified' },
              customer.key,
            ),
          ]
        : []),
    ],
  });
  return presentCustomer({ ...customer, ...values, updatedAt: now });
}
