import { z } from '@hono/zod-openapi';
import { serviceContext } from '../../platform/http';
import { createRouter, defineRoute, jsonResponse } from '../../platform/openapi';
import { pageSchema } from '../../platform/pagination';
import { CustomerIdSchema, CustomerListQuerySchema, CustomerSchema } from './schemas';
import { getCustomer, listCustomers } from './service';

const tags = ['Profiles'];

export function customerRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/customers',
      operationId: 'listCustomers',
      summary: 'List customers',
      description: 'Staff only. Newest first, cursor-paginated.',
      tags,
      access: { auth: 'required', tenant: true, permission: 'customers:read' },
      errors: ['invalid_cursor'],
      request: { query: CustomerListQuerySchema },
      responses: { 200: jsonResponse(pageSchema(CustomerSchema, 'CustomerPage'), 'A page of customers.') },
    }),
    async (c) => c.json(await listCustomers(serviceContext(c), c.req.valid('query')), 200),
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/customers/{id}',
      operationId: 'getCustomer',
      summary: 'Get a customer',
      description: 'Staff with `customers:read`, or the customer itself.',
      tags,
      access: { auth: 'required', tenant: true, permission: 'customers:read', selfService: true },
      request: { params: z.object({ id: CustomerIdSchema }) },
      responses: { 200: jsonResponse(CustomerSchema, 'The customer.') },
    }),
    async (c) => c.json(await getCustomer(serviceContext(c), c.req.valid('param').id), 200),
  );

  return router;
}
