import type { BatchItem } from 'drizzle-orm/batch';
import type { TenantScope } from '../../db/built-once';
import type { SecondFactor } from '../../platform/auth/second-factor';
import type { UserIdRef } from '../../platform/auth/user-identity';
import type { ServiceContext } from '../../platform/context';
import { consumeRecoveryCode, recoveryCodeEnrolment } from '../mfa/recovery-codes';
import { totpEnrolment, verifyTotpCode } from '../mfa/totp';
import { passkeySecondFactor } from '../webauthn/webauthn';

export const secondFactorMethods = ['TOTP', 'RECOVERY_CODE', 'WEBAUTHN'] as const;
export type SecondFactorMethod = (typeof secondFactorMethods)[number];

export const secondFactors: Partial<Record<SecondFactorMethod, SecondFactor>> = {
  /** RFC 8176 `otp` is the registered value for RFC 6238 codes; login and step-up add `mfa`. */
  TOTP: { amr: ['otp'], enrolment: totpEnrolment, verify: verifyTotpCode },
  /**
   * RFC 8176 registers nothing for backup codes. They are one-time passwords from a list issued
   * in advance, so `otp` is the honest registered value; an unregistered one would mean nothing
   * to relying parties. Which of the two was used is in the audit trail (`mfa.recovery_code_used`).
   */
  RECOVERY_CODE: { amr: ['otp'], enrolment: recoveryCodeEnrolment, verify: consumeRecoveryCode },
  WEBAUTHN: passkeySecondFactor,
};

const factorEntries = Object.entries(secondFactors) as [SecondFactorMethod, SecondFactor][];

/** How many queries `enrolmentQueries` makes: the rows of a batch's first ones are theirs. */
export const ENROLMENT_QUERIES = factorEntries.length;

/** The queries that find the user's factors, for a batch; `enrolledFrom` reads their rows. */
export function enrolmentQueries(scope: TenantScope, userId: UserIdRef): BatchItem<'sqlite'>[] {
  return factorEntries.map(([, factor]) => factor.enrolment(scope, userId));
}

/** The factors the rows of `enrolmentQueries` (in their order) show enrolled. */
export function enrolledFrom(found: readonly unknown[][]): SecondFactorMethod[] {
  return factorEntries.filter((_, index) => (found[index]?.length ?? 0) > 0).map(([method]) => method);
}

/** The user's factors, in one round trip. */
export async function enrolledSecondFactors(
  ctx: ServiceContext,
  userId: string,
): Promise<SecondFactorMethod[]> {
  const [first, ...rest] = enrolmentQueries(ctx, userId);
  if (!first) return [];
  return enrolledFrom((await ctx.db.batch([first, ...rest])) as unknown[][]);
}

export async function hasSecondFactor(
  ctx: ServiceContext,
  userId: string,
  method: SecondFactorMethod,
): Promise<boolean> {
  const factor = secondFactors[method];
  if (!factor) return false;
  const [found] = (await ctx.db.batch([factor.enrolment(ctx, userId)])) as unknown[][];
  return (found?.length ?? 0) > 0;
}
