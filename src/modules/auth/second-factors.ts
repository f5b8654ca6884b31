import type { ServiceContext } from '../../platform/context';
import { consumeRecoveryCode, hasRecoveryCodes } from '../mfa/recovery-codes';
import { isTotpEnrolled, verifyTotpCode } from '../mfa/totp';
import { passkeySecondFactor } from '../passkeys/webauthn';

export const secondFactorMethods = ['TOTP', 'RECOVERY_CODE', 'WEBAUTHN'] as const;
export type SecondFactorMethod = (typeof secondFactorMethods)[number];

export interface SecondFactorProof {
  /** A TOTP or recovery code. */
  code?: string;
  /** A WebAuthn authentication response (the JSON @simplewebauthn/browser returns). */
  credential?: unknown;
}

/**
 * A way for a user to prove a second factor. Login's MFA step, step-up and sensitive changes
 * all go through this one interface, so adding a factor is adding an entry below.
 */
export interface SecondFactor {
  /** RFC 8176 `amr` values recorded in tokens when this factor is used. */
  amr: readonly string[];
  isEnrolled(ctx: ServiceContext, userId: string): Promise<boolean>;
  /** True when the proof is good; single-use material (codes, challenges) is spent either way. */
  verify(ctx: ServiceContext, userId: string, proof: SecondFactorProof): Promise<boolean>;
}

export const secondFactors: Partial<Record<SecondFactorMethod, SecondFactor>> = {
  /** RFC 8176 `otp` is the registered value for RFC 6238 codes; login and step-up add `mfa`. */
  TOTP: { amr: ['otp'], isEnrolled: isTotpEnrolled, verify: verifyTotpCode },
  /**
   * RFC 8176 registers nothing for backup codes. They are one-time passwords from a list issued
   * in advance, so `otp` is the honest registered value; an unregistered one would mean nothing
   * to relying parties. Which of the two was used is in the audit trail (`mfa.recovery_code_used`).
   */
  RECOVERY_CODE: { amr: ['otp'], isEnrolled: hasRecoveryCodes, verify: consumeRecoveryCode },
  WEBAUTHN: passkeySecondFactor,
};

export async function enrolledSecondFactors(
  ctx: ServiceContext,
  userId: string,
): Promise<SecondFactorMethod[]> {
  const entries = Object.entries(secondFactors) as [SecondFactorMethod, SecondFactor][];
  const enrolled = await Promise.all(entries.map(([, factor]) => factor.isEnrolled(ctx, userId)));
  return entries.filter((_, index) => enrolled[index]).map(([method]) => method);
}
