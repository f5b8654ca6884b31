import Bowser from 'bowser';
import { and, desc, eq, inArray, isNull, lt, ne, type SQL, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { builtOnce } from '../../db/built-once';
import { withinParameterLimit } from '../../db/client';
import { sessions, users } from '../../db/tenant';
import { markRevoked } from '../../platform/auth/authenticate';
import type { Permission } from '../../platform/auth/permissions';
import {
  permissionsFromAssignments,
  permissionsOfUser,
  roleAssignmentQueries,
} from '../../platform/auth/roles';
import { ACCESS_TOKEN_TTL_SECONDS, issueAccessToken } from '../../platform/auth/tokens';
import type { ServiceContext } from '../../platform/context';
import { ApiError, notFound } from '../../platform/errors';
import type { SessionRevocationReason } from '../../platform/events';
import { newId } from '../../platform/ids';
import { decodeCursor, toPage } from '../../platform/pagination';
import {
  familyFacts,
  firstRefreshToken,
  sessionIdOfRefreshToken,
  sessionStub,
} from '../../platform/sessions/refresh-tokens';
import { commit, commitUnlessRefused, event } from '../../platform/unit-of-work';
import type { AccessTokenView, SessionListQuery, SessionView, TokenPairView } from './schemas';

export type UserRow = typeof users.$inferSelect;
type SessionRow = typeof sessions.$inferSelect;
/** What a revocation needs of a session: its owner, and the facts its object may start from. */
type SessionOfFamily = Pick<SessionRow, 'id' | 'userId' | 'createdAt'>;

const sessionOfFamily = {
  id: sessions.id,
  userId: sessions.userId,
  createdAt: sessions.createdAt,
};

function factsOf(ctx: ServiceContext, session: SessionOfFamily) {
  return familyFacts({ ...session, sessionId: session.id, tenantId: ctx.tenant.id });
}

/** "Firefox on macOS": names sessions and, by default, passkeys. */
export function deviceLabel(userAgent: string | undefined): string {
  if (!userAgent) return 'Unknown device';
  const { browser, os } = Bowser.parse(userAgent);
  const parts = [browser.name, os.name && `on ${os.name}`].filter(Boolean);
  return parts.length > 0 ? parts.join(' ').slice(0, 120) : userAgent.slice(0, 120);
}

function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/** `permissions`, when the caller has read them already, else read now. */
async function userAccessToken(
  ctx: ServiceContext,
  user: UserRow,
  session: { id: string; amr: string[]; authTime: number },
  known?: readonly Permission[],
): Promise<string> {
  const permissions = known ?? (await permissionsOfUser(ctx.db, ctx.tenant.id, user));
  return issueAccessToken(ctx.env, {
    issuer: ctx.issuer,
    now: ctx.now,
    claims: {
      sub: user.id,
      tid: ctx.tenant.id,
      sid: session.id,
      scope: permissions.join(' '),
      amr: session.amr,
      auth_time: session.authTime,
      ptype: user.kind === 'STAFF' ? 'staff' : 'customer',
      ...(user.customerId ? { cus: user.customerId } : {}),
    },
  });
}

/**
 * Opens a session for a user who has just proved who they are: the listing row (with the
 * caller's extra statements, e.g. clearing failed logins) is committed, then the worker mints
 * the first refresh token under the family key derived for the session; its Durable Object is
 * not called until the token is first used. `permissions` saves their query when the caller read
 * them in an earlier round trip.
 */
export async function startSession(
  ctx: ServiceContext,
  user: UserRow,
  amr: string[],
  alongside: BatchItem<'sqlite'>[] = [],
  permissions?: readonly Permission[],
): Promise<TokenPairView> {
  const now = ctx.now.toISOString();
  const session = { id: newId('session', ctx.now.getTime()), amr, authTime: epochSeconds(ctx.now) };
  await commitUnlessRefused(
    ctx,
    {
      statements: [
        ...insertSession(ctx, {
          ...session,
          userId: user.id,
          device: deviceLabel(ctx.userAgent),
          userAgent: ctx.userAgent?.slice(0, 512) ?? null,
          ip: ctx.ip ?? null,
          createdAt: now,
          lastUsedAt: now,
        }),
        ...alongside,
      ],
      audit: [
        {
          action: 'session.created',
          targetType: 'user',
          targetId: user.id,
          data: { sessionId: session.id, amr },
        },
      ],
      events: [event('session.created', { sessionId: session.id, userId: user.id, amr })],
    },
    { violates: 'sessions.user_id', refusal: () => new ApiError('invalid_credentials') },
  );
  const [refreshToken, accessToken] = await Promise.all([
    firstRefreshToken(ctx.env, ctx.tenant.id, session.id),
    userAccessToken(ctx, user, session, permissions),
  ]);
  return {
    accessToken,
    refreshToken,
    tokenType: 'Bearer',
    expiresIn: ACCESS_TOKEN_TTL_SECONDS,
    sessionId: session.id,
  };
}

/**
 * A new session's row. Its user is the user's id while it is an ACTIVE login, else NULL, which
 * `sessions.user_id` refuses: a login that was disabled or erased while its password was being
 * checked gets no session, and the whole batch (audit row, event) rolls back.
 */
const insertSession = builtOnce((scope) => {
  const column = (name: string) => sql.placeholder(name);
  return [
    scope.db.insert(sessions).values({
      id: column('id'),
      tenantId: scope.tenant.id,
      userId: sql<string>`(SELECT ${users.id} FROM ${users} WHERE ${users.tenantId} = ${scope.tenant.id} AND ${users.id} = ${column('userId')} AND ${users.status} = 'ACTIVE')`,
      amr: column('amr'),
      authTime: column('authTime'),
      device: column('device'),
      userAgent: column('userAgent'),
      ip: column('ip'),
      createdAt: column('createdAt'),
      lastUsedAt: column('lastUsedAt'),
    }),
  ] as const;
});

/**
 * Exchanges a refresh token for a new pair; the old one is spent (see SessionDurableObject).
 * One D1 round trip reads the session, its user and the user's roles and marks the session
 * used (a live one only: a refresh that then fails was still an attempt to use it); then one
 * call to the session's object rotates the token.
 */
export async function refreshSession(ctx: ServiceContext, refreshToken: string): Promise<TokenPairView> {
  const sessionId = sessionIdOfRefreshToken(refreshToken);
  if (!sessionId) throw new ApiError('invalid_refresh_token');
  const thisSession = and(eq(sessions.tenantId, ctx.tenant.id), eq(sessions.id, sessionId));
  const sessionUser = sql<string>`(SELECT ${sessions.userId} FROM ${sessions} WHERE ${thisSession})`;
  // The session row is looked up in this tenant first: another tenant's token never reaches its object.
  const [[found], ...assignments] = await ctx.db.batch([
    // D1 hands a batch's rows back keyed by column name: the session's columns here must not
    // share a name with the user's, or one would stand in for the other.
    ctx.db
      .select({
        session: {
          userId: sessions.userId,
          amr: sessions.amr,
          authTime: sessions.authTime,
          revokedAt: sessions.revokedAt,
          // Aliased: the user has a column of this name.
          createdAt: sql<string>`${sessions.createdAt}`.as('session_created_at'),
        },
        user: users,
      })
      .from(sessions)
      .innerJoin(users, and(eq(users.tenantId, sessions.tenantId), eq(users.id, sessions.userId)))
      .where(thisSession),
    ...roleAssignmentQueries(ctx.db, ctx.tenant.id, sessionUser),
    ctx.db
      .update(sessions)
      .set({ lastUsedAt: ctx.now.toISOString() })
      .where(and(thisSession, isNull(sessions.revokedAt))),
  ]);
  if (!found || found.session.revokedAt !== null) throw new ApiError('invalid_refresh_token');
  const session = { ...found.session, id: sessionId };

  const rotation = await sessionStub(ctx.env, sessionId).rotate(
    refreshToken,
    ctx.now.getTime(),
    factsOf(ctx, session),
  );
  if (rotation.outcome === 'reused') {
    await revokeSessions(ctx, [session], 'REFRESH_TOKEN_REUSED');
    throw new ApiError('refresh_token_reused');
  }
  if (rotation.outcome !== 'rotated') throw new ApiError('invalid_refresh_token');
  if (found.user.status !== 'ACTIVE') {
    await revokeSessions(ctx, [session], 'USER_DISABLED');
    throw new ApiError('invalid_refresh_token', { detail: 'The account has been disabled.' });
  }

  const [direct, throughGroups, custom] = assignments;
  const permissions = permissionsFromAssignments(found.user, [direct, throughGroups, custom]);
  const accessToken = await userAccessToken(ctx, found.user, session, permissions);
  return {
    accessToken,
    refreshToken: rotation.refreshToken,
    tokenType: 'Bearer',
    expiresIn: ACCESS_TOKEN_TTL_SECONDS,
    sessionId,
  };
}

/**
 * Ends sessions at once: their refresh families die in their Durable Objects and KV marks make
 * their access tokens fail (immediately where written, within KV's propagation elsewhere).
 * Object and marks go first, so a failure part-way leaves sessions dead rather than alive.
 */
async function revokeSessions(
  ctx: ServiceContext,
  targets: SessionOfFamily[],
  reason: SessionRevocationReason,
): Promise<void> {
  if (targets.length === 0) return;
  await Promise.all(
    targets.flatMap((session) => [
      sessionStub(ctx.env, session.id).revoke(reason, ctx.now.getTime(), factsOf(ctx, session)),
      markRevoked(ctx.env, ctx.tenant.id, session.id, reason),
    ]),
  );
  await commit(ctx, {
    statements: withinParameterLimit(
      targets.map((session) => session.id),
      (ids) =>
        ctx.db
          .update(sessions)
          .set({ revokedAt: ctx.now.toISOString(), revokedReason: reason })
          .where(
            and(eq(sessions.tenantId, ctx.tenant.id), inArray(sessions.id, ids), isNull(sessions.revokedAt)),
          ),
    ),
    audit: targets.map((session) => ({
      action: 'session.revoked',
      targetType: 'user',
      targetId: session.userId,
      data: { sessionId: session.id, reason },
    })),
    events: targets.map((session) =>
      event('session.revoked', { sessionId: session.id, userId: session.userId, reason }),
    ),
  });
}

function activeSessionsOf(ctx: ServiceContext, userId: string, ...more: (SQL | undefined)[]) {
  return and(
    eq(sessions.tenantId, ctx.tenant.id),
    eq(sessions.userId, userId),
    isNull(sessions.revokedAt),
    ...more,
  );
}

/** Revokes every live session of a user, optionally keeping the caller's own. */
export async function revokeUserSessions(
  ctx: ServiceContext,
  userId: string,
  reason: SessionRevocationReason,
  options: { exceptSessionId?: string } = {},
): Promise<number> {
  const live = await ctx.db
    .select(sessionOfFamily)
    .from(sessions)
    .where(
      activeSessionsOf(
        ctx,
        userId,
        options.exceptSessionId ? ne(sessions.id, options.exceptSessionId) : undefined,
      ),
    );
  await revokeSessions(ctx, live, reason);
  return live.length;
}

/** Revokes one of the user's own live sessions; false when there is no such session. */
export async function endSession(
  ctx: ServiceContext,
  userId: string,
  sessionId: string,
  reason: SessionRevocationReason,
): Promise<boolean> {
  const session = await ctx.db
    .select(sessionOfFamily)
    .from(sessions)
    .where(activeSessionsOf(ctx, userId, eq(sessions.id, sessionId)))
    .get();
  if (session) await revokeSessions(ctx, [session], reason);
  return session !== undefined;
}

/** Another user's session, or one already ended, is a 404 like any missing resource. */
export async function revokeOwnSession(
  ctx: ServiceContext,
  userId: string,
  sessionId: string,
  reason: SessionRevocationReason,
): Promise<void> {
  if (!(await endSession(ctx, userId, sessionId, reason))) throw notFound('session');
}

function presentSession(row: SessionRow, currentSessionId: string): SessionView {
  return {
    id: row.id,
    device: row.device,
    userAgent: row.userAgent,
    ip: row.ip,
    amr: row.amr,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    current: row.id === currentSessionId,
  };
}

export async function listSessions(
  ctx: ServiceContext,
  user: { id: string; sessionId: string },
  query: SessionListQuery,
): Promise<{ data: SessionView[]; nextCursor: string | null }> {
  const after = decodeCursor(query.cursor, 'ses');
  const rows = await ctx.db
    .select()
    .from(sessions)
    .where(activeSessionsOf(ctx, user.id, after ? lt(sessions.id, after) : undefined))
    .orderBy(desc(sessions.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit);
  return { data: page.data.map((row) => presentSession(row, user.sessionId)), nextCursor: page.nextCursor };
}

/**
 * Records a fresh authentication on the session (step-up), with the caller's extra statements
 * (giving the attempt's slot back), and returns an access token whose `auth_time` says so; later
 * refreshes keep it.
 */
export async function reauthenticateSession(
  ctx: ServiceContext,
  user: UserRow,
  sessionId: string,
  amr: string[],
  alongside: BatchItem<'sqlite'>[] = [],
): Promise<AccessTokenView> {
  const session = await ctx.db
    .select()
    .from(sessions)
    .where(activeSessionsOf(ctx, user.id, eq(sessions.id, sessionId)))
    .get();
  if (!session)
    throw new ApiError('invalid_token', { detail: 'The session of this access token has ended.' });
  const renewed = {
    id: sessionId,
    amr: [...new Set([...session.amr, ...amr])],
    authTime: epochSeconds(ctx.now),
  };
  await commit(ctx, {
    statements: [
      ctx.db
        .update(sessions)
        .set({ amr: renewed.amr, authTime: renewed.authTime, lastUsedAt: ctx.now.toISOString() })
        .where(and(eq(sessions.tenantId, ctx.tenant.id), eq(sessions.id, sessionId))),
      ...alongside,
    ],
    audit: [
      { action: 'session.stepped_up', targetType: 'user', targetId: user.id, data: { sessionId, amr } },
    ],
    events: [],
  });
  return {
    accessToken: await userAccessToken(ctx, user, renewed),
    tokenType: 'Bearer',
    expiresIn: ACCESS_TOKEN_TTL_SECONDS,
    authTime: new Date(renewed.authTime * 1000).toISOString(),
  };
}
