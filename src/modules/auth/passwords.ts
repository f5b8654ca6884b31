import { and, count, eq, gt, isNull } from 'drizzle-orm';
import { passwordTokens, users } from '../../db/tenant';
import { readConfig } from '../../env';
import { passwordProblems } from '../../platform/auth/password-policy';
import { hashPassword, unusablePasswordHash } from '../../platform/auth/passwords';
import type { UserPrincipal } from '../../platform/auth/principal';
import { identityColumns, identityOf } from '../../platform/auth/user-identity';
import type { ServiceContext } from '../../platform/context';
import { randomToken, sha256Hex } from '../../platform/crypto';
import { ApiError, validationError } from '../../platform/errors';
import type { PasswordNotificationTemplate } from '../../platform/events';
import { normaliseEmail } from '../../platform/lookup-digests';
import type { CustomerKey } from '../../platform/personal-data';
import { type Change, commit, commitUnlessRefused, event, type Guard } from '../../platform/unit-of-work';
import { clearFailures, releaseAttempt, releasedIfRefused, reserveAttempt } from './attempts';
import { findUserByEmail, provePassword } from './login';
import type { PasswordChangeInput, PasswordForgotInput, PasswordResetInput } from './schemas';
import { revokeUserSessions } from './sessions';

const MINUTE_MS = 60 * 1000;

/**
 * How long each kind of password token works. A reset answers a request the user has just
 * made; an invitation or an administrator's reset may wait in an inbox for a while.
 */
export const passwordTokenLifetimeMs: Record<PasswordNotificationTemplate, number> = {
  PASSWORD_RESET: 30 * MINUTE_MS,
  STAFF_INVITATION: 7 * 24 * 60 * MINUTE_MS,
  CREDENTIALS_RESET: 24 * 60 * MINUTE_MS,
  ORGANIZATION_INVITATION: 7 * 24 * 60 * MINUTE_MS,
};

/**
 * Reset messages per account and hour: the per-IP limit of the route does not stop someone
 * with many addresses from flooding one inbox.
 */
export const RESET_REQUESTS_PER_HOUR = 3;

/**
 * A newer token, a new password or a disabled account makes every token still outstanding for
 * the user void.
 */
export function voidPasswordTokens(ctx: ServiceContext, userId: string) {
  return ctx.db
    .update(passwordTokens)
    .set({ consumedAt: ctx.now.toISOString() })
    .where(
      and(
        eq(passwordTokens.tenantId, ctx.tenant.id),
        eq(passwordTokens.userId, userId),
        isNull(passwordTokens.consumedAt),
      ),
    );
}

/**
 * Commits `change` together with a new single-use token for the user to choose a password
 * with, and the `notification.requested` event that carries it to the tenant's channel. Only
 * the token's SHA-256 is stored; development logs the token itself, as nothing sends email there.
 */
export async function commitWithPasswordToken(
  ctx: ServiceContext,
  user: { id: string; email: string; customerKey: CustomerKey | null },
  template: PasswordNotificationTemplate,
  change: Change,
  ...guards: readonly Guard[]
): Promise<void> {
  const token = randomToken();
  const expiresAt = new Date(ctx.now.getTime() + passwordTokenLifetimeMs[template]).toISOString();
  await commitUnlessRefused(
    ctx,
    {
      statements: [
        ...change.statements,
        voidPasswordTokens(ctx, user.id),
        ctx.db.insert(passwordTokens).values({
          tokenHash: await sha256Hex(token),
          tenantId: ctx.tenant.id,
          userId: user.id,
          purpose: template,
          createdAt: ctx.now.toISOString(),
          expiresAt,
        }),
      ],
      audit: change.audit,
      events: [
        ...change.events,
        event(
          'notification.requested',
          {
            channel: 'EMAIL',
            template,
            userId: user.id,
            customerId: user.customerKey?.customerId,
            recipient: user.email,
            token,
            expiresAt,
          },
          user.customerKey ?? undefined,
        ),
      ],
    },
    ...guards,
  );
  if (readConfig(ctx.env).environment === 'development') {
    ctx.logger.info('password_token_issued', { userId: user.id, template, token, expiresAt });
  }
}

/**
 * A login created without a usable password (an invitation): its user chooses one with the
 * token `commitWithPasswordToken` sends. A customer's login is sealed under `customerKey`.
 */
export async function invitedLogin(
  ctx: ServiceContext,
  login: { id: string; email: string; displayName: string; kind: 'STAFF' | 'CUSTOMER' },
  customerKey: CustomerKey | null,
) {
  const now = ctx.now.toISOString();
  // Wrapped: a query builder returned from an async function would be awaited, that is run.
  const statement = ctx.db.insert(users).values({
    id: login.id,
    ...(await identityColumns(ctx, login.id, login, customerKey)),
    tenantId: ctx.tenant.id,
    kind: login.kind,
    customerId: customerKey?.customerId ?? null,
    passwordHash: unusablePasswordHash(),
    passwordSetupRequired: true,
    createdAt: now,
    updatedAt: now,
  });
  return { statement };
}

/** The new password's hash, marking the account as having a password its user chose. */
function setPassword(ctx: ServiceContext, userId: string, passwordHash: string) {
  const now = ctx.now.toISOString();
  return ctx.db
    .update(users)
    .set({ passwordHash, passwordSetupRequired: false, passwordChangedAt: now, updatedAt: now })
    .where(and(eq(users.tenantId, ctx.tenant.id), eq(users.id, userId)));
}

async function assertAcceptable(password: string, email: string, otherwise: string[] = []): Promise<void> {
  const problems = [...(await passwordProblems(password, email)), ...otherwise];
  if (problems.length > 0)
    throw validationError(problems.map((message) => ({ path: 'newPassword', message })));
}

/**
 * Changing a password needs the current one (wrong ones count towards the lockout) and a fresh
 * authentication (the route's step-up rule); every other session of the user ends, since one
 * of them may be the reason for the change.
 */
export async function changePassword(
  ctx: ServiceContext,
  principal: UserPrincipal,
  input: PasswordChangeInput,
): Promise<void> {
  const attempt = await reserveAttempt(ctx, principal.id);
  if (attempt?.user.status !== 'ACTIVE')
    throw new ApiError('invalid_token', { detail: 'The account is not active.' });
  const { user } = attempt;
  await releasedIfRefused(ctx, attempt, async () =>
    assertAcceptable(
      input.newPassword,
      (await identityOf(ctx, user)).email,
      input.newPassword === input.currentPassword ? ['must differ from the current password'] : [],
    ),
  );
  await provePassword(ctx, attempt, input.currentPassword);
  await commit(ctx, {
    statements: [
      setPassword(ctx, user.id, await hashPassword(input.newPassword)),
      voidPasswordTokens(ctx, user.id),
      releaseAttempt(ctx, attempt),
    ],
    audit: [
      { action: 'user.password_changed', targetType: 'user', targetId: user.id, data: { via: 'CHANGE' } },
    ],
    events: [event('user.password_changed', { userId: user.id, via: 'CHANGE' })],
  });
  await revokeUserSessions(ctx, user.id, 'PASSWORD_CHANGED', { exceptSessionId: principal.sessionId });
}

/**
 * Sends a reset token to an active account with this email, at most
 * `RESET_REQUESTS_PER_HOUR` times an hour. Runs after the 202 has been sent, so neither the
 * answer nor its timing tells whether the email has an account.
 */
export async function requestPasswordReset(
  ctx: ServiceContext,
  { email, accountType }: PasswordForgotInput,
): Promise<void> {
  const user = await findUserByEmail(ctx, { kind: accountType, email });
  if (user?.status !== 'ACTIVE') return;
  const recent = await ctx.db
    .select({ issued: count() })
    .from(passwordTokens)
    .where(
      and(
        eq(passwordTokens.tenantId, ctx.tenant.id),
        eq(passwordTokens.userId, user.id),
        eq(passwordTokens.purpose, 'PASSWORD_RESET'),
        gt(passwordTokens.createdAt, new Date(ctx.now.getTime() - 60 * MINUTE_MS).toISOString()),
      ),
    )
    .get();
  if ((recent?.issued ?? 0) >= RESET_REQUESTS_PER_HOUR) {
    ctx.logger.warn('password_reset_throttled', { userId: user.id });
    return;
  }
  const { customerKey } = await identityOf(ctx, user);
  // A login left behind by an erasure racing its creation: nobody to send a token to.
  if (user.kind === 'CUSTOMER' && !customerKey) return;
  await commitWithPasswordToken(
    ctx,
    { id: user.id, email: normaliseEmail(email), customerKey },
    'PASSWORD_RESET',
    {
      statements: [],
      audit: [{ action: 'user.password_reset_requested', targetType: 'user', targetId: user.id }],
      events: [],
    },
  );
}

function invalidToken(): ApiError {
  return new ApiError('invalid_password_token');
}

/**
 * Sets a new password with a token from `notification.requested`. The token is looked up
 * first so that a password the policy refuses does not spend it; then one conditional UPDATE
 * spends it, so of two concurrent uses exactly one wins. The lockout is lifted (the user has
 * proved control of the mailbox) and every session ends.
 */
export async function resetPassword(ctx: ServiceContext, input: PasswordResetInput): Promise<void> {
  const now = ctx.now.toISOString();
  const usable = and(
    eq(passwordTokens.tenantId, ctx.tenant.id),
    eq(passwordTokens.tokenHash, await sha256Hex(input.token)),
    isNull(passwordTokens.consumedAt),
    gt(passwordTokens.expiresAt, now),
  );
  const found = await ctx.db
    .select({ user: users })
    .from(passwordTokens)
    .innerJoin(users, and(eq(users.tenantId, passwordTokens.tenantId), eq(users.id, passwordTokens.userId)))
    .where(usable)
    .get();
  if (found?.user.status !== 'ACTIVE') throw invalidToken();
  const { user } = found;
  await assertAcceptable(input.newPassword, (await identityOf(ctx, user)).email);
  const passwordHash = await hashPassword(input.newPassword);

  const spent = await ctx.db
    .update(passwordTokens)
    .set({ consumedAt: now })
    .where(usable)
    .returning({ userId: passwordTokens.userId })
    .get();
  if (!spent) throw invalidToken();
  await commit(ctx, {
    statements: [
      setPassword(ctx, user.id, passwordHash),
      clearFailures(ctx, user.id),
      voidPasswordTokens(ctx, user.id),
    ],
    audit: [
      { action: 'user.password_changed', targetType: 'user', targetId: user.id, data: { via: 'RESET' } },
    ],
    events: [event('user.password_changed', { userId: user.id, via: 'RESET' })],
  });
  await revokeUserSessions(ctx, user.id, 'PASSWORD_RESET');
}
