import { STEP_UP_MAX_AGE_SECONDS } from '../../platform/auth/recent-auth';
import { noStore, serviceContext } from '../../platform/http';
import { createRouter, defineRoute, jsonResponse } from '../../platform/openapi';
import { CustomerParams } from '../customers/schemas';
import { CustomerExportSchema } from './schemas';
import { exportCustomer } from './service';

const tags = ['Profiles'];

export function exportRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/customers/{customerId}/export',
      operationId: 'exportCustomer',
      summary: 'Export everything held on a customer (GDPR)',
      description:
        'Staff with `customers:read`, or the customer itself. Users (staff, the customer) need an authentication at most 5 minutes old (login or `POST /auth/step-up`), since the answer is everything held on the customer; API clients with the permission are not asked for one, and third parties acting for the customer cannot export (403 `user_session_required`). One JSON document with the profile, logins, consents, sessions, second factors (never secrets), pending contact verifications, third-party grants, audit entries about the customer and by its logins, and outbox events naming it (secrets redacted). What it shows depends on the requester: the customer itself and its organization’s users never see internal records (legal holds: their audit entries and events), and see actions of staff and API clients by `actorType` alone (`actorId` and `ip` null); staff and API clients see every actor, and legal holds only with `customers:hold` (the permission that reads them). Sections with more than 10,000 rows are cut and named in `truncated`. Each export is audited (`customer.exported`); the answer is `Cache-Control: no-store`.',
      tags,
      access: {
        auth: 'required',
        tenant: true,
        permission: 'customers:read',
        selfService: true,
        recentAuthSeconds: STEP_UP_MAX_AGE_SECONDS,
        apiClientsSkipRecentAuth: true,
        // The costliest read of the API: a dozen tables of up to 10,000 rows each, every sealed
        // field decrypted. Priced as ten reads, so a loop of exports cannot drain D1 and CPU at
        // the rate of plain reads.
        rateLimit: { cost: 10 },
      },
      errors: ['customer_erased'],
      request: { params: CustomerParams },
      responses: { 200: jsonResponse(CustomerExportSchema, 'The export.') },
    }),
    async (c) =>
      c.json(await exportCustomer(serviceContext(c), c.req.valid('param').customerId), 200, noStore),
  );

  return router;
}
