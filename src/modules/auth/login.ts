import { and, eq, sql } from 'drizzle-orm';
import { users } from '../../db/tenant';
import { hashPassword, PBKDF2_ITERATIONS, verifyPassword } from '../../platform/auth/passwords';
import { issueMfaToken, verifyMfaToken } from '../../platform/auth/tokens';
import type { ServiceContext } from '../../platform/context';
import { ApiError } from '../../platform/errors';
import { emailDigest } from '../../platform/lookup-digests';
import { commit, event } from '../../platform/unit-of-work';
import type { LoginInput, LoginResultView, MfaVerifyInput, TokenPairView } from './schemas';
import {
  enrolledSecondFactors,
  hasSecondFactor,
  type SecondFactorMethod,
  secondFactors,
} from './second-factors';
import { startSession, type UserRow } from './sessions';

export const LOCKOUT_THRESHOLD = 5;
export const LOCKOUT_WINDOW_MS = 15 * 60 * 1000;
export const LOCKOUT_DURATION_MS = 15 * 60 * 1000;

/**
 * Verified when the email is unknown, so that answer costs the same hash work as a wrong
 * password and timing does not tell which emails have accounts. Its hash matches nothing.
 */
const UNKNOWN_USER_HASH = `pbkdf2-sha256$${PBKDF2_ITERATIONS}$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=`;

export async function findUserByEmail(ctx: ServiceContext, email: string): Promise<UserRow | undefined> {
  const digest = await emailDigest(ctx.env.FIELD_ENCRYPTION_KEY, ctx.tenant.id, email);
  return ctx.db
    .select()
    .from(users)
    .where(and(eq(users.tenantId, ctx.tenant.id), eq(users.emailDigest, digest)))
    .get();
}

export async function findUser(ctx: ServiceContext, userId: string): Promise<UserRow | undefined> {
  return ctx.db
    .select()
    .from(users)
    .where(and(eq(users.tenantId, ctx.tenant.id), eq(users.id, userId)))
    .get();
}

function lockedProblem(lockedUntil: string, now: Date): ApiError {
  const seconds = Math.max(1, Math.ceil((Date.parse(lockedUntil) - now.getTime()) / 1000));
  return new ApiError('account_locked', {
    detail: `Too many failed attempts: try again in ${Math.ceil(seconds / 60)} minute(s).`,
    headers: { 'Retry-After': String(seconds) },
  });
}

/** Every way into an account is closed while it is locked, passkeys included. */
export function assertNotLocked(user: UserRow, now: Date): void {
  if (user.lockedUntil && user.lockedUntil > now.toISOString()) throw lockedProblem(user.lockedUntil, now);
}

export function clearFailures(ctx: ServiceContext, userId: string) {
  return ctx.db
    .update(users)
    .set({ failedLoginCount: 0, failedLoginWindowStartedAt: null, lockedUntil: null })
    .where(and(eq(users.tenantId, ctx.tenant.id), eq(users.id, userId)));
}

/**
 * Counts a failed password or second factor in one atomic UPDATE (D1 serialises writes, so
 * concurrent failures cannot both read a stale count); the failure that reaches the threshold
 * locks the account and says so with an audit row and a `user.locked` event.
 */
export async function recordFailedAttempt(ctx: ServiceContext, userId: string): Promise<void> {
  const now = ctx.now.toISOString();
  const windowOpen = sql`${users.failedLoginWindowStartedAt} > ${new Date(ctx.now.getTime() - LOCKOUT_WINDOW_MS).toISOString()}`;
  const lockUntil = new Date(ctx.now.getTime() + LOCKOUT_DURATION_MS).toISOString();
  const updated = await ctx.db
    .update(users)
    .set({
      failedLoginCount: sql`CASE WHEN ${windowOpen} THEN ${users.failedLoginCount} + 1 ELSE 1 END`,
      failedLoginWindowStartedAt: sql`CASE WHEN ${windowOpen} THEN ${users.failedLoginWindowStartedAt} ELSE ${now} END`,
      lockedUntil: sql`CASE WHEN ${windowOpen} AND ${users.failedLoginCount} + 1 >= ${LOCKOUT_THRESHOLD} THEN ${lockUntil} ELSE ${users.lockedUntil} END`,
    })
    .where(and(eq(users.tenantId, ctx.tenant.id), eq(users.id, userId)))
    .returning({ lockedUntil: users.lockedUntil })
    .get();
  if (updated?.lockedUntil !== lockUntil) return;
  await commit(ctx, {
    statements: [],
    audit: [
      { action: 'user.locked', targetType: 'user', targetId: userId, data: { lockedUntil: lockUntil } },
    ],
    events: [event('user.locked', { userId, lockedUntil: lockUntil })],
  });
  throw lockedProblem(lockUntil, ctx.now);
}

/**
 * Step one of a login. Every path verifies a password hash, so unknown emails, wrong passwords
 * and locked accounts cost the same; with a second factor enrolled, the answer is an MFA
 * challenge instead of tokens.
 */
export async function login(ctx: ServiceContext, input: LoginInput): Promise<LoginResultView> {
  const user = await findUserByEmail(ctx, input.email);
  const check = await verifyPassword(input.password, user?.passwordHash ?? UNKNOWN_USER_HASH);
  if (!user) throw new ApiError('invalid_credentials');
  assertNotLocked(user, ctx.now);
  if (!check.valid) {
    await recordFailedAttempt(ctx, user.id);
    throw new ApiError('invalid_credentials');
  }
  if (user.status !== 'ACTIVE') throw new ApiError('account_disabled');

  const methods = await enrolledSecondFactors(ctx, user.id);
  if (methods.length > 0) {
    return {
      mfaRequired: true,
      mfaToken: await issueMfaToken(ctx.env, {
        issuer: ctx.issuer,
        userId: user.id,
        tenantId: ctx.tenant.id,
        now: ctx.now,
      }),
      methods,
    };
  }
  const rehash = check.needsRehash
    ? [replacePasswordHash(ctx, user.id, await hashPassword(input.password))]
    : [];
  return startSession(ctx, user, ['pwd'], [clearFailures(ctx, user.id), ...rehash]);
}

/** Brings a hash made with older parameters up to today's, while the password is at hand. */
function replacePasswordHash(ctx: ServiceContext, userId: string, passwordHash: string) {
  return ctx.db
    .update(users)
    .set({ passwordHash, updatedAt: ctx.now.toISOString() })
    .where(and(eq(users.tenantId, ctx.tenant.id), eq(users.id, userId)));
}

/** The password check of step-up: wrong passwords count towards the lockout like at login. */
export async function provePassword(ctx: ServiceContext, user: UserRow, password: string): Promise<void> {
  assertNotLocked(user, ctx.now);
  const check = await verifyPassword(password, user.passwordHash);
  if (!check.valid) {
    await recordFailedAttempt(ctx, user.id);
    throw new ApiError('invalid_credentials', { detail: 'The password is wrong.' });
  }
}

/**
 * Checks a second factor for a user; a wrong proof counts towards the lockout. Shared by the
 * login's MFA step and step-up.
 */
export async function proveSecondFactor(
  ctx: ServiceContext,
  user: UserRow,
  method: SecondFactorMethod,
  proof: { code?: string; credential?: unknown },
): Promise<readonly string[]> {
  assertNotLocked(user, ctx.now);
  const factor = secondFactors[method];
  if (!factor || !(await hasSecondFactor(ctx, user.id, method))) {
    throw new ApiError('mfa_method_not_enrolled', { detail: `${method} is not enrolled for this user.` });
  }
  if (!(await factor.verify(ctx, user.id, proof))) {
    await recordFailedAttempt(ctx, user.id);
    throw new ApiError('invalid_mfa_code');
  }
  return factor.amr;
}

/** Step two of a login with 2FA: the MFA token from step one plus a second factor. */
export async function completeMfaLogin(ctx: ServiceContext, input: MfaVerifyInput): Promise<TokenPairView> {
  const claims = await verifyMfaToken(ctx.env, input.mfaToken, ctx.issuer);
  const user = claims && claims.tenantId === ctx.tenant.id ? await findUser(ctx, claims.userId) : undefined;
  if (user?.status !== 'ACTIVE') throw new ApiError('invalid_mfa_token');
  const amr = await proveSecondFactor(ctx, user, input.method, input);
  return startSession(ctx, user, ['pwd', ...amr, 'mfa'], [clearFailures(ctx, user.id)]);
}
