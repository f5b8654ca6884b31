import { z } from '@hono/zod-openapi';
import { noStore, serviceContext } from '../../platform/http';
import { createRouter, defineRoute, jsonBody, jsonResponse } from '../../platform/openapi';
import { pageSchema } from '../../platform/pagination';
import type { RouteAccess } from '../../platform/pipeline';
import type { ProblemCode } from '../../platform/problems';
import { ClientListQuerySchema, ClientSchema, ClientWithSecretSchema } from '../access/schemas';
import {
  AddCertificateSchema,
  CreateTppClientSchema,
  CreateTppSchema,
  TppCertificateSchema,
  TppIdSchema,
  TppListQuerySchema,
  TppSchema,
  UpdateTppSchema,
} from './schemas';
import {
  addCertificate,
  createTpp,
  createTppClient,
  getTpp,
  listTppClients,
  listTpps,
  updateTpp,
} from './service';

const tags = ['Third-party providers'];
const admin: RouteAccess = { auth: 'required', tenant: true, capability: 'SCT12', permission: 'tpp:admin' };
const tppParams = z.object({ tppId: TppIdSchema });

/** One 422 per certificate rule, in the order they are checked (docs/api.md). */
const certificateProblems: ProblemCode[] = [
  'certificate_unparseable',
  'certificate_not_yet_valid',
  'certificate_expired',
  'certificate_not_qualified',
  'certificate_missing_psd2_roles',
  'certificate_role_mismatch',
  'role_not_in_certificate',
  'organization_identifier_mismatch',
  'nca_mismatch',
  'certificate_untrusted',
  'certificate_in_use',
];
const CERTIFICATE_RULES =
  'The certificate is checked in this order, one 422 code per rule: it parses; it is valid now (a warning `certificate_expires_soon` when under 30 days remain); QCStatements with QcCompliance and QcType web or eseal; the ETSI TS 119 495 PSD2 statement with at least one role, read by OID, whose names agree; every role registered is in it; the subject organizationIdentifier is the authorisation number and its NCA part the statement’s NCA id; it chains to the tenant’s trust anchors when it has any (else `trust: UNVERIFIED`). A certificate registered already (same SHA-256) is 409 `certificate_in_use`.';

export function tppRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/tpps',
      operationId: 'listTpps',
      summary: 'List TPPs',
      description:
        'The third-party providers registered with the tenant, newest first, with their certificates.',
      tags,
      access: admin,
      errors: ['invalid_cursor'],
      request: { query: TppListQuerySchema },
      responses: { 200: jsonResponse(pageSchema(TppSchema, 'TppPage'), 'A page of TPPs.') },
    }),
    async (c) => c.json(await listTpps(serviceContext(c), c.req.valid('query')), 200),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/tpps',
      operationId: 'createTpp',
      summary: 'Register a TPP with its eIDAS certificate',
      description: `${CERTIFICATE_RULES} The answer shows the facts the certificate was accepted on. One TPP per authorisation number (409 \`tpp_already_registered\`).`,
      tags,
      access: admin,
      idempotent: true,
      errors: [
        ...certificateProblems,
        'tpp_already_registered',
        'idempotency_key_in_use',
        'idempotency_key_reused',
      ],
      request: { body: jsonBody(CreateTppSchema) },
      responses: { 201: jsonResponse(TppSchema, 'The registered TPP.') },
    }),
    async (c) => {
      const tpp = await createTpp(serviceContext(c), c.req.valid('json'));
      c.header('Location', `/v2/customer/tpps/${tpp.id}`);
      return c.json(tpp, 201);
    },
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/tpps/{tppId}',
      operationId: 'getTpp',
      summary: 'Get a TPP',
      description: 'The TPP, its status and its certificates with their parsed facts.',
      tags,
      access: admin,
      request: { params: tppParams },
      responses: { 200: jsonResponse(TppSchema, 'The TPP.') },
    }),
    async (c) => c.json(await getTpp(serviceContext(c), c.req.valid('param').tppId), 200),
  );

  router.openapi(
    defineRoute({
      method: 'patch',
      path: '/tpps/{tppId}',
      operationId: 'updateTpp',
      summary: 'Rename, change redirect URIs, suspend, reactivate or revoke a TPP',
      description:
        '`SUSPENDED` stops the TPP at once: its clients get no tokens, their client-credentials tokens are refused (at once here, within 60 s everywhere) and every grant they hold for a customer ends. Reactivating lets its clients get tokens again at once; tokens of before the suspension stay refused, and the grants it ended stay ended (the customer authorises a new consent). `REVOKED` is final: its clients are revoked and its consents end (`revokedBy: SYSTEM`). Suspending and revoking need `statusReason`.',
      tags,
      access: admin,
      errors: ['invalid_transition', 'tpp_revoked', 'concurrent_update'],
      request: { params: tppParams, body: jsonBody(UpdateTppSchema) },
      responses: { 200: jsonResponse(TppSchema, 'The TPP as changed.') },
    }),
    async (c) =>
      c.json(await updateTpp(serviceContext(c), c.req.valid('param').tppId, c.req.valid('json')), 200),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/tpps/{tppId}/certificates',
      operationId: 'addTppCertificate',
      summary: 'Add a certificate to a TPP (renewal)',
      description: `Add the renewed certificate before the old one expires: both are valid until the old one lapses. It must carry the TPP’s authorisation number and roles. ${CERTIFICATE_RULES}`,
      tags,
      access: admin,
      idempotent: true,
      errors: [...certificateProblems, 'tpp_revoked', 'idempotency_key_in_use', 'idempotency_key_reused'],
      request: { params: tppParams, body: jsonBody(AddCertificateSchema) },
      responses: { 201: jsonResponse(TppCertificateSchema, 'The certificate’s facts.') },
    }),
    async (c) =>
      c.json(await addCertificate(serviceContext(c), c.req.valid('param').tppId, c.req.valid('json')), 201),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/tpps/{tppId}/clients',
      operationId: 'createTppClient',
      summary: 'Create an OAuth client for a TPP',
      description:
        'A client with the grants `client_credentials` (to ask customers for consents), `authorization_code` and `refresh_token`, the TPP’s redirect URIs, and the scopes its roles allow. Those scopes are usable only for a customer who consented: its client-credentials tokens carry none. The caller must hold them (`permission_not_held`). The secret is in this answer only. Not idempotent by `Idempotency-Key`: a replay would have to store the secret.',
      tags,
      access: admin,
      errors: ['permission_not_held', 'tpp_not_active'],
      request: { params: tppParams, body: jsonBody(CreateTppClientSchema) },
      responses: { 201: jsonResponse(ClientWithSecretSchema, 'The client and its secret, shown once.') },
    }),
    async (c) => {
      const client = await createTppClient(
        serviceContext(c),
        c.req.valid('param').tppId,
        c.req.valid('json'),
      );
      c.header('Location', `/v2/customer/access/clients/${client.id}`);
      return c.json(client, 201, noStore);
    },
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/tpps/{tppId}/clients',
      operationId: 'listTppClients',
      summary: 'List a TPP’s OAuth clients',
      description: 'Newest first. Rotate or revoke one with `/access/clients/{clientId}`.',
      tags,
      access: admin,
      errors: ['invalid_cursor'],
      request: { params: tppParams, query: ClientListQuerySchema },
      responses: { 200: jsonResponse(pageSchema(ClientSchema, 'TppClientPage'), 'A page of clients.') },
    }),
    async (c) =>
      c.json(await listTppClients(serviceContext(c), c.req.valid('param').tppId, c.req.valid('query')), 200),
  );

  return router;
}
