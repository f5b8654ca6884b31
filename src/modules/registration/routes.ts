import { serviceContext } from '../../platform/http';
import { createRouter, defineRoute, jsonBody, jsonResponse } from '../../platform/openapi';
import { RegisteredCustomerSchema, RegisterIndividualSchema } from './schemas';
import { registerIndividual } from './service';

const tags = ['Registration'];

export function registrationRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/individuals',
      operationId: 'registerIndividual',
      summary: 'Register an individual (B2C) customer',
      description:
        'Public self-registration (anonymous, rate-limited per IP) or by staff and API clients with `customers:write`. The customer starts in `PENDING_EMAIL_VERIFICATION` with a login for its email.',
      tags,
      access: { auth: 'optional', tenant: true, capability: 'SCT01', permission: 'customers:write' },
      idempotent: true,
      errors: ['email_taken', 'idempotency_key_in_use', 'idempotency_key_reused'],
      request: { body: jsonBody(RegisterIndividualSchema) },
      responses: { 201: jsonResponse(RegisteredCustomerSchema, 'The new customer and its user id.') },
    }),
    async (c) => {
      const customer = await registerIndividual(serviceContext(c), c.req.valid('json'));
      c.header('Location', `/v2/customer/customers/${customer.id}`);
      return c.json(customer, 201);
    },
  );

  return router;
}
