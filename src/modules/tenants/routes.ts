import { z } from '@hono/zod-openapi';
import { noStore } from '../../platform/http';
import { createRouter, defineRoute, jsonBody, jsonResponse } from '../../platform/openapi';
import {
  CreateTenantSchema,
  TenantIdSchema,
  TenantListSchema,
  TenantSchema,
  UpdateTenantSchema,
} from './schemas';
import { getTenant, listTenants, registerTenant, updateTenant } from './service';

const access = { auth: 'platform-admin', tenant: false } as const;
const tags = ['Platform'];
const tenantParams = z.object({ tenantId: TenantIdSchema });

export function platformTenantRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/platform/tenants',
      operationId: 'listTenants',
      summary: 'List tenants',
      description:
        'Every tenant in the registry with its tier, status, rate limit and capabilities. Operator only.',
      tags,
      access,
      responses: { 200: jsonResponse(TenantListSchema, 'Every registered tenant.') },
    }),
    async (c) => c.json({ data: await listTenants(c.env) }, 200),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/platform/tenants',
      operationId: 'registerTenant',
      summary: 'Register a tenant',
      description: 'Registers a tenant whose database binding exists (see `npm run tenant:create`).',
      tags,
      access,
      request: { body: jsonBody(CreateTenantSchema) },
      errors: ['tenant_exists'],
      responses: { 201: jsonResponse(TenantSchema, 'The tenant.') },
    }),
    async (c) => c.json(await registerTenant(c.env, c.req.valid('json')), 201),
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/platform/tenants/{tenantId}',
      operationId: 'getTenant',
      summary: 'Get a tenant',
      description: 'One tenant of the registry. Operator only.',
      tags,
      access,
      request: { params: tenantParams },
      responses: { 200: jsonResponse(TenantSchema, 'The tenant.') },
    }),
    async (c) => c.json(await getTenant(c.env, c.req.valid('param').tenantId), 200),
  );

  router.openapi(
    defineRoute({
      method: 'patch',
      path: '/platform/tenants/{tenantId}',
      operationId: 'updateTenant',
      summary: 'Change tier, status, capabilities, rate limit or policies',
      description:
        'Moves a tenant between tiers, suspends or reactivates it, sets the custom rate limit and capability set of a CUSTOM tenant, or changes its settings (passkeys, TPPs, CORS, the verification policy). A generated verification callback secret is answered once, in `issuedCallbackSecret`, and never shown again. Operator only.',
      tags,
      access,
      request: {
        params: tenantParams,
        body: jsonBody(UpdateTenantSchema),
      },
      errors: ['concurrent_update'],
      responses: { 200: jsonResponse(TenantSchema, 'The updated tenant.') },
    }),
    // no-store: the answer may carry a callback secret.
    async (c) =>
      c.json(await updateTenant(c.env, c.req.valid('param').tenantId, c.req.valid('json')), 200, noStore),
  );

  return router;
}
