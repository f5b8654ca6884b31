import { z } from '@hono/zod-openapi';
import { ACCESS_TOKEN_LIFETIME } from '../../platform/auth/tokens';
import { noStore, serviceContext } from '../../platform/http';
import { createRouter, defineRoute, jsonBody, jsonResponse } from '../../platform/openapi';
import { pageSchema } from '../../platform/pagination';
import type { RouteAccess } from '../../platform/pipeline';
import {
  ClientIdSchema,
  ClientListQuerySchema,
  ClientSchema,
  ClientWithSecretSchema,
  CreateClientSchema,
  CreateRoleSchema,
  MeSchema,
  PermissionCatalogueSchema,
  RoleIdSchema,
  RoleListQuerySchema,
  RoleSchema,
  UpdateRoleSchema,
} from './schemas';
import {
  createClient,
  createRole,
  deleteRole,
  describeCaller,
  getClient,
  getRole,
  listClients,
  listRoles,
  permissionCatalogueView,
  revokeClient,
  rotateClientSecret,
  updateRole,
} from './service';

const tags = ['Access control'];
const reads: RouteAccess = { auth: 'required', tenant: true, permission: 'access:read' };
const writes: RouteAccess = { auth: 'required', tenant: true, permission: 'access:admin' };
const onRole: RouteAccess = { ...writes, actsOn: { target: 'role', in: 'path', name: 'roleId' } };
const onClient: RouteAccess = { ...writes, actsOn: { target: 'api-client', in: 'path', name: 'clientId' } };
const HOLD_WHAT_IT_HOLDS =
  'The caller must hold every permission the client holds (`permission_not_held`): nobody acts on a principal stronger than themselves.';
const SECRET_NOT_REPLAYED =
  'Not idempotent by `Idempotency-Key`: a replay would have to store the secret in plaintext, so a retry acts again.';

const roleParams = z.object({ roleId: RoleIdSchema });
const clientParams = z.object({ clientId: ClientIdSchema });

export function accessRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/me',
      operationId: 'getMe',
      summary: 'Who is calling',
      description:
        'The principal of the access token (staff user, customer user or API client), its tenant, roles, effective permissions (those of the token) and the tenant’s capabilities.',
      tags,
      access: { auth: 'required', tenant: true },
      responses: { 200: jsonResponse(MeSchema, 'The caller.') },
    }),
    async (c) => c.json(await describeCaller(serviceContext(c)), 200),
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/access/permissions',
      operationId: 'listPermissions',
      summary: 'The permission catalogue',
      description: 'Every permission a role or API client can be granted; every route names one of them.',
      tags,
      access: reads,
      responses: { 200: jsonResponse(PermissionCatalogueSchema, 'The catalogue, in one page.') },
    }),
    (c) => c.json(permissionCatalogueView(), 200),
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/access/roles',
      operationId: 'listRoles',
      summary: 'List roles',
      description: 'The built-in roles first, then the tenant’s custom roles, newest first.',
      tags,
      access: reads,
      errors: ['invalid_cursor'],
      request: { query: RoleListQuerySchema },
      responses: { 200: jsonResponse(pageSchema(RoleSchema, 'RolePage'), 'A page of roles.') },
    }),
    async (c) => c.json(await listRoles(serviceContext(c), c.req.valid('query')), 200),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/access/roles',
      operationId: 'createRole',
      summary: 'Create a custom role',
      description:
        'Permissions must come from the catalogue, and the caller must hold each of them (`permission_not_held`). Names are unique per tenant, case-insensitively; built-in names are reserved.',
      tags,
      access: writes,
      idempotent: true,
      errors: ['permission_not_held', 'role_name_taken', 'idempotency_key_in_use', 'idempotency_key_reused'],
      request: { body: jsonBody(CreateRoleSchema) },
      responses: { 201: jsonResponse(RoleSchema, 'The new role.') },
    }),
    async (c) => {
      const role = await createRole(serviceContext(c), c.req.valid('json'));
      c.header('Location', `/v2/customer/access/roles/${role.id}`);
      return c.json(role, 201);
    },
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/access/roles/{roleId}',
      operationId: 'getRole',
      summary: 'Get a role',
      tags,
      access: reads,
      request: { params: roleParams },
      responses: { 200: jsonResponse(RoleSchema, 'The role.') },
    }),
    async (c) => c.json(await getRole(serviceContext(c), c.req.valid('param').roleId), 200),
  );

  router.openapi(
    defineRoute({
      method: 'patch',
      path: '/access/roles/{roleId}',
      operationId: 'updateRole',
      summary: 'Change a custom role',
      description: `Built-in roles are read-only (\`role_read_only\`). The caller must hold every permission the role grants, every permission its holders hold (directly or through groups) and every permission added (\`permission_not_held\`). Users holding the role get its new permissions with their next access token, at their next refresh: within one access-token lifetime (${ACCESS_TOKEN_LIFETIME}).`,
      tags,
      access: onRole,
      errors: ['role_read_only', 'role_name_taken'],
      request: { params: roleParams, body: jsonBody(UpdateRoleSchema) },
      responses: { 200: jsonResponse(RoleSchema, 'The role as changed.') },
    }),
    async (c) =>
      c.json(await updateRole(serviceContext(c), c.req.valid('param').roleId, c.req.valid('json')), 200),
  );

  router.openapi(
    defineRoute({
      method: 'delete',
      path: '/access/roles/{roleId}',
      operationId: 'deleteRole',
      summary: 'Delete a custom role',
      description:
        'Built-in roles are read-only; a role still assigned to users or granted by groups cannot be deleted (`role_in_use`). The caller must hold every permission the role grants and its holders hold (`permission_not_held`).',
      tags,
      access: onRole,
      errors: ['role_read_only', 'role_in_use'],
      request: { params: roleParams },
      responses: { 204: { description: 'The role is gone.' } },
    }),
    async (c) => {
      await deleteRole(serviceContext(c), c.req.valid('param').roleId);
      return c.body(null, 204);
    },
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/access/clients',
      operationId: 'listApiClients',
      summary: 'List API clients',
      description: 'OAuth clients of the tenant’s back-ends, newest first. Secrets are never shown again.',
      tags,
      access: reads,
      errors: ['invalid_cursor'],
      request: { query: ClientListQuerySchema },
      responses: { 200: jsonResponse(pageSchema(ClientSchema, 'ApiClientPage'), 'A page of API clients.') },
    }),
    async (c) => c.json(await listClients(serviceContext(c), c.req.valid('query')), 200),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/access/clients',
      operationId: 'createApiClient',
      summary: 'Create an API client',
      description: `Answers with \`clientSecret\`, shown this once; only its SHA-256 hash is stored. The caller must hold every permission it grants (\`permission_not_held\`). The client obtains tokens at \`POST /oauth/token\` with \`grant_type=client_credentials\`. ${SECRET_NOT_REPLAYED}`,
      tags,
      access: writes,
      errors: ['permission_not_held'],
      request: { body: jsonBody(CreateClientSchema) },
      responses: { 201: jsonResponse(ClientWithSecretSchema, 'The new client and its secret.') },
    }),
    async (c) => {
      const client = await createClient(serviceContext(c), c.req.valid('json'));
      c.header('Location', `/v2/customer/access/clients/${client.id}`);
      return c.json(client, 201, noStore);
    },
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/access/clients/{clientId}',
      operationId: 'getApiClient',
      summary: 'Get an API client',
      tags,
      access: reads,
      request: { params: clientParams },
      responses: { 200: jsonResponse(ClientSchema, 'The API client.') },
    }),
    async (c) => c.json(await getClient(serviceContext(c), c.req.valid('param').clientId), 200),
  );

  router.openapi(
    defineRoute({
      method: 'delete',
      path: '/access/clients/{clientId}',
      operationId: 'revokeApiClient',
      summary: 'Revoke an API client',
      description: `Final. \`/oauth/token\` refuses the client at once, and its access tokens are refused at once in this location and within 60 seconds everywhere. Revoking a revoked client answers 204 again. ${HOLD_WHAT_IT_HOLDS}`,
      tags,
      access: onClient,
      request: { params: clientParams },
      responses: { 204: { description: 'The client is revoked.' } },
    }),
    async (c) => {
      await revokeClient(serviceContext(c), c.req.valid('param').clientId);
      return c.body(null, 204);
    },
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/access/clients/{clientId}/secret',
      operationId: 'rotateApiClientSecret',
      summary: 'Rotate an API client’s secret',
      description: `Answers with the new \`clientSecret\`, shown this once. The old secret stops working at \`/oauth/token\` at once; access tokens already issued live out their lifetime (at most ${ACCESS_TOKEN_LIFETIME}): revoke the client to cut them off. ${HOLD_WHAT_IT_HOLDS} ${SECRET_NOT_REPLAYED}`,
      tags,
      access: onClient,
      errors: ['client_revoked'],
      request: { params: clientParams },
      responses: { 200: jsonResponse(ClientWithSecretSchema, 'The client and its new secret.') },
    }),
    async (c) =>
      c.json(await rotateClientSecret(serviceContext(c), c.req.valid('param').clientId), 200, noStore),
  );

  return router;
}
