import { type OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../../platform/context';
import { eventCatalogue } from '../../platform/events';
import { noStore, serviceContext } from '../../platform/http';
import { createRouter, defineRoute, jsonBody, jsonResponse } from '../../platform/openapi';
import { pageSchema } from '../../platform/pagination';
import { TimestampSchema } from '../../platform/schemas';
import { DELIVERY_TIMEOUT_MS } from './delivery';
import {
  CreateEndpointSchema,
  DeliveryIdSchema,
  DeliveryListQuerySchema,
  DeliverySchema,
  DeliveryWithAttemptsSchema,
  EndpointIdSchema,
  EndpointListQuerySchema,
  EndpointSchema,
  EndpointWithSecretSchema,
  UpdateEndpointSchema,
} from './schemas';
import {
  createEndpoint,
  deleteEndpoint,
  getDelivery,
  getEndpoint,
  listDeliveries,
  listEndpoints,
  retryDelivery,
  rotateSecret,
  sendTestEvent,
  updateEndpoint,
} from './service';

const tags = ['Webhooks'];
const access = { auth: 'required', tenant: true, permission: 'webhooks:admin' } as const;
const SECRETS_NEED_EVERYTHING =
  'Deliveries of `notification.requested` carry live codes and password tokens, so an endpoint subscribed to it (or to `*`) is as strong as TENANT_ADMIN: subscribing one, or changing the URL of one, needs every permission (403 `permission_not_held`).';
const endpointParams = z.object({ endpointId: EndpointIdSchema });
const deliveryParams = z.object({ deliveryId: DeliveryIdSchema });

export function webhookRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/webhooks/endpoints',
      operationId: 'createWebhookEndpoint',
      summary: 'Register a webhook endpoint',
      description: `Events the endpoint subscribes to are posted to it, signed per Standard Webhooks. The answer holds the signing secret, shown this once. The URL must be https to a public host. ${SECRETS_NEED_EVERYTHING} Not idempotent by key: the secret is never stored for replays.`,
      tags,
      access: { ...access, actsOn: { target: 'webhook-endpoint', in: 'body' } },
      errors: ['webhook_url_not_allowed', 'webhook_endpoint_limit_reached'],
      request: { body: jsonBody(CreateEndpointSchema) },
      responses: { 201: jsonResponse(EndpointWithSecretSchema, 'The endpoint, with its secret.') },
    }),
    async (c) => {
      const endpoint = await createEndpoint(serviceContext(c), c.req.valid('json'));
      c.header('Location', `/v2/customer/webhooks/endpoints/${endpoint.id}`);
      return c.json(endpoint, 201, noStore);
    },
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/webhooks/endpoints',
      operationId: 'listWebhookEndpoints',
      summary: 'List webhook endpoints',
      description: 'Newest first, cursor-paginated. Secrets are never shown again.',
      tags,
      access,
      errors: ['invalid_cursor'],
      request: { query: EndpointListQuerySchema },
      responses: {
        200: jsonResponse(pageSchema(EndpointSchema, 'WebhookEndpointPage'), 'A page of endpoints.'),
      },
    }),
    async (c) => c.json(await listEndpoints(serviceContext(c), c.req.valid('query')), 200),
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/webhooks/endpoints/{endpointId}',
      operationId: 'getWebhookEndpoint',
      summary: 'Get a webhook endpoint',
      tags,
      access,
      request: { params: endpointParams },
      responses: { 200: jsonResponse(EndpointSchema, 'The endpoint.') },
    }),
    async (c) => c.json(await getEndpoint(serviceContext(c), c.req.valid('param').endpointId), 200),
  );

  router.openapi(
    defineRoute({
      method: 'patch',
      path: '/webhooks/endpoints/{endpointId}',
      operationId: 'updateWebhookEndpoint',
      summary: 'Change a webhook endpoint',
      description: `Changes its URL, description or events, or disables and enables it. Disabling emits \`webhook_endpoint.disabled\`; enabling clears the record of failures. ${SECRETS_NEED_EVERYTHING}`,
      tags,
      access: { ...access, actsOn: { target: 'webhook-endpoint', in: 'path', name: 'endpointId' } },
      errors: ['webhook_url_not_allowed'],
      request: { params: endpointParams, body: jsonBody(UpdateEndpointSchema) },
      responses: { 200: jsonResponse(EndpointSchema, 'The changed endpoint.') },
    }),
    async (c) =>
      c.json(
        await updateEndpoint(serviceContext(c), c.req.valid('param').endpointId, c.req.valid('json')),
        200,
      ),
  );

  router.openapi(
    defineRoute({
      method: 'delete',
      path: '/webhooks/endpoints/{endpointId}',
      operationId: 'deleteWebhookEndpoint',
      summary: 'Delete a webhook endpoint',
      description: 'Deletes the endpoint and its delivery log; nothing more is sent to it.',
      tags,
      access,
      request: { params: endpointParams },
      responses: { 204: { description: 'The endpoint is gone.' } },
    }),
    async (c) => {
      await deleteEndpoint(serviceContext(c), c.req.valid('param').endpointId);
      return c.body(null, 204);
    },
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/webhooks/endpoints/{endpointId}/rotate-secret',
      operationId: 'rotateWebhookSecret',
      summary: 'Rotate the signing secret',
      description:
        'Issues a new secret, shown this once. For 24 hours deliveries carry two signatures, one per secret, so the receiver can switch over without rejecting anything; rotating again within them retires the oldest secret at once. Not idempotent by key: the secret is never stored for replays.',
      tags,
      access,
      request: { params: endpointParams },
      responses: { 200: jsonResponse(EndpointWithSecretSchema, 'The endpoint, with its new secret.') },
    }),
    async (c) => c.json(await rotateSecret(serviceContext(c), c.req.valid('param').endpointId), 200, noStore),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/webhooks/endpoints/{endpointId}/test',
      operationId: 'testWebhookEndpoint',
      summary: 'Send a test event',
      description:
        'Sends `webhook.test` to this endpoint, whatever it subscribes to, as a normal delivery: follow it with `GET /webhooks/deliveries/{endpointId}`.',
      tags,
      access,
      idempotent: true,
      errors: ['webhook_endpoint_disabled', 'idempotency_key_in_use', 'idempotency_key_reused'],
      request: { params: endpointParams },
      responses: { 202: jsonResponse(DeliverySchema, 'The queued delivery.') },
    }),
    async (c) => c.json(await sendTestEvent(serviceContext(c), c.req.valid('param').endpointId), 202),
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/webhooks/endpoints/{endpointId}/deliveries',
      operationId: 'listWebhookDeliveries',
      summary: "List an endpoint's deliveries",
      description: 'Newest first, cursor-paginated, optionally by status.',
      tags,
      access,
      errors: ['invalid_cursor'],
      request: { params: endpointParams, query: DeliveryListQuerySchema },
      responses: {
        200: jsonResponse(pageSchema(DeliverySchema, 'WebhookDeliveryPage'), 'A page of deliveries.'),
      },
    }),
    async (c) =>
      c.json(
        await listDeliveries(serviceContext(c), c.req.valid('param').endpointId, c.req.valid('query')),
        200,
      ),
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/webhooks/deliveries/{deliveryId}',
      operationId: 'getWebhookDelivery',
      summary: 'Get a delivery with its attempts',
      description: 'Every attempt: when, status code, latency, error and the start of the response body.',
      tags,
      access,
      request: { params: deliveryParams },
      responses: { 200: jsonResponse(DeliveryWithAttemptsSchema, 'The delivery and its attempts.') },
    }),
    async (c) => c.json(await getDelivery(serviceContext(c), c.req.valid('param').deliveryId), 200),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/webhooks/deliveries/{deliveryId}/retry',
      operationId: 'retryWebhookDelivery',
      summary: 'Send a delivery again',
      description:
        'Queues a FAILED delivery (or a DELIVERED one, as a replay) again, with the same `webhook-id` so the receiver can tell a repeat. The retry schedule starts over. A delivery whose event carries a token or code (`notification.requested`) is never sent again: `webhook_delivery_carries_secret`.',
      tags,
      access,
      idempotent: true,
      errors: [
        'webhook_delivery_pending',
        'webhook_delivery_carries_secret',
        'webhook_endpoint_disabled',
        'idempotency_key_in_use',
        'idempotency_key_reused',
      ],
      request: { params: deliveryParams },
      responses: { 202: jsonResponse(DeliverySchema, 'The queued delivery.') },
    }),
    async (c) => c.json(await retryDelivery(serviceContext(c), c.req.valid('param').deliveryId), 202),
  );

  return router;
}

const deliveryHeaders = z.object({
  'webhook-id': z
    .string()
    .max(40)
    .regex(/^evt_[0-9a-z]{26}$/)
    .openapi({
      description:
        'The event id: the same on every attempt and every manual retry, so repeats can be dropped.',
      example: 'evt_01jd7w3v8m9k2q4r6t8v0x2z4b',
    }),
  'webhook-timestamp': z
    .string()
    .max(12)
    .regex(/^[0-9]+$/)
    .openapi({
      description: 'When this attempt was signed, in Unix seconds; reject messages too far from your clock.',
      example: '1764072000',
    }),
  'webhook-signature': z
    .string()
    .max(200)
    .regex(/^v1,[A-Za-z0-9+/]+={0,2}( v1,[A-Za-z0-9+/]+={0,2})*$/)
    .openapi({
      description:
        'Space-separated `v1,<base64 HMAC-SHA256 of id.timestamp.body>` signatures: one per live secret (two for 24 h after a rotation).',
      example: 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
    }),
});

/** `customer.status_changed` → `CustomerStatusChanged`. */
function pascalCase(type: string): string {
  return type
    .split(/[._]/)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

/**
 * Publishes every event of the catalogue as an OpenAPI 3.1 webhook: the body a receiver gets,
 * the catalogue's schema as its `data`, and the signature headers. Registered on the app itself,
 * since a sub-router would prefix the webhook names with the base path.
 */
export function registerEventWebhooks(app: OpenAPIHono<AppEnv>): void {
  for (const [type, data] of Object.entries(eventCatalogue)) {
    const name = pascalCase(type);
    const envelope = z
      .object({
        id: z.string().max(40).openapi({
          description: 'Event id, also sent as `webhook-id`.',
          example: 'evt_01jd7w3v8m9k2q4r6t8v0x2z4b',
        }),
        type: z.literal(type).openapi({ description: 'Event type.', example: type }),
        createdAt: TimestampSchema,
        tenantId: z
          .string()
          .max(64)
          .openapi({ description: 'The tenant the event belongs to.', example: 'demo-pro' }),
        data: data.openapi({ description: 'What happened: ids, statuses and changed field names.' }),
      })
      .openapi(`${name}Event`, { description: `The body of a \`${type}\` delivery.` });
    app.openAPIRegistry.registerWebhook({
      method: 'post',
      path: type,
      operationId: `on${name}`,
      summary: `\`${type}\``,
      description: `Posted to endpoints subscribed to \`${type}\` (or \`*\`). Verify the signature before trusting the body; answer 2xx within ${DELIVERY_TIMEOUT_MS / 1000} s, anything else is retried.`,
      tags,
      request: {
        headers: deliveryHeaders,
        body: { required: true, content: { 'application/json': { schema: envelope } } },
      },
      responses: {
        200: { description: 'Any 2xx acknowledges the delivery; redirects are not followed.' },
      },
    });
  }
}
