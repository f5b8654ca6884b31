import { and, eq } from 'drizzle-orm';
import { totpCredentials, totpEnrolments } from '../../db/tenant';
import type { UserPrincipal } from '../../platform/auth/principal';
import { identityOf } from '../../platform/auth/user-identity';
import type { ServiceContext } from '../../platform/context';
import { ApiError, validationError } from '../../platform/errors';
import { decryptField, encryptField } from '../../platform/field-encryption';
import { type Change, commit, commitUnlessRefused, event } from '../../platform/unit-of-work';
import { findUser } from '../auth/login';
import { deleteRecoveryCodes, issueRecoveryCodes } from './recovery-codes';
import type { RecoveryCodesView, TotpConfirmInput, TotpEnrolmentView } from './schemas';
import {
  deleteTotpCredential,
  isTotpEnrolled,
  matchingStep,
  newAuthenticator,
  totpSecretContext,
} from './totp';

function pendingEnrolmentOf(ctx: ServiceContext, userId: string) {
  return and(eq(totpEnrolments.tenantId, ctx.tenant.id), eq(totpEnrolments.userId, userId));
}

async function requireTotpEnrolled(ctx: ServiceContext, userId: string): Promise<void> {
  if (!(await isTotpEnrolled(ctx, userId))) {
    throw new ApiError('mfa_method_not_enrolled', {
      detail: 'TOTP is not enrolled for this user; recovery codes come with a TOTP enrolment.',
    });
  }
}

/**
 * Starts (or starts over) a TOTP enrolment: a new secret, stored encrypted as pending, replaces
 * any earlier pending one. It does nothing for logins until it is confirmed with a code.
 */
export async function startTotpEnrolment(
  ctx: ServiceContext,
  principal: UserPrincipal,
): Promise<TotpEnrolmentView> {
  const user = await findUser(ctx, principal.id);
  if (user?.status !== 'ACTIVE')
    throw new ApiError('invalid_token', { detail: 'The account is not active.' });
  if (await isTotpEnrolled(ctx, user.id)) throw new ApiError('totp_already_enrolled');

  const authenticator = newAuthenticator(ctx.tenant.name, (await identityOf(ctx, user)).email);
  const secret = await encryptField(totpSecretContext(ctx, user.id), authenticator.secret);
  const createdAt = ctx.now.toISOString();
  await commit(ctx, {
    statements: [
      ctx.db
        .insert(totpEnrolments)
        .values({ tenantId: ctx.tenant.id, userId: user.id, secret, createdAt })
        .onConflictDoUpdate({
          target: [totpEnrolments.tenantId, totpEnrolments.userId],
          set: { secret, createdAt },
        }),
    ],
    audit: [{ action: 'mfa.totp_enrolment_started', targetType: 'user', targetId: user.id }],
    events: [],
  });
  return authenticator;
}

/**
 * Turns a pending enrolment into the user's TOTP credential once a code proves the app holds
 * the secret, and issues the recovery codes. The code's time step counts as used, so the same
 * code cannot then log in. Of two racing confirmations the credential's primary key lets one
 * through; the other's whole batch rolls back.
 */
export async function confirmTotpEnrolment(
  ctx: ServiceContext,
  principal: UserPrincipal,
  input: TotpConfirmInput,
): Promise<RecoveryCodesView> {
  const userId = principal.id;
  if (await isTotpEnrolled(ctx, userId)) throw new ApiError('totp_already_enrolled');
  const pending = await ctx.db
    .select({ secret: totpEnrolments.secret })
    .from(totpEnrolments)
    .where(pendingEnrolmentOf(ctx, userId))
    .get();
  if (!pending) throw new ApiError('totp_enrolment_not_started');

  const secret = await decryptField(totpSecretContext(ctx, userId), pending.secret);
  const step = matchingStep(secret, input.code, ctx.now);
  if (step === null) {
    throw validationError([
      {
        path: 'code',
        message:
          'does not match the new secret: check that the device’s clock is right and use the current code',
      },
    ]);
  }
  const recovery = await issueRecoveryCodes(ctx, userId);
  await commitUnlessRefused(
    ctx,
    {
      statements: [
        ctx.db.insert(totpCredentials).values({
          tenantId: ctx.tenant.id,
          userId,
          secret: pending.secret,
          lastUsedStep: step,
          confirmedAt: ctx.now.toISOString(),
        }),
        ctx.db.delete(totpEnrolments).where(pendingEnrolmentOf(ctx, userId)),
        ...recovery.statements,
      ],
      audit: [{ action: 'mfa.enrolled', targetType: 'user', targetId: userId, data: { method: 'TOTP' } }],
      events: [event('mfa.enrolled', { userId, method: 'TOTP' })],
    },
    { duplicates: 'totp_credentials.user_id', refusal: () => new ApiError('totp_already_enrolled') },
  );
  return { recoveryCodes: recovery.codes };
}

/**
 * Removing TOTP takes its recovery codes and any pending enrolment with it: the codes stand in
 * for the authenticator, so they must not outlive it as a second factor of their own. Audited
 * and announced only when there was a confirmed authenticator to remove.
 */
export function totpRemoval(ctx: ServiceContext, userId: string, enrolled: boolean): Change {
  return {
    statements: [
      deleteTotpCredential(ctx, userId),
      ctx.db.delete(totpEnrolments).where(pendingEnrolmentOf(ctx, userId)),
      deleteRecoveryCodes(ctx, userId),
    ],
    audit: enrolled
      ? [{ action: 'mfa.removed', targetType: 'user', targetId: userId, data: { method: 'TOTP' } }]
      : [],
    events: enrolled ? [event('mfa.removed', { userId, method: 'TOTP' })] : [],
  };
}

export async function removeTotp(ctx: ServiceContext, principal: UserPrincipal): Promise<void> {
  await requireTotpEnrolled(ctx, principal.id);
  await commit(ctx, totpRemoval(ctx, principal.id, true));
}

/** A new set of recovery codes; every earlier code, used or not, stops working. */
export async function regenerateRecoveryCodes(
  ctx: ServiceContext,
  principal: UserPrincipal,
): Promise<RecoveryCodesView> {
  const userId = principal.id;
  await requireTotpEnrolled(ctx, userId);
  const recovery = await issueRecoveryCodes(ctx, userId);
  await commit(ctx, {
    statements: recovery.statements,
    audit: [
      {
        action: 'mfa.recovery_codes_regenerated',
        targetType: 'user',
        targetId: userId,
        data: { count: recovery.codes.length },
      },
    ],
    events: [event('mfa.recovery_codes_regenerated', { userId, count: recovery.codes.length })],
  });
  return { recoveryCodes: recovery.codes };
}
