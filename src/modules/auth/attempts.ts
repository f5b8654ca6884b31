import { and, eq, gte, type SQL, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { type BoundStatements, builtOnce, type TenantScope } from '../../db/built-once';
import { users } from '../../db/tenant';
import {
  ACCOUNT_LOCKOUT,
  decideAttempt,
  isLocked,
  type LockoutClock,
  lockoutClock,
} from '../../platform/auth/lockout';
import {
  type LoginEmail,
  loginDigestIs,
  loginEmailDigest,
  userIdWhere,
} from '../../platform/auth/user-identity';
import type { ServiceContext } from '../../platform/context';
import { ApiError } from '../../platform/errors';
import { commit, event } from '../../platform/unit-of-work';
import type { UserRow } from './sessions';

/** A granted attempt at one of a user's secrets; src/platform/auth/lockout.ts has the rules. */
export interface ReservedAttempt {
  /** The user row as the reservation left it: it stands in for reading the user. */
  user: UserRow;
  /** The rows of the caller's `alongside` queries, in their order. */
  alongside: unknown[][];
  locksOnFailure: boolean;
  clock: LockoutClock;
}

function lockedProblem(retryAfterSeconds: number): ApiError {
  return new ApiError('account_locked', {
    detail: `Too many failed attempts: try again in ${Math.ceil(retryAfterSeconds / 60)} minute(s).`,
    headers: { 'Retry-After': String(retryAfterSeconds) },
  });
}

function retryAfter(lockedUntil: string, nowMs: number): number {
  return Math.max(1, Math.ceil((Date.parse(lockedUntil) - nowMs) / 1000));
}

/** Passkey sign-in checks no secret of the user, so it reserves nothing, but a lock shuts it too. */
export function assertNotLocked(user: UserRow, now: Date): void {
  if (user.lockedUntil && isLocked(user, now.getTime()))
    throw lockedProblem(retryAfter(user.lockedUntil, now.getTime()));
}

/**
 * The reservation's statements for the user `row` finds: a conditional UPDATE takes a slot unless
 * the account is locked or its window is full, and a SELECT tells a refusal (423) from an unknown
 * user (no row). A lock that has run out, or a window older than its length, starts a fresh
 * window; the lock's column is cleared by every granted reservation, since one is only granted
 * when no lock is in force. Built once per tenant: the clock's values are the placeholders `now`
 * and `windowClosedBy`.
 */
function reservationStatements(scope: TenantScope, row: SQL | undefined) {
  const now = sql.placeholder('now');
  const windowOpen: SQL = sql`(${users.lockedUntil} IS NULL AND ${users.failedLoginWindowStartedAt} IS NOT NULL AND ${users.failedLoginWindowStartedAt} > ${sql.placeholder('windowClosedBy')})`;
  return [
    scope.db
      .update(users)
      .set({
        failedLoginCount: sql`CASE WHEN ${windowOpen} THEN ${users.failedLoginCount} + 1 ELSE 1 END`,
        failedLoginWindowStartedAt: sql`CASE WHEN ${windowOpen} THEN ${users.failedLoginWindowStartedAt} ELSE ${now} END`,
        lockedUntil: null,
      })
      .where(
        and(
          row,
          sql`(${users.lockedUntil} IS NULL OR ${users.lockedUntil} <= ${now})`,
          sql`(NOT ${windowOpen} OR ${users.failedLoginCount} < ${ACCOUNT_LOCKOUT.limit})`,
        ),
      )
      .returning(),
    scope.db
      .select({
        failedLoginCount: users.failedLoginCount,
        failedLoginWindowStartedAt: users.failedLoginWindowStartedAt,
        lockedUntil: users.lockedUntil,
      })
      .from(users)
      .where(row),
  ] as const;
}

type ReservationStatements = BoundStatements<ReturnType<typeof reservationStatements>>;

/** Runs a reservation's round trip, with the caller's queries about the user riding in it. */
async function reserve(
  ctx: ServiceContext,
  clock: LockoutClock,
  [reservation, counterRead, ...alongside]: readonly [...ReservationStatements, ...BatchItem<'sqlite'>[]],
): Promise<ReservedAttempt | undefined> {
  const [granted, current, ...extra] = await ctx.db.batch([reservation, counterRead, ...alongside]);
  const [counter] = current;
  if (!counter) return undefined;
  const decision = decideAttempt(ACCOUNT_LOCKOUT, granted[0], counter, ctx.now.getTime());
  if (!decision.allowed) throw lockedProblem(decision.retryAfterSeconds);
  return {
    user: decision.reserved,
    alongside: extra as unknown[][],
    locksOnFailure: decision.locksOnFailure,
    clock,
  };
}

const reservationById = builtOnce((scope) =>
  reservationStatements(
    scope,
    and(eq(users.tenantId, scope.tenant.id), eq(users.id, sql.placeholder('userId'))),
  ),
);

/**
 * Reserves an attempt at a secret of a user known by id (step-up, a password change, a login's
 * second factor), before anything is checked, in one D1 round trip that also reads the user;
 * undefined when there is no such user.
 */
export function reserveAttempt(ctx: ServiceContext, userId: string): Promise<ReservedAttempt | undefined> {
  const clock = lockoutClock(ACCOUNT_LOCKOUT, ctx.now.getTime());
  return reserve(ctx, clock, reservationById(ctx, { ...clock, userId }));
}

/**
 * How a login reserves its attempt: as `reserveAttempt`, the user found by a login email in its
 * kind's namespace only, and the caller's queries about the user (`alongside`, given the subquery
 * that finds it) in the same round trip. Made once per module: its statements are built once.
 */
export function loginReservation(
  alongside: (scope: TenantScope, userId: SQL<string>) => BatchItem<'sqlite'>[],
): (ctx: ServiceContext, login: LoginEmail) => Promise<ReservedAttempt | undefined> {
  const statements = builtOnce((scope) => {
    const row = loginDigestIs(scope.tenant.id, sql.placeholder('kind'), sql.placeholder('digest'));
    return [...reservationStatements(scope, row), ...alongside(scope, userIdWhere(row))] as const;
  });
  return async (ctx, login) => {
    const clock = lockoutClock(ACCOUNT_LOCKOUT, ctx.now.getTime());
    const digest = await loginEmailDigest(ctx, login.email);
    return reserve(ctx, clock, statements(ctx, { ...clock, kind: login.kind, digest }));
  };
}

/**
 * The attempt failed: its slot stays counted. The failure in the last slot locks the account,
 * unless a proof has since given a slot back or started the window over; the lock is audited
 * and announced once, by the failure that set it.
 */
export async function failAttempt(
  ctx: ServiceContext,
  attempt: ReservedAttempt,
  wrong: ApiError,
): Promise<never> {
  if (!attempt.locksOnFailure) throw wrong;
  const { clock, user } = attempt;
  const locked = await ctx.db
    .update(users)
    .set({ lockedUntil: clock.lockUntil })
    .where(
      and(
        eq(users.tenantId, ctx.tenant.id),
        eq(users.id, user.id),
        sql`${users.failedLoginWindowStartedAt} IS ${user.failedLoginWindowStartedAt}`,
        gte(users.failedLoginCount, ACCOUNT_LOCKOUT.limit),
        sql`(${users.lockedUntil} IS NULL OR ${users.lockedUntil} <= ${clock.now})`,
      ),
    )
    .returning({ id: users.id })
    .get();
  if (!locked) throw wrong;
  await commit(ctx, {
    statements: [],
    audit: [
      {
        action: 'user.locked',
        targetType: 'user',
        targetId: user.id,
        data: { lockedUntil: clock.lockUntil },
      },
    ],
    events: [event('user.locked', { userId: user.id, lockedUntil: clock.lockUntil })],
  });
  throw lockedProblem(retryAfter(clock.lockUntil, ctx.now.getTime()));
}

/**
 * The secret was proved but the user is not through yet (a login's second factor is still to
 * come; a step-up): the attempt's slot is given back, within the window it was taken in, and
 * nothing else is forgiven — knowing the password buys no extra guesses at the second factor.
 */
export function releaseAttempt(ctx: ServiceContext, attempt: ReservedAttempt) {
  return ctx.db
    .update(users)
    .set({ failedLoginCount: sql`${users.failedLoginCount} - 1` })
    .where(
      and(
        eq(users.tenantId, ctx.tenant.id),
        eq(users.id, attempt.user.id),
        sql`${users.failedLoginWindowStartedAt} IS ${attempt.user.failedLoginWindowStartedAt}`,
        sql`${users.failedLoginCount} > 0`,
      ),
    );
}

/**
 * Runs a step inside a reserved attempt that may refuse the request for a reason that is no guess
 * at the secret (a new password the policy refuses, a cloned passkey): such a refusal, an
 * `ApiError`, gives the slot back. Anything else thrown leaves it counted (fail closed).
 */
export async function releasedIfRefused<T>(
  ctx: ServiceContext,
  attempt: ReservedAttempt,
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof ApiError) await releaseAttempt(ctx, attempt);
    throw error;
  }
}

/** A completed login or a password reset: the user has proved enough to start from nothing. */
export function clearFailures(ctx: ServiceContext, userId: string) {
  const [clearing] = failuresCleared(ctx, { userId });
  return clearing;
}

const failuresCleared = builtOnce(
  (scope) =>
    [
      scope.db
        .update(users)
        .set({ failedLoginCount: 0, failedLoginWindowStartedAt: null, lockedUntil: null })
        .where(and(eq(users.tenantId, scope.tenant.id), eq(users.id, sql.placeholder('userId')))),
    ] as const,
);
