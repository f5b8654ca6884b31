import { and, eq, inArray } from 'drizzle-orm';
import type { TenantDb } from '../../db/client';
import { roles, userRoles } from '../../db/tenant';
import { builtInRoleById, builtInRoles, isPermission, type Permission } from './permissions';

export interface RoleGrant {
  id: string;
  name: string;
  permissions: readonly Permission[];
}

/**
 * The roles among `roleIds` that exist for the tenant, built-in or custom, with what they
 * grant; ids that name no role are left out.
 */
export async function findRoles(
  db: TenantDb,
  tenantId: string,
  roleIds: readonly string[],
): Promise<RoleGrant[]> {
  const found: RoleGrant[] = [];
  const customIds: string[] = [];
  for (const roleId of new Set(roleIds)) {
    const builtIn = builtInRoleById(roleId);
    if (builtIn) found.push(builtIn);
    else customIds.push(roleId);
  }
  if (customIds.length > 0) {
    const custom = await db
      .select({ id: roles.id, name: roles.name, permissions: roles.permissions })
      .from(roles)
      .where(and(eq(roles.tenantId, tenantId), inArray(roles.id, customIds)));
    for (const role of custom) found.push({ ...role, permissions: role.permissions.filter(isPermission) });
  }
  return found;
}

export function permissionsOfRoles(grants: readonly RoleGrant[]): Permission[] {
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
  if (user.kind === 'CUSTOMER') return [...builtInRoles.CUSTOMER.permissions];
  const assigned = await db
    .select({ roleId: userRoles.roleId })
    .from(userRoles)
    .where(and(eq(userRoles.tenantId, tenantId), eq(userRoles.userId, user.id)));
  return permissionsOfRoles(
    await findRoles(
      db,
      tenantId,
      assigned.map((row) => row.roleId),
    ),
  );
}
