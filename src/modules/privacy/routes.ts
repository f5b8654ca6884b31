import { z } from '@hono/zod-openapi';
import { STEP_UP_MAX_AGE_SECONDS } from '../../platform/auth/recent-auth';
import { noStore, serviceContext } from '../../platform/http';
import { createRouter, defineRoute, jsonResponse } from '../../platform/openapi';
import { CustomerIdSchema } from '../customers/schemas';
import { CustomerExportSchema } from './schemas';
import { exportCustomer } from './service';

const tags = ['Profiles'];

export function privacyRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/customers/{id}/export',
      operationId: 'exportCustomer',
      summary: 'Export everything held on a customer (GDPR)',
      description:
        'Staff with `customers:read`, or the customer itself. Users (staff, the customer, a third party acting for it) need an authentication at most 5 minutes old (login or `POST /auth/step-up`), since the answer is everything held on the customer; API clients with the permission are not asked for one. One JSON document with the profile, logins, consents, sessions, second factors (never secrets), pending contact verifications, third-party grants, audit entries about the customer and by its logins, and outbox events naming it (secrets redacted). Sections with more than 10,000 rows are cut and named in `truncated`. Each export is audited (`customer.exported`); the answer is `Cache-Control: no-store`.',
      tags,
      access: {
        auth: 'required',
        tenant: true,
        permission: 'customers:read',
        selfService: true,
        recentAuthSeconds: STEP_UP_MAX_AGE_SECONDS,
        apiClientsSkipRecentAuth: true,
      },
      request: { params: z.object({ id: CustomerIdSchema }) },
      responses: { 200: jsonResponse(CustomerExportSchema, 'The export.') },
    }),
    async (c) => c.json(await exportCustomer(serviceContext(c), c.req.valid('param').id), 200, noStore),
  );

  return router;
}
