import { z } from '@hono/zod-openapi';
import { noStore, serviceContext } from '../../platform/http';
import { createRouter, defineRoute, jsonBody, jsonResponse } from '../../platform/openapi';
import { pageSchema } from '../../platform/pagination';
import type { RouteAccess } from '../../platform/pipeline';
import { TppIdSchema } from '../tpps/schemas';
import {
  AuthorisedConsentSchema,
  CreateTppConsentSchema,
  CustomerIdParamSchema,
  TppConsentIdSchema,
  TppConsentListQuerySchema,
  TppConsentSchema,
} from './schemas';
import {
  authorizeConsent,
  createConsent,
  getConsent,
  listCustomerConsents,
  listTppConsents,
  rejectConsent,
  revokeConsent,
} from './service';

const tags = ['Third-party providers'];
/** The customer, the TPP's client or staff: the service tells them apart (404 for anyone else). */
const parties: RouteAccess = { auth: 'required', tenant: true, capability: 'SCT12' };
/** The customer's own login, authenticated within five minutes: a TPP or an API client cannot answer. */
const customerAnswer: RouteAccess = { ...parties, userSession: true, recentAuthSeconds: 300 };
const consentParams = z.object({ consentId: TppConsentIdSchema });
const PAGE = pageSchema(TppConsentSchema, 'TppConsentPage');

export function tppConsentRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/tpp-consents',
      operationId: 'createTppConsent',
      summary: 'Ask a customer for a consent (TPP)',
      description:
        'By a TPP’s OAuth client with its client-credentials token (`tpp_client_required` otherwise). Scopes beyond what the TPP’s roles allow are 403 `role_not_permitted`; `expiresAt` at most 180 days away; `redirectUri` exactly one of the TPP’s; PKCE S256 only. The customer has 15 minutes to authorise, else the consent lapses to `REJECTED`.',
      tags,
      access: parties,
      errors: ['tpp_client_required', 'tpp_not_active', 'role_not_permitted'],
      request: { body: jsonBody(CreateTppConsentSchema) },
      responses: { 201: jsonResponse(TppConsentSchema, 'The consent, awaiting authorisation.') },
    }),
    async (c) => {
      const consent = await createConsent(serviceContext(c), c.req.valid('json'));
      c.header('Location', `/v2/customer/tpp-consents/${consent.id}`);
      return c.json(consent, 201);
    },
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/tpp-consents/{consentId}',
      operationId: 'getTppConsent',
      summary: 'Get a TPP consent',
      description:
        'For the customer it is about, a client of its TPP, or staff with `tpp:admin`; 404 for anyone else.',
      tags,
      access: parties,
      request: { params: consentParams },
      responses: { 200: jsonResponse(TppConsentSchema, 'The consent.') },
    }),
    async (c) => c.json(await getConsent(serviceContext(c), c.req.valid('param').consentId), 200),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/tpp-consents/{consentId}/authorize',
      operationId: 'authorizeTppConsent',
      summary: 'Authorise a TPP consent (customer)',
      description:
        'By the customer it is about, from its own login, authenticated within 5 minutes (step-up). Answers the one-time code (60 s, single use, PKCE-bound) and where to send it: the front end redirects to `redirectUri?code=…&state=…`, and the TPP exchanges it at `/oauth/token`. A consent no longer awaiting (answered, revoked, lapsed) is 409.',
      tags,
      access: customerAnswer,
      errors: ['consent_not_awaiting_authorisation', 'tpp_not_active'],
      request: { params: consentParams },
      responses: { 200: jsonResponse(AuthorisedConsentSchema, 'The authorised consent and its code.') },
    }),
    async (c) =>
      c.json(await authorizeConsent(serviceContext(c), c.req.valid('param').consentId), 200, noStore),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/tpp-consents/{consentId}/reject',
      operationId: 'rejectTppConsent',
      summary: 'Reject a TPP consent (customer)',
      description: 'By the customer it is about, from its own login, authenticated within 5 minutes.',
      tags,
      access: customerAnswer,
      errors: ['consent_not_awaiting_authorisation'],
      request: { params: consentParams },
      responses: { 200: jsonResponse(TppConsentSchema, 'The rejected consent.') },
    }),
    async (c) => c.json(await rejectConsent(serviceContext(c), c.req.valid('param').consentId), 200),
  );

  router.openapi(
    defineRoute({
      method: 'delete',
      path: '/tpp-consents/{consentId}',
      operationId: 'revokeTppConsent',
      summary: 'Revoke a TPP consent',
      description:
        'By the customer, a client of its TPP or staff with `tpp:admin` (`revokedBy` says which). Its tokens stop: refresh tokens and introspection at once, access tokens at once here and within 60 seconds everywhere.',
      tags,
      access: parties,
      errors: ['consent_not_in_force'],
      request: { params: consentParams },
      responses: { 200: jsonResponse(TppConsentSchema, 'The revoked consent.') },
    }),
    async (c) => c.json(await revokeConsent(serviceContext(c), c.req.valid('param').consentId), 200),
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/customers/{customerId}/tpp-consents',
      operationId: 'listCustomerTppConsents',
      summary: 'List the TPP consents a customer was asked for',
      description: 'Newest first. The customer’s own login, or staff with `tpp:admin`.',
      tags,
      access: { ...parties, permission: 'tpp:admin', selfService: true },
      errors: ['invalid_cursor'],
      request: { params: z.object({ customerId: CustomerIdParamSchema }), query: TppConsentListQuerySchema },
      responses: { 200: jsonResponse(PAGE, 'A page of consents.') },
    }),
    async (c) =>
      c.json(
        await listCustomerConsents(serviceContext(c), c.req.valid('param').customerId, c.req.valid('query')),
        200,
      ),
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/tpps/{tppId}/consents',
      operationId: 'listTppConsents',
      summary: 'List the consents a TPP was given',
      description: 'Newest first; staff with `tpp:admin`.',
      tags,
      access: { ...parties, permission: 'tpp:admin' },
      errors: ['invalid_cursor'],
      request: { params: z.object({ tppId: TppIdSchema }), query: TppConsentListQuerySchema },
      responses: { 200: jsonResponse(PAGE, 'A page of consents.') },
    }),
    async (c) =>
      c.json(await listTppConsents(serviceContext(c), c.req.valid('param').tppId, c.req.valid('query')), 200),
  );

  return router;
}
