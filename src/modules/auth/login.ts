import { and, eq } from 'drizzle-orm';
import { users } from '../../db/tenant';
import { hashPassword, PBKDF2_ITERATIONS, verifyPassword } from '../../platform/auth/passwords';
import {
  permissionsFromAssignments,
  type RoleAssignmentRows,
  roleAssignmentQueries,
} from '../../platform/auth/roles';
import type { SecondFactor, SecondFactorProof } from '../../platform/auth/second-factor';
import { issueMfaToken, verifyMfaToken } from '../../platform/auth/tokens';
import { type AccountKind, type LoginEmail, loginEmailIs } from '../../platform/auth/user-identity';
import type { ServiceContext } from '../../platform/context';
import { ApiError } from '../../platform/errors';
import {
  clearFailures,
  failAttempt,
  loginReservation,
  type ReservedAttempt,
  releaseAttempt,
  releasedIfRefused,
  reserveAttempt,
} from './attempts';
import type { LoginInput, LoginResultView, MfaVerifyInput, TokenPairView } from './schemas';
import {
  ENROLMENT_QUERIES,
  enrolledFrom,
  enrolmentQueries,
  hasSecondFactor,
  type SecondFactorMethod,
  secondFactors,
} from './second-factors';
import { startSession, type UserRow } from './sessions';

/**
 * Verified when the email is unknown, so that answer costs the same hash work as a wrong
 * password and timing does not tell which emails have accounts. Its hash matches nothing.
 */
const UNKNOWN_USER_HASH = `pbkdf2-sha256$${PBKDF2_ITERATIONS}$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=`;

export async function findUserByEmail(ctx: ServiceContext, login: LoginEmail): Promise<UserRow | undefined> {
  return ctx.db
    .select()
    .from(users)
    .where(await loginEmailIs(ctx, login))
    .get();
}

export async function findUser(ctx: ServiceContext, userId: string): Promise<UserRow | undefined> {
  return ctx.db
    .select()
    .from(users)
    .where(and(eq(users.tenantId, ctx.tenant.id), eq(users.id, userId)))
    .get();
}

/**
 * A login's reservation reads the user's second factors and, for staff, their roles: a customer
 * holds the CUSTOMER role by being one (`permissionsFromAssignments`), so reads none.
 */
const reserveLogin: Record<AccountKind, ReturnType<typeof loginReservation>> = {
  STAFF: loginReservation((scope, userId) => [
    ...enrolmentQueries(scope, userId),
    ...roleAssignmentQueries(scope.db, scope.tenant.id, userId),
  ]),
  CUSTOMER: loginReservation(enrolmentQueries),
};

/**
 * Step one of a login. The attempt is reserved before the password hash is checked, in the
 * round trip that also reads the user, its second factors and its roles; a refused one gets 423
 * unchecked. Unknown emails and wrong passwords cost the same hash work. With a second factor
 * enrolled, the answer is an MFA challenge instead of tokens, and the password's slot is given
 * back: the second factor reserves its own. Otherwise one batch opens the session.
 */
export async function login(ctx: ServiceContext, input: LoginInput): Promise<LoginResultView> {
  const attempt = await reserveLogin[input.accountType](ctx, { kind: input.accountType, email: input.email });
  const check = await verifyPassword(input.password, attempt?.user.passwordHash ?? UNKNOWN_USER_HASH);
  if (!attempt) throw new ApiError('invalid_credentials');
  if (!check.valid) await failAttempt(ctx, attempt, new ApiError('invalid_credentials'));
  const { user } = attempt;
  // A disabled account keeps the slot: it cannot log in, so nothing is lost by counting it.
  if (user.status !== 'ACTIVE') throw new ApiError('account_disabled');

  const methods = enrolledFrom(attempt.alongside.slice(0, ENROLMENT_QUERIES));
  if (methods.length > 0) {
    await releaseAttempt(ctx, attempt);
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
  // A customer's login read no roles (see reserveLogin), and its permissions need none.
  const permissions = permissionsFromAssignments(
    user,
    attempt.alongside.slice(ENROLMENT_QUERIES) as unknown as RoleAssignmentRows,
  );
  return startSession(ctx, user, ['pwd'], [clearFailures(ctx, user.id), ...rehash], permissions);
}

/** Brings a hash made with older parameters up to today's, while the password is at hand. */
function replacePasswordHash(ctx: ServiceContext, userId: string, passwordHash: string) {
  return ctx.db
    .update(users)
    .set({ passwordHash, updatedAt: ctx.now.toISOString() })
    .where(and(eq(users.tenantId, ctx.tenant.id), eq(users.id, userId)));
}

/** The password check of step-up and of a password change, inside a reserved attempt. */
export async function provePassword(
  ctx: ServiceContext,
  attempt: ReservedAttempt,
  password: string,
): Promise<void> {
  const check = await verifyPassword(password, attempt.user.passwordHash);
  if (!check.valid) {
    await failAttempt(
      ctx,
      attempt,
      new ApiError('invalid_credentials', { detail: 'The password is wrong.' }),
    );
  }
}

/**
 * The second factor a proof is for, refused before any attempt is reserved when the user does
 * not have it: choosing a method one lacks is no guess at a secret.
 */
export async function enrolledFactor(
  ctx: ServiceContext,
  userId: string,
  method: SecondFactorMethod,
): Promise<SecondFactor> {
  const factor = secondFactors[method];
  if (!factor || !(await hasSecondFactor(ctx, userId, method))) {
    throw new ApiError('mfa_method_not_enrolled', { detail: `${method} is not enrolled for this user.` });
  }
  return factor;
}

/**
 * Checks a second factor inside a reserved attempt; a wrong proof is a failure. Shared by the
 * login's MFA step and step-up.
 */
export async function proveSecondFactor(
  ctx: ServiceContext,
  attempt: ReservedAttempt,
  factor: SecondFactor,
  proof: SecondFactorProof,
): Promise<readonly string[]> {
  if (!(await releasedIfRefused(ctx, attempt, () => factor.verify(ctx, attempt.user.id, proof)))) {
    await failAttempt(ctx, attempt, new ApiError('invalid_mfa_code'));
  }
  return factor.amr;
}

/** Step two of a login with 2FA: the MFA token from step one plus a second factor. */
export async function completeMfaLogin(ctx: ServiceContext, input: MfaVerifyInput): Promise<TokenPairView> {
  const claims = await verifyMfaToken(ctx.env, input.mfaToken, ctx.issuer);
  if (claims?.tenantId !== ctx.tenant.id) throw new ApiError('invalid_mfa_token');
  const factor = await enrolledFactor(ctx, claims.userId, input.method);
  const attempt = await reserveAttempt(ctx, claims.userId);
  if (attempt?.user.status !== 'ACTIVE') throw new ApiError('invalid_mfa_token');
  const amr = await proveSecondFactor(ctx, attempt, factor, input);
  return startSession(ctx, attempt.user, ['pwd', ...amr, 'mfa'], [clearFailures(ctx, attempt.user.id)]);
}
