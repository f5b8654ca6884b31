import { serviceContext } from '../../platform/http';
import { createRouter, defineRoute, jsonBody, jsonResponse } from '../../platform/openapi';
import { pageSchema } from '../../platform/pagination';
import { CustomerSchema } from '../customers/schemas';
import { RegisteredCustomerSchema } from '../registration/schemas';
import {
  CreateDirectorSchema,
  CreateShareholderSchema,
  DirectorSchema,
  EmployeeSchema,
  InviteEmployeeSchema,
  OrganizationParamsSchema,
  PeopleQuerySchema,
  PersonParamsSchema,
  RegisterOrganizationSchema,
  ShareholderSchema,
  UpdateEmployeeSchema,
  UpdateOrganizationSchema,
} from './schemas';
import {
  addDirector,
  addShareholder,
  getOrganization,
  inviteEmployee,
  listDirectors,
  listEmployees,
  listShareholders,
  registerOrganization,
  removeEmployee,
  removePerson,
  updateEmployee,
  updateOrganization,
} from './service';

/** As in docs/api.md: registering is under Registration, the business profile and its people under Profiles. */
const tags = ['Profiles'];

const reads = {
  auth: 'required',
  tenant: true,
  capability: 'SCT02',
  permission: 'customers:read',
  selfService: true,
} as const;
const writes = { ...reads, permission: 'customers:write' } as const;
const BY_WHOM_READ = 'Staff with `customers:read`, or the organization’s own users.';
const BY_WHOM_WRITE =
  'Staff with `customers:write`, or the organization’s own users with the organization role `ADMIN_USER` (others get 403 `forbidden`).';

export function organizationRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/organizations',
      operationId: 'registerOrganization',
      summary: 'Register an organization (B2B) customer',
      description:
        'Public self-registration (anonymous, rate-limited per IP) or by staff and API clients with `customers:write`. Creates a `BUSINESS` customer in `PENDING_EMAIL_VERIFICATION` (codes go to the organization’s `email`) and its administrator: the first employee, with the organization role `ADMIN_USER` and a login for `admin.email` (`userId`). The LEI’s check digits are verified (ISO 17442); `industryCode` must have the NACE Rev. 2 format; `incorporationDate` may not be in the future. Emits `customer.created`.',
      tags: ['Registration'],
      access: { auth: 'optional', tenant: true, capability: 'SCT02', permission: 'customers:write' },
      idempotent: true,
      errors: ['email_taken', 'idempotency_key_in_use', 'idempotency_key_reused'],
      request: { body: jsonBody(RegisterOrganizationSchema) },
      responses: {
        201: jsonResponse(RegisteredCustomerSchema, 'The new organization and its administrator’s user id.'),
      },
    }),
    async (c) => {
      const organization = await registerOrganization(serviceContext(c), c.req.valid('json'));
      c.header('Location', `/v2/customer/organizations/${organization.id}`);
      return c.json(organization, 201);
    },
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/organizations/{organizationId}',
      operationId: 'getOrganization',
      summary: 'Get an organization',
      description: `${BY_WHOM_READ} The customer with its business profile in \`organization\`; an individual’s id is 404.`,
      tags,
      access: reads,
      errors: ['customer_erased'],
      request: { params: OrganizationParamsSchema },
      responses: { 200: jsonResponse(CustomerSchema, 'The organization.') },
    }),
    async (c) => c.json(await getOrganization(serviceContext(c), c.req.valid('param').organizationId), 200),
  );

  router.openapi(
    defineRoute({
      method: 'patch',
      path: '/organizations/{organizationId}',
      operationId: 'updateOrganization',
      summary: 'Change an organization’s business profile',
      description: `${BY_WHOM_WRITE} Identity fields (legal name, registration number, legal form, incorporation date and country, LEI) of a verified organization: 409 \`reverification_required\` for its users; staff may correct them, which returns the organization to REGISTERED for a new verification. A changed phone must be verified again. Emits \`customer.updated\`.`,
      tags,
      access: writes,
      errors: ['customer_erased', 'reverification_required', 'customer_closed', 'concurrent_update'],
      request: { params: OrganizationParamsSchema, body: jsonBody(UpdateOrganizationSchema) },
      responses: { 200: jsonResponse(CustomerSchema, 'The changed organization.') },
    }),
    async (c) =>
      c.json(
        await updateOrganization(serviceContext(c), c.req.valid('param').organizationId, c.req.valid('json')),
        200,
      ),
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/organizations/{organizationId}/employees',
      operationId: 'listOrganizationEmployees',
      summary: 'List an organization’s employees',
      description: `${BY_WHOM_READ} Newest first, cursor-paginated. Employees log in as the organization; their organization role says what they may do: \`ADMIN_USER\` manages the organization (profile, directors, shareholders, employees), the other roles (\`COMPLIANCE_OFFICER\`, \`TRANSACTION_APPROVER\`, \`EMPLOYEE\`) read it. \`passwordSetupPending\` marks invitations not yet accepted.`,
      tags,
      access: reads,
      errors: ['customer_erased', 'invalid_cursor'],
      request: { params: OrganizationParamsSchema, query: PeopleQuerySchema },
      responses: { 200: jsonResponse(pageSchema(EmployeeSchema, 'EmployeePage'), 'A page of employees.') },
    }),
    async (c) =>
      c.json(
        await listEmployees(serviceContext(c), c.req.valid('param').organizationId, c.req.valid('query')),
        200,
      ),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/organizations/{organizationId}/employees',
      operationId: 'inviteOrganizationEmployee',
      summary: 'Invite an employee',
      description: `${BY_WHOM_WRITE} Creates a login for \`email\` (unique among the tenant's customer logins, else 409 \`email_taken\`; staff are another namespace) linked to the organization, with the given organization role and no usable password, and sends a \`notification.requested\` event (template \`ORGANIZATION_INVITATION\`) whose token, valid 7 days, lets the invitee choose a password with \`POST /auth/password/reset\`. A closed organization → 409 \`customer_closed\`. Emits \`organization.member_added\`.`,
      tags,
      access: writes,
      idempotent: true,
      errors: [
        'customer_erased',
        'email_taken',
        'customer_closed',
        'idempotency_key_in_use',
        'idempotency_key_reused',
      ],
      request: { params: OrganizationParamsSchema, body: jsonBody(InviteEmployeeSchema) },
      responses: { 201: jsonResponse(EmployeeSchema, 'The invited employee.') },
    }),
    async (c) =>
      c.json(
        await inviteEmployee(serviceContext(c), c.req.valid('param').organizationId, c.req.valid('json')),
        201,
      ),
  );

  router.openapi(
    defineRoute({
      method: 'patch',
      path: '/organizations/{organizationId}/employees/{personId}',
      operationId: 'updateOrganizationEmployee',
      summary: 'Change an employee’s role or details',
      description: `${BY_WHOM_WRITE} Changes the organization role, names, phone or position; the login email stays. A new role applies from the employee’s next request. Demoting the organization’s last \`ADMIN_USER\` → 409 \`last_admin_user\` (checked inside the write, so two concurrent demotions cannot leave none). Emits \`organization.member_updated\`.`,
      tags,
      access: writes,
      errors: ['customer_erased', 'last_admin_user', 'customer_closed'],
      request: { params: PersonParamsSchema, body: jsonBody(UpdateEmployeeSchema) },
      responses: { 200: jsonResponse(EmployeeSchema, 'The changed employee.') },
    }),
    async (c) => {
      const { organizationId: id, personId } = c.req.valid('param');
      return c.json(await updateEmployee(serviceContext(c), id, personId, c.req.valid('json')), 200);
    },
  );

  router.openapi(
    defineRoute({
      method: 'delete',
      path: '/organizations/{organizationId}/employees/{personId}',
      operationId: 'removeOrganizationEmployee',
      summary: 'Remove an employee',
      description: `${BY_WHOM_WRITE} Disables the employee’s login, voids an unused invitation and ends its sessions at once. Removing the organization’s last \`ADMIN_USER\` → 409 \`last_admin_user\` (checked inside the write). Emits \`organization.member_removed\`.`,
      tags,
      access: writes,
      errors: ['customer_erased', 'last_admin_user', 'customer_closed'],
      request: { params: PersonParamsSchema },
      responses: { 204: { description: 'The employee is removed.' } },
    }),
    async (c) => {
      const { organizationId: id, personId } = c.req.valid('param');
      await removeEmployee(serviceContext(c), id, personId);
      return c.body(null, 204);
    },
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/organizations/{organizationId}/directors',
      operationId: 'listOrganizationDirectors',
      summary: 'List an organization’s directors',
      description: `${BY_WHOM_READ} Newest first, cursor-paginated.`,
      tags,
      access: reads,
      errors: ['customer_erased', 'invalid_cursor'],
      request: { params: OrganizationParamsSchema, query: PeopleQuerySchema },
      responses: { 200: jsonResponse(pageSchema(DirectorSchema, 'DirectorPage'), 'A page of directors.') },
    }),
    async (c) =>
      c.json(
        await listDirectors(serviceContext(c), c.req.valid('param').organizationId, c.req.valid('query')),
        200,
      ),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/organizations/{organizationId}/directors',
      operationId: 'addOrganizationDirector',
      summary: 'Add a director',
      description: `${BY_WHOM_WRITE} A closed organization → 409 \`customer_closed\`. Emits \`organization.member_added\`.`,
      tags,
      access: writes,
      idempotent: true,
      errors: ['customer_erased', 'customer_closed', 'idempotency_key_in_use', 'idempotency_key_reused'],
      request: { params: OrganizationParamsSchema, body: jsonBody(CreateDirectorSchema) },
      responses: { 201: jsonResponse(DirectorSchema, 'The new director.') },
    }),
    async (c) =>
      c.json(
        await addDirector(serviceContext(c), c.req.valid('param').organizationId, c.req.valid('json')),
        201,
      ),
  );

  router.openapi(
    defineRoute({
      method: 'delete',
      path: '/organizations/{organizationId}/directors/{personId}',
      operationId: 'removeOrganizationDirector',
      summary: 'Remove a director',
      description: `${BY_WHOM_WRITE} Emits \`organization.member_removed\`.`,
      tags,
      access: writes,
      errors: ['customer_erased', 'customer_closed'],
      request: { params: PersonParamsSchema },
      responses: { 204: { description: 'The director is removed.' } },
    }),
    async (c) => {
      const { organizationId: id, personId } = c.req.valid('param');
      await removePerson(serviceContext(c), id, 'DIRECTOR', personId);
      return c.body(null, 204);
    },
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/organizations/{organizationId}/shareholders',
      operationId: 'listOrganizationShareholders',
      summary: 'List an organization’s shareholders',
      description: `${BY_WHOM_READ} Newest first, cursor-paginated; \`isUbo\` marks stakes of 25 % or more.`,
      tags,
      access: reads,
      errors: ['customer_erased', 'invalid_cursor'],
      request: { params: OrganizationParamsSchema, query: PeopleQuerySchema },
      responses: {
        200: jsonResponse(pageSchema(ShareholderSchema, 'ShareholderPage'), 'A page of shareholders.'),
      },
    }),
    async (c) =>
      c.json(
        await listShareholders(serviceContext(c), c.req.valid('param').organizationId, c.req.valid('query')),
        200,
      ),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/organizations/{organizationId}/shareholders',
      operationId: 'addOrganizationShareholder',
      summary: 'Add a shareholder',
      description: `${BY_WHOM_WRITE} An individual or a corporate shareholder. If the stakes would then total more than 100 % → 422 \`validation_failed\` on \`ownershipPercentage\` (checked again inside the write, so concurrent additions cannot pass it together). A stake of 25 % or more is flagged \`isUbo\`. Emits \`organization.member_added\`.`,
      tags,
      access: writes,
      idempotent: true,
      errors: ['customer_erased', 'customer_closed', 'idempotency_key_in_use', 'idempotency_key_reused'],
      request: { params: OrganizationParamsSchema, body: jsonBody(CreateShareholderSchema) },
      responses: { 201: jsonResponse(ShareholderSchema, 'The new shareholder.') },
    }),
    async (c) =>
      c.json(
        await addShareholder(serviceContext(c), c.req.valid('param').organizationId, c.req.valid('json')),
        201,
      ),
  );

  router.openapi(
    defineRoute({
      method: 'delete',
      path: '/organizations/{organizationId}/shareholders/{personId}',
      operationId: 'removeOrganizationShareholder',
      summary: 'Remove a shareholder',
      description: `${BY_WHOM_WRITE} Emits \`organization.member_removed\`.`,
      tags,
      access: writes,
      errors: ['customer_erased', 'customer_closed'],
      request: { params: PersonParamsSchema },
      responses: { 204: { description: 'The shareholder is removed.' } },
    }),
    async (c) => {
      const { organizationId: id, personId } = c.req.valid('param');
      await removePerson(serviceContext(c), id, 'SHAREHOLDER', personId);
      return c.body(null, 204);
    },
  );

  return router;
}
