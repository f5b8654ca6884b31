import { and, eq, inArray } from 'drizzle-orm';
import type { TenantDb } from '../../db/client';
import { roles, userRoles } from '../../db/tenant';
import {
  type BuiltInRole,
  builtInRoleById,
  builtInRoles,
  isPermission,
  type Permission,
} from './permissions';

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
 * The roles a user holds: customers hold the built-in CUSTOMER role by being customers; staff
 * hold what `user_roles` assigns. An assignment whose custom role no longer exists grants nothing.
 */
export async function rolesOfUser(
  db: TenantDb,
  tenantId: string,
  user: { id: string; kind: 'STAFF' | 'CUSTOMER' },
): Promise<AssignedRole[]> {
  if (user.kind === 'CUSTOMER') return [assigned(builtInRoles.CUSTOMER)];
  const rows = await db
    .select({ roleId: userRoles.roleId })
    .from(userRoles)
    .where(and(eq(userRoles.tenantId, tenantId), eq(userRoles.userId, user.id)));
  const held: AssignedRole[] = [];
  const customIds: string[] = [];
  for (const { roleId } of rows) {
    const builtIn = builtInRoleById(roleId);
    if (builtIn) held.push(assigned(builtIn));
    else customIds.push(roleId);
  }
  if (customIds.length > 0) {
    const custom = await db
      .select({ id: roles.id, name: roles.name, permissions: roles.permissions })
      .from(roles)
      .where(and(eq(roles.tenantId, tenantId), inArray(roles.id, customIds)));
    for (const role of custom)
      held.push({ ...role, builtIn: false, permissions: role.permissions.filter(isPermission) });
  }
  return held;
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
  const held = await rolesOfUser(db, tenantId, user);
  return [...new Set(held.flatMap((role) => role.permissions))].sort();
}
