import { and, eq, lt } from 'drizzle-orm';
/*
 * otpauth implements RFC 4226/6238 and the Key URI format every authenticator app reads, compares
 * codes in constant time, takes its HMAC from the audited @noble/hashes and needs nothing beyond
 * WebCrypto's random source, so it runs unchanged in workerd; it is also what the tests use as
 * the user's authenticator app. Hand-rolled TOTP would be one more thing to get subtly wrong.
 */
import { Secret, TOTP } from 'otpauth';
import type { TenantScope } from '../../db/built-once';
import { sealPurposes } from '../../db/customer-data';
import { totpCredentials } from '../../db/tenant';
import type { SecondFactorProof } from '../../platform/auth/second-factor';
import type { UserIdRef } from '../../platform/auth/user-identity';
import type { ServiceContext } from '../../platform/context';
import { decryptField, type FieldContext } from '../../platform/field-encryption';

/** RFC 6238 as every authenticator app supports it: HMAC-SHA-1, 6 digits, 30-second steps. */
const TOTP_PARAMETERS = { algorithm: 'SHA1', digits: 6, period: 30 } as const;
/** 160 bits: the HMAC-SHA-1 key length RFC 4226 §4 (R6) recommends. */
const SECRET_BYTES = 20;
/** The steps just before and after the current one are accepted too, for clock drift and typing time. */
const VALIDATION_WINDOW = 1;
const TOTP_CODE = /^\d{6}$/;

/** Encryption context of a user's TOTP secret, pending or confirmed. */
export function totpSecretContext(ctx: ServiceContext, userId: string): FieldContext {
  return {
    rootKey: ctx.env.FIELD_ENCRYPTION_KEY,
    tenantId: ctx.tenant.id,
    purpose: sealPurposes.totpSecret,
    recordId: userId,
  };
}

/** A fresh secret and the Key URI an authenticator app scans: issuer the tenant, account the user. */
export function newAuthenticator(issuer: string, account: string): { secret: string; otpauthUri: string } {
  const totp = new TOTP({
    issuer,
    label: account,
    secret: new Secret({ size: SECRET_BYTES }),
    ...TOTP_PARAMETERS,
  });
  return { secret: totp.secret.base32, otpauthUri: totp.toString() };
}

/** The time step a code belongs to, if it is right for this secret within the window; else null. */
export function matchingStep(secret: string, code: string, now: Date): number | null {
  if (!TOTP_CODE.test(code)) return null;
  const totp = new TOTP({ secret: Secret.fromBase32(secret), ...TOTP_PARAMETERS });
  const timestamp = now.getTime();
  const delta = totp.validate({ token: code, timestamp, window: VALIDATION_WINDOW });
  return delta === null ? null : totp.counter({ timestamp }) + delta;
}

function credentialOf(ctx: TenantScope, userId: UserIdRef) {
  return and(eq(totpCredentials.tenantId, ctx.tenant.id), eq(totpCredentials.userId, userId));
}

export function deleteTotpCredential(ctx: ServiceContext, userId: string) {
  return ctx.db.delete(totpCredentials).where(credentialOf(ctx, userId));
}

/** A query that finds a row when the user has a confirmed TOTP authenticator. */
export function totpEnrolment(ctx: TenantScope, userId: UserIdRef) {
  return ctx.db
    .select({ userId: totpCredentials.userId })
    .from(totpCredentials)
    .where(credentialOf(ctx, userId))
    .limit(1);
}

export async function isTotpEnrolled(ctx: ServiceContext, userId: string): Promise<boolean> {
  return (await totpEnrolment(ctx, userId)).length > 0;
}

/**
 * Checks a code against the user's confirmed secret and spends its time step: the step is
 * recorded by one conditional UPDATE that only succeeds for a step later than the last one
 * accepted, so a code (or an earlier one) never works twice, even when sent concurrently
 * (RFC 6238 §5.2).
 */
export async function verifyTotpCode(
  ctx: ServiceContext,
  userId: string,
  proof: SecondFactorProof,
): Promise<boolean> {
  const credential = await ctx.db
    .select({ secret: totpCredentials.secret })
    .from(totpCredentials)
    .where(credentialOf(ctx, userId))
    .get();
  if (!credential) return false;
  const secret = await decryptField(totpSecretContext(ctx, userId), credential.secret);
  const step = matchingStep(secret, proof.code?.replace(/\s/g, '') ?? '', ctx.now);
  if (step === null) return false;
  const spent = await ctx.db
    .update(totpCredentials)
    .set({ lastUsedStep: step })
    .where(and(credentialOf(ctx, userId), lt(totpCredentials.lastUsedStep, step)))
    .returning({ userId: totpCredentials.userId })
    .get();
  return spent !== undefined;
}
