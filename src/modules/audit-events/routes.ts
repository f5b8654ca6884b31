import { serviceContext } from '../../platform/http';
import { createRouter, defineRoute, jsonResponse } from '../../platform/openapi';
import { pageSchema } from '../../platform/pagination';
import { AuditEventListQuerySchema, AuditEventSchema } from './schemas';
import { listAuditEvents } from './service';

export function auditRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/audit-events',
      operationId: 'listAuditEvents',
      summary: 'The audit log',
      description:
        'Who did what to which resource, newest first. Every change writes its entry in the same batch as the change, so the log is complete.',
      tags: ['Audit'],
      access: { auth: 'required', tenant: true, permission: 'audit:read' },
      errors: ['invalid_cursor'],
      request: { query: AuditEventListQuerySchema },
      responses: {
        200: jsonResponse(pageSchema(AuditEventSchema, 'AuditEventPage'), 'A page of audit entries.'),
      },
    }),
    async (c) => c.json(await listAuditEvents(serviceContext(c), c.req.valid('query')), 200),
  );

  return router;
}
