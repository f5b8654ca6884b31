import { z } from '@hono/zod-openapi';
import { webhookDeliveryStatuses, webhookVoidReasons } from '../../db/tenant';
import { type EventType, eventCatalogue } from '../../platform/events';
import { paginationQuery } from '../../platform/pagination';
import { TimestampSchema } from '../../platform/schemas';

export const eventTypes = Object.keys(eventCatalogue) as EventType[];
export const ALL_EVENTS = '*';
/** Fan-out posts one message per endpoint, and a queue batch holds at most 100. */
export const MAX_ENDPOINTS_PER_TENANT = 20;

export const EndpointIdSchema = z
  .string()
  .max(40)
  .openapi({ description: 'Webhook endpoint id.', example: 'whe_01jd7w3v8m9k2q4r6t8v0x2z4b' });

export const DeliveryIdSchema = z
  .string()
  .max(40)
  .openapi({ description: 'Delivery id.', example: 'dlv_01jd7w3v8m9k2q4r6t8v0x2z4b' });

const UrlSchema = z.string().trim().max(2048).openapi({
  description:
    'Where events are posted: https to a public host (in development also http://localhost and http://127.0.0.1). Private, loopback, link-local and CGNAT addresses are refused.',
  example: 'https://hooks.example.com/fincore',
});

const DescriptionSchema = z
  .string()
  .trim()
  .max(500)
  .openapi({ description: 'What the endpoint is for.', example: 'Core banking sync' });

const SubscribedEventsSchema = z
  .array(
    z
      .enum([ALL_EVENTS, ...eventTypes])
      .openapi({ description: 'An event type, or `*` for every event.', example: 'customer.created' }),
  )
  .min(1)
  .max(100)
  .refine(
    (events) => !events.includes(ALL_EVENTS) || events.length === 1,
    '`*` subscribes to every event and cannot be combined with event types',
  )
  .openapi({
    description: 'Event types the endpoint receives, or `["*"]` for all of them.',
    example: ['customer.created', 'session.revoked'],
  });

export const CreateEndpointSchema = z
  .object({
    url: UrlSchema,
    events: SubscribedEventsSchema,
    description: DescriptionSchema.optional(),
  })
  .strict()
  .openapi('CreateWebhookEndpoint');
export type CreateEndpointInput = z.infer<typeof CreateEndpointSchema>;

export const UpdateEndpointSchema = z
  .object({
    url: UrlSchema.optional(),
    events: SubscribedEventsSchema.optional(),
    description: DescriptionSchema.nullable().optional(),
    enabled: z.boolean().optional().openapi({
      description: 'Turns deliveries on or off; enabling also clears the record of failures.',
      example: true,
    }),
  })
  .strict()
  .refine((input) => Object.keys(input).length > 0, 'name at least one field to change')
  .openapi('UpdateWebhookEndpoint');
export type UpdateEndpointInput = z.infer<typeof UpdateEndpointSchema>;

export const EndpointSchema = z
  .object({
    id: EndpointIdSchema,
    url: z
      .string()
      .max(2048)
      .openapi({ description: 'Where events are posted.', example: 'https://hooks.example.com/fincore' }),
    description: z
      .string()
      .max(500)
      .nullable()
      .openapi({ description: 'What the endpoint is for.', example: 'Core banking sync' }),
    events: z
      .array(z.string().max(64).openapi({ description: 'Event type or `*`.', example: 'customer.created' }))
      .max(100)
      .openapi({ description: 'Subscribed event types, or `["*"]`.', example: ['customer.created'] }),
    enabled: z.boolean().openapi({ description: 'Whether events are delivered to it.', example: true }),
    disabledReason: z.enum(['MANUAL', 'FAILING']).nullable().openapi({
      description: 'Why a disabled endpoint is off: by hand, or after 5 days of failed deliveries.',
      example: null,
    }),
    failingSince: TimestampSchema.nullable().openapi({
      description: 'Start of the current run of failed deliveries; null while deliveries succeed.',
      example: null,
    }),
    previousSecretExpiresAt: TimestampSchema.nullable().openapi({
      description: 'Until when deliveries are also signed with the secret replaced by the last rotation.',
      example: null,
    }),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  })
  .openapi('WebhookEndpoint');
export type EndpointView = z.infer<typeof EndpointSchema>;

export const EndpointWithSecretSchema = EndpointSchema.extend({
  secret: z.string().max(100).openapi({
    description: 'The signing secret (Standard Webhooks format). Shown only in this response: store it now.',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  }),
}).openapi('WebhookEndpointWithSecret');
export type EndpointWithSecretView = z.infer<typeof EndpointWithSecretSchema>;

export const EndpointListQuerySchema = z.object({ ...paginationQuery });
export type EndpointListQuery = z.infer<typeof EndpointListQuerySchema>;

const statusSchema = z.enum(webhookDeliveryStatuses).openapi({
  description:
    'Delivery status. `VOIDED`: never to be sent, for the reason in `voidReason`, and not retryable.',
  example: 'DELIVERED',
});

export const DeliveryListQuerySchema = z.object({
  ...paginationQuery,
  status: statusSchema.optional(),
});
export type DeliveryListQuery = z.infer<typeof DeliveryListQuerySchema>;

export const DeliverySchema = z
  .object({
    id: DeliveryIdSchema,
    endpointId: EndpointIdSchema,
    eventId: z.string().max(40).openapi({
      description: 'The event delivered; also the `webhook-id` header of every attempt.',
      example: 'evt_01jd7w3v8m9k2q4r6t8v0x2z4b',
    }),
    eventType: z.string().max(64).openapi({ description: 'Event type.', example: 'customer.created' }),
    status: statusSchema,
    attemptCount: z
      .number()
      .int()
      .min(0)
      .max(10_000)
      .openapi({ description: 'Attempts made so far.', example: 1, format: 'int32' }),
    lastAttemptAt: TimestampSchema.nullable().openapi({
      description: 'When it was last tried.',
      example: null,
    }),
    lastStatusCode: z.number().int().min(100).max(599).nullable().openapi({
      description: "HTTP status of the last attempt's response; null if none arrived.",
      example: 200,
      format: 'int32',
    }),
    lastError: z
      .string()
      .max(500)
      .nullable()
      .openapi({ description: 'Why the last attempt failed.', example: null }),
    nextAttemptAt: TimestampSchema.nullable().openapi({
      description: 'When a RETRYING delivery is tried next (± the queue’s scheduling).',
      example: null,
    }),
    deliveredAt: TimestampSchema.nullable().openapi({
      description: 'When it was acknowledged.',
      example: null,
    }),
    failedAt: TimestampSchema.nullable().openapi({
      description: 'When retries ran out and it was marked FAILED.',
      example: null,
    }),
    voidedAt: TimestampSchema.nullable().openapi({
      description: 'When it was marked VOIDED.',
      example: null,
    }),
    voidReason: z.enum(webhookVoidReasons).nullable().openapi({
      description:
        'Why a VOIDED delivery is never sent: `ENDPOINT_URL_CHANGED`, its event carries a token or code and the endpoint’s URL changed (or the endpoint was created) after the event, so the secret goes nowhere but the receiver it was subscribed for.',
      example: null,
    }),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  })
  .openapi('WebhookDelivery');
export type DeliveryView = z.infer<typeof DeliverySchema>;

const AttemptSchema = z
  .object({
    number: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .openapi({ description: 'Attempt number, from 1.', example: 1, format: 'int32' }),
    attemptedAt: TimestampSchema,
    statusCode: z.number().int().min(100).max(599).nullable().openapi({
      description: 'HTTP status of the response; null when none arrived.',
      example: 503,
      format: 'int32',
    }),
    latencyMs: z
      .number()
      .int()
      .min(0)
      .max(600_000)
      .openapi({ description: 'Time to the response, in milliseconds.', example: 182, format: 'int32' }),
    error: z
      .string()
      .max(500)
      .nullable()
      .openapi({ description: 'Why the attempt failed; null on success.', example: 'HTTP 503' }),
    responseBody: z.string().max(1024).nullable().openapi({
      description:
        'The first KiB of the response body; null for deliveries of an event that carries a token or code, which a receiver might echo.',
      example: 'Service Unavailable',
    }),
  })
  .openapi('WebhookAttempt');
export type AttemptView = z.infer<typeof AttemptSchema>;

export const DeliveryWithAttemptsSchema = DeliverySchema.extend({
  attempts: z
    .array(AttemptSchema)
    .max(100)
    .openapi({ description: 'Attempts, oldest first (at most the last 100).' }),
}).openapi('WebhookDeliveryWithAttempts');
export type DeliveryWithAttemptsView = z.infer<typeof DeliveryWithAttemptsSchema>;
