import { z } from '@hono/zod-openapi';
import { eventCatalogue } from '../../platform/events';
import { TimestampSchema } from '../../platform/schemas';
import { EventIdSchema } from '../events/schemas';
import { TenantIdSchema } from '../tenants/schemas';

export const InboxQuerySchema = z.object({
  // The demo tenant `npm start` seeds: the example a developer copies is one that has an inbox.
  tenant: TenantIdSchema.openapi({ example: 'demo-pro' }),
  recipient: z.string().max(254).optional().openapi({
    description: 'Only messages to this email address or E.164 phone number (compared exactly).',
    example: 'mary@example.com',
  }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .openapi({ description: 'How many messages, newest first, 1–100.', example: 20, format: 'int32' }),
});
export type InboxQuery = z.infer<typeof InboxQuerySchema>;

const InboxMessageSchema = z
  .object({
    eventId: EventIdSchema,
    createdAt: TimestampSchema.openapi({
      description: 'When the message was requested.',
      example: '2026-11-25T10:00:00.000Z',
    }),
    message: eventCatalogue['notification.requested'],
  })
  .openapi('InboxMessage');
export type InboxMessage = z.infer<typeof InboxMessageSchema>;

export const InboxSchema = z
  .object({
    data: z
      .array(InboxMessageSchema)
      .max(100)
      .openapi({ description: 'The messages, newest first, with their codes and tokens in the clear.' }),
  })
  .openapi('Inbox');
