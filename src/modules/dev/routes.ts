import { createRouter, defineRoute, jsonResponse } from '../../platform/openapi';
import { InboxQuerySchema, InboxSchema } from './schemas';
import { listInbox } from './service';

/** Development tools: `developmentOnly` keeps them out of production and its document. */
export function devRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/dev/inbox',
      operationId: 'listDevInbox',
      summary: 'Local inbox: codes and tokens sent (development only)',
      description:
        'The `notification.requested` messages of a tenant — email and phone codes, password reset and invitation tokens — as its webhook receiver would get them, in the clear, so local trials need no receiver. Only with `ENVIRONMENT` `development` or `test`; in production 404 and absent from the document.',
      tags: ['Development'],
      access: { auth: 'platform-admin', tenant: false },
      errors: ['not_found'],
      request: { query: InboxQuerySchema },
      responses: { 200: jsonResponse(InboxSchema, 'The messages, newest first.') },
      developmentOnly: true,
    }),
    async (c) => {
      c.header('Cache-Control', 'no-store');
      return c.json(await listInbox(c.env, c.req.valid('query')), 200);
    },
  );

  return router;
}
