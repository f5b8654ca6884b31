import { and, eq, inArray, sql } from 'drizzle-orm';
import { type TenantDb, withinParameterLimit } from '../../db/client';
import { groupMembers, groups, roles, userRoles } from '../../db/tenant';
import {
  type BuiltInRole,
  builtInRoleById,
  builtInRoles,
  isPermission,
  type Permission,
} from './permissions';
import type { UserIdRef } from './user-identity';

export interface AssignedRole {
  id: string;
  name: string;
  builtIn: boolean;
  permissions: readonly Permission[];
}

function assigned(role: BuiltInRole): AssignedRole {
  return { id: role.id, name: role.name, builtIn: true, permissions: role.permissions };
}

/**
 * The roles among `roleIds` that exist for the tenant, built-in or custom, with what they
 * grant; ids that name no role (a deleted custom role) are left out and grant nothing.
 */
export async function findRoles(
  db: TenantDb,
  tenantId: string,
  roleIds: readonly string[],
): Promise<AssignedRole[]> {
  const found: AssignedRole[] = [];
  const customIds: string[] = [];
  for (const roleId of new Set(roleIds)) {
    const builtIn = builtInRoleById(roleId);
    if (builtIn) found.push(assigned(builtIn));
    else customIds.push(roleId);
  }
  if (customIds.length > 0) {
    const parts = await Promise.all(
      withinParameterLimit(customIds, (ids) =>
        db
          .select({ id: roles.id, name: roles.name, permissions: roles.permissions })
          .from(roles)
          .where(and(eq(roles.tenantId, tenantId), inArray(roles.id, ids))),
      ),
    );
    for (const role of parts.flat()) {
      found.push({ ...role, builtIn: false, permissions: role.permissions.filter(isPermission) });
    }
  }
  return found;
}

/**
 * The three queries behind a staff user's roles, for a batch that has other business (a login's
 * reservation, a refresh's session lookup, `/me`): the role ids assigned directly, those of the
 * user's groups, and the custom roles either names, so no role costs a round trip of its own.
 */
export function roleAssignmentQueries(db: TenantDb, tenantId: string, userId: UserIdRef) {
  const namedRoleIds = sql`(
    SELECT ${userRoles.roleId} FROM ${userRoles}
      WHERE ${userRoles.tenantId} = ${tenantId} AND ${userRoles.userId} = ${userId}
    UNION
    SELECT named.value FROM ${groupMembers}
      JOIN ${groups} ON ${groups.tenantId} = ${groupMembers.tenantId} AND ${groups.id} = ${groupMembers.groupId},
      json_each(${groups.roleIds}) AS named
      WHERE ${groupMembers.tenantId} = ${tenantId} AND ${groupMembers.userId} = ${userId}
  )`;
  return [
    db
      .select({ roleIds: sql<string>`json_array(${userRoles.roleId})` })
      .from(userRoles)
      .where(and(eq(userRoles.tenantId, tenantId), eq(userRoles.userId, userId))),
    db
      .select({ roleIds: sql<string>`${groups.roleIds}` })
      .from(groupMembers)
      .innerJoin(groups, and(eq(groups.tenantId, groupMembers.tenantId), eq(groups.id, groupMembers.groupId)))
      .where(and(eq(groupMembers.tenantId, tenantId), eq(groupMembers.userId, userId))),
    db
      .select({ id: roles.id, name: roles.name, permissions: roles.permissions })
      .from(roles)
      .where(and(eq(roles.tenantId, tenantId), sql`${roles.id} IN ${namedRoleIds}`)),
  ] as const;
}

/** The rows of `roleAssignmentQueries`, in its order. */
export type RoleAssignmentRows = readonly [
  direct: readonly { roleIds: string }[],
  throughGroups: readonly { roleIds: string }[],
  custom: readonly { id: string; name: string; permissions: readonly string[] }[],
];

/**
 * The roles the rows of `roleAssignmentQueries` name: built-in ones known here, custom ones as
 * read; ids that name no role (a deleted custom role) grant nothing.
 */
export function rolesFromAssignments([direct, throughGroups, custom]: RoleAssignmentRows): AssignedRole[] {
  const roleIds = new Set(
    [...direct, ...throughGroups].flatMap((row) => JSON.parse(row.roleIds) as string[]),
  );
  const builtIn = [...roleIds].flatMap((roleId) => {
    const role = builtInRoleById(roleId);
    return role ? [assigned(role)] : [];
  });
  return [
    ...builtIn,
    ...custom.map((role) => ({
      ...role,
      builtIn: false,
      permissions: role.permissions.filter(isPermission),
    })),
  ];
}

/** Customers hold the built-in CUSTOMER role by being customers; staff what they are assigned. */
export async function rolesOfUser(
  db: TenantDb,
  tenantId: string,
  user: { id: string; kind: 'STAFF' | 'CUSTOMER' },
): Promise<AssignedRole[]> {
  if (user.kind === 'CUSTOMER') return [customerRole()];
  const [direct, throughGroups, custom] = roleAssignmentQueries(db, tenantId, user.id);
  return rolesFromAssignments(await db.batch([direct, throughGroups, custom]));
}

/**
 * A user's permissions from the rows of `roleAssignmentQueries`, read in a batch that had other
 * business (a login's reservation, a refresh's session lookup).
 */
export function permissionsFromAssignments(
  user: { kind: 'STAFF' | 'CUSTOMER' },
  assignments: RoleAssignmentRows,
): Permission[] {
  return permissionsOfRoles(user.kind === 'CUSTOMER' ? [customerRole()] : rolesFromAssignments(assignments));
}

export function customerRole(): AssignedRole {
  return assigned(builtInRoles.CUSTOMER);
}

export function permissionsOfRoles(grants: readonly { permissions: readonly Permission[] }[]): Permission[] {
  return [...new Set(grants.flatMap((role) => role.permissions))].sort();
}

/**
 * The permissions a user's roles grant, computed at login and on every refresh so a role change
 * reaches the user within one access-token lifetime.
 */
export async function permissionsOfUser(
  db: TenantDb,
  tenantId: string,
  user: { id: string; kind: 'STAFF' | 'CUSTOMER' },
): Promise<Permission[]> {
  return permissionsOfRoles(await rolesOfUser(db, tenantId, user));
}
