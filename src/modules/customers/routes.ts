import { serviceContext } from '../../platform/http';
import { createRouter, defineRoute, jsonBody, jsonResponse } from '../../platform/openapi';
import { pageSchema } from '../../platform/pagination';
import {
  ChangeStatusSchema,
  CustomerListQuerySchema,
  CustomerParams,
  CustomerSchema,
  UpdateCustomerSchema,
} from './schemas';
import { changeCustomerStatus, getCustomer, listCustomers, updateCustomer } from './service';

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
      path: '/customers/{customerId}',
      operationId: 'getCustomer',
      summary: 'Get a customer',
      description: 'Staff with `customers:read`, or the customer itself.',
      tags,
      access: { auth: 'required', tenant: true, permission: 'customers:read', selfService: true },
      request: { params: CustomerParams },
      responses: { 200: jsonResponse(CustomerSchema, 'The customer.') },
    }),
    async (c) => c.json(await getCustomer(serviceContext(c), c.req.valid('param').customerId), 200),
  );

  router.openapi(
    defineRoute({
      method: 'patch',
      path: '/customers/{customerId}',
      operationId: 'updateCustomer',
      summary: 'Change a customer’s profile',
      description:
        'Staff with `customers:write`, or the customer itself. Identity fields (names, date of birth, nationality) of a verified customer: 409 `reverification_required` for the customer; staff may correct them, which returns the customer to REGISTERED for a new verification. A changed phone must be verified again. Emits `customer.updated` with the names of the changed fields.',
      tags,
      access: { auth: 'required', tenant: true, permission: 'customers:write', selfService: true },
      errors: [
        'reverification_required',
        'customer_is_organization',
        'customer_closed',
        'concurrent_update',
        'customer_erased',
      ],
      request: { params: CustomerParams, body: jsonBody(UpdateCustomerSchema) },
      responses: { 200: jsonResponse(CustomerSchema, 'The changed customer.') },
    }),
    async (c) =>
      c.json(
        await updateCustomer(serviceContext(c), c.req.valid('param').customerId, c.req.valid('json')),
        200,
      ),
  );

  router.openapi(
    defineRoute({
      method: 'put',
      path: '/customers/{customerId}/status',
      operationId: 'changeCustomerStatus',
      summary: 'Move a customer along its lifecycle',
      description:
        'Staff only. PENDING_EMAIL_VERIFICATION → REGISTERED → VERIFICATION_PENDING → VERIFIED → ACTIVE; VERIFICATION_PENDING → REJECTED; VERIFIED/ACTIVE ⇄ SUSPENDED; anything → CLOSED (final; ends the customer’s sessions). Other changes: 409 `invalid_transition`.',
      tags,
      access: { auth: 'required', tenant: true, permission: 'customers:write' },
      errors: ['invalid_transition', 'concurrent_update', 'customer_erased'],
      request: { params: CustomerParams, body: jsonBody(ChangeStatusSchema) },
      responses: { 200: jsonResponse(CustomerSchema, 'The customer in its new status.') },
    }),
    async (c) =>
      c.json(
        await changeCustomerStatus(serviceContext(c), c.req.valid('param').customerId, c.req.valid('json')),
        200,
      ),
  );

  return router;
}
