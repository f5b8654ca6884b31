import type { BatchItem } from 'drizzle-orm/batch';
import type { SecondFactor } from '../../platform/auth/second-factor';
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

/** The user's factors; `alongside` statements ride in the same round trip. */
export async function enrolledSecondFactors(
  ctx: ServiceContext,
  userId: string,
  alongside: BatchItem<'sqlite'>[] = [],
): Promise<SecondFactorMethod[]> {
  const entries = Object.entries(secondFactors) as [SecondFactorMethod, SecondFactor][];
  const [first, ...rest] = [...entries.map(([, factor]) => factor.enrolment(ctx, userId)), ...alongside];
  if (!first) return [];
  const found = (await ctx.db.batch([first, ...rest])) as unknown[][];
  return entries.filter((_, index) => (found[index]?.length ?? 0) > 0).map(([method]) => method);
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
