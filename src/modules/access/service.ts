import { and, count, desc, eq, lt, ne, type SQL, sql } from 'drizzle-orm';
import { controlDb } from '../../db/client';
import { clientDirectory } from '../../db/control';
import { clients, customerKeys, groups, roles, userRoles, users } from '../../db/tenant';
import { markRevoked } from '../../platform/auth/authenticate';
import { assertHolds, assertMayActOn, heldPermissions, heldRolesQuery } from '../../platform/auth/escalation';
import {
  allPermissions,
  type BuiltInRole,
  builtInRoleById,
  builtInRoles,
  isPermission,
  type Permission,
  permissionCatalogue,
} from '../../platform/auth/permissions';
import { customerRole, roleAssignmentQueries, rolesFromAssignments } from '../../platform/auth/roles';
import { identityOf } from '../../platform/auth/user-identity';
import type { ServiceContext } from '../../platform/context';
import { ApiError, notFound } from '../../platform/errors';
import { newId } from '../../platform/ids';
import { decodeCursor, toPage } from '../../platform/pagination';
import { unwrapCustomerKey } from '../../platform/personal-data';
import { TenantMemory } from '../../platform/tenant-memory';
import { commit, commitUnlessRefused, event } from '../../platform/unit-of-work';
import { newClientSecret } from '../oauth/clients';
import type {
  ClientListQuery,
  ClientView,
  ClientWithSecretView,
  CreateClientInput,
  CreateRoleInput,
  MeView,
  RoleListQuery,
  RoleView,
  UpdateRoleInput,
} from './schemas';

type RoleRow = typeof roles.$inferSelect;
type ClientRow = typeof clients.$inferSelect;
interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export function permissionCatalogueView() {
  return {
    data: allPermissions.map((name) => ({ name, description: permissionCatalogue[name] })),
    nextCursor: null,
  };
}

const GRANTING = 'Granting these permissions';

function normalise(permissions: readonly string[]): Permission[] {
  return [...new Set(permissions.filter(isPermission))].sort();
}

// ---- roles

function presentBuiltInRole(role: BuiltInRole): RoleView {
  return {
    id: role.id,
    name: role.name,
    description: role.description,
    permissions: [...role.permissions],
    builtIn: true,
    createdAt: null,
    updatedAt: null,
  };
}

function presentRole(row: RoleRow): RoleView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    permissions: normalise(row.permissions),
    builtIn: false,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function customRoleQuery(ctx: ServiceContext, roleId: string) {
  return ctx.db
    .select()
    .from(roles)
    .where(and(eq(roles.tenantId, ctx.tenant.id), eq(roles.id, roleId)));
}

export async function getRole(ctx: ServiceContext, roleId: string): Promise<RoleView> {
  const builtIn = builtInRoleById(roleId);
  if (builtIn) return presentBuiltInRole(builtIn);
  const row = await customRoleQuery(ctx, roleId).get();
  if (!row) throw notFound('role');
  return presentRole(row);
}

/**
 * The custom role a change is aimed at; built-in roles are read-only. The caller must hold what
 * the role grants and what its holders hold: otherwise, by emptying or deleting a role, one
 * could act on users stronger than oneself.
 */
async function requireChangeableRole(ctx: ServiceContext, roleId: string): Promise<RoleRow> {
  const builtIn = builtInRoleById(roleId);
  if (builtIn) {
    throw new ApiError('role_read_only', {
      detail: `${builtIn.name} is a built-in role and cannot be changed or deleted; create a custom role instead.`,
    });
  }
  const [[row], held] = await ctx.db.batch([
    customRoleQuery(ctx, roleId),
    heldRolesQuery(ctx.db, ctx.tenant.id, { kind: 'role', id: roleId }),
  ]);
  if (!row) throw notFound('role');
  assertMayActOn(ctx.actor, 'role', heldPermissions(held));
  return row;
}

/**
 * Built-in names are reserved and names are unique case-insensitively. A tenant has few roles,
 * so the names are compared here (with JavaScript's Unicode case folding, which SQLite's
 * ASCII-only `lower()` lacks); the exact-case unique index still settles races.
 */
async function assertNameAvailable(ctx: ServiceContext, name: string, exceptRoleId?: string): Promise<void> {
  const folded = name.toLowerCase();
  if (Object.keys(builtInRoles).some((builtIn) => builtIn.toLowerCase() === folded)) {
    throw new ApiError('role_name_taken', { detail: `'${name}' is reserved for a built-in role.` });
  }
  const others = await ctx.db
    .select({ name: roles.name })
    .from(roles)
    .where(and(eq(roles.tenantId, ctx.tenant.id), exceptRoleId ? ne(roles.id, exceptRoleId) : undefined));
  if (others.some((other) => other.name.toLowerCase() === folded)) throw roleNameTaken(name);
}

function roleNameTaken(name: string): ApiError {
  return new ApiError('role_name_taken', { detail: `Another role of this tenant is named '${name}'.` });
}

/** Built-in roles first (fixed order), then custom roles newest first; the cursor spans both. */
export async function listRoles(ctx: ServiceContext, query: RoleListQuery): Promise<Page<RoleView>> {
  const after = decodeCursor(query.cursor, 'rol');
  const builtIns = Object.values(builtInRoles);
  const builtInIndex = after === undefined ? -1 : builtIns.findIndex((role) => role.id === after);
  const afterCustom = after !== undefined && builtInIndex < 0 ? after : undefined;
  const leading = afterCustom ? [] : builtIns.slice(builtInIndex + 1).map(presentBuiltInRole);
  const rows = await ctx.db
    .select()
    .from(roles)
    .where(and(eq(roles.tenantId, ctx.tenant.id), afterCustom ? lt(roles.id, afterCustom) : undefined))
    .orderBy(desc(roles.id))
    .limit(query.limit + 1);
  return toPage([...leading, ...rows.map(presentRole)], query.limit);
}

export async function createRole(ctx: ServiceContext, input: CreateRoleInput): Promise<RoleView> {
  const permissions = normalise(input.permissions);
  assertHolds(ctx.actor, permissions, GRANTING);
  await assertNameAvailable(ctx, input.name);
  const now = ctx.now.toISOString();
  const row: RoleRow = {
    id: newId('role', ctx.now.getTime()),
    tenantId: ctx.tenant.id,
    name: input.name,
    description: input.description,
    permissions,
    createdAt: now,
    updatedAt: now,
  };
  await commitUnlessRefused(
    ctx,
    {
      statements: [ctx.db.insert(roles).values(row)],
      audit: [
        {
          action: 'role.created',
          targetType: 'role',
          targetId: row.id,
          data: { name: row.name, permissions },
        },
      ],
      events: [event('role.created', { roleId: row.id })],
    },
    { duplicates: 'roles.name', refusal: () => roleNameTaken(input.name) },
  );
  return presentRole(row);
}

/** Users holding the role get its new permissions with their next access token (login or refresh). */
export async function updateRole(
  ctx: ServiceContext,
  roleId: string,
  input: UpdateRoleInput,
): Promise<RoleView> {
  const row = await requireChangeableRole(ctx, roleId);
  const changes: Partial<Pick<RoleRow, 'name' | 'description' | 'permissions'>> = {};
  const audit: Record<string, unknown> = {};
  if (input.name !== undefined && input.name !== row.name) {
    await assertNameAvailable(ctx, input.name, row.id);
    changes.name = input.name;
    audit.name = { from: row.name, to: input.name };
  }
  if (input.description !== undefined && input.description !== row.description) {
    changes.description = input.description;
  }
  if (input.permissions !== undefined) {
    const before = normalise(row.permissions);
    const after = normalise(input.permissions);
    const added = after.filter((permission) => !before.includes(permission));
    const removed = before.filter((permission) => !after.includes(permission));
    assertHolds(ctx.actor, added, GRANTING);
    if (added.length > 0 || removed.length > 0) {
      changes.permissions = after;
      audit.permissions = { added, removed };
    }
  }
  const changed = (['name', 'description', 'permissions'] as const).filter((field) => field in changes);
  if (changed.length === 0) return presentRole(row);

  const updated: RoleRow = { ...row, ...changes, updatedAt: ctx.now.toISOString() };
  await commitUnlessRefused(
    ctx,
    {
      statements: [
        ctx.db
          .update(roles)
          .set({ ...changes, updatedAt: updated.updatedAt })
          .where(and(eq(roles.tenantId, ctx.tenant.id), eq(roles.id, row.id))),
      ],
      audit: [{ action: 'role.updated', targetType: 'role', targetId: row.id, data: { changed, ...audit } }],
      events: [event('role.updated', { roleId: row.id, changed })],
    },
    { duplicates: 'roles.name', refusal: () => roleNameTaken(updated.name) },
  );
  return presentRole(updated);
}

/**
 * Refused while users hold the role, directly or through a group. An assignment racing this
 * delete would point at nothing, and an assignment to a missing role grants nothing (see
 * `rolesOfUser`), so the race fails safe.
 */
export async function deleteRole(ctx: ServiceContext, roleId: string): Promise<void> {
  const row = await requireChangeableRole(ctx, roleId);
  const [holders, granting] = await ctx.db.batch([
    ctx.db
      .select({ count: count() })
      .from(userRoles)
      .where(and(eq(userRoles.tenantId, ctx.tenant.id), eq(userRoles.roleId, row.id))),
    ctx.db
      .select({ count: count() })
      .from(groups)
      .where(
        and(
          eq(groups.tenantId, ctx.tenant.id),
          sql`exists (select 1 from json_each(${groups.roleIds}) where value = ${row.id})`,
        ),
      ),
  ]);
  const users = holders[0]?.count ?? 0;
  const viaGroups = granting[0]?.count ?? 0;
  if (users > 0 || viaGroups > 0) {
    const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
    const uses = [
      users > 0 ? `assigned to ${plural(users, 'user')}` : undefined,
      viaGroups > 0 ? `granted by ${plural(viaGroups, 'group')}` : undefined,
    ].filter(Boolean);
    throw new ApiError('role_in_use', {
      detail: `The role is ${uses.join(' and ')}; take it away from them first.`,
    });
  }
  await commit(ctx, {
    statements: [ctx.db.delete(roles).where(and(eq(roles.tenantId, ctx.tenant.id), eq(roles.id, row.id)))],
    audit: [
      {
        action: 'role.deleted',
        targetType: 'role',
        targetId: row.id,
        data: { name: row.name, permissions: row.permissions },
      },
    ],
    events: [event('role.deleted', { roleId: row.id })],
  });
}

// ---- API clients

function presentClient(row: ClientRow): ClientView {
  return {
    id: row.id,
    name: row.name,
    permissions: normalise(row.permissions),
    status: row.status,
    secretRotatedAt: row.secretRotatedAt,
    revokedAt: row.revokedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function findClient(ctx: ServiceContext, clientId: string): Promise<ClientRow | undefined> {
  return ctx.db
    .select()
    .from(clients)
    .where(and(eq(clients.tenantId, ctx.tenant.id), eq(clients.id, clientId)))
    .get();
}

async function requireClient(ctx: ServiceContext, clientId: string): Promise<ClientRow> {
  const row = await findClient(ctx, clientId);
  if (!row) throw notFound('API client');
  return row;
}

/** A client to act on: rotating its secret or revoking it needs every permission it holds. */
async function clientActedOn(ctx: ServiceContext, clientId: string): Promise<ClientRow> {
  const row = await requireClient(ctx, clientId);
  assertMayActOn(ctx.actor, 'api-client', normalise(row.permissions));
  return row;
}

export async function getClient(ctx: ServiceContext, clientId: string): Promise<ClientView> {
  return presentClient(await requireClient(ctx, clientId));
}

/** The tenant's clients, or only those of one TPP. */
export async function listClients(
  ctx: ServiceContext,
  query: ClientListQuery,
  of: { tppId?: string } = {},
): Promise<Page<ClientView>> {
  const after = decodeCursor(query.cursor, 'cli');
  const filters: (SQL | undefined)[] = [
    eq(clients.tenantId, ctx.tenant.id),
    after ? lt(clients.id, after) : undefined,
    query.status ? eq(clients.status, query.status) : undefined,
    of.tppId ? eq(clients.tppId, of.tppId) : undefined,
  ];
  const rows = await ctx.db
    .select()
    .from(clients)
    .where(and(...filters))
    .orderBy(desc(clients.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit);
  return { data: page.data.map(presentClient), nextCursor: page.nextCursor };
}

/**
 * The client lives in two databases: its id in the control plane's directory (how /oauth/token
 * finds the tenant) and the client itself, with the secret's hash, in the tenant's. D1 cannot
 * write both atomically, so the directory row goes first: on its own it is inert (no client row,
 * so no secret can match) and never shown to anyone. Only the tenant write, which comes last,
 * makes the client usable, so no failure leaves a half-client that works.
 */
export function createClient(ctx: ServiceContext, input: CreateClientInput): Promise<ClientWithSecretView> {
  return registerClient(ctx, { ...input, grantTypes: ['client_credentials'], redirectUris: [], tppId: null });
}

/**
 * A new client of any kind: a tenant back-end (`createClient`) or a TPP's (src/modules/tpps),
 * which also redeems authorization codes and refresh tokens at its redirect URIs.
 */
export async function registerClient(
  ctx: ServiceContext,
  input: Pick<ClientRow, 'name' | 'permissions' | 'grantTypes' | 'redirectUris' | 'tppId'>,
): Promise<ClientWithSecretView> {
  const permissions = normalise(input.permissions);
  assertHolds(ctx.actor, permissions, GRANTING);
  const { secret, hash } = await newClientSecret();
  const now = ctx.now.toISOString();
  const row: ClientRow = {
    ...input,
    id: newId('client', ctx.now.getTime()),
    tenantId: ctx.tenant.id,
    secretHash: hash,
    permissions,
    status: 'ACTIVE',
    secretRotatedAt: null,
    revokedAt: null,
    tokenGeneration: 0,
    createdAt: now,
    updatedAt: now,
  };
  const directory = controlDb(ctx.env.CONTROL_DB);
  await directory
    .insert(clientDirectory)
    .values({ clientId: row.id, tenantId: ctx.tenant.id, createdAt: now });
  try {
    await commit(ctx, {
      statements: [ctx.db.insert(clients).values(row)],
      audit: [
        {
          action: 'client.created',
          targetType: 'client',
          targetId: row.id,
          data: { name: row.name, permissions, ...(row.tppId ? { tppId: row.tppId } : {}) },
        },
      ],
      events: [event('client.created', { clientId: row.id })],
    });
  } catch (error) {
    // Tidying only: the directory row is harmless if this fails too (see above).
    await directory
      .delete(clientDirectory)
      .where(eq(clientDirectory.clientId, row.id))
      .catch(() => undefined);
    throw error;
  }
  return { ...presentClient(row), clientSecret: secret };
}

function assertActive(row: ClientRow): void {
  if (row.status === 'REVOKED') {
    throw new ApiError('client_revoked', { detail: `API client ${row.id} was revoked at ${row.revokedAt}.` });
  }
}

/**
 * The old secret stops working with this write: /oauth/token checks the hash in the tenant
 * database on every request. Access tokens already issued live out their lifetime (≤ 10 min);
 * revoke the client to cut those off too.
 */
export async function rotateClientSecret(
  ctx: ServiceContext,
  clientId: string,
): Promise<ClientWithSecretView> {
  const row = await clientActedOn(ctx, clientId);
  assertActive(row);
  const { secret, hash } = await newClientSecret();
  const now = ctx.now.toISOString();
  await commit(ctx, {
    statements: [
      ctx.db
        .update(clients)
        .set({ secretHash: hash, secretRotatedAt: now, updatedAt: now })
        .where(
          and(eq(clients.tenantId, ctx.tenant.id), eq(clients.id, row.id), eq(clients.status, 'ACTIVE')),
        ),
    ],
    audit: [{ action: 'client.secret_rotated', targetType: 'client', targetId: row.id }],
    events: [event('client.secret_rotated', { clientId: row.id })],
  });
  return {
    ...presentClient({ ...row, secretHash: hash, secretRotatedAt: now, updatedAt: now }),
    clientSecret: secret,
  };
}

/**
 * Revocation is final. The KV mark goes first and outlives every access token (see
 * `markRevoked`), so tokens issued before it, or in the instant before the status below lands,
 * are refused; the REVOKED status then makes /oauth/token refuse the client for good. A failure
 * between the two answers 500 with the client blocked until the mark expires; a retry completes
 * the revocation. Revoking a revoked client changes nothing.
 */
export async function revokeClient(ctx: ServiceContext, clientId: string): Promise<void> {
  const row = await clientActedOn(ctx, clientId);
  if (row.status === 'REVOKED') return;
  await markRevoked(ctx.env, ctx.tenant.id, row.id, 'CLIENT_REVOKED');
  const now = ctx.now.toISOString();
  await commit(ctx, {
    statements: [
      ctx.db
        .update(clients)
        .set({ status: 'REVOKED', revokedAt: now, updatedAt: now })
        .where(and(eq(clients.tenantId, ctx.tenant.id), eq(clients.id, row.id))),
    ],
    audit: [{ action: 'client.revoked', targetType: 'client', targetId: row.id }],
    events: [event('client.revoked', { clientId: row.id })],
  });
}

// ---- the caller

function principalGone(): ApiError {
  return new ApiError('invalid_token', {
    detail: 'The user or client of this access token no longer exists.',
  });
}

/** What `/me` says of its caller beyond the token: read from D1, remembered briefly (below). */
interface CallerIdentity {
  name: string;
  email: string | null;
  roles: MeView['roles'];
}

/**
 * `/me` in steady state makes no store operation: its caller's identity is remembered by the
 * isolate for 30 s, per tenant and per session (or client), so an entry only ever answers tokens
 * of the session it was read for, which passed their revocation check. Any commit of the tenant
 * in this isolate forgets it (src/platform/tenant-memory.ts), so a change is seen at once where
 * it was made; elsewhere within the 30 s, which is also how long an isolate trusts a revocation
 * mark's absence (README, "Revocation bound"). Sized like the memory of those marks.
 */
const CALLER_IDENTITY_TTL_MS = 30_000;
const callerIdentities = new TenantMemory<CallerIdentity>({
  ttlMs: CALLER_IDENTITY_TTL_MS,
  tenants: 64,
  entriesPerTenant: 256,
});

export async function describeCaller(ctx: ServiceContext): Promise<MeView> {
  const actor = ctx.actor;
  if (actor.type === 'anonymous') throw new ApiError('authentication_required');
  const common = {
    tenant: { id: ctx.tenant.id, name: ctx.tenant.name, tier: ctx.tenant.tier },
    permissions: [...actor.permissions].sort(),
    capabilities: [...ctx.tenant.capabilities],
    amr: [...actor.amr],
    authTime: new Date(actor.authTime * 1000).toISOString(),
  };
  if (actor.type === 'client') {
    const client = await callerIdentities.through(ctx.tenant.id, `client ${actor.id}`, () =>
      clientIdentity(ctx, actor.id),
    );
    return {
      ...common,
      principal: {
        type: 'CLIENT',
        id: actor.id,
        kind: null,
        name: client.name,
        email: null,
        customerId: null,
        sessionId: null,
      },
      roles: client.roles,
    };
  }
  const user = await callerIdentities.through(ctx.tenant.id, `user ${actor.id} ${actor.sessionId}`, () =>
    userIdentity(ctx, actor),
  );
  return {
    ...common,
    principal: {
      type: 'USER',
      id: actor.id,
      kind: actor.userKind,
      name: user.name,
      email: user.email,
      customerId: actor.customerId,
      sessionId: actor.sessionId,
    },
    roles: user.roles,
  };
}

async function clientIdentity(ctx: ServiceContext, clientId: string): Promise<CallerIdentity> {
  const client = await findClient(ctx, clientId);
  if (!client) throw principalGone();
  return { name: client.name, email: null, roles: [] };
}

async function userIdentity(
  ctx: ServiceContext,
  actor: Extract<ServiceContext['actor'], { type: 'user' }>,
): Promise<CallerIdentity> {
  // The user and its role assignments in one round trip.
  const [direct, throughGroups, custom] = roleAssignmentQueries(ctx.db, ctx.tenant.id, actor.id);
  const [[found], ...assignments] = await ctx.db.batch([
    ctx.db
      .select({
        user: {
          id: users.id,
          kind: users.kind,
          customerId: users.customerId,
          email: users.email,
          displayName: users.displayName,
        },
        wrappedKey: customerKeys.wrappedKey,
      })
      .from(users)
      .leftJoin(
        customerKeys,
        and(eq(customerKeys.tenantId, users.tenantId), eq(customerKeys.customerId, users.customerId)),
      )
      .where(and(eq(users.tenantId, ctx.tenant.id), eq(users.id, actor.id))),
    direct,
    throughGroups,
    custom,
  ]);
  if (!found) throw principalGone();
  const customerKey =
    found.wrappedKey && found.user.customerId
      ? await unwrapCustomerKey(
          ctx.env.FIELD_ENCRYPTION_KEY,
          ctx.tenant.id,
          found.user.customerId,
          found.wrappedKey,
        )
      : undefined;
  const user = await identityOf(ctx, found.user, customerKey);
  const held = actor.userKind === 'CUSTOMER' ? [customerRole()] : rolesFromAssignments(assignments);
  return {
    name: user.displayName,
    email: user.email,
    roles: held.map(({ id, name, builtIn }) => ({ id, name, builtIn })),
  };
}
