import { z } from '@hono/zod-openapi';
import { ACCESS_TOKEN_LIFETIME } from '../../platform/auth/tokens';
import { serviceContext } from '../../platform/http';
import { createRouter, defineRoute, jsonBody, jsonResponse } from '../../platform/openapi';
import { pageSchema } from '../../platform/pagination';
import type { RouteAccess } from '../../platform/pipeline';
import { StaffUserIdSchema } from '../access/users/schemas';
import {
  CreateGroupSchema,
  GroupIdSchema,
  GroupListQuerySchema,
  GroupMemberListQuerySchema,
  GroupMemberSchema,
  GroupSchema,
  UpdateGroupSchema,
} from './schemas';
import {
  addMember,
  createGroup,
  deleteGroup,
  getGroup,
  listGroups,
  listMembers,
  removeMember,
  updateGroup,
} from './service';

const tags = ['Access control'];
const reads: RouteAccess = { auth: 'required', tenant: true, permission: 'groups:read' };
const writes: RouteAccess = { auth: 'required', tenant: true, permission: 'groups:write' };
const onGroup: RouteAccess = { ...writes, actsOn: { target: 'group', in: 'path', name: 'groupId' } };
const onMember: RouteAccess = { ...writes, actsOn: { target: 'staff-user', in: 'path', name: 'userId' } };
const HOLD_WHAT_THEY_HOLD =
  'The caller must hold every permission the group’s roles grant and every permission each member holds (`permission_not_held`): the change reaches them all.';
const NEXT_REFRESH = `Members’ access tokens reflect the change from their next refresh (or login): within one access-token lifetime (${ACCESS_TOKEN_LIFETIME}).`;

const groupParams = z.object({ groupId: GroupIdSchema });
const memberParams = z.object({ groupId: GroupIdSchema, userId: StaffUserIdSchema });

export function groupRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/groups',
      operationId: 'listGroups',
      summary: 'List groups',
      description: 'The tenant’s groups of staff users, newest first.',
      tags,
      access: reads,
      errors: ['invalid_cursor'],
      request: { query: GroupListQuerySchema },
      responses: { 200: jsonResponse(pageSchema(GroupSchema, 'GroupPage'), 'A page of groups.') },
    }),
    async (c) => c.json(await listGroups(serviceContext(c), c.req.valid('query')), 200),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/groups',
      operationId: 'createGroup',
      summary: 'Create a group',
      description:
        'Every member holds the group’s roles on top of their own. The roles may grant only permissions the caller holds (403 `permission_not_held`); unknown role ids are 422. Names are unique per tenant, case-insensitively (409 `group_name_taken`).',
      tags,
      access: writes,
      idempotent: true,
      errors: ['permission_not_held', 'group_name_taken', 'idempotency_key_in_use', 'idempotency_key_reused'],
      request: { body: jsonBody(CreateGroupSchema) },
      responses: { 201: jsonResponse(GroupSchema, 'The new group.') },
    }),
    async (c) => {
      const group = await createGroup(serviceContext(c), c.req.valid('json'));
      c.header('Location', `/v2/customer/groups/${group.id}`);
      return c.json(group, 201);
    },
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/groups/{groupId}',
      operationId: 'getGroup',
      summary: 'Get a group',
      tags,
      access: reads,
      request: { params: groupParams },
      responses: { 200: jsonResponse(GroupSchema, 'The group.') },
    }),
    async (c) => c.json(await getGroup(serviceContext(c), c.req.valid('param').groupId), 200),
  );

  router.openapi(
    defineRoute({
      method: 'patch',
      path: '/groups/{groupId}',
      operationId: 'updateGroup',
      summary: 'Rename a group or change its roles',
      description: `\`roleIds\` replaces the group’s roles, which may grant only permissions the caller holds. ${HOLD_WHAT_THEY_HOLD} ${NEXT_REFRESH}`,
      tags,
      access: onGroup,
      errors: ['group_name_taken'],
      request: { params: groupParams, body: jsonBody(UpdateGroupSchema) },
      responses: { 200: jsonResponse(GroupSchema, 'The group as changed.') },
    }),
    async (c) =>
      c.json(await updateGroup(serviceContext(c), c.req.valid('param').groupId, c.req.valid('json')), 200),
  );

  router.openapi(
    defineRoute({
      method: 'delete',
      path: '/groups/{groupId}',
      operationId: 'deleteGroup',
      summary: 'Delete a group',
      description: `The group and all its memberships go together; the members lose the roles they held through it. ${HOLD_WHAT_THEY_HOLD} ${NEXT_REFRESH}`,
      tags,
      access: onGroup,
      request: { params: groupParams },
      responses: { 204: { description: 'The group is gone.' } },
    }),
    async (c) => {
      await deleteGroup(serviceContext(c), c.req.valid('param').groupId);
      return c.body(null, 204);
    },
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/groups/{groupId}/members',
      operationId: 'listGroupMembers',
      summary: 'List a group’s members',
      description: 'Staff users in the group, newest user first.',
      tags,
      access: reads,
      errors: ['invalid_cursor'],
      request: { params: groupParams, query: GroupMemberListQuerySchema },
      responses: {
        200: jsonResponse(pageSchema(GroupMemberSchema, 'GroupMemberPage'), 'A page of members.'),
      },
    }),
    async (c) =>
      c.json(await listMembers(serviceContext(c), c.req.valid('param').groupId, c.req.valid('query')), 200),
  );

  router.openapi(
    defineRoute({
      method: 'put',
      path: '/groups/{groupId}/members/{userId}',
      operationId: 'addGroupMember',
      summary: 'Add a staff user to a group',
      description: `The user must be a staff user of the tenant (a customer’s login or an unknown id is 404). The caller must hold every permission the user holds and, since joining grants the group’s roles, every permission they carry (403 \`permission_not_held\`). 201 when added, 200 when the user was already a member (nothing changes). ${NEXT_REFRESH}`,
      tags,
      access: onMember,
      request: { params: memberParams },
      responses: {
        200: jsonResponse(GroupMemberSchema, 'The user was already a member.'),
        201: jsonResponse(GroupMemberSchema, 'The user is now a member.'),
      },
    }),
    async (c) => {
      const { groupId, userId } = c.req.valid('param');
      const { member, created } = await addMember(serviceContext(c), groupId, userId);
      return created ? c.json(member, 201) : c.json(member, 200);
    },
  );

  router.openapi(
    defineRoute({
      method: 'delete',
      path: '/groups/{groupId}/members/{userId}',
      operationId: 'removeGroupMember',
      summary: 'Remove a user from a group',
      description: `404 when the user is not a member. The user keeps the roles granted to them directly or through other groups. The caller must hold every permission the user holds (403 \`permission_not_held\`). ${NEXT_REFRESH}`,
      tags,
      access: onMember,
      request: { params: memberParams },
      responses: { 204: { description: 'The user is no longer a member.' } },
    }),
    async (c) => {
      const { groupId, userId } = c.req.valid('param');
      await removeMember(serviceContext(c), groupId, userId);
      return c.body(null, 204);
    },
  );

  return router;
}
