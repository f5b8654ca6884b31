import { z } from '@hono/zod-openapi';
import { STEP_UP_MAX_AGE_SECONDS } from '../../platform/auth/recent-auth';
import { noStore, serviceContext } from '../../platform/http';
import { createRouter, defineRoute, jsonBody, jsonResponse } from '../../platform/openapi';
import { CustomerIdSchema, CustomerSchema } from '../customers/schemas';
import { eraseCustomer, getLegalHold, placeLegalHold, releaseLegalHold } from './erasure';
import { CustomerExportSchema, ErasureSchema, LegalHoldInputSchema, LegalHoldSchema } from './schemas';
import { exportCustomer } from './service';

const customerParams = z.object({ id: CustomerIdSchema });

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
      request: { params: customerParams },
      responses: { 200: jsonResponse(CustomerExportSchema, 'The export.') },
    }),
    async (c) => c.json(await exportCustomer(serviceContext(c), c.req.valid('param').id), 200, noStore),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/customers/{id}/erasure',
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
      request: { params: customerParams, body: jsonBody(ErasureSchema) },
      responses: { 200: jsonResponse(CustomerSchema, 'What is left of the customer.') },
    }),
    async (c) =>
      c.json(
        await eraseCustomer(serviceContext(c), c.req.valid('param').id, c.req.valid('json')),
        200,
        noStore,
      ),
  );

  const legalHoldAccess = { auth: 'required', tenant: true, permission: 'customers:hold' } as const;

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/customers/{id}/legal-hold',
      operationId: 'getLegalHold',
      summary: 'Read a customer’s legal hold',
      description:
        'Staff or API clients with `customers:hold`. Whether a legal hold keeps the customer from being erased, since when and why. Customers never see their holds.',
      tags,
      access: legalHoldAccess,
      errors: ['customer_erased'],
      request: { params: customerParams },
      responses: { 200: jsonResponse(LegalHoldSchema, 'The hold, or `active: false`.') },
    }),
    async (c) => c.json(await getLegalHold(serviceContext(c), c.req.valid('param').id), 200, noStore),
  );

  router.openapi(
    defineRoute({
      method: 'put',
      path: '/customers/{id}/legal-hold',
      operationId: 'placeLegalHold',
      summary: 'Place a legal hold on a customer',
      description:
        'Staff or API clients with `customers:hold`. While the hold applies, erasure answers 409 `legal_hold`. Placing it again restates the reason and keeps the original time. Audited; emits `customer.legal_hold_placed` when a hold starts.',
      tags,
      access: legalHoldAccess,
      errors: ['customer_erased', 'concurrent_update'],
      request: { params: customerParams, body: jsonBody(LegalHoldInputSchema) },
      responses: { 200: jsonResponse(LegalHoldSchema, 'The hold in force.') },
    }),
    async (c) =>
      c.json(
        await placeLegalHold(serviceContext(c), c.req.valid('param').id, c.req.valid('json')),
        200,
        noStore,
      ),
  );

  router.openapi(
    defineRoute({
      method: 'delete',
      path: '/customers/{id}/legal-hold',
      operationId: 'releaseLegalHold',
      summary: 'Release a customer’s legal hold',
      description:
        'Staff or API clients with `customers:hold`. 409 `no_legal_hold` when no hold applies. Audited; emits `customer.legal_hold_released`.',
      tags,
      access: legalHoldAccess,
      errors: ['customer_erased', 'no_legal_hold', 'concurrent_update'],
      request: { params: customerParams },
      responses: { 204: { description: 'The hold is released.' } },
    }),
    async (c) => {
      await releaseLegalHold(serviceContext(c), c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  return router;
}
