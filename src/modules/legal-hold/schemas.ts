import { z } from '@hono/zod-openapi';
import { TimestampSchema } from '../../platform/schemas';
import { CustomerIdSchema } from '../customers/schemas';

export const LegalHoldInputSchema = z
  .object({
    reason: z.string().trim().min(1).max(500).openapi({
      description:
        'Why the customer’s data must be kept (an investigation, a record-keeping duty). Seen by staff with `customers:hold` only; never shown to the customer.',
      example: 'AML record keeping until 2031-12-31 (case 2026-117)',
    }),
  })
  .strict()
  .openapi('LegalHoldRequest');
export type LegalHoldInput = z.infer<typeof LegalHoldInputSchema>;

export const LegalHoldSchema = z
  .object({
    customerId: CustomerIdSchema,
    active: z.boolean().openapi({ description: 'Whether a legal hold applies now.', example: true }),
    reason: z.string().max(500).nullable().openapi({
      description: 'Why the hold was placed; null without a hold.',
      example: 'AML record keeping until 2031-12-31 (case 2026-117)',
    }),
    placedAt: TimestampSchema.nullable().openapi({
      description: 'When the hold was placed; null without a hold.',
      example: '2026-11-25T12:00:00.000Z',
    }),
    placedBy: z.string().max(40).nullable().openapi({
      description: 'The staff user or API client that placed it; null without a hold.',
      example: 'usr_01jd7w3v8m9k2q4r6t8v0x2z4b',
    }),
  })
  .openapi('LegalHold');
export type LegalHoldView = z.infer<typeof LegalHoldSchema>;
