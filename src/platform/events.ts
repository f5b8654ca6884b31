import { z } from '@hono/zod-openapi';
import { and, asc, eq, isNull, lt, type SQL, sql } from 'drizzle-orm';
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { builtOnce, rowInsert } from '../db/built-once';
import type { TenantDb } from '../db/client';
import { sealPurposes } from '../db/customer-data';
import { events } from '../db/tenant';
import type { Env } from '../env';
import { newId } from './ids';
import { type CustomerKey, ERASED, loadCustomerKeys, seal, unseal } from './personal-data';
import { handToWebhookQueue, sendToWebhookQueue, type WebhookQueueMessage } from './queues';

const sessionRevocationReasons = [
  'LOGOUT',
  'LOGOUT_ALL',
  'REVOKED_BY_USER',
  'REFRESH_TOKEN_REUSED',
  'USER_DISABLED',
  'PASSWORD_CHANGED',
  'PASSWORD_RESET',
  'CREDENTIALS_RESET',
  'CUSTOMER_CLOSED',
  'CUSTOMER_ERASED',
] as const;
export type SessionRevocationReason = (typeof sessionRevocationReasons)[number];

const consentEventData = z.object({
  customerId: z
    .string()
    .max(64)
    .openapi({ description: 'The customer.', example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
  consentId: z
    .string()
    .max(64)
    .openapi({ description: 'The consent record.', example: 'cns_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
  type: z.string().max(32).openapi({ description: 'Consent type.', example: 'MARKETING' }),
});
function roleIdData(description: string) {
  return z.string().max(40).openapi({ description, example: 'rol_01jd7w3v8m9k2q4r6t8v0x2z4b' });
}

function groupIdData(description: string) {
  return z.string().max(40).openapi({ description, example: 'grp_01jd7w3v8m9k2q4r6t8v0x2z4b' });
}

function clientIdData(description: string) {
  return z.string().max(40).openapi({ description, example: 'cli_01jd7w3v8m9k2q4r6t8v0x2z4b' });
}

function tppIdData(description: string) {
  return z.string().max(40).openapi({ description, example: 'tpp_01jd7w3v8m9k2q4r6t8v0x2z4b' });
}

const tppStatusData = (description: string) =>
  z.enum(['ACTIVE', 'SUSPENDED', 'REVOKED']).openapi({ description, example: 'SUSPENDED' });

/** What every TPP consent event says: which consent, of which customer, with which TPP. */
const tppConsentEventData = z.object({
  consentId: z
    .string()
    .max(40)
    .openapi({ description: 'The TPP consent.', example: 'tcn_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
  tppId: tppIdData('The TPP it was given to.'),
  customerId: z
    .string()
    .max(40)
    .openapi({ description: 'The customer who gives it.', example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
});

function passkeyEventData(credential: string) {
  return z.object({
    userId: z
      .string()
      .max(64)
      .openapi({ description: 'The user it belongs to.', example: 'usr_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    credentialId: z
      .string()
      .max(64)
      .openapi({
        description: `${credential} (WebAuthn credential id, base64url).`,
        example: 'KEbWNCc7NgaYnUyrNeFGX9_3Y-8oJ3KwzjnaiD1d1LU',
      }),
  });
}

/** Templates whose message carries a `token` to choose a password with. */
const passwordNotificationTemplates = [
  'PASSWORD_RESET',
  'STAFF_INVITATION',
  'CREDENTIALS_RESET',
  'ORGANIZATION_INVITATION',
] as const;
export type PasswordNotificationTemplate = (typeof passwordNotificationTemplates)[number];
/** Templates whose message carries a `code` that proves control of an email address or phone. */
const codeNotificationTemplates = ['EMAIL_VERIFICATION', 'PHONE_VERIFICATION'] as const;
/** What a `notification.requested` asks the tenant to send; each template has its own wording. */
const notificationTemplates = [...passwordNotificationTemplates, ...codeNotificationTemplates] as const;

const userId = (description: string) =>
  z.string().max(40).openapi({ description, example: 'usr_01jd7w3v8m9k2q4r6t8v0x2z4b' });

/** A director, shareholder or employee joined or left an organization; receivers fetch the person. */
const organizationMemberEventData = z.object({
  customerId: z.string().max(40).openapi({
    description: 'The organization (a BUSINESS customer).',
    example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b',
  }),
  personId: z
    .string()
    .max(40)
    .openapi({ description: 'The person.', example: 'per_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
  kind: z
    .enum(['DIRECTOR', 'SHAREHOLDER', 'EMPLOYEE'])
    .openapi({ description: 'How the person belongs to the organization.', example: 'SHAREHOLDER' }),
});

const beneficiaryIds = {
  customerId: z.string().max(40).openapi({
    description: 'The customer whose beneficiary it is.',
    example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b',
  }),
  beneficiaryId: z
    .string()
    .max(40)
    .openapi({ description: 'The beneficiary.', example: 'ben_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
};

/** Something happened to a customer's document; receivers fetch it for the rest. */
const documentEventData = z.object({
  customerId: z
    .string()
    .max(40)
    .openapi({ description: 'The customer it belongs to.', example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
  documentId: z
    .string()
    .max(40)
    .openapi({ description: 'The document.', example: 'doc_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
  documentType: z.string().max(40).openapi({ description: 'What the document is.', example: 'PASSPORT' }),
});

/** A verification moved; receivers fetch `GET /verifications/{verificationId}` for checks and reasons. */
function verificationEventData(description: string) {
  return z.object({
    customerId: z
      .string()
      .max(40)
      .openapi({ description: 'The customer verified.', example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    verificationId: z.string().max(40).openapi({ description, example: 'ver_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    level: z.enum(['BASIC', 'STANDARD', 'ENHANCED']).openapi({ description: 'Its level.', example: 'BASIC' }),
    attempt: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .openapi({ description: 'The attempt.', example: 1, format: 'int32' }),
  });
}

/**
 * The event catalogue: every event type with the schema of its `data`. Event data is thin
 * (ids, statuses, changed field names) so a receiver fetches the current state through the API.
 * Each entry is published as an OpenAPI `webhooks` entry (src/modules/webhooks/routes.ts) and
 * can be subscribed to, so its fields follow the house rules: descriptions, examples, bounds.
 */
export const eventCatalogue = {
  'customer.created': z.object({
    customerId: z
      .string()
      .max(40)
      .openapi({ description: 'The new customer.', example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    type: z
      .enum(['INDIVIDUAL', 'BUSINESS'])
      .openapi({ description: 'Customer type.', example: 'INDIVIDUAL' }),
    status: z
      .string()
      .max(64)
      .openapi({ description: 'Initial status.', example: 'PENDING_EMAIL_VERIFICATION' }),
  }),
  'customer.updated': z.object({
    customerId: z
      .string()
      .max(64)
      .openapi({ description: 'The customer.', example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    changedFields: z
      .array(z.string().max(64))
      .max(50)
      .openapi({
        description: 'Names of the fields that changed (never their values).',
        example: ['address', 'phone'],
      }),
  }),
  'customer.erased': z.object({
    customerId: z.string().max(40).openapi({
      description:
        'The erased customer (GDPR Art. 17): its personal data is gone for good, it is CLOSED, and only its id, type, status and dates remain. Delete what your own systems hold about it.',
      example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b',
    }),
  }),
  'customer.legal_hold_placed': z.object({
    customerId: z.string().max(40).openapi({
      description: 'The customer now under a legal hold: it cannot be erased until the hold is released.',
      example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b',
    }),
  }),
  'customer.legal_hold_released': z.object({
    customerId: z.string().max(40).openapi({
      description: 'The customer whose legal hold was released.',
      example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b',
    }),
  }),
  'customer.status_changed': z.object({
    customerId: z
      .string()
      .max(64)
      .openapi({ description: 'The customer.', example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    from: z.string().max(32).openapi({ description: 'Previous status.', example: 'ACTIVE' }),
    to: z.string().max(32).openapi({ description: 'New status.', example: 'SUSPENDED' }),
    reason: z
      .string()
      .max(500)
      .openapi({ description: 'Why.', example: 'Suspicious activity reported by the fraud team' }),
  }),
  'customer.activated': z.object({
    customerId: z.string().max(40).openapi({
      description:
        'The customer now ACTIVE: verified at the tenant’s required level with the required consents.',
      example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b',
    }),
  }),
  'verification.submitted': verificationEventData(
    'The verification submitted (PENDING), or re-submitted as a new attempt.',
  ),
  'verification.approved': verificationEventData('The verification approved.'),
  'verification.rejected': verificationEventData(
    'The verification rejected; the customer is REJECTED unless already verified.',
  ),
  'verification.additional_info_required': verificationEventData(
    'The verification needs more from the customer: its requirements list the errors.',
  ),
  'verification.manual_review': verificationEventData('The verification waits for a reviewer.'),
  'verification.decision_recorded': verificationEventData(
    'A reviewer decided (an approval may be one of several required).',
  ),
  'verification.expiring': verificationEventData('The approval expires within 30 days.'),
  'verification.expired': verificationEventData('The approval expired: the requirements show what is due.'),
  'consent.granted': consentEventData,
  'consent.withdrawn': consentEventData,
  'session.created': z.object({
    sessionId: z
      .string()
      .max(64)
      .openapi({ description: 'The new session.', example: 'ses_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    userId: z
      .string()
      .max(64)
      .openapi({ description: 'Its user.', example: 'usr_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    amr: z
      .array(z.string().max(16))
      .max(10)
      .openapi({
        description: 'RFC 8176 methods the user authenticated with.',
        example: ['pwd', 'otp', 'mfa'],
      }),
  }),
  'passkey.added': passkeyEventData('The new passkey'),
  'passkey.removed': passkeyEventData('The removed passkey'),
  'passkey.clone_suspected': passkeyEventData(
    'The passkey whose signature counter went backwards, now blocked',
  ),
  'session.revoked': z.object({
    sessionId: z
      .string()
      .max(40)
      .openapi({ description: 'The revoked session.', example: 'ses_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    userId: z
      .string()
      .max(40)
      .openapi({ description: 'Its user.', example: 'usr_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    reason: z
      .enum(sessionRevocationReasons)
      .openapi({ description: 'Why it was revoked.', example: 'LOGOUT' }),
  }),
  'notification.requested': z
    .object({
      channel: z.enum(['EMAIL', 'SMS']).openapi({
        description: 'How to reach the recipient: an email, or a text message to a phone.',
        example: 'EMAIL',
      }),
      template: z.enum(notificationTemplates).openapi({
        description:
          'What to send. With a `token` and a link to the tenant’s own page that posts it to `POST /auth/password/reset`: `PASSWORD_RESET` (the user asked for a reset), `STAFF_INVITATION` (a new staff user chooses a first password), `CREDENTIALS_RESET` (an administrator reset the user’s credentials), `ORGANIZATION_INVITATION` (an organization’s new employee chooses a first password). With a `code` the customer types in: `EMAIL_VERIFICATION` (channel `EMAIL`, for `POST /registration/email-verification/confirm`) and `PHONE_VERIFICATION` (channel `SMS`, for `POST /registration/phone-verification/confirm`).',
        example: 'PASSWORD_RESET',
      }),
      userId: userId('The user the message is for.'),
      customerId: z.string().max(40).optional().openapi({
        description:
          'The customer the message is about: whose contact is being verified, or whose login it is; absent for staff.',
        example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b',
      }),
      recipient: z.string().max(254).openapi({
        description: 'Email address (channel `EMAIL`) or E.164 phone number (channel `SMS`) to send to.',
        example: 'ada.lovelace@example.com',
      }),
      token: z.string().max(64).optional().openapi({
        description:
          'SECRET, password templates only. The single-use token that lets the recipient choose a password: put it in the message only, never log or store it.',
        example: 'hV3x9Q0bJm2kTq7yW1cZr5uN8aL4sE6dF0gH2iK3oP1',
      }),
      code: z
        .string()
        .regex(/^\d{6}$/)
        .max(6)
        .optional()
        .openapi({
          description:
            'SECRET, verification templates only. The 6-digit code the customer types in: put it in the message only, never log or store it.',
          example: '492817',
        }),
      expiresAt: z.string().max(30).openapi({
        description: 'When the token or code stops working.',
        example: '2026-11-25T10:30:00.000Z',
      }),
    })
    .refine((data) => (data.token === undefined) !== (data.code === undefined), {
      message: 'carries either a token or a code',
    })
    .openapi({
      description:
        'Asks the tenant to send a message through its own channel (its webhook receiver sends the email or text message). It carries a secret (`token` or `code`): treat deliveries of this event as credentials.',
    }),
  'customer.contact_verified': z.object({
    customerId: z
      .string()
      .max(40)
      .openapi({ description: 'The customer.', example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    contact: z.enum(['EMAIL', 'PHONE']).openapi({
      description: 'Which contact the customer proved control of with a code.',
      example: 'EMAIL',
    }),
  }),
  'user.invited': z.object({
    userId: userId('The new staff user.'),
    roleIds: z
      .array(z.string().max(40))
      .max(20)
      .openapi({ description: 'Roles granted.', example: ['rol_support_agent'] }),
  }),
  'user.updated': z.object({
    userId: userId('The staff user.'),
    changedFields: z
      .array(z.enum(['status', 'roleIds', 'displayName']))
      .max(3)
      .openapi({ description: 'What changed.', example: ['status'] }),
    status: z
      .enum(['ACTIVE', 'DISABLED'])
      .openapi({ description: 'The status after the change.', example: 'DISABLED' }),
  }),
  'user.password_changed': z.object({
    userId: userId('The user.'),
    via: z.enum(['CHANGE', 'RESET']).openapi({
      description: '`CHANGE`: the user changed it knowing the old one; `RESET`: with an emailed token.',
      example: 'RESET',
    }),
  }),
  'user.credentials_reset': z.object({
    userId: userId('The user whose password an administrator made unusable.'),
  }),
  'user.locked': z.object({
    userId: z
      .string()
      .max(40)
      .openapi({ description: 'The locked user.', example: 'usr_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    lockedUntil: z
      .string()
      .max(30)
      .openapi({ description: 'When logins are accepted again.', example: '2026-11-25T10:15:00.000Z' }),
  }),
  'role.created': z.object({ roleId: roleIdData('The new custom role.') }),
  'role.updated': z.object({
    roleId: roleIdData('The changed custom role.'),
    changed: z
      .array(z.enum(['name', 'description', 'permissions']))
      .max(3)
      .openapi({
        description: 'Fields that changed. Permission changes reach users at their next token refresh.',
        example: ['permissions'],
      }),
  }),
  'role.deleted': z.object({ roleId: roleIdData('The deleted custom role.') }),
  'group.created': z.object({ groupId: groupIdData('The new group.') }),
  'group.updated': z.object({
    groupId: groupIdData('The changed group.'),
    changed: z
      .array(z.enum(['name', 'description', 'roleIds']))
      .max(3)
      .openapi({
        description:
          'Fields that changed. A change of `roleIds` reaches the members at their next token refresh.',
        example: ['roleIds'],
      }),
  }),
  'group.deleted': z.object({ groupId: groupIdData('The deleted group; its members lost its roles.') }),
  'group.member_added': z.object({
    groupId: groupIdData('The group.'),
    userId: userId('The staff user who now holds the group’s roles.'),
  }),
  'group.member_removed': z.object({
    groupId: groupIdData('The group.'),
    userId: userId('The staff user who no longer holds the group’s roles through it.'),
  }),
  'client.created': z.object({ clientId: clientIdData('The new API client.') }),
  'client.secret_rotated': z.object({
    clientId: clientIdData('The client whose secret was replaced; the old secret no longer works.'),
  }),
  'client.revoked': z.object({
    clientId: clientIdData('The revoked client; its tokens no longer work.'),
  }),
  'tpp.created': z.object({
    tppId: tppIdData('The new TPP.'),
    roles: z
      .array(z.enum(['AISP', 'PISP', 'CBPII']))
      .max(3)
      .openapi({ description: 'Roles it is registered for.', example: ['AISP'] }),
  }),
  'tpp.status_changed': z.object({
    tppId: tppIdData('The TPP.'),
    from: tppStatusData('Status before.'),
    to: tppStatusData('Status now.'),
    reason: z
      .string()
      .max(500)
      .nullable()
      .openapi({ description: 'Why, as staff or the expiry cron gave it.', example: 'certificate_expired' }),
  }),
  'tpp.certificate_expiring': z.object({
    tppId: tppIdData('The TPP.'),
    certificateId: z
      .string()
      .max(40)
      .openapi({ description: 'The certificate.', example: 'crt_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    notAfter: z
      .string()
      .max(30)
      .openapi({ description: 'When it expires (within 30 days).', example: '2026-12-25T12:00:00.000Z' }),
    noticeDays: z.number().int().min(1).max(30).openapi({
      description:
        'Which notice this is: 30, 7 or 1 days before expiry (each sent once per certificate). Add the renewal with `POST /tpps/{tppId}/certificates`; with none valid the TPP is suspended.',
      example: 30,
      format: 'int32',
    }),
  }),
  'tpp.consent.created': tppConsentEventData,
  'tpp.consent.authorised': tppConsentEventData,
  'tpp.consent.rejected': tppConsentEventData,
  'tpp.consent.revoked': tppConsentEventData.extend({
    revokedBy: z
      .enum(['CUSTOMER', 'TPP', 'STAFF', 'SYSTEM'])
      .openapi({ description: 'Who revoked it.', example: 'CUSTOMER' }),
  }),
  'tpp.consent.expired': tppConsentEventData,
  'mfa.enrolled': z.object({
    userId: z
      .string()
      .max(64)
      .openapi({ description: 'The user.', example: 'usr_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    method: z.enum(['TOTP']).openapi({ description: 'The second factor enrolled.', example: 'TOTP' }),
  }),
  'mfa.removed': z.object({
    userId: z
      .string()
      .max(64)
      .openapi({ description: 'The user.', example: 'usr_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    method: z
      .enum(['TOTP'])
      .openapi({ description: 'The second factor removed, with its recovery codes.', example: 'TOTP' }),
  }),
  'mfa.recovery_codes_regenerated': z.object({
    userId: z
      .string()
      .max(64)
      .openapi({ description: 'The user.', example: 'usr_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    count: z
      .number()
      .int()
      .min(0)
      .max(100)
      .openapi({ description: 'New codes issued; all earlier ones are void.', example: 10, format: 'int32' }),
  }),
  'mfa.recovery_code_used': z.object({
    userId: z
      .string()
      .max(64)
      .openapi({ description: 'The user.', example: 'usr_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    remaining: z.number().int().min(0).max(100).openapi({
      format: 'int32',
      description: 'Unused recovery codes left, so the user can be told to regenerate.',
      example: 9,
    }),
  }),
  'organization.member_added': organizationMemberEventData,
  'organization.member_removed': organizationMemberEventData,
  'organization.member_updated': organizationMemberEventData.extend({
    changedFields: z
      .array(z.enum(['role', 'firstName', 'lastName', 'phone', 'position']))
      .max(5)
      .openapi({ description: 'What changed (never the values).', example: ['role'] }),
    role: z.string().max(40).openapi({
      description: 'The employee’s organization role after the change.',
      example: 'COMPLIANCE_OFFICER',
    }),
  }),
  'beneficiary.created': z.object({
    ...beneficiaryIds,
    network: z
      .enum(['SEPA', 'SWIFT', 'FPS', 'ACH'])
      .openapi({ description: 'Its payment network.', example: 'SEPA' }),
    status: z.enum(['PENDING_CONFIRMATION', 'ACTIVE']).openapi({
      description: '`ACTIVE` when added with a recent authentication, else `PENDING_CONFIRMATION`.',
      example: 'PENDING_CONFIRMATION',
    }),
  }),
  'beneficiary.payee_verified': z.object({
    ...beneficiaryIds,
    status: z
      .enum(['MATCH', 'CLOSE_MATCH', 'NO_MATCH', 'NOT_POSSIBLE'])
      .openapi({ description: 'What the payee check answered.', example: 'MATCH' }),
    scheme: z.enum(['VOP', 'COP']).nullable().openapi({
      description: 'Verification of Payee (SEPA) or Confirmation of Payee (FPS).',
      example: 'VOP',
    }),
  }),
  'beneficiary.confirmed': z.object({
    ...beneficiaryIds,
    payeeWarningAcknowledged: z.boolean().openapi({
      description: 'Whether the customer confirmed despite a `NO_MATCH` or `CLOSE_MATCH`.',
      example: false,
    }),
  }),
  'beneficiary.updated': z.object({
    ...beneficiaryIds,
    changedFields: z
      .array(z.enum(['nickname', 'email']))
      .max(2)
      .openapi({ description: 'What changed (never the values).', example: ['nickname'] }),
  }),
  'beneficiary.deleted': z.object(beneficiaryIds),
  'document.uploaded': documentEventData,
  'document.deleted': documentEventData,
  'document.rejected': documentEventData.extend({
    reason: z.string().max(64).openapi({ description: 'Why it was rejected.', example: 'malware_detected' }),
  }),
  'document.expired': documentEventData.extend({
    expiresAt: z.string().max(10).openapi({ description: 'The date it expired.', example: '2026-11-30' }),
  }),
  'webhook.test': z.object({
    endpointId: z
      .string()
      .max(40)
      .openapi({ description: 'The endpoint being tested.', example: 'whe_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
  }),
  'webhook_endpoint.disabled': z.object({
    endpointId: z
      .string()
      .max(40)
      .openapi({ description: 'The disabled endpoint.', example: 'whe_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    reason: z.enum(['MANUAL', 'FAILING']).openapi({
      description: 'Disabled by hand, or after its deliveries failed for 5 days in a row.',
      example: 'FAILING',
    }),
  }),
} as const;

export type EventType = keyof typeof eventCatalogue;

/**
 * Fields that carry a live secret for the recipient only (a password token, a verification
 * code): the one declaration every path that shows or sends event data follows. A delivery to
 * the tenant's own receiver (and the queue's retries of it) includes them, only to the URL the
 * endpoint had when the event was created; a manual retry or replay never sends them again, a
 * URL change voids the deliveries not yet made, and the event log and the privacy export show
 * them redacted.
 */
export const secretEventFields: Partial<Record<EventType, readonly string[]>> = {
  'notification.requested': ['token', 'code'],
};
export const secretEventTypes = Object.keys(secretEventFields) as EventType[];
export const REDACTED = '[redacted]';

export function carriesSecret(type: string): boolean {
  return Object.hasOwn(secretEventFields, type);
}

/** The data as anyone but the first delivery's receiver may see it. */
export function redactSecrets(type: string, data: Record<string, unknown>): Record<string, unknown> {
  const redacted = { ...data };
  for (const field of secretEventFields[type as EventType] ?? []) {
    if (field in redacted) redacted[field] = REDACTED;
  }
  return redacted;
}
export type EventData<T extends EventType> = z.infer<(typeof eventCatalogue)[T]>;

/**
 * Fields that hold a customer's personal data (or a secret sent to the customer). In the outbox
 * they are sealed under the data key of the customer the event is about, so erasing that
 * customer leaves them unreadable in the event log and its later copies; `openEvents` opens them.
 */
const personalEventFields: Partial<Record<EventType, readonly string[]>> = {
  'notification.requested': ['recipient', 'token', 'code'],
  'customer.status_changed': ['reason'],
};

export interface OutboxEvent {
  id: string;
  /** The customer the event is about (`events.subject_id`), if any. */
  subjectId: string | null;
  statement: ReturnType<typeof insertEvent>;
}

const insertEvent = rowInsert(events);

/**
 * Builds the outbox row for an event, validated against the catalogue; commit it with the change.
 * An event its writer delivers itself to one endpoint (`webhook.test`) is `addressed`: it is
 * recorded as already fanned out, so neither the queue nor the sweep sends it to subscribers.
 * `subject` is the data key of the customer the event is about; events with personal fields
 * about a customer must name it.
 */
export async function outboxEvent<T extends EventType>(
  db: TenantDb,
  tenantId: string,
  type: T,
  data: EventData<T>,
  now: Date,
  options: { addressed?: boolean; subject?: CustomerKey } = {},
): Promise<OutboxEvent> {
  const parsed: Record<string, unknown> = eventCatalogue[type].parse(data);
  const { subject } = options;
  const personal = (personalEventFields[type] ?? []).filter((field) => parsed[field] !== undefined);
  const customerId = typeof parsed.customerId === 'string' ? parsed.customerId : null;
  if (personal.length > 0 && customerId !== null && subject?.customerId !== customerId) {
    throw new Error(
      `A ${type} event about ${customerId} needs that customer's key to seal its personal fields.`,
    );
  }
  if (subject) {
    for (const field of personal)
      parsed[field] = await seal(subject, tenantId, eventSealPurpose(type, field), parsed[field]);
  }
  const id = newId('event', now.getTime());
  const createdAt = now.toISOString();
  // Written as handed over: the writer sends it right after the commit (`handEventsOver`), and
  // the sweep takes it back if it is not fanned out within the grace, so the send needs no mark.
  const fannedOut = options.addressed ? { dispatchedAt: createdAt } : {};
  const subjectId = subject?.customerId ?? customerId;
  return {
    id,
    subjectId,
    statement: insertEvent(
      { db, tenant: { id: tenantId } },
      {
        id,
        tenantId,
        type,
        subjectId,
        data: parsed,
        createdAt,
        enqueuedAt: createdAt,
        ...fannedOut,
      },
    ),
  };
}

/** A `notification.requested` whose recipient's key was destroyed by an erasure. */
export function isMessageToErasedCustomer(row: Pick<typeof events.$inferSelect, 'type' | 'data'>): boolean {
  return row.type === 'notification.requested' && row.data.recipient === ERASED;
}

function eventSealPurpose(type: string, field: string): string {
  return `${sealPurposes.event}:${type}:${field}`;
}

/**
 * Event rows with their personal fields opened. Fields of a customer who has been erased read
 * as `[erased]`: the key that sealed them is gone.
 */
export async function openEvents<Row extends Pick<typeof events.$inferSelect, 'type' | 'data' | 'subjectId'>>(
  db: TenantDb,
  rootKey: string,
  tenantId: string,
  rows: Row[],
): Promise<Row[]> {
  const sealed = new Set(
    rows.filter((row) => row.subjectId !== null && personalEventFields[row.type as EventType]),
  );
  const keys = await loadCustomerKeys(
    db,
    rootKey,
    tenantId,
    [...sealed].map((row) => row.subjectId as string),
  );
  return Promise.all(
    rows.map(async (row) => {
      if (!sealed.has(row)) return row;
      const key = keys.get(row.subjectId as string);
      const data = { ...row.data };
      for (const field of personalEventFields[row.type as EventType] ?? []) {
        if (typeof data[field] !== 'string') continue;
        data[field] = key
          ? await unseal(key, tenantId, eventSealPurpose(row.type, field), data[field])
          : ERASED;
      }
      return { ...row, data };
    }),
  );
}

/**
 * Marks events handed over again, their ids one JSON array: one statement built once for any
 * number of them, within D1's bound parameters.
 */
const markEnqueued = builtOnce(
  (scope) =>
    [
      scope.db
        .update(events)
        .set({ enqueuedAt: sql`${sql.placeholder('enqueuedAt')}` })
        .where(
          and(
            eq(events.tenantId, scope.tenant.id),
            sql`${events.id} IN (SELECT value FROM json_each(${sql.placeholder('ids')}))`,
          ),
        ),
    ] as const,
);

function dispatchMessages(tenantId: string, eventIds: string[]): WebhookQueueMessage[] {
  return eventIds.map((eventId) => ({ kind: 'event.dispatch', tenantId, eventId }));
}

/**
 * The writer's handover of the events it just committed: a queue send and no D1 write, as their
 * rows were written handed over. A send that fails or never happens leaves them undispatched,
 * and the sweep sends them again once the grace has passed.
 */
export function handEventsOver(env: Env, tenantId: string, eventIds: string[]): Promise<void> {
  return sendToWebhookQueue(env, dispatchMessages(tenantId, eventIds));
}

/**
 * The sweep's handover: a queue send, then the rows marked handed over now, so an event that is
 * still waiting in a backlogged queue is sent again at most once per grace period.
 */
async function rehandEvents(env: Env, db: TenantDb, tenantId: string, eventIds: string[]): Promise<void> {
  if (eventIds.length === 0) return;
  await handToWebhookQueue(env, db, dispatchMessages(tenantId, eventIds), (enqueuedAt) =>
    markEnqueued({ db, tenant: { id: tenantId } }, { enqueuedAt, ids: JSON.stringify(eventIds) }),
  );
}

/**
 * How long an event whose fan-out failed until the dead-letter queue waits for the sweep's next
 * try: an hour rather than the grace, so a fan-out that keeps failing (until an operator fixes
 * what it needs) is tried hourly instead of piling up copies every minute.
 */
export const DEAD_LETTERED_EVENT_RETRY_MS = 60 * 60_000;

/** The dead-letter queue's `event.dispatch`: the event is marked handed over an hour from now. */
export async function deferDeadLetteredEvent(
  db: TenantDb,
  tenantId: string,
  eventId: string,
  now = new Date(),
): Promise<void> {
  const enqueuedAt = new Date(now.getTime() + DEAD_LETTERED_EVENT_RETRY_MS).toISOString();
  const [mark] = markEnqueued(
    { db, tenant: { id: tenantId } },
    { enqueuedAt, ids: JSON.stringify([eventId]) },
  );
  await db.batch([mark]);
}

/** Outbox rows and deliveries still not settled this long after their handover were missed by whoever sent them. */
export const SWEEP_GRACE_MS = 30_000;
/** Rows handed over per tenant and cron run; the queue and D1 take them in parts. */
export const SWEEP_BATCH = 500;

/** The columns of a table whose rows a writer hands to a queue. */
export interface HandedOverColumns {
  id: SQLiteColumn;
  tenantId: SQLiteColumn;
  /**
   * Null while the row still waits for the queue: not yet marked enqueued (deliveries,
   * verification jobs), or not yet fanned out (events, written as handed over).
   */
  settledAt: SQLiteColumn;
  /** When the row became due: the oldest due rows are swept first, once the grace has passed. */
  dueSince: SQLiteColumn;
}

/**
 * The cron's safety net for a table whose writer's push to the queue was lost: the oldest due
 * rows still not settled after the grace period, at most a batch of them, handed to `enqueue`.
 */
export async function sweepUnenqueued(
  db: TenantDb,
  table: SQLiteTable,
  columns: HandedOverColumns,
  due: { tenantId: string; now: Date; also?: SQL },
  enqueue: (ids: string[]) => Promise<void>,
): Promise<number> {
  const cutoff = new Date(due.now.getTime() - SWEEP_GRACE_MS).toISOString();
  const pending = await db
    .select({ id: columns.id })
    .from(table)
    .where(
      and(
        eq(columns.tenantId, due.tenantId),
        isNull(columns.settledAt),
        lt(columns.dueSince, cutoff),
        due.also,
      ),
    )
    .orderBy(asc(columns.dueSince))
    .limit(SWEEP_BATCH);
  await enqueue(pending.map((row) => row.id as string));
  return pending.length;
}

/**
 * Events not fanned out within the grace of their last handover: a send that failed, an isolate
 * that died before it, a message the queue lost or dead-lettered, or one still waiting in a
 * backlog (sent again; the fan-out's claim makes the copy harmless).
 */
export function sweepUnenqueuedEvents(env: Env, db: TenantDb, tenantId: string, now: Date): Promise<number> {
  const { id, dispatchedAt, enqueuedAt } = events;
  return sweepUnenqueued(
    db,
    events,
    { id, tenantId: events.tenantId, settledAt: dispatchedAt, dueSince: enqueuedAt },
    { tenantId, now },
    (ids) => rehandEvents(env, db, tenantId, ids),
  );
}
