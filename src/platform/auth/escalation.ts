import { type SQL, sql } from 'drizzle-orm';
import type { TenantDb } from '../../db/client';
import { groupMembers, groups, roles, userRoles } from '../../db/tenant';
import { ApiError } from '../errors';
import { builtInRoleById, isPermission, type Permission } from './permissions';
import type { Principal } from './principal';

/**
 * The principals an operation can act on. Routes declare theirs (`RouteAccess.actsOn`, shown as
 * `x-acts-on`), and the escalation gate (test/contract/escalation.test.ts) holds each to the rule.
 */
export const actsOnTargets = ['staff-user', 'api-client', 'group', 'role', 'webhook-endpoint'] as const;
export type ActsOnTarget = (typeof actsOnTargets)[number];

/**
 * Nobody acts beyond what they hold: 403 `permission_not_held`, naming what is missing, unless
 * the actor holds every permission in `required`. Granting (a role, a client, a group's roles)
 * and acting on a principal (resetting, disabling, rotating, revoking, changing) meet the same
 * rule, with `required` what is granted or what the target holds.
 */
export function assertHolds(actor: Principal, required: Iterable<Permission>, action: string): void {
  const held = actor.type === 'anonymous' ? new Set<Permission>() : actor.permissions;
  const missing = [...new Set(required)].filter((permission) => !held.has(permission)).sort();
  if (missing.length === 0) return;
  throw new ApiError('permission_not_held', {
    detail: `${action} needs permissions you do not hold yourself: ${missing.join(', ')}.`,
    extensions: { permissions: missing },
  });
}

const acting: Record<ActsOnTarget, string> = {
  'staff-user': 'Acting on this staff user',
  'api-client': 'Acting on this API client',
  group: 'Changing this group or its members',
  role: 'Changing this role',
  'webhook-endpoint': 'Sending live codes and tokens to this webhook endpoint',
};

/**
 * The rule applied to a principal: `held` is everything the target holds (a staff user's
 * permissions through its roles and groups, a client's, a group's and its members', a role's and
 * its holders'; a webhook endpoint receiving live codes and reset tokens holds them all, since
 * whoever reads those can take over any login, a TENANT_ADMIN's included).
 */
export function assertMayActOn(actor: Principal, target: ActsOnTarget, held: Iterable<Permission>): void {
  assertHolds(actor, held, acting[target]);
}

export type HeldTarget = { kind: 'staff-user' | 'group' | 'role'; id: string };

/**
 * The staff users whose permissions count for the target, and role ids it holds on its own
 * account: a user is itself; a group is its members and its roles; a role is every user holding
 * it, directly or through a group, and the role itself.
 */
function holdersOf(tenantId: string, target: HeldTarget): { users: SQL; ownRoles?: SQL } {
  switch (target.kind) {
    case 'staff-user':
      return { users: sql`select ${target.id}` };
    case 'group':
      return {
        users: sql`select ${groupMembers.userId} from ${groupMembers}
          where ${groupMembers.tenantId} = ${tenantId} and ${groupMembers.groupId} = ${target.id}`,
        ownRoles: sql`select json_each.value from ${groups}, json_each(${groups.roleIds})
          where ${groups.tenantId} = ${tenantId} and ${groups.id} = ${target.id}`,
      };
    case 'role':
      return {
        users: sql`select ${userRoles.userId} from ${userRoles}
            where ${userRoles.tenantId} = ${tenantId} and ${userRoles.roleId} = ${target.id}
          union
          select ${groupMembers.userId} from ${groupMembers}
            join ${groups} on ${groups.tenantId} = ${groupMembers.tenantId} and ${groups.id} = ${groupMembers.groupId}
            where ${groupMembers.tenantId} = ${tenantId}
              and exists (select 1 from json_each(${groups.roleIds}) where json_each.value = ${target.id})`,
        ownRoles: sql`select ${target.id}`,
      };
  }
}

/**
 * Every role the target holds, with the permissions of custom ones (built-in roles live in
 * code), as one statement: batch it with the read of the target's own row, so the check costs
 * no round trip of its own. A user's roles count whether assigned directly or through a group.
 */
export function heldRolesQuery(db: TenantDb, tenantId: string, target: HeldTarget) {
  const { users, ownRoles } = holdersOf(tenantId, target);
  // A query builder select rather than `db.all`, which D1's batch does not take.
  return db
    .select({ roleId: sql<string>`held.role_id`, permissions: sql<string | null>`held.permissions` })
    .from(sql`(
      with holders(user_id) as (${users}),
      granted(role_id) as (
        select ${userRoles.roleId} from ${userRoles}
          where ${userRoles.tenantId} = ${tenantId} and ${userRoles.userId} in (select user_id from holders)
        union
        select json_each.value from ${groupMembers}
          join ${groups} on ${groups.tenantId} = ${groupMembers.tenantId} and ${groups.id} = ${groupMembers.groupId},
          json_each(${groups.roleIds})
          where ${groupMembers.tenantId} = ${tenantId} and ${groupMembers.userId} in (select user_id from holders)
        ${ownRoles ? sql`union ${ownRoles}` : sql``}
      )
      select granted.role_id as role_id, ${roles.permissions} as permissions from granted
        left join ${roles} on ${roles.tenantId} = ${tenantId} and ${roles.id} = granted.role_id
    ) as held`);
}

/** The permissions the rows of `heldRolesQuery` grant; a role id that names no role grants nothing. */
export function heldPermissions(
  rows: readonly { roleId: string; permissions: string | null }[],
): Permission[] {
  return rows.flatMap((row) => {
    const builtIn = builtInRoleById(row.roleId);
    if (builtIn) return [...builtIn.permissions];
    return row.permissions ? (JSON.parse(row.permissions) as string[]).filter(isPermission) : [];
  });
}
