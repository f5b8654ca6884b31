import { and, eq, inArray } from 'drizzle-orm';
import type { TenantDb } from '../../db/client';
import { roles, userRoles } from '../../db/tenant';
import { builtInRoleById, builtInRoles, isPermission, type Permission } from './permissions';

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
  const roleIds = assigned.map((row) => row.roleId);
  const granted = new Set<Permission>();
  const customIds: string[] = [];
  for (const roleId of roleIds) {
    const builtIn = builtInRoleById(roleId);
    if (builtIn) for (const permission of builtIn.permissions) granted.add(permission);
    else customIds.push(roleId);
  }
  if (customIds.length > 0) {
    const custom = await db
      .select({ permissions: roles.permissions })
      .from(roles)
      .where(and(eq(roles.tenantId, tenantId), inArray(roles.id, customIds)));
    for (const role of custom)
      for (const permission of role.permissions.filter(isPermission)) granted.add(permission);
  }
  return [...granted].sort();
}
