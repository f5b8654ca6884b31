import { serviceContext } from '../../platform/http';
import { createRouter, defineRoute, jsonBody, jsonResponse } from '../../platform/openapi';
import { CustomerParams } from '../customers/schemas';
import { ConsentIdSchema, ConsentListSchema, ConsentSchema, GrantConsentSchema } from './schemas';
import { grantConsent, listConsents, withdrawConsent } from './service';

const tags = ['Consents'];

export function consentRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/customers/{customerId}/consents',
      operationId: 'listConsents',
      summary: "A customer's consents, with their history",
      tags,
      access: { auth: 'required', tenant: true, permission: 'customers:read', selfService: true },
      errors: ['customer_erased'],
      request: { params: CustomerParams },
      responses: { 200: jsonResponse(ConsentListSchema, 'Every consent record, newest first.') },
    }),
    async (c) => c.json(await listConsents(serviceContext(c), c.req.valid('param').customerId), 200),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/customers/{customerId}/consents',
      operationId: 'grantConsent',
      summary: 'Record a consent',
      description:
        'Records version, time, and the IP and User-Agent of the customer’s device (none when staff or an API client record it for the customer). A grant replaces the consent of the same type in force, which stays in the history as SUPERSEDED.',
      tags,
      access: { auth: 'required', tenant: true, permission: 'customers:write', selfService: true },
      idempotent: true,
      errors: ['customer_closed', 'customer_erased', 'idempotency_key_in_use', 'idempotency_key_reused'],
      request: { params: CustomerParams, body: jsonBody(GrantConsentSchema) },
      responses: { 201: jsonResponse(ConsentSchema, 'The consent record.') },
    }),
    async (c) =>
      c.json(
        await grantConsent(serviceContext(c), c.req.valid('param').customerId, c.req.valid('json')),
        201,
      ),
  );

  router.openapi(
    defineRoute({
      method: 'delete',
      path: '/customers/{customerId}/consents/{consentId}',
      operationId: 'withdrawConsent',
      summary: 'Withdraw a consent',
      description:
        'Optional consents (MARKETING, DATA_PROCESSING, COMMERCIAL_SERVICES) can be withdrawn; TERMS_AND_CONDITIONS and PRIVACY_POLICY cannot (409). The record stays, marked WITHDRAWN.',
      tags,
      access: { auth: 'required', tenant: true, permission: 'customers:write', selfService: true },
      errors: ['consent_not_withdrawable', 'consent_not_in_force', 'customer_erased'],
      request: { params: CustomerParams.extend({ consentId: ConsentIdSchema }) },
      responses: { 200: jsonResponse(ConsentSchema, 'The withdrawn consent.') },
    }),
    async (c) => {
      const { customerId: id, consentId } = c.req.valid('param');
      return c.json(await withdrawConsent(serviceContext(c), id, consentId), 200);
    },
  );

  return router;
}
