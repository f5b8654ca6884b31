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
    const custom = await db
      .select({ id: roles.id, name: roles.name, permissions: roles.permissions })
      .from(roles)
      .where(and(eq(roles.tenantId, tenantId), inArray(roles.id, customIds)));
    for (const role of custom) {
      found.push({ ...role, builtIn: false, permissions: role.permissions.filter(isPermission) });
    }
  }
  return found;
}

/** Customers hold the built-in CUSTOMER role by being customers; staff hold what `user_roles` assigns. */
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
  return findRoles(
    db,
    tenantId,
    rows.map((row) => row.roleId),
  );
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
