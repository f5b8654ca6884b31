import { z } from '@hono/zod-openapi';

export const ErasureSchema = z
  .object({
    reference: z.string().trim().min(1).max(100).optional().openapi({
      description:
        'Your reference for the data subject’s request (a ticket number), kept in the audit log. Not a place for personal data.',
      example: 'DSR-2026-0042',
    }),
  })
  .strict()
  .openapi('ErasureRequest');
export type ErasureInput = z.infer<typeof ErasureSchema>;
