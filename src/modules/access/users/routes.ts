import { z } from '@hono/zod-openapi';
import { serviceContext } from '../../../platform/http';
import {
  createRouter,
  defineRoute,
  jsonBody,
  jsonResponse,
  optionalJsonBody,
} from '../../../platform/openapi';
import { pageSchema } from '../../../platform/pagination';
import type { RouteAccess } from '../../../platform/pipeline';
import {
  InviteStaffUserSchema,
  ResetStaffCredentialsSchema,
  StaffUserIdSchema,
  StaffUserListQuerySchema,
  StaffUserSchema,
  UpdateStaffUserSchema,
} from './schemas';
import {
  getStaffUser,
  inviteStaffUser,
  listStaffUsers,
  resetStaffCredentials,
  updateStaffUser,
} from './service';

const tags = ['Access control'];
const params = z.object({ userId: StaffUserIdSchema });
const onUser: RouteAccess = {
  auth: 'required',
  tenant: true,
  permission: 'access:admin',
  actsOn: { target: 'staff-user', in: 'path', name: 'userId' },
};
const HOLD_WHAT_THEY_HOLD =
  'The caller must hold every permission the user holds, directly or through groups (`permission_not_held`): nobody acts on a user stronger than themselves.';

export function staffUserRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/access/users',
      operationId: 'listStaffUsers',
      summary: 'List staff users',
      description: 'The tenant’s back-office users (customers’ logins are not listed). Newest first.',
      tags,
      access: { auth: 'required', tenant: true, permission: 'access:read' },
      errors: ['invalid_cursor'],
      request: { query: StaffUserListQuerySchema },
      responses: {
        200: jsonResponse(pageSchema(StaffUserSchema, 'StaffUserPage'), 'A page of staff users.'),
      },
    }),
    async (c) => c.json(await listStaffUsers(serviceContext(c), c.req.valid('query')), 200),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/access/users',
      operationId: 'inviteStaffUser',
      summary: 'Invite a staff user',
      description:
        'Creates the user with the given roles and no usable password, and sends a `notification.requested` event (template `STAFF_INVITATION`) whose token, valid 7 days, lets the invitee choose a password with `POST /auth/password/reset`. Roles may grant only permissions the caller holds (`permission_not_held`).',
      tags,
      access: { auth: 'required', tenant: true, permission: 'access:admin' },
      idempotent: true,
      errors: ['permission_not_held', 'email_taken', 'idempotency_key_in_use', 'idempotency_key_reused'],
      request: { body: jsonBody(InviteStaffUserSchema) },
      responses: { 201: jsonResponse(StaffUserSchema, 'The invited user.') },
    }),
    async (c) => {
      const user = await inviteStaffUser(serviceContext(c), c.req.valid('json'));
      c.header('Location', `/v2/customer/access/users/${user.id}`);
      return c.json(user, 201);
    },
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/access/users/{userId}',
      operationId: 'getStaffUser',
      summary: 'Get a staff user',
      tags,
      access: { auth: 'required', tenant: true, permission: 'access:read' },
      request: { params },
      responses: { 200: jsonResponse(StaffUserSchema, 'The staff user.') },
    }),
    async (c) => c.json(await getStaffUser(serviceContext(c), c.req.valid('param').userId), 200),
  );

  router.openapi(
    defineRoute({
      method: 'patch',
      path: '/access/users/{userId}',
      operationId: 'updateStaffUser',
      summary: 'Enable, disable, rename or change the roles of a staff user',
      description: `\`status: DISABLED\` ends every session of the user at once and refuses their logins; \`roleIds\` replaces the roles (each granting only permissions the caller holds), and reaches the user’s access tokens at their next refresh. Administrators cannot disable themselves or remove their own \`access:admin\` (409 \`self_lockout\`). ${HOLD_WHAT_THEY_HOLD}`,
      tags,
      access: onUser,
      errors: ['self_lockout'],
      request: { params, body: jsonBody(UpdateStaffUserSchema) },
      responses: { 200: jsonResponse(StaffUserSchema, 'The updated user.') },
    }),
    async (c) =>
      c.json(await updateStaffUser(serviceContext(c), c.req.valid('param').userId, c.req.valid('json')), 200),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/access/users/{userId}/credentials/reset',
      operationId: 'resetStaffCredentials',
      summary: 'Reset a staff user’s credentials',
      description: `For a lost or compromised account: the password stops working, every session ends, and a \`notification.requested\` event (template \`CREDENTIALS_RESET\`) carries a token, valid 24 hours, to choose a new password with \`POST /auth/password/reset\`. Second factors stay unless the body says \`{"resetSecondFactors": true}\` (for a lost device): then TOTP with its recovery codes and every passkey are removed in the same write, each audited with events \`mfa.removed\` and \`passkey.removed\`. The body is optional. Not for one’s own account (409 \`self_lockout\`). ${HOLD_WHAT_THEY_HOLD}`,
      tags,
      access: onUser,
      idempotent: true,
      errors: ['self_lockout', 'user_disabled', 'idempotency_key_in_use', 'idempotency_key_reused'],
      request: { params, body: optionalJsonBody(ResetStaffCredentialsSchema) },
      responses: { 200: jsonResponse(StaffUserSchema, 'The user, now waiting to choose a password.') },
    }),
    async (c) =>
      c.json(
        await resetStaffCredentials(serviceContext(c), c.req.valid('param').userId, c.req.valid('json')),
        200,
      ),
  );

  return router;
}
