import { z } from '@hono/zod-openapi';
import { serviceContext } from '../../platform/http';
import { createRouter, defineRoute, jsonResponse } from '../../platform/openapi';
import { pageSchema } from '../../platform/pagination';
import { EventIdSchema, EventListQuerySchema, EventSchema } from './schemas';
import { getEvent, listEvents } from './service';

const tags = ['Events'];

export function eventRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/events',
      operationId: 'listEvents',
      summary: "The tenant's event log",
      description:
        'Every event the tenant’s webhooks receive, newest first, kept so a receiver that missed deliveries can catch up.',
      tags,
      access: { auth: 'required', tenant: true, permission: 'events:read' },
      errors: ['invalid_cursor'],
      request: { query: EventListQuerySchema },
      responses: { 200: jsonResponse(pageSchema(EventSchema, 'EventPage'), 'A page of events.') },
    }),
    async (c) => c.json(await listEvents(serviceContext(c), c.req.valid('query')), 200),
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/events/{eventId}',
      operationId: 'getEvent',
      summary: 'One event',
      tags,
      access: { auth: 'required', tenant: true, permission: 'events:read' },
      request: { params: z.object({ eventId: EventIdSchema }) },
      responses: { 200: jsonResponse(EventSchema, 'The event.') },
    }),
    async (c) => c.json(await getEvent(serviceContext(c), c.req.valid('param').eventId), 200),
  );

  return router;
}
