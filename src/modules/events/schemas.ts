import { z } from '@hono/zod-openapi';
import { type EventType, eventCatalogue } from '../../platform/events';
import { createdRangeQuery, paginationQuery } from '../../platform/pagination';
import { TimestampSchema } from '../../platform/schemas';

const eventTypes = Object.keys(eventCatalogue) as [EventType, ...EventType[]];

export const EventIdSchema = z
  .string()
  .max(40)
  .openapi({ description: 'Event id.', example: 'evt_01jd7w3v8m9k2q4r6t8v0x2z4b' });

/** The envelope webhook deliveries carry too: `{id, type, createdAt, tenantId, data}`. */
export const EventSchema = z
  .object({
    id: EventIdSchema,
    type: z
      .enum(eventTypes)
      .openapi({ description: 'Event type, from the catalogue.', example: 'customer.created' }),
    createdAt: TimestampSchema.openapi({
      description: 'When the change happened.',
      example: '2026-11-25T10:00:00.000Z',
    }),
    tenantId: z.string().max(64).openapi({ description: 'The tenant.', example: 'demo-pro' }),
    data: z.record(z.string().max(64), z.unknown()).openapi({
      description:
        'Thin data of the event type (ids, statuses, changed field names); its schema is in the catalogue.',
      example: {
        customerId: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b',
        type: 'INDIVIDUAL',
        status: 'PENDING_EMAIL_VERIFICATION',
      },
    }),
  })
  .openapi('Event');
export type EventView = z.infer<typeof EventSchema>;

export const EventListQuerySchema = z.object({
  ...paginationQuery,
  type: z
    .enum(eventTypes)
    .optional()
    .openapi({ description: 'Only events of this type.', example: 'customer.created' }),
  ...createdRangeQuery,
});
export type EventListQuery = z.infer<typeof EventListQuerySchema>;
