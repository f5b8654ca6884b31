import { z } from '@hono/zod-openapi';
import { isValidLei } from '../../platform/lei';
import { createdRangeQuery, paginationQuery } from '../../platform/pagination';
import {
  AddressSchema,
  CountrySchema,
  DateSchema,
  PhoneSchema,
  TimestampSchema,
  text,
} from '../../platform/schemas';

export const MINIMUM_AGE = 18;

const customerStatuses = [
  'PENDING_EMAIL_VERIFICATION',
  'REGISTERED',
  'VERIFICATION_PENDING',
  'VERIFIED',
  'ACTIVE',
  'REJECTED',
  'SUSPENDED',
  'CLOSED',
] as const;
export type CustomerStatus = (typeof customerStatuses)[number];

export const CustomerIdSchema = z
  .string()
  .max(40)
  .openapi({ description: 'Customer id.', example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b' });

/** The path parameters of every route under `/customers/{customerId}`. */
export const CustomerParams = z.object({ customerId: CustomerIdSchema });

const genders = ['MALE', 'FEMALE', 'OTHER', 'UNDISCLOSED'] as const;

export const IndividualProfileSchema = z
  .object({
    firstName: text(100, 'Given name.', 'Ada'),
    middleName: text(100, 'Middle name(s).', 'Augusta').optional(),
    lastName: text(100, 'Family name.', 'Lovelace'),
    dateOfBirth: DateSchema,
    nationality: CountrySchema,
    placeOfBirth: text(100, 'Place of birth.', 'London').optional(),
    gender: z.enum(genders).optional().openapi({ description: 'Gender.', example: 'FEMALE' }),
    address: AddressSchema,
    occupation: text(100, 'Occupation.', 'Mathematician').optional(),
    sourceOfFunds: text(200, 'Main source of funds.', 'Salary').optional(),
  })
  .openapi('IndividualProfile');
export type IndividualProfile = z.infer<typeof IndividualProfileSchema>;

export const LeiSchema = z
  .string()
  .max(20)
  .regex(/^[0-9A-Z]{18}[0-9]{2}$/, 'must be 20 upper-case letters and digits ending in 2 check digits')
  .refine(isValidLei, 'has wrong check digits (ISO 17442)')
  .openapi({
    description: 'Legal Entity Identifier (ISO 17442); its check digits are verified (ISO 7064 MOD 97-10).',
    example: '5493001KJTIIGC8Y1R12',
  });

/**
 * NACE Rev. 2 codes: an optional section letter, the 2-digit division, then the group and class
 * digits. Only the format is checked, not membership of the published list.
 */
const NaceCodeSchema = z
  .string()
  .max(6)
  .regex(/^(?:[A-U])?\d{2}(?:\.\d{1,2})?$/, 'must be a NACE Rev. 2 code such as K64.19 or 64.19')
  .openapi({
    description:
      'Main activity as a NACE Rev. 2 code (`K64.19`, `64.19`, `64.1` or `64`); the format is checked, not the code list.',
    example: 'K64.19',
  });

export const OrganizationProfileSchema = z
  .object({
    legalName: text(200, 'Registered legal name.', 'Analytical Engines Ltd'),
    tradingName: text(200, 'Name the business trades under.', 'Analytical Engines').optional(),
    registrationNumber: text(50, 'Company registration number in its register.', '09876543'),
    taxId: text(50, 'Tax identification number.', '1234567890').optional(),
    vatNumber: text(20, 'VAT registration number.', 'GB123456789').optional(),
    lei: LeiSchema.optional(),
    legalForm: text(100, 'Legal form.', 'Private limited company'),
    incorporationDate: DateSchema.openapi({
      description: 'Date of incorporation, YYYY-MM-DD; not in the future.',
      example: '2015-03-02',
    }),
    incorporationCountry: CountrySchema.openapi({
      description: 'Country of incorporation, ISO 3166-1 alpha-2.',
      example: 'GB',
    }),
    industryCode: NaceCodeSchema.optional(),
    website: z
      .url({ protocol: /^https$/, hostname: z.regexes.domain, error: 'must be an https URL' })
      .max(2048)
      .optional()
      .openapi({ description: 'Website, https only.', example: 'https://analytical-engines.example' }),
    registeredAddress: AddressSchema,
    businessAddress: AddressSchema.optional(),
  })
  .openapi('OrganizationProfile');
export type OrganizationProfile = z.infer<typeof OrganizationProfileSchema>;

export const CustomerSchema = z
  .object({
    id: CustomerIdSchema,
    type: z
      .enum(['INDIVIDUAL', 'BUSINESS'])
      .openapi({ description: 'Customer type.', example: 'INDIVIDUAL' }),
    status: z
      .enum(customerStatuses)
      .openapi({ description: 'Lifecycle status.', example: 'PENDING_EMAIL_VERIFICATION' }),
    email: z.string().max(254).nullable().openapi({
      description: 'Email address; null once the customer is erased.',
      example: 'ada.lovelace@example.com',
    }),
    phone: z
      .string()
      .max(16)
      .nullable()
      .openapi({ description: 'E.164 phone; null if none or once erased.', example: '+447911123456' }),
    emailVerified: z
      .boolean()
      .openapi({ description: 'Whether the email address was confirmed.', example: false }),
    phoneVerified: z
      .boolean()
      .openapi({ description: 'Whether the phone number was confirmed.', example: false }),
    individual: IndividualProfileSchema.nullable().openapi({
      description: 'Profile of an INDIVIDUAL customer; null for organizations and once erased.',
    }),
    organization: OrganizationProfileSchema.nullable().openapi({
      description: 'Profile of a BUSINESS customer (an organization); null for individuals and once erased.',
    }),
    erasedAt: TimestampSchema.nullable().openapi({
      description:
        'When the customer’s personal data was erased (GDPR Art. 17). An erased customer is CLOSED and keeps only its id, type, status and dates.',
      example: null,
    }),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  })
  .openapi('Customer');
export type CustomerView = z.infer<typeof CustomerSchema>;

export const CustomerListQuerySchema = z.object({
  ...paginationQuery,
  type: z
    .enum(['INDIVIDUAL', 'BUSINESS'])
    .optional()
    .openapi({ description: 'Only customers of this type.', example: 'INDIVIDUAL' }),
  status: z
    .enum(customerStatuses)
    .optional()
    .openapi({ description: 'Only customers in this status.', example: 'ACTIVE' }),
  email: z
    .string()
    .max(254)
    .optional()
    .openapi({ description: 'Exact email, case-insensitive.', example: 'ada.lovelace@example.com' }),
  ...createdRangeQuery,
  q: z.string().trim().min(2).max(100).optional().openapi({
    description:
      'Whole words of the name or the email, case-insensitive; every word must match (`ada lovelace`, `lovelace`, `ada.lovelace@example.com`). Names are stored encrypted, so the search runs on a keyed index of words: no prefixes or substrings.',
    example: 'lovelace',
  }),
});
export type CustomerListQuery = z.infer<typeof CustomerListQuerySchema>;

/** Fields whose change invalidates an identity verification (docs/api.md, Statuses and transitions). */
export const identityFields = ['firstName', 'middleName', 'lastName', 'dateOfBirth', 'nationality'] as const;
/** The same for an organization: what a company-register check vouches for. */
export const organizationIdentityFields = [
  'legalName',
  'registrationNumber',
  'legalForm',
  'incorporationDate',
  'incorporationCountry',
  'lei',
] as const;

export const UpdateCustomerSchema = IndividualProfileSchema.partial()
  .extend({ phone: PhoneSchema.optional() })
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, 'must change at least one field')
  .openapi('UpdateCustomer', {
    description:
      'Fields to change on an INDIVIDUAL customer; absent fields stay as they are. A new phone number must be verified again. Email changes are not accepted here.',
  });
export type UpdateCustomerInput = z.infer<typeof UpdateCustomerSchema>;

/**
 * The customer lifecycle of docs/api.md (Statuses and transitions): the forward path, rejection after review, reversible
 * suspension of verified customers, and closure from anywhere (final).
 */
export const statusTransitions: Record<CustomerStatus, readonly CustomerStatus[]> = {
  PENDING_EMAIL_VERIFICATION: ['REGISTERED', 'CLOSED'],
  REGISTERED: ['VERIFICATION_PENDING', 'CLOSED'],
  VERIFICATION_PENDING: ['VERIFIED', 'REJECTED', 'REGISTERED', 'CLOSED'],
  VERIFIED: ['ACTIVE', 'SUSPENDED', 'CLOSED'],
  ACTIVE: ['SUSPENDED', 'CLOSED'],
  REJECTED: ['VERIFICATION_PENDING', 'CLOSED'],
  SUSPENDED: ['ACTIVE', 'VERIFIED', 'CLOSED'],
  CLOSED: [],
};

export const ChangeStatusSchema = z
  .object({
    status: z.enum(customerStatuses).openapi({ description: 'The new status.', example: 'SUSPENDED' }),
    reason: text(
      500,
      'Why; kept in the audit log and the event.',
      'Suspicious activity reported by the fraud team',
    ),
  })
  .strict()
  .openapi('ChangeCustomerStatus');
export type ChangeStatusInput = z.infer<typeof ChangeStatusSchema>;
