import { noStore, serviceContext } from '../../platform/http';
import { createRouter, defineRoute, jsonBody, jsonResponse } from '../../platform/openapi';
import { CustomerParams } from '../customers/schemas';
import { LegalHoldInputSchema, LegalHoldSchema } from './schemas';
import { getLegalHold, placeLegalHold, releaseLegalHold } from './service';

const tags = ['Profiles'];

export function legalHoldRoutes() {
  const router = createRouter();

  const legalHoldAccess = { auth: 'required', tenant: true, permission: 'customers:hold' } as const;

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/customers/{customerId}/legal-hold',
      operationId: 'getLegalHold',
      summary: 'Read a customer’s legal hold',
      description:
        'Staff or API clients with `customers:hold`. Whether a legal hold keeps the customer from being erased, since when and why. Customers never see their holds.',
      tags,
      access: legalHoldAccess,
      errors: ['customer_erased'],
      request: { params: CustomerParams },
      responses: { 200: jsonResponse(LegalHoldSchema, 'The hold, or `active: false`.') },
    }),
    async (c) => c.json(await getLegalHold(serviceContext(c), c.req.valid('param').customerId), 200, noStore),
  );

  router.openapi(
    defineRoute({
      method: 'put',
      path: '/customers/{customerId}/legal-hold',
      operationId: 'placeLegalHold',
      summary: 'Place a legal hold on a customer',
      description:
        'Staff or API clients with `customers:hold`. While the hold applies, erasure answers 409 `legal_hold`. Placing it again restates the reason and keeps the original time. Audited; emits `customer.legal_hold_placed` when a hold starts.',
      tags,
      access: legalHoldAccess,
      errors: ['customer_erased', 'concurrent_update'],
      request: { params: CustomerParams, body: jsonBody(LegalHoldInputSchema) },
      responses: { 200: jsonResponse(LegalHoldSchema, 'The hold in force.') },
    }),
    async (c) =>
      c.json(
        await placeLegalHold(serviceContext(c), c.req.valid('param').customerId, c.req.valid('json')),
        200,
        noStore,
      ),
  );

  router.openapi(
    defineRoute({
      method: 'delete',
      path: '/customers/{customerId}/legal-hold',
      operationId: 'releaseLegalHold',
      summary: 'Release a customer’s legal hold',
      description:
        'Staff or API clients with `customers:hold`. 409 `no_legal_hold` when no hold applies. Audited; emits `customer.legal_hold_released`.',
      tags,
      access: legalHoldAccess,
      errors: ['customer_erased', 'no_legal_hold', 'concurrent_update'],
      request: { params: CustomerParams },
      responses: { 204: { description: 'The hold is released.' } },
    }),
    async (c) => {
      await releaseLegalHold(serviceContext(c), c.req.valid('param').customerId);
      return c.body(null, 204);
    },
  );

  return router;
}
