import { z } from '@hono/zod-openapi';
import { paginationQuery } from '../../platform/pagination';
import { CountrySchema, EmailSchema, TimestampSchema, text } from '../../platform/schemas';
import { CustomerIdSchema } from '../customers/schemas';
import { achAccountTypes, modulusResults, networks } from './account-rules';
import { payeeSchemes, payeeStatuses } from './payee-verifier';

export const beneficiaryStatuses = ['PENDING_CONFIRMATION', 'ACTIVE', 'DELETED'] as const;
export type BeneficiaryStatus = (typeof beneficiaryStatuses)[number];

export const BeneficiaryIdSchema = z
  .string()
  .max(40)
  .openapi({ description: 'Beneficiary id.', example: 'ben_01jd7w3v8m9k2q4r6t8v0x2z4b' });

const NetworkSchema = z.enum(networks).openapi({
  description:
    'Payment network: `SEPA` (IBAN, EUR), `SWIFT` (BIC, any currency), `FPS` (UK sort code and account, GBP), `ACH` (US routing and account, USD).',
  example: 'SEPA',
});

const CurrencySchema = z
  .string()
  .regex(/^[A-Z]{3}$/, 'must be an upper-case ISO 4217 code')
  .openapi({ description: 'ISO 4217 currency code.', example: 'EUR', maxLength: 3 });

/** Members as people type them (spaces, dashes, lower case): the matrix normalises before it checks. */
const AccountInputSchema = z
  .object({
    iban: z.string().max(50).optional().openapi({
      description: 'IBAN (SEPA, SWIFT where the country has IBANs).',
      example: 'DE89 3704 0044 0532 0130 00',
    }),
    bic: z
      .string()
      .max(14)
      .optional()
      .openapi({ description: 'BIC of 8 or 11 characters (required for SWIFT).', example: 'DEUTDEFF' }),
    accountNumber: z.string().max(40).optional().openapi({
      description: 'Account number (FPS: 6–8 digits, ACH: 4–17 digits, SWIFT without IBAN).',
      example: '31926819',
    }),
    sortCode: z
      .string()
      .max(8)
      .optional()
      .openapi({ description: 'UK sort code (FPS), 6 digits.', example: '60-16-13' }),
    routingNumber: z
      .string()
      .max(11)
      .optional()
      .openapi({ description: 'ABA routing number (ACH), 9 digits.', example: '021000021' }),
    accountType: z
      .enum(achAccountTypes)
      .optional()
      .openapi({ description: 'ACH account type.', example: 'CHECKING' }),
  })
  .strict()
  .openapi('BeneficiaryAccountInput', {
    example: { iban: 'DE89 3704 0044 0532 0130 00', bic: 'DEUTDEFF' },
    description:
      'The account, by network: SEPA `{iban, bic?}`; SWIFT `{bic, iban}` or `{bic, accountNumber}`; FPS `{sortCode, accountNumber}`; ACH `{routingNumber, accountNumber, accountType?}`.',
  });

export const CreateBeneficiarySchema = z
  .object({
    name: text(140, 'The account holder’s name, as the bank knows it.', 'Ada Lovelace'),
    type: z
      .enum(['INDIVIDUAL', 'BUSINESS'])
      .openapi({ description: 'A person or a business.', example: 'INDIVIDUAL' }),
    network: NetworkSchema,
    currency: CurrencySchema,
    country: CountrySchema.openapi({
      description: 'Country of the account (ISO 3166-1 alpha-2).',
      example: 'DE',
    }),
    account: AccountInputSchema,
    nickname: text(70, 'The customer’s own label for the beneficiary.', 'Landlord').optional(),
    email: EmailSchema.optional(),
  })
  .strict()
  .openapi('CreateBeneficiary');
export type CreateBeneficiaryInput = z.infer<typeof CreateBeneficiarySchema>;

export const UpdateBeneficiarySchema = z
  .object({
    nickname: text(70, 'The customer’s own label; null removes it.', 'Landlord').nullable().optional(),
    email: EmailSchema.nullable().optional(),
  })
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, 'must change nickname or email')
  .openapi('UpdateBeneficiary', {
    description: 'Only `nickname` and `email` change; any other member (the account, the name) is refused.',
  });
export type UpdateBeneficiaryInput = z.infer<typeof UpdateBeneficiarySchema>;

export const ConfirmBeneficiarySchema = z
  .object({
    acknowledgePayeeWarning: z.boolean().optional().openapi({
      description:
        'Required `true` when the payee check answered `NO_MATCH` or `CLOSE_MATCH`: the customer proceeds at its own risk, which the audit log records.',
      example: true,
    }),
  })
  .strict()
  .openapi('ConfirmBeneficiary');
export type ConfirmBeneficiaryInput = z.infer<typeof ConfirmBeneficiarySchema>;

const AccountViewSchema = z
  .object({
    iban: z
      .string()
      .max(34)
      .nullable()
      .openapi({ description: 'IBAN, normalised.', example: 'DE89370400440532013000' }),
    bic: z.string().max(11).nullable().openapi({ description: 'BIC, normalised.', example: 'DEUTDEFF' }),
    accountNumber: z
      .string()
      .max(34)
      .nullable()
      .openapi({ description: 'Account number, normalised.', example: null }),
    sortCode: z.string().max(6).nullable().openapi({ description: 'UK sort code.', example: null }),
    routingNumber: z
      .string()
      .max(9)
      .nullable()
      .openapi({ description: 'ABA routing number.', example: null }),
    accountType: z
      .enum(achAccountTypes)
      .nullable()
      .openapi({ description: 'ACH account type.', example: null }),
    last4: z
      .string()
      .max(4)
      .openapi({ description: 'Last four characters of the IBAN or account number.', example: '3000' }),
  })
  .openapi('BeneficiaryAccount');

const PayeeVerificationSchema = z
  .object({
    status: z.enum(payeeStatuses).openapi({
      description:
        'Verification of Payee (SEPA) or Confirmation of Payee (FPS): `MATCH`, `CLOSE_MATCH` (see `suggestedName`), `NO_MATCH`, `NOT_POSSIBLE`; `NOT_CHECKED` where the network has no scheme (SWIFT, ACH) or the check could not run.',
      example: 'MATCH',
    }),
    suggestedName: z.string().max(140).nullable().openapi({
      description: 'For `CLOSE_MATCH`: the account holder’s name as the bank knows it.',
      example: null,
    }),
    scheme: z.enum(payeeSchemes).nullable().openapi({ description: 'The scheme asked.', example: 'VOP' }),
    provider: z.string().max(40).nullable().openapi({ description: 'Who answered.', example: 'sandbox' }),
    reference: z.string().max(80).nullable().openapi({
      description: 'The provider’s reference.',
      example: 'sandbox:ben_01jd7w3v8m9k2q4r6t8v0x2z4b',
    }),
    checkedAt: TimestampSchema.nullable().openapi({
      description: 'When it was checked.',
      example: '2026-11-25T12:00:00.000Z',
    }),
  })
  .openapi('PayeeVerification');

export const BeneficiarySchema = z
  .object({
    id: BeneficiaryIdSchema,
    customerId: CustomerIdSchema,
    name: z.string().max(140).openapi({ description: 'The account holder’s name.', example: 'Ada Lovelace' }),
    type: z
      .enum(['INDIVIDUAL', 'BUSINESS'])
      .openapi({ description: 'A person or a business.', example: 'INDIVIDUAL' }),
    nickname: z
      .string()
      .max(70)
      .nullable()
      .openapi({ description: 'The customer’s label.', example: 'Landlord' }),
    email: z.string().max(254).nullable().openapi({ description: 'The beneficiary’s email.', example: null }),
    network: NetworkSchema,
    currency: CurrencySchema,
    country: CountrySchema,
    account: AccountViewSchema,
    modulusCheck: z.enum(modulusResults).nullable().openapi({
      description:
        'FPS: the Vocalink modulus check. `NOT_CHECKABLE`: the sort code is outside Vocalink’s weight table, so the pair could not be checked. Null for other networks.',
      example: null,
    }),
    payeeVerification: PayeeVerificationSchema,
    status: z.enum(beneficiaryStatuses).openapi({
      description:
        '`PENDING_CONFIRMATION` until the customer confirms with a recent authentication, `ACTIVE` (trusted), `DELETED` (a tombstone).',
      example: 'ACTIVE',
    }),
    confirmationExpiresAt: TimestampSchema.nullable().openapi({
      description:
        'While pending: the deadline to confirm; after it, confirming answers 409 `confirmation_expired`.',
      example: null,
    }),
    confirmedAt: TimestampSchema.nullable().openapi({
      description: 'When it became trusted.',
      example: '2026-11-25T12:00:00.000Z',
    }),
    payeeWarningAcknowledgedAt: TimestampSchema.nullable().openapi({
      description: 'When the customer confirmed despite a `NO_MATCH` or `CLOSE_MATCH`.',
      example: null,
    }),
    createdBy: z
      .string()
      .max(40)
      .nullable()
      .openapi({ description: 'Who added it.', example: 'usr_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
    deletedAt: TimestampSchema.nullable().openapi({ description: 'When it was deleted.', example: null }),
  })
  .openapi('Beneficiary');
export type BeneficiaryView = z.infer<typeof BeneficiarySchema>;

export const BeneficiaryListQuerySchema = z.object({
  ...paginationQuery,
  status: z.enum(beneficiaryStatuses).optional().openapi({
    description: 'Only beneficiaries in this status; deleted ones are listed only with `DELETED`.',
    example: 'ACTIVE',
  }),
  network: NetworkSchema.optional(),
  currency: CurrencySchema.optional(),
  q: z.string().trim().min(2).max(100).optional().openapi({
    description:
      'Whole words of the name or the nickname, case-insensitive; every word must match. Names are stored encrypted, so the search runs on a keyed index of words.',
    example: 'lovelace',
  }),
});
export type BeneficiaryListQuery = z.infer<typeof BeneficiaryListQuerySchema>;

export const BeneficiaryParams = z.object({ beneficiaryId: BeneficiaryIdSchema });
