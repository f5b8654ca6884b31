import { and, count, desc, eq, lt } from 'drizzle-orm';
import { isUniqueViolation } from '../../db/client';
import { groupMembers, groups, users } from '../../db/tenant';
import { assertHolds, assertMayActOn, heldPermissions, heldRolesQuery } from '../../platform/auth/escalation';
import { type AssignedRole, findRoles, permissionsOfRoles } from '../../platform/auth/roles';
import type { ServiceContext } from '../../platform/context';
import { ApiError, notFound } from '../../platform/errors';
import { newId } from '../../platform/ids';
import { decodeCursor, toPage } from '../../platform/pagination';
import { commit, commitUnlessRefused, event } from '../../platform/unit-of-work';
import { grantableRoles, staffUserActedOn } from '../access/users/service';
import type {
  CreateGroupInput,
  GroupListQuery,
  GroupMemberListQuery,
  GroupMemberView,
  GroupView,
  UpdateGroupInput,
} from './schemas';

type GroupRow = typeof groups.$inferSelect;
interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/** Unicode-aware, unlike SQLite's `lower()`; the unique index on it makes names unique case-insensitively. */
function nameKey(name: string): string {
  return name.toLowerCase();
}

function groupNameTaken(name: string): ApiError {
  return new ApiError('group_name_taken', { detail: `Another group of this tenant is named '${name}'.` });
}

function roleIdsOf(roles: readonly AssignedRole[]): string[] {
  return roles.map((role) => role.id).sort();
}

/** The roles of a page of groups, looked up together. */
async function rolesOfGroups(
  ctx: ServiceContext,
  rows: readonly GroupRow[],
): Promise<Map<string, AssignedRole>> {
  const roles = await findRoles(
    ctx.db,
    ctx.tenant.id,
    rows.flatMap((row) => row.roleIds),
  );
  return new Map(roles.map((role) => [role.id, role]));
}

function presentGroup(row: GroupRow, roles: ReadonlyMap<string, AssignedRole>): GroupView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    roles: row.roleIds.flatMap((roleId) => {
      const role = roles.get(roleId);
      return role ? [{ id: role.id, name: role.name }] : [];
    }),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

async function presentOne(ctx: ServiceContext, row: GroupRow): Promise<GroupView> {
  return presentGroup(row, await rolesOfGroups(ctx, [row]));
}

function groupQuery(ctx: ServiceContext, groupId: string) {
  return ctx.db
    .select()
    .from(groups)
    .where(and(eq(groups.tenantId, ctx.tenant.id), eq(groups.id, groupId)));
}

async function requireGroup(ctx: ServiceContext, groupId: string): Promise<GroupRow> {
  const row = await groupQuery(ctx, groupId).get();
  if (!row) throw notFound('group');
  return row;
}

/**
 * The group a change or deletion is aimed at: the caller must hold what its roles grant and what
 * every member holds, since the change reaches each member. Read with the group in one round trip.
 */
async function groupActedOn(ctx: ServiceContext, groupId: string): Promise<GroupRow> {
  const [[row], held] = await ctx.db.batch([
    groupQuery(ctx, groupId),
    heldRolesQuery(ctx.db, ctx.tenant.id, { kind: 'group', id: groupId }),
  ]);
  if (!row) throw notFound('group');
  assertMayActOn(ctx.actor, 'group', heldPermissions(held));
  return row;
}

function scoped(groupId: string, ctx: ServiceContext) {
  return and(eq(groupMembers.tenantId, ctx.tenant.id), eq(groupMembers.groupId, groupId));
}

export async function getGroup(ctx: ServiceContext, groupId: string): Promise<GroupView> {
  return presentOne(ctx, await requireGroup(ctx, groupId));
}

export async function listGroups(ctx: ServiceContext, query: GroupListQuery): Promise<Page<GroupView>> {
  const after = decodeCursor(query.cursor, 'grp');
  const rows = await ctx.db
    .select()
    .from(groups)
    .where(and(eq(groups.tenantId, ctx.tenant.id), after ? lt(groups.id, after) : undefined))
    .orderBy(desc(groups.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit);
  const roles = await rolesOfGroups(ctx, page.data);
  return { data: page.data.map((row) => presentGroup(row, roles)), nextCursor: page.nextCursor };
}

export async function createGroup(ctx: ServiceContext, input: CreateGroupInput): Promise<GroupView> {
  const roleIds = roleIdsOf(await grantableRoles(ctx, input.roleIds));
  const now = ctx.now.toISOString();
  const row: GroupRow = {
    id: newId('group', ctx.now.getTime()),
    tenantId: ctx.tenant.id,
    name: input.name,
    nameKey: nameKey(input.name),
    description: input.description,
    roleIds,
    createdAt: now,
    updatedAt: now,
  };
  await commitUnlessRefused(
    ctx,
    {
      statements: [ctx.db.insert(groups).values(row)],
      audit: [
        { action: 'group.created', targetType: 'group', targetId: row.id, data: { name: row.name, roleIds } },
      ],
      events: [event('group.created', { groupId: row.id })],
    },
    { duplicates: 'groups.name_key', refusal: () => groupNameTaken(input.name) },
  );
  return presentOne(ctx, row);
}

/** Members get the change at their next refresh. */
export async function updateGroup(
  ctx: ServiceContext,
  groupId: string,
  input: UpdateGroupInput,
): Promise<GroupView> {
  const row = await groupActedOn(ctx, groupId);
  const before = { name: row.name, description: row.description, roleIds: [...row.roleIds].sort() };
  const after = {
    name: input.name ?? row.name,
    description: input.description ?? row.description,
    roleIds: input.roleIds ? roleIdsOf(await grantableRoles(ctx, input.roleIds)) : before.roleIds,
  };
  const changed = (['name', 'description', 'roleIds'] as const).filter(
    (field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]),
  );
  if (changed.length === 0) return presentOne(ctx, row);
  const pick = (values: typeof before) => Object.fromEntries(changed.map((field) => [field, values[field]]));

  const updated: GroupRow = {
    ...row,
    ...after,
    nameKey: nameKey(after.name),
    updatedAt: ctx.now.toISOString(),
  };
  await commitUnlessRefused(
    ctx,
    {
      statements: [
        ctx.db
          .update(groups)
          .set({
            name: updated.name,
            nameKey: updated.nameKey,
            description: updated.description,
            roleIds: updated.roleIds,
            updatedAt: updated.updatedAt,
          })
          .where(and(eq(groups.tenantId, ctx.tenant.id), eq(groups.id, row.id))),
      ],
      audit: [
        {
          action: 'group.updated',
          targetType: 'group',
          targetId: row.id,
          data: { before: pick(before), after: pick(after) },
        },
      ],
      events: [event('group.updated', { groupId: row.id, changed })],
    },
    { duplicates: 'groups.name_key', refusal: () => groupNameTaken(updated.name) },
  );
  return presentOne(ctx, updated);
}

/** The group and its memberships go in one batch; the members lose its roles at their next refresh. */
export async function deleteGroup(ctx: ServiceContext, groupId: string): Promise<void> {
  const row = await groupActedOn(ctx, groupId);
  const members = await ctx.db
    .select({ members: count() })
    .from(groupMembers)
    .where(scoped(row.id, ctx))
    .get();
  await commit(ctx, {
    statements: [
      ctx.db.delete(groupMembers).where(scoped(row.id, ctx)),
      ctx.db.delete(groups).where(and(eq(groups.tenantId, ctx.tenant.id), eq(groups.id, row.id))),
    ],
    audit: [
      {
        action: 'group.deleted',
        targetType: 'group',
        targetId: row.id,
        data: { name: row.name, roleIds: row.roleIds, members: members?.members ?? 0 },
      },
    ],
    events: [event('group.deleted', { groupId: row.id })],
  });
}

// ---- members

const memberColumns = {
  id: users.id,
  email: users.email,
  displayName: users.displayName,
  status: users.status,
  addedAt: groupMembers.addedAt,
};

function presentMember(row: { id: string } & Omit<GroupMemberView, 'userId'>): GroupMemberView {
  return {
    userId: row.id,
    email: row.email,
    displayName: row.displayName,
    status: row.status,
    addedAt: row.addedAt,
  };
}

/** Members by user id, newest user first. */
export async function listMembers(
  ctx: ServiceContext,
  groupId: string,
  query: GroupMemberListQuery,
): Promise<Page<GroupMemberView>> {
  const group = await requireGroup(ctx, groupId);
  const after = decodeCursor(query.cursor, 'usr');
  const rows = await ctx.db
    .select(memberColumns)
    .from(groupMembers)
    .innerJoin(users, and(eq(users.tenantId, groupMembers.tenantId), eq(users.id, groupMembers.userId)))
    .where(and(scoped(group.id, ctx), after ? lt(groupMembers.userId, after) : undefined))
    .orderBy(desc(groupMembers.userId))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit);
  return { data: page.data.map(presentMember), nextCursor: page.nextCursor };
}

async function membership(ctx: ServiceContext, groupId: string, userId: string) {
  return ctx.db
    .select({ addedAt: groupMembers.addedAt })
    .from(groupMembers)
    .where(and(scoped(groupId, ctx), eq(groupMembers.userId, userId)))
    .get();
}

/**
 * Adds a staff user (customers' logins are not staff: 404) to the group. The caller must hold
 * what the user holds, and, since joining grants the group's roles, every permission they carry,
 * as for a direct grant. Adding a member again changes nothing (`created: false`).
 */
export async function addMember(
  ctx: ServiceContext,
  groupId: string,
  userId: string,
): Promise<{ member: GroupMemberView; created: boolean }> {
  const group = await requireGroup(ctx, groupId);
  const user = await staffUserActedOn(ctx, userId);
  assertHolds(
    ctx.actor,
    permissionsOfRoles(await findRoles(ctx.db, ctx.tenant.id, group.roleIds)),
    'Granting this group’s roles',
  );
  const existing = await membership(ctx, group.id, user.id);
  if (existing) return { member: presentMember({ ...user, addedAt: existing.addedAt }), created: false };
  const addedAt = ctx.now.toISOString();
  try {
    await commit(ctx, {
      statements: [
        ctx.db
          .insert(groupMembers)
          .values({ tenantId: ctx.tenant.id, groupId: group.id, userId: user.id, addedAt }),
      ],
      audit: [
        { action: 'group.member_added', targetType: 'group', targetId: group.id, data: { userId: user.id } },
      ],
      events: [event('group.member_added', { groupId: group.id, userId: user.id })],
    });
  } catch (error) {
    // A concurrent PUT added the same member first: the outcome is the same.
    const raced = isUniqueViolation(error) ? await membership(ctx, group.id, user.id) : undefined;
    if (!raced) throw error;
    return { member: presentMember({ ...user, addedAt: raced.addedAt }), created: false };
  }
  return { member: presentMember({ ...user, addedAt }), created: true };
}

/** Taking a user out of a group acts on the user: the caller must hold what the user holds. */
export async function removeMember(ctx: ServiceContext, groupId: string, userId: string): Promise<void> {
  const group = await requireGroup(ctx, groupId);
  await staffUserActedOn(ctx, userId);
  if (!(await membership(ctx, group.id, userId))) {
    throw new ApiError('not_found', { detail: 'The user is not a member of this group.' });
  }
  await commit(ctx, {
    statements: [
      ctx.db.delete(groupMembers).where(and(scoped(group.id, ctx), eq(groupMembers.userId, userId))),
    ],
    audit: [{ action: 'group.member_removed', targetType: 'group', targetId: group.id, data: { userId } }],
    events: [event('group.member_removed', { groupId: group.id, userId })],
  });
}
