import { and, desc, eq, gte, inArray, lt, lte, or } from 'drizzle-orm';
import { userRoles, users } from '../../../db/tenant';
import {
  assertHolds,
  assertMayActOn,
  heldPermissions,
  heldRolesQuery,
} from '../../../platform/auth/escalation';
import { unusablePasswordHash } from '../../../platform/auth/passwords';
import { builtInRoles } from '../../../platform/auth/permissions';
import { type AssignedRole, findRoles, permissionsOfRoles } from '../../../platform/auth/roles';
import type { ServiceContext } from '../../../platform/context';
import { ApiError, notFound, validationError } from '../../../platform/errors';
import { newId } from '../../../platform/ids';
import { containsText, decodeCursor, toPage } from '../../../platform/pagination';
import { type Change, commit, event, mergeChanges } from '../../../platform/unit-of-work';
import { commitWithPasswordToken, invitedLogin, voidPasswordTokens } from '../../auth/passwords';
import { revokeUserSessions } from '../../auth/sessions';
import { totpRemoval } from '../../mfa/service';
import { isTotpEnrolled } from '../../mfa/totp';
import { emailInUse, emailTakenGuard } from '../../registration/service';
import { allPasskeysRemoval } from '../../webauthn/service';
import type {
  InviteStaffUserInput,
  ResetStaffCredentialsInput,
  StaffUserListQuery,
  StaffUserView,
  UpdateStaffUserInput,
} from './schemas';

type UserRow = typeof users.$inferSelect;

function presentStaffUser(row: UserRow, roles: readonly AssignedRole[]): StaffUserView {
  return {
    id: row.id,
    email: row.email,
    displayName: row.displayName,
    status: row.status,
    roles: roles.map((role) => ({ id: role.id, name: role.name })),
    passwordSetupPending: row.passwordSetupRequired,
    lockedUntil: row.lockedUntil,
    passwordChangedAt: row.passwordChangedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/**
 * The roles of a page of users. D1 binds at most 100 parameters per statement, so rather than
 * `IN (…100 ids)` the assignments are read by id range: ids are time-ordered and a page is a
 * contiguous run of them; assignments of users the page filtered out are simply not used.
 */
async function rolesOfUsers(
  ctx: ServiceContext,
  rows: readonly UserRow[],
): Promise<Map<string, AssignedRole[]>> {
  const ids = rows.map((row) => row.id).sort();
  const [first, last] = [ids[0], ids.at(-1)];
  if (!first || !last) return new Map();
  const assigned = await ctx.db
    .select({ userId: userRoles.userId, roleId: userRoles.roleId })
    .from(userRoles)
    .where(
      and(eq(userRoles.tenantId, ctx.tenant.id), gte(userRoles.userId, first), lte(userRoles.userId, last)),
    );
  const roles = new Map(
    (
      await findRoles(
        ctx.db,
        ctx.tenant.id,
        assigned.map((row) => row.roleId),
      )
    ).map((role) => [role.id, role]),
  );
  const byUser = new Map<string, AssignedRole[]>();
  for (const { userId, roleId } of assigned) {
    const role = roles.get(roleId);
    if (role) byUser.set(userId, [...(byUser.get(userId) ?? []), role]);
  }
  return byUser;
}

/** Customers' logins live in the same table but are not staff: to these routes they do not exist. */
function staffUserQuery(ctx: ServiceContext, userId: string) {
  return ctx.db
    .select()
    .from(users)
    .where(and(eq(users.tenantId, ctx.tenant.id), eq(users.id, userId), eq(users.kind, 'STAFF')));
}

/**
 * The staff user an operation acts on (changes, resets, group memberships): the caller must hold
 * every permission the user holds, through its roles and its groups, or it could disable, take
 * over or strip a stronger user. The user and what it holds are read in one round trip.
 */
export async function staffUserActedOn(ctx: ServiceContext, userId: string): Promise<UserRow> {
  const [[row], held] = await ctx.db.batch([
    staffUserQuery(ctx, userId),
    heldRolesQuery(ctx.db, ctx.tenant.id, { kind: 'staff-user', id: userId }),
  ]);
  if (!row) throw notFound('staff user');
  assertMayActOn(ctx.actor, 'staff-user', heldPermissions(held));
  return row;
}

export async function getStaffUser(ctx: ServiceContext, userId: string): Promise<StaffUserView> {
  const row = await staffUserQuery(ctx, userId).get();
  if (!row) throw notFound('staff user');
  return presentStaffUser(row, (await rolesOfUsers(ctx, [row])).get(row.id) ?? []);
}

export async function listStaffUsers(
  ctx: ServiceContext,
  query: StaffUserListQuery,
): Promise<{ data: StaffUserView[]; nextCursor: string | null }> {
  const after = decodeCursor(query.cursor, 'usr');
  const withRole = query.roleId
    ? ctx.db
        .select({ userId: userRoles.userId })
        .from(userRoles)
        .where(and(eq(userRoles.tenantId, ctx.tenant.id), eq(userRoles.roleId, query.roleId)))
    : undefined;
  const rows = await ctx.db
    .select()
    .from(users)
    .where(
      and(
        eq(users.tenantId, ctx.tenant.id),
        eq(users.kind, 'STAFF'),
        after ? lt(users.id, after) : undefined,
        query.status ? eq(users.status, query.status) : undefined,
        withRole ? inArray(users.id, withRole) : undefined,
        query.q
          ? or(containsText(users.displayName, query.q), containsText(users.email, query.q.toLowerCase()))
          : undefined,
      ),
    )
    .orderBy(desc(users.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit);
  const roles = await rolesOfUsers(ctx, page.data);
  return {
    data: page.data.map((row) => presentStaffUser(row, roles.get(row.id) ?? [])),
    nextCursor: page.nextCursor,
  };
}

/**
 * The roles `roleIds` names: 422 for an id that names no role of the tenant (or the customers'
 * role), 403 `permission_not_held` when they grant a permission the caller lacks, so that
 * `access:admin` (or `groups:write`) lets one manage staff without making anyone, oneself
 * included, more powerful than oneself. Groups grant roles through it too.
 */
export async function grantableRoles(
  ctx: ServiceContext,
  roleIds: readonly string[],
): Promise<AssignedRole[]> {
  const found = await findRoles(ctx.db, ctx.tenant.id, roleIds);
  const known = new Set(found.map((role) => role.id));
  const errors = roleIds.flatMap((roleId, index) =>
    roleId === builtInRoles.CUSTOMER.id
      ? [{ path: `roleIds.${index}`, message: 'is the role of customers, not of staff' }]
      : known.has(roleId)
        ? []
        : [{ path: `roleIds.${index}`, message: 'names no role of this tenant' }],
  );
  if (errors.length > 0) throw validationError(errors);
  assertHolds(ctx.actor, permissionsOfRoles(found), 'Granting these roles');
  return found;
}

function roleAssignments(ctx: ServiceContext, userId: string, roles: readonly AssignedRole[]) {
  return roles.map((role) =>
    ctx.db
      .insert(userRoles)
      .values({ tenantId: ctx.tenant.id, userId, roleId: role.id, createdAt: ctx.now.toISOString() }),
  );
}

function isSelf(ctx: ServiceContext, userId: string): boolean {
  return ctx.actor.type === 'user' && ctx.actor.id === userId;
}

function selfLockout(detail: string): ApiError {
  return new ApiError('self_lockout', { detail });
}

/**
 * Creates a staff user without a usable password and sends them (through
 * `notification.requested`, template `STAFF_INVITATION`) a token to choose one with
 * `POST /auth/password/reset`.
 */
export async function inviteStaffUser(
  ctx: ServiceContext,
  input: InviteStaffUserInput,
): Promise<StaffUserView> {
  const roles = await grantableRoles(ctx, input.roleIds);
  if (await emailInUse(ctx, { kind: 'STAFF', email: input.email })) throw new ApiError('email_taken');
  const _now = ctx.now.toISOString();
  const user = { id: newId('user', ctx.now.getTime()), email: input.email, customerKey: null };
  const roleIds = roles.map((role) => role.id);
  await commitWithPasswordToken(
    ctx,
    user,
    'STAFF_INVITATION',
    {
      statements: [
        (
          await invitedLogin(
            ctx,
            { id: user.id, email: input.email, displayName: input.displayName, kind: 'STAFF' },
            null,
          )
        ).statement,
        ...roleAssignments(ctx, user.id, roles),
      ],
      audit: [{ action: 'user.invited', targetType: 'user', targetId: user.id, data: { roleIds } }],
      events: [event('user.invited', { userId: user.id, roleIds })],
    },
    emailTakenGuard,
  );
  return getStaffUser(ctx, user.id);
}

const updatableFields = ['status', 'roleIds', 'displayName'] as const;

/**
 * Enables or disables a staff user, replaces their roles or renames them. Disabling ends every
 * session at once; a role change reaches the user's tokens at their next refresh. Administrators
 * cannot lock themselves out (disable themselves or drop their own `access:admin`).
 */
export async function updateStaffUser(
  ctx: ServiceContext,
  userId: string,
  input: UpdateStaffUserInput,
): Promise<StaffUserView> {
  const row = await staffUserActedOn(ctx, userId);
  const held = (await rolesOfUsers(ctx, [row])).get(row.id) ?? [];
  const self = isSelf(ctx, row.id);
  if (self && input.status === 'DISABLED') throw selfLockout('You cannot disable your own account.');
  const roles = input.roleIds ? await grantableRoles(ctx, input.roleIds) : held;
  if (self && input.roleIds && !permissionsOfRoles(roles).includes('access:admin')) {
    throw selfLockout('These roles would take away your own access:admin.');
  }

  const roleIdsOf = (grants: readonly AssignedRole[]) => grants.map((role) => role.id).sort();
  const before = { status: row.status, roleIds: roleIdsOf(held), displayName: row.displayName };
  const after = {
    status: input.status ?? row.status,
    roleIds: roleIdsOf(roles),
    displayName: input.displayName ?? row.displayName,
  };
  const changedFields = updatableFields.filter(
    (field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]),
  );
  if (changedFields.length === 0) return presentStaffUser(row, held);
  const pick = (values: typeof before) =>
    Object.fromEntries(changedFields.map((field) => [field, values[field]]));
  const disabling = after.status === 'DISABLED' && before.status !== 'DISABLED';

  await commit(ctx, {
    statements: [
      ctx.db
        .update(users)
        .set({ status: after.status, displayName: after.displayName, updatedAt: ctx.now.toISOString() })
        .where(and(eq(users.tenantId, ctx.tenant.id), eq(users.id, row.id))),
      ...(changedFields.includes('roleIds')
        ? [
            ctx.db
              .delete(userRoles)
              .where(and(eq(userRoles.tenantId, ctx.tenant.id), eq(userRoles.userId, row.id))),
            ...roleAssignments(ctx, row.id, roles),
          ]
        : []),
      ...(disabling ? [voidPasswordTokens(ctx, row.id)] : []),
    ],
    audit: [
      {
        action: 'user.updated',
        targetType: 'user',
        targetId: row.id,
        data: { before: pick(before), after: pick(after) },
      },
    ],
    events: [event('user.updated', { userId: row.id, changedFields, status: after.status })],
  });
  // After the commit, so a login racing the change already meets the DISABLED status.
  if (disabling) await revokeUserSessions(ctx, row.id, 'USER_DISABLED');
  return getStaffUser(ctx, row.id);
}

/** TOTP (with its recovery codes) and every passkey, each removal audited and announced. */
async function secondFactorsRemoval(ctx: ServiceContext, userId: string): Promise<Change> {
  const [totpEnrolled, passkeys] = await Promise.all([
    isTotpEnrolled(ctx, userId),
    allPasskeysRemoval(ctx, userId),
  ]);
  return mergeChanges(totpRemoval(ctx, userId, totpEnrolled), passkeys);
}

/**
 * An administrator's reset: the password stops working, every session ends, and the user is
 * sent a token (template `CREDENTIALS_RESET`) to choose a new password. With
 * `resetSecondFactors` the second factors go in the same batch, for a user who lost the device.
 */
export async function resetStaffCredentials(
  ctx: ServiceContext,
  userId: string,
  input: ResetStaffCredentialsInput,
): Promise<StaffUserView> {
  const row = await staffUserActedOn(ctx, userId);
  if (isSelf(ctx, row.id)) {
    throw selfLockout(
      'You cannot reset your own credentials; change your password with POST /auth/password/change.',
    );
  }
  if (row.status !== 'ACTIVE') {
    throw new ApiError('user_disabled', {
      detail: 'The user is disabled: enable it before resetting its credentials.',
    });
  }
  const resetSecondFactors = input.resetSecondFactors === true;
  const passwordReset: Change = {
    statements: [
      ctx.db
        .update(users)
        .set({
          passwordHash: unusablePasswordHash(),
          passwordSetupRequired: true,
          updatedAt: ctx.now.toISOString(),
        })
        .where(and(eq(users.tenantId, ctx.tenant.id), eq(users.id, row.id))),
    ],
    audit: [
      {
        action: 'user.credentials_reset',
        targetType: 'user',
        targetId: row.id,
        data: { resetSecondFactors },
      },
    ],
    events: [event('user.credentials_reset', { userId: row.id })],
  };
  await commitWithPasswordToken(
    ctx,
    { id: row.id, email: row.email, customerKey: null },
    'CREDENTIALS_RESET',
    resetSecondFactors ? mergeChanges(passwordReset, await secondFactorsRemoval(ctx, row.id)) : passwordReset,
  );
  await revokeUserSessions(ctx, row.id, 'CREDENTIALS_RESET');
  return getStaffUser(ctx, row.id);
}
