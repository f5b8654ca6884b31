import { z } from '@hono/zod-openapi';
import { TimestampSchema } from '../../platform/schemas';

export const consentTypes = [
  'TERMS_AND_CONDITIONS',
  'PRIVACY_POLICY',
  'DATA_PROCESSING',
  'MARKETING',
  'COMMERCIAL_SERVICES',
] as const;
export type ConsentType = (typeof consentTypes)[number];

/** Accepted at registration and a condition of the relationship: they cannot be withdrawn, only closed with the account. */
export const requiredConsentTypes: readonly ConsentType[] = ['TERMS_AND_CONDITIONS', 'PRIVACY_POLICY'];

const consentStatuses = ['GRANTED', 'WITHDRAWN', 'SUPERSEDED'] as const;
export type ConsentStatus = (typeof consentStatuses)[number];

export const ConsentIdSchema = z
  .string()
  .max(40)
  .openapi({ description: 'Consent record id.', example: 'cns_01jd7w3v8m9k2q4r6t8v0x2z4b' });

export const ConsentSchema = z
  .object({
    id: ConsentIdSchema,
    customerId: z
      .string()
      .max(40)
      .openapi({ description: 'The customer.', example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    type: z.enum(consentTypes).openapi({ description: 'What was consented to.', example: 'MARKETING' }),
    version: z.string().max(32).openapi({ description: 'Version of the document accepted.', example: '1.0' }),
    status: z.enum(consentStatuses).openapi({
      description:
        'GRANTED is in force; SUPERSEDED was replaced by a later grant of the same type; WITHDRAWN was withdrawn.',
      example: 'GRANTED',
    }),
    acceptedAt: TimestampSchema.openapi({
      description: 'When it was given.',
      example: '2026-11-25T10:00:00.000Z',
    }),
    ip: z.string().max(64).nullable().openapi({
      description:
        'IP of the customer’s device when it was given; null when staff or an API client recorded it (its audit entry names who).',
      example: '203.0.113.7',
    }),
    userAgent: z.string().max(512).nullable().openapi({
      description:
        'User-Agent of the customer’s device when it was given; null when staff or an API client recorded it.',
      example: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)',
    }),
    expiresAt: TimestampSchema.nullable().openapi({ description: 'When it lapses, if ever.', example: null }),
    withdrawnAt: TimestampSchema.nullable().openapi({ description: 'When it was withdrawn.', example: null }),
  })
  .openapi('Consent');
export type ConsentView = z.infer<typeof ConsentSchema>;

export const GrantConsentSchema = z
  .object({
    type: z.enum(consentTypes).openapi({ description: 'What is consented to.', example: 'MARKETING' }),
    version: z
      .string()
      .trim()
      .min(1)
      .max(32)
      .openapi({ description: 'Version of the document the customer accepted.', example: '1.0' }),
    expiresAt: z.iso.datetime({ offset: true }).optional().openapi({
      description: 'When the consent lapses (future).',
      example: '2027-11-25T00:00:00Z',
      maxLength: 40,
    }),
  })
  .strict()
  .openapi('GrantConsent');
export type GrantConsentInput = z.infer<typeof GrantConsentSchema>;

export const ConsentListSchema = z
  .object({
    data: z
      .array(ConsentSchema)
      .max(500)
      .openapi({ description: 'Every consent record of the customer, newest first: the history is kept.' }),
  })
  .openapi('ConsentList');
