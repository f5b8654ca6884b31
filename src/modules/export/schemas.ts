import { z } from '@hono/zod-openapi';
import { TimestampSchema } from '../../platform/schemas';
import { AuditEventSchema } from '../audit-events/schemas';
import { SessionIdSchema, SessionSchema } from '../auth/schemas';
import { BeneficiarySchema } from '../beneficiaries/schemas';
import { ConsentSchema } from '../consents/schemas';
import { CustomerSchema } from '../customers/schemas';
import { ExportedDocumentSchema } from '../documents/schemas';
import { EventSchema } from '../events/schemas';
import { VerificationSchema } from '../verifications/schemas';

/** Above this many rows a section is cut and named in `truncated`, rather than cut silently. */
export const EXPORT_SECTION_CAP = 10_000;

export const exportSections = [
  'sessions',
  'consents',
  'tppConsents',
  'auditEvents',
  'events',
  'beneficiaries',
] as const;
export type ExportSection = (typeof exportSections)[number];

const UserIdSchema = z
  .string()
  .max(40)
  .openapi({ description: 'The login (user) id.', example: 'usr_01jd7w3v8m9k2q4r6t8v0x2z4b' });

const LoginSchema = z
  .object({
    id: UserIdSchema,
    email: z.string().max(254).openapi({ description: 'Login email.', example: 'ada@example.com' }),
    displayName: z
      .string()
      .max(200)
      .openapi({ description: 'Name shown for the login.', example: 'Ada Lovelace' }),
    status: z
      .enum(['ACTIVE', 'DISABLED'])
      .openapi({ description: 'Whether the login may sign in.', example: 'ACTIVE' }),
    createdAt: TimestampSchema.openapi({
      description: 'When the login was created.',
      example: '2026-11-25T10:00:00.000Z',
    }),
    passwordChangedAt: TimestampSchema.nullable().openapi({
      description: 'When the password was last changed; null if never since registration.',
      example: null,
    }),
  })
  .openapi('ExportedLogin', { description: 'A login of the customer. Password hashes are never exported.' });

const ExportedSessionSchema = SessionSchema.omit({ current: true })
  .extend({
    userId: UserIdSchema,
    revokedAt: TimestampSchema.nullable().openapi({
      description: 'When the session ended; null while it is live.',
      example: null,
    }),
    revokedReason: z.string().max(40).nullable().openapi({ description: 'Why it ended.', example: null }),
  })
  .openapi('ExportedSession', { description: 'A login session, live or ended. Tokens are never exported.' });

const PasskeySummarySchema = z
  .object({
    name: z.string().max(100).openapi({ description: 'Name the user gave the passkey.', example: 'iPhone' }),
    createdAt: TimestampSchema.openapi({
      description: 'When it was registered.',
      example: '2026-11-25T10:00:00.000Z',
    }),
    lastUsedAt: TimestampSchema.nullable().openapi({
      description: 'When it was last used to sign in.',
      example: null,
    }),
  })
  .openapi('ExportedPasskey');

const SecondFactorsSchema = z
  .object({
    userId: UserIdSchema,
    totpEnrolledAt: TimestampSchema.nullable().openapi({
      description: 'When the TOTP authenticator was confirmed; null if none.',
      example: '2026-11-25T10:05:00.000Z',
    }),
    totpEnrolmentStartedAt: TimestampSchema.nullable().openapi({
      description: 'When an enrolment not yet confirmed with a code was started; null if none.',
      example: null,
    }),
    unusedRecoveryCodes: z
      .number()
      .int()
      .min(0)
      .max(100)
      .openapi({ description: 'How many recovery codes are still usable.', example: 10, format: 'int32' }),
    passkeys: z.array(PasskeySummarySchema).max(100).openapi({ description: 'Registered passkeys.' }),
  })
  .openapi('ExportedSecondFactors', {
    description:
      'Which second factors a login has enrolled, and when. Secrets, code digests and keys are never exported.',
  });

const ContactVerificationSchema = z
  .object({
    contact: z
      .enum(['EMAIL', 'PHONE'])
      .openapi({ description: 'Which contact is being verified.', example: 'EMAIL' }),
    attempts: z
      .number()
      .int()
      .min(0)
      .max(1000)
      .openapi({ description: 'Wrong codes tried so far.', example: 0, format: 'int32' }),
    createdAt: TimestampSchema.openapi({
      description: 'When the code was sent.',
      example: '2026-11-25T10:00:00.000Z',
    }),
    expiresAt: TimestampSchema.openapi({
      description: 'When the code lapses.',
      example: '2026-11-25T10:15:00.000Z',
    }),
  })
  .openapi('ExportedContactVerification', {
    description: 'A pending email or phone verification. The code itself is never exported.',
  });

const OAuthGrantSchema = z
  .object({
    sessionId: SessionIdSchema,
    clientId: z.string().max(40).openapi({
      description: 'The third-party client granted access.',
      example: 'cli_01jd7w3v8m9k2q4r6t8v0x2z4b',
    }),
    userId: UserIdSchema,
    scope: z
      .string()
      .max(2000)
      .openapi({ description: 'Granted permissions, space-separated.', example: 'customers:read' }),
    createdAt: TimestampSchema.openapi({
      description: 'When access was granted.',
      example: '2026-11-25T10:00:00.000Z',
    }),
    revokedAt: TimestampSchema.nullable().openapi({
      description: 'When access ended; null while it lasts.',
      example: null,
    }),
    revokedReason: z.string().max(40).nullable().openapi({ description: 'Why it ended.', example: null }),
  })
  .openapi('ExportedOAuthGrant', {
    description: 'Access the customer granted a third-party client. Tokens are never exported.',
  });

const ExportedTppConsentSchema = z
  .object({
    id: z
      .string()
      .max(40)
      .openapi({ description: 'The TPP consent.', example: 'tcn_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    tppId: z.string().max(40).openapi({ description: 'The TPP.', example: 'tpp_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    clientId: z
      .string()
      .max(40)
      .openapi({ description: 'The TPP’s client that asked.', example: 'cli_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    userId: UserIdSchema.nullable(),
    scopes: z
      .array(z.string().max(64))
      .max(20)
      .openapi({ description: 'What the TPP may do for the customer.', example: ['customers:read'] }),
    status: z.string().max(32).openapi({ description: 'Consent status.', example: 'AUTHORISED' }),
    statusReason: z.string().max(200).nullable().openapi({ description: 'Why it ended.', example: null }),
    revokedBy: z.string().max(16).nullable().openapi({ description: 'Who revoked it.', example: null }),
    redirectUri: z.string().max(500).openapi({
      description: 'Where the TPP received the code.',
      example: 'https://tpp.example.com/callback',
    }),
    expiresAt: TimestampSchema.openapi({ description: 'When it ends at the latest.' }),
    createdAt: TimestampSchema,
    statusUpdatedAt: TimestampSchema,
  })
  .openapi('ExportedTppConsent', { description: 'A consent the customer was asked for by a TPP.' });

const ExportedPersonSchema = z
  .object({
    id: z.string().max(40).openapi({ description: 'Person id.', example: 'per_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    kind: z
      .enum(['DIRECTOR', 'SHAREHOLDER', 'EMPLOYEE'])
      .openapi({ description: 'How the person belongs to the organization.', example: 'DIRECTOR' }),
    role: z.string().max(40).nullable().openapi({
      description: 'Board role or organization role; null for shareholders.',
      example: 'MANAGING_DIRECTOR',
    }),
    userId: z.string().max(40).nullable().openapi({
      description: 'An employee’s login; null otherwise.',
      example: 'usr_01jd7w3v8m9k2q4r6t8v0x2z4b',
    }),
    ownershipPercentage: z
      .number()
      .min(0)
      .max(100)
      .nullable()
      .openapi({ description: 'A shareholder’s stake in percent; null otherwise.', example: 30 }),
    details: z.record(z.string().max(64), z.unknown()).openapi({
      description: 'What is held on the person: names, contacts, PEP flag, …',
      example: { firstName: 'Charles' },
    }),
    createdAt: TimestampSchema,
  })
  .openapi('ExportedOrganizationPerson');

function rows<T extends z.ZodType>(item: T, description: string) {
  return z.array(item).max(EXPORT_SECTION_CAP).openapi({ description });
}

export const CustomerExportSchema = z
  .object({
    exportedAt: TimestampSchema.openapi({
      description: 'When the export was made.',
      example: '2026-11-25T12:00:00.000Z',
    }),
    customer: CustomerSchema,
    logins: rows(LoginSchema, 'The customer’s logins (users).'),
    consents: rows(
      ConsentSchema,
      'Every consent record, oldest first, withdrawn and superseded ones included.',
    ),
    sessions: rows(
      ExportedSessionSchema,
      'Every session of the customer’s logins, oldest first, ended ones included.',
    ),
    secondFactors: rows(SecondFactorsSchema, 'Second factors, one entry per login.'),
    contactVerifications: rows(ContactVerificationSchema, 'Pending email and phone verifications.'),
    oauthGrants: rows(OAuthGrantSchema, 'Access granted to third-party clients, oldest first.'),
    tppConsents: rows(ExportedTppConsentSchema, 'Consents TPPs asked the customer for, oldest first.'),
    auditEvents: rows(
      AuditEventSchema,
      'Audit entries about the customer or its logins, and those of actions its logins took, oldest first. Exported by the customer or its organization’s users, actions of staff and API clients have `actorId` and `ip` null. Legal-hold entries only for staff and API clients with `customers:hold`.',
    ),
    events: rows(
      EventSchema,
      'Outbox events that name the customer or its logins, oldest first; secrets redacted. Legal-hold events only for staff and API clients with `customers:hold`.',
    ),
    organizationPeople: rows(
      ExportedPersonSchema,
      'The people of a BUSINESS customer (directors, shareholders, employees) with their details; empty for individuals.',
    ),
    documents: z.array(ExportedDocumentSchema).max(EXPORT_SECTION_CAP).openapi({
      description:
        'The customer’s documents, deleted ones included: their metadata and where their bytes can be read, not the bytes.',
    }),
    beneficiaries: rows(
      BeneficiarySchema,
      'The customer’s beneficiaries, deleted ones included, with their account details.',
    ),
    verifications: rows(
      VerificationSchema,
      'The customer’s KYC/KYB verifications with the checks and screening hits of every attempt and the reviewers’ decisions. Exported by the customer or its organization’s users, without what reviewers wrote for the bank’s file (`reviewReason`, hit notes, decision reasons) or who they are.',
    ),
    truncated: z
      .array(z.enum(exportSections))
      .max(exportSections.length)
      .openapi({
        description: `Sections that hold more than ${EXPORT_SECTION_CAP} rows and were cut at that many; empty when the export is complete.`,
        example: [],
      }),
  })
  .openapi('CustomerExport', {
    description:
      'Everything held on a customer (GDPR Art. 15 and 20). Never contains password hashes, TOTP secrets, recovery-code digests or tokens.',
  });
export type CustomerExportView = z.infer<typeof CustomerExportSchema>;
