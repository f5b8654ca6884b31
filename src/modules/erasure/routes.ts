import { STEP_UP_MAX_AGE_SECONDS } from '../../platform/auth/recent-auth';
import { noStore, serviceContext } from '../../platform/http';
import { createRouter, defineRoute, jsonBody, jsonResponse } from '../../platform/openapi';
import { CustomerParams, CustomerSchema } from '../customers/schemas';
import { ErasureSchema } from './schemas';
import { eraseCustomer } from './service';

const tags = ['Profiles'];

export function erasureRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/customers/{customerId}/erasure',
      operationId: 'eraseCustomer',
      summary: 'Erase a customer’s personal data (GDPR Art. 17)',
      description:
        'Staff or API clients with `customers:erase`; staff users need an authentication at most 5 minutes old (login or `POST /auth/step-up`). Crypto-shredding: the customer’s data key is destroyed, so its personal data — profile, contacts, login identities, the personal fields of its events — can no longer be read from the database or from any backup or export taken afterwards (backups taken before expire with D1’s 30-day Time Travel window). Logins, credentials, sessions, an organization’s people and cached idempotent replies are deleted; sessions and third-party grants end at once. Consents and audit entries stay as the record of what happened, pseudonymised (IPs, user agents and free-text reasons removed). The customer becomes CLOSED for good and answers with `erasedAt` set and no personal data; its other routes answer 409 `customer_erased`. 409 `legal_hold` while a legal hold applies. Emits `customer.erased`.',
      tags,
      access: {
        auth: 'required',
        tenant: true,
        permission: 'customers:erase',
        recentAuthSeconds: STEP_UP_MAX_AGE_SECONDS,
        apiClientsSkipRecentAuth: true,
      },
      idempotent: true,
      errors: [
        'customer_erased',
        'legal_hold',
        'concurrent_update',
        'idempotency_key_in_use',
        'idempotency_key_reused',
      ],
      request: { params: CustomerParams, body: jsonBody(ErasureSchema) },
      responses: { 200: jsonResponse(CustomerSchema, 'What is left of the customer.') },
    }),
    async (c) =>
      c.json(
        await eraseCustomer(serviceContext(c), c.req.valid('param').customerId, c.req.valid('json')),
        200,
        noStore,
      ),
  );

  return router;
}
