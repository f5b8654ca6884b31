import { z } from '@hono/zod-openapi';
import { pageSchema, paginationQuery } from '../../platform/pagination';
import { TimestampSchema, text } from '../../platform/schemas';
import { CustomerIdSchema } from '../customers/schemas';
import { documentTypes } from '../documents/schemas';
import {
  defaultApprovalsRequired,
  hitDispositions,
  type VerificationLevel,
  verificationLevels,
  verificationStatuses,
} from './lifecycle';

export const VerificationIdSchema = z
  .string()
  .max(40)
  .openapi({ description: 'Verification id.', example: 'ver_01jd7w3v8m9k2q4r6t8v0x2z4b' });

const SubjectSchema = z.string().max(40).openapi({
  description: 'Whom it is about: the customer (`cus_…`) or one of its people (`per_…`).',
  example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b',
});

export const LevelSchema = z.enum(verificationLevels).openapi('VerificationLevel', {
  description:
    'BASIC: profile data, consents and sanctions/PEP screening (KYB: directors, 100 % of shareholdings, every UBO screened). STANDARD: + an identity document and a proof of address (KYB: certificate of incorporation and proof of address). ENHANCED: + source of funds (KYB: + UBO declaration).',
  example: 'BASIC',
});

export const VerificationParamsSchema = z.object({ verificationId: VerificationIdSchema });

export const RequirementsQuerySchema = z.object({
  level: LevelSchema.optional().openapi({
    param: { name: 'level', in: 'query' },
    description:
      'The level to compute for; default: the lowest level without an approved, unexpired verification.',
    example: 'STANDARD',
  }),
});

const RequirementSchema = z
  .object({
    requirement: z.string().max(120).openapi({
      description:
        'Stable dotted id: `profile.<field>`, `contact.email_verified`, `consent.<TYPE>`, `document.<NAME>`, `personnel.directors.minimum_one`, `personnel.shareholders.total_100`, `screening.sanctions`, `screening.pep`, `screening.business_registry`, `person.<per_id>.screening`, `verification.<LEVEL>`.',
      example: 'document.PROOF_OF_ADDRESS',
    }),
    kind: z
      .enum(['PROFILE_FIELD', 'CONTACT', 'CONSENT', 'DOCUMENT', 'PERSONNEL', 'SCREENING', 'VERIFICATION'])
      .openapi({ description: 'What kind of thing is due.', example: 'DOCUMENT' }),
    subject: SubjectSchema,
    forLevel: z
      .enum(verificationLevels)
      .openapi({ description: 'The lowest level that asks for it.', example: 'STANDARD' }),
    acceptedDocumentTypes: z
      .array(z.enum(documentTypes))
      .max(documentTypes.length)
      .optional()
      .openapi({
        description: 'For documents: the types that satisfy it.',
        example: ['PROOF_OF_ADDRESS', 'BANK_STATEMENT'],
      }),
    detail: z.string().max(200).optional().openapi({
      description: 'What is wrong now, where the id alone does not say.',
      example: 'shareholdings total 60 %',
    }),
  })
  .openapi('Requirement');

const RequirementErrorSchema = z
  .object({
    requirement: z
      .string()
      .max(120)
      .openapi({ description: 'The requirement concerned.', example: 'document.IDENTITY' }),
    code: z.string().max(64).openapi({
      description:
        'snake_case reason: `document_expired`, `document_rejected`, `document_scan_failed`, or a provider’s (`document_unreadable`).',
      example: 'document_expired',
    }),
    subject: SubjectSchema,
    reason: z
      .string()
      .max(500)
      .openapi({ description: 'Text the customer may be shown.', example: 'The document has expired.' }),
    documentId: z
      .string()
      .max(40)
      .optional()
      .openapi({ description: 'The document concerned.', example: 'doc_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
  })
  .openapi('RequirementError');

const PendingRequirementSchema = z
  .object({
    requirement: z
      .string()
      .max(120)
      .openapi({ description: 'The requirement being verified.', example: 'screening.sanctions' }),
    subject: SubjectSchema,
    documentId: z
      .string()
      .max(40)
      .optional()
      .openapi({ description: 'The document being checked.', example: 'doc_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
  })
  .openapi('PendingRequirement');

const requirementList = (description: string) => z.array(RequirementSchema).max(500).openapi({ description });

export const RequirementsSchema = z
  .object({
    customerId: CustomerIdSchema,
    customerType: z
      .enum(['INDIVIDUAL', 'BUSINESS'])
      .openapi({ description: 'Customer type.', example: 'INDIVIDUAL' }),
    level: LevelSchema,
    status: z.enum(['REQUIREMENTS_DUE', 'READY_TO_SUBMIT', 'PENDING_VERIFICATION', 'SATISFIED']).openapi({
      description:
        '`REQUIREMENTS_DUE`: something the customer must provide is missing (a submit answers 422). `READY_TO_SUBMIT`: only the screening a verification performs is due. `PENDING_VERIFICATION`: a verification or a document check is under way. `SATISFIED`: an approved, unexpired verification covers the level.',
      example: 'REQUIREMENTS_DUE',
    }),
    currentlyDue: requirementList('Due for this level.'),
    eventuallyDue: requirementList('What the higher levels add.'),
    pendingVerification: z
      .array(PendingRequirementSchema)
      .max(500)
      .openapi({ description: 'Provided and being verified.' }),
    errors: z.array(RequirementErrorSchema).max(500).openapi({
      description: 'Provided but not accepted: to be provided again. Never a reviewer’s internal note.',
    }),
  })
  .openapi('VerificationRequirements');

export const SubmitVerificationSchema = z
  .object({
    level: LevelSchema,
    documentIds: z
      .array(
        z
          .string()
          .max(40)
          .openapi({ description: 'A document id.', example: 'doc_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
      )
      .max(20)
      .optional()
      .openapi({ description: 'Documents to use; default: every usable document of an accepted type.' }),
  })
  .strict()
  .openapi('SubmitVerification');
export type SubmitVerificationInput = z.infer<typeof SubmitVerificationSchema>;

const checkTypes = [
  'IDENTITY',
  'DOCUMENT',
  'ADDRESS',
  'SANCTIONS',
  'PEP',
  'BUSINESS_REGISTRY',
  'UBO',
] as const;
export type CheckType = (typeof checkTypes)[number];
const checkStatuses = ['PENDING', 'IN_PROGRESS', 'PASSED', 'FAILED', 'NEEDS_REVIEW', 'ERROR'] as const;
export type CheckStatus = (typeof checkStatuses)[number];

const CheckSchema = z
  .object({
    id: z.string().max(40).openapi({ description: 'Check id.', example: 'vck_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    attempt: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .openapi({ description: 'The attempt it belongs to.', example: 1, format: 'int32' }),
    type: z.enum(checkTypes).openapi({ description: 'What is checked.', example: 'SANCTIONS' }),
    subject: SubjectSchema,
    status: z.enum(checkStatuses).openapi({ description: 'Result.', example: 'PASSED' }),
    resultCode: z
      .string()
      .max(64)
      .nullable()
      .openapi({ description: 'Reason code of a failure or review.', example: null }),
    providerReference: z
      .string()
      .max(200)
      .nullable()
      .openapi({ description: 'The provider’s id for the check.', example: 'sbx_chk_01' }),
    startedAt: TimestampSchema,
    completedAt: TimestampSchema.nullable().openapi({ description: 'When it finished.', example: null }),
  })
  .openapi('VerificationCheck');

const HitSchema = z
  .object({
    id: z.string().max(40).openapi({ description: 'Hit id.', example: 'hit_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    attempt: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .openapi({ description: 'The attempt it belongs to.', example: 1, format: 'int32' }),
    checkId: z
      .string()
      .max(40)
      .openapi({ description: 'The check that found it.', example: 'vck_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    subject: SubjectSchema,
    listEntryId: z.string().max(100).openapi({ description: 'The list entry matched.', example: 'fsl-001' }),
    caption: z
      .string()
      .max(200)
      .openapi({ description: 'The list entry’s name.', example: 'Ivan Sanctionov' }),
    datasets: z
      .array(z.string().max(100))
      .max(20)
      .openapi({ description: 'Lists it is on.', example: ['fincore-sandbox-sample'] }),
    topics: z
      .array(z.string().max(40))
      .max(20)
      .openapi({ description: '`sanction` or `role.pep`.', example: ['sanction'] }),
    score: z
      .number()
      .min(0)
      .max(1)
      .openapi({ description: 'Match score; 1 is exact after normalisation.', example: 0.93 }),
    matchedOn: z
      .array(z.string().max(40))
      .max(5)
      .openapi({ description: 'Fields that matched.', example: ['name'] }),
    disposition: z.enum(hitDispositions).openapi({
      description: '`OPEN` until a reviewer (or, for an exact sanctions match, the list) decides.',
      example: 'OPEN',
    }),
    disposedBy: z.string().max(40).nullable().openapi({
      description:
        'The reviewer; null while open, when the list decided, and for the customer itself and its organization’s users.',
      example: null,
    }),
    disposedAt: TimestampSchema.nullable().openapi({ description: 'When it was disposed.', example: null }),
    note: z.string().max(2000).nullable().openapi({
      description: 'The reviewer’s note; null for the customer itself and its organization’s users.',
      example: null,
    }),
  })
  .openapi('ScreeningHit');

const DecisionViewSchema = z
  .object({
    id: z
      .string()
      .max(40)
      .openapi({ description: 'Decision id.', example: 'vdc_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    attempt: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .openapi({ description: 'The attempt decided.', example: 1, format: 'int32' }),
    reviewerId: z.string().max(40).nullable().openapi({
      description: 'The reviewer; null for the customer itself and its organization’s users.',
      example: 'usr_01jd7w3v8m9k2q4r6t8v0x2z4b',
    }),
    decision: z
      .enum(['APPROVE', 'REJECT', 'REQUEST_INFO'])
      .openapi({ description: 'What was decided.', example: 'APPROVE' }),
    reason: z.string().max(2000).nullable().openapi({
      description:
        'Why, for the bank’s file; null for the customer itself and its organization’s users, who see the reasons given to them in `reasons`.',
      example: 'PEP status confirmed; risk accepted.',
    }),
    createdAt: TimestampSchema,
  })
  .openapi('VerificationDecision');

const ReasonSchema = z
  .object({
    code: z
      .string()
      .max(64)
      .openapi({ description: 'snake_case reason.', example: 'identity_not_confirmed' }),
    reason: z
      .string()
      .max(500)
      .openapi({ description: 'Text.', example: 'The identity could not be confirmed.' }),
  })
  .openapi('VerificationReason');

export const VerificationSchema = z
  .object({
    id: VerificationIdSchema,
    customerId: CustomerIdSchema,
    level: LevelSchema,
    status: z.enum(verificationStatuses).openapi({
      description: 'PENDING → IN_PROGRESS → APPROVED | REJECTED | ADDITIONAL_INFO_REQUIRED | MANUAL_REVIEW.',
      example: 'PENDING',
    }),
    reason: z.enum(['CUSTOMER_REQUEST', 'ONGOING_MONITORING']).openapi({
      description: 'Why it was started: a submit, or the tenant’s re-screening schedule.',
      example: 'CUSTOMER_REQUEST',
    }),
    attempt: z.number().int().min(1).max(1000).openapi({
      description: 'Starts at 1; a re-submission after ADDITIONAL_INFO_REQUIRED is the next attempt.',
      example: 1,
      format: 'int32',
    }),
    provider: z
      .string()
      .max(40)
      .openapi({ description: 'The provider doing the checks.', example: 'sandbox' }),
    providerReference: z
      .string()
      .max(200)
      .nullable()
      .openapi({ description: 'The provider’s applicant id; null until started.', example: null }),
    rejectType: z.enum(['FINAL', 'RETRYABLE']).nullable().openapi({
      description: 'For REJECTED and ADDITIONAL_INFO_REQUIRED: whether a new attempt may succeed.',
      example: null,
    }),
    reasons: z.array(ReasonSchema).max(50).openapi({ description: 'Why the outcome is what it is.' }),
    reviewReason: z.string().max(500).nullable().openapi({
      description:
        'Why it waits for a reviewer (a near list match, a PEP, a provider that kept failing); null for the customer itself and its organization’s users.',
      example: null,
    }),
    approvalsRequired: z.number().int().min(1).max(5).openapi({
      description: 'Distinct reviewers who must approve a MANUAL_REVIEW (tenant policy at submission).',
      example: 1,
      format: 'int32',
    }),
    checks: z.array(CheckSchema).max(200).openapi({
      description: 'The checks of the current attempt (in the GDPR export: of every attempt).',
    }),
    hits: z.array(HitSchema).max(200).openapi({
      description: 'Screening hits of the current attempt (in the GDPR export: of every attempt).',
    }),
    decisions: z
      .array(DecisionViewSchema)
      .max(50)
      .openapi({ description: 'Reviewers’ decisions, every attempt.' }),
    approvedAt: TimestampSchema.nullable().openapi({ description: 'When it was approved.', example: null }),
    expiresAt: TimestampSchema.nullable().openapi({
      description:
        'When an approval stops counting: the earliest identity-document expiry, or approval + the review interval.',
      example: null,
    }),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  })
  .openapi('Verification');
export type VerificationView = z.infer<typeof VerificationSchema>;

export const VerificationListSchema = pageSchema(VerificationSchema, 'VerificationList');
export const VerificationListQuerySchema = z.object({ ...paginationQuery });
export type VerificationListQuery = z.infer<typeof VerificationListQuerySchema>;

export const DecisionSchema = z
  .object({
    decision: z.enum(['APPROVE', 'REJECT', 'REQUEST_INFO']).openapi({
      description:
        'APPROVE counts toward the approvals required; one REJECT ends it; REQUEST_INFO sends it to ADDITIONAL_INFO_REQUIRED.',
      example: 'APPROVE',
    }),
    reason: text(
      2000,
      'Why; kept with the decision and in the audit log.',
      'Director is a PEP; source of wealth documented.',
    ),
    hitDispositions: z
      .array(
        z
          .object({
            hitId: z.string().max(40).openapi({
              description: 'A hit of this verification.',
              example: 'hit_01jd7w3v8m9k2q4r6t8v0x2z4b',
            }),
            disposition: z
              .enum(['TRUE_POSITIVE', 'FALSE_POSITIVE'])
              .openapi({ description: 'Whether the match is the subject.', example: 'FALSE_POSITIVE' }),
            note: text(2000, 'Why.', 'Different date of birth.').optional(),
          })
          .strict(),
      )
      .max(200)
      .optional()
      .openapi({ description: 'Dispositions of open hits, applied before the decision in the same write.' }),
  })
  .strict()
  .openapi('VerificationDecisionInput');
export type DecisionInput = z.infer<typeof DecisionSchema>;

export const SandboxCompletionSchema = z
  .object({
    decision: z.enum(['PASS', 'FAIL', 'REVIEW', 'RESUBMIT']).openapi({
      description:
        'The sandbox provider’s conclusion, as the matching magic last name would give it: PASS (screening still applies: a listed name still hits), FAIL as `Reject`, REVIEW as `Review`, RESUBMIT as `Resubmit`.',
      example: 'PASS',
    }),
  })
  .strict()
  .openapi('SandboxCompletion');

export const ActivationReadinessSchema = z
  .object({
    ready: z
      .boolean()
      .openapi({ description: 'Whether `POST …/activation` would succeed now.', example: false }),
    requiredLevel: LevelSchema,
    missing: requirementList('What is missing.'),
  })
  .openapi('ActivationReadiness');

const ApprovalsSchema = z
  .number()
  .int()
  .min(1)
  .max(5)
  .openapi({ description: 'Distinct reviewers who must approve.', example: 2, format: 'int32' });
const ReviewIntervalSchema = z.number().int().min(30).max(3650).openapi({
  description: 'How long an approval lasts when no identity document expires earlier (default 365).',
  example: 365,
  format: 'int32',
});
const MonitoringIntervalSchema = z.number().int().min(1).max(3650).openapi({
  description:
    'Re-screen approved customers when their last verification is this many days old (a BASIC verification with reason ONGOING_MONITORING); unset: no monitoring.',
  example: 90,
  format: 'int32',
});

/** The policy as stored in the tenant's settings (`verification`); absent keys take their defaults. */
export interface VerificationSettings {
  requiredLevel?: VerificationLevel;
  approvalsRequired?: Partial<Record<VerificationLevel, number>>;
  reviewIntervalDays?: number;
  monitoringIntervalDays?: number;
  /** Newest first: the current secret, then the previous one while a rotation lasts. */
  callbackSecrets?: StoredCallbackSecret[];
}

export interface StoredCallbackSecret {
  id: string;
  /** Sealed under the tenant's key (`sealPurposes.verificationCallbackSecret`). */
  secret: string;
  createdAt: string;
}

const CallbackSecretSchema = z
  .object({
    id: z.string().max(40).openapi({ description: 'Secret id.', example: 'vcs_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    status: z.enum(['CURRENT', 'PREVIOUS']).openapi({
      description: 'CURRENT signs and verifies; PREVIOUS still verifies until retired.',
      example: 'CURRENT',
    }),
    createdAt: TimestampSchema,
  })
  .openapi('VerificationCallbackSecret');

/** What the operator sees of a tenant's verification policy: the effective values, no secret. */
export const VerificationPolicySchema = z
  .object({
    requiredLevel: LevelSchema,
    approvalsRequired: z
      .object(
        Object.fromEntries(verificationLevels.map((level) => [level, ApprovalsSchema])) as Record<
          VerificationLevel,
          typeof ApprovalsSchema
        >,
      )
      .openapi({
        description: 'Distinct approvals a verification in review needs, per level.',
        example: defaultApprovalsRequired,
      }),
    reviewIntervalDays: ReviewIntervalSchema,
    monitoringIntervalDays: MonitoringIntervalSchema.nullable(),
    callbackSecrets: z.array(CallbackSecretSchema).max(2).openapi({
      description:
        'The provider callback secrets accepted now, newest first; empty: the sandbox’s built-in secret, derived per tenant. Never the secret itself.',
    }),
  })
  .openapi('VerificationPolicy');

/** A change of the policy: each key set replaces that key; null restores its default. */
export const VerificationPolicyUpdateSchema = z
  .object({
    requiredLevel: LevelSchema.nullable()
      .optional()
      .openapi({ description: 'Level activation requires (default BASIC).', example: 'STANDARD' }),
    approvalsRequired: z
      .object(
        Object.fromEntries(
          verificationLevels.map((level) => [
            level,
            ApprovalsSchema.nullable()
              .optional()
              .openapi({
                description: `Distinct approvals for ${level} (default ${defaultApprovalsRequired[level]}); null restores it.`,
                example: 2,
              }),
          ]),
        ) as Record<VerificationLevel, z.ZodOptional<z.ZodNullable<typeof ApprovalsSchema>>>,
      )
      .strict()
      .optional()
      .openapi({
        description:
          'Four eyes: distinct reviewers a verification in review needs, per level. Applies to verifications submitted afterwards.',
        example: { BASIC: 2 },
      }),
    reviewIntervalDays: ReviewIntervalSchema.nullable().optional(),
    monitoringIntervalDays: MonitoringIntervalSchema.nullable().optional(),
    callbackSecret: z
      .discriminatedUnion('action', [
        z
          .object({
            action: z.literal('GENERATE').openapi({
              description: 'Make a new secret, answered once in `issuedCallbackSecret`.',
              example: 'GENERATE',
            }),
          })
          .strict(),
        z
          .object({
            action: z.literal('SET').openapi({
              description: 'Take the secret the provider issued, given in `secret`.',
              example: 'SET',
            }),
            secret: z.string().min(24).max(256).openapi({
              description: 'A secret the provider issued. Never shown again.',
              example: 'provider-issued-secret-0123456789',
            }),
          })
          .strict(),
        z
          .object({
            action: z.literal('RETIRE_PREVIOUS').openapi({
              description: 'Stop accepting the PREVIOUS secret.',
              example: 'RETIRE_PREVIOUS',
            }),
          })
          .strict(),
      ])
      .optional()
      .openapi({
        description:
          'Rotates the provider callback secret: `GENERATE` makes a new one (answered once, in `issuedCallbackSecret`), `SET` takes one the provider issued; either way the former current secret stays accepted as PREVIOUS until `RETIRE_PREVIOUS` (or the next rotation) drops it.',
        example: { action: 'GENERATE' },
      }),
  })
  .strict()
  .openapi('VerificationPolicyUpdate');
export type VerificationPolicyUpdate = z.infer<typeof VerificationPolicyUpdateSchema>;
