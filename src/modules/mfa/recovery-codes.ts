import { and, count, eq, isNull } from 'drizzle-orm';
import type { TenantScope } from '../../db/built-once';
import { sealPurposes } from '../../db/customer-data';
import { recoveryCodes } from '../../db/tenant';
import type { SecondFactorProof } from '../../platform/auth/second-factor';
import type { UserIdRef } from '../../platform/auth/user-identity';
import type { ServiceContext } from '../../platform/context';
import { type FieldContext, fieldDigest } from '../../platform/field-encryption';
import { CROCKFORD_BASE32 } from '../../platform/ids';
import { commit, event } from '../../platform/unit-of-work';

export const RECOVERY_CODE_COUNT = 10;
/**
 * Ten base32 characters, 50 random bits per code. Guessing needs the password first and is then
 * held back by the account lockout (5 failures per 15 minutes) and per-IP limits: at that pace
 * hitting any one of ten codes takes hundreds of millions of years.
 */
const RECOVERY_CODE_CHARACTERS = 10;

/**
 * Codes are stored as HMAC-SHA256 digests under a per-tenant key derived from the
 * FIELD_ENCRYPTION_KEY secret, not as plain hashes: 50 bits is too little against an offline
 * search of a plain SHA-256, but without the key a leaked table gives nothing to search with.
 * A slow password hash is not needed for random codes, and a keyed digest can be looked up
 * directly, so a code is spent by a single UPDATE.
 */
function digestContext(ctx: ServiceContext, userId: string): FieldContext {
  return {
    rootKey: ctx.env.FIELD_ENCRYPTION_KEY,
    tenantId: ctx.tenant.id,
    purpose: sealPurposes.recoveryCode,
    recordId: userId,
  };
}

function newRecoveryCode(): string {
  // 256 is a multiple of 32, so every character is equally likely.
  const bytes = crypto.getRandomValues(new Uint8Array(RECOVERY_CODE_CHARACTERS));
  return Array.from(bytes, (byte) => CROCKFORD_BASE32[byte % 32]).join('');
}

/** Grouped `xxxxx-xxxxx` for reading aloud and writing down. */
function formatRecoveryCode(code: string): string {
  const half = RECOVERY_CODE_CHARACTERS / 2;
  return `${code.slice(0, half)}-${code.slice(half)}`;
}

/**
 * The code as issued, whatever the user typed around it: case, spaces and dashes do not
 * matter, and the letters Crockford's base32 leaves out read as the digits they resemble.
 */
function normalizeRecoveryCode(input: string): string | null {
  const code = input.toLowerCase().replace(/[\s-]/g, '').replace(/[il]/g, '1').replace(/o/g, '0');
  if (code.length !== RECOVERY_CODE_CHARACTERS) return null;
  return [...code].every((character) => CROCKFORD_BASE32.includes(character)) ? code : null;
}

function codesOf(ctx: TenantScope, userId: UserIdRef) {
  return and(eq(recoveryCodes.tenantId, ctx.tenant.id), eq(recoveryCodes.userId, userId));
}

export function deleteRecoveryCodes(ctx: ServiceContext, userId: string) {
  return ctx.db.delete(recoveryCodes).where(codesOf(ctx, userId));
}

/**
 * A fresh set of codes for the user and the statements that store them in place of any earlier
 * set; the caller commits them with its own change. The plain codes exist only in the answer.
 */
export async function issueRecoveryCodes(ctx: ServiceContext, userId: string) {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  const context = digestContext(ctx, userId);
  const digests = await Promise.all(codes.map((code) => fieldDigest(context, code)));
  const createdAt = ctx.now.toISOString();
  return {
    codes: codes.map(formatRecoveryCode),
    statements: [
      deleteRecoveryCodes(ctx, userId),
      ctx.db
        .insert(recoveryCodes)
        .values(digests.map((codeDigest) => ({ tenantId: ctx.tenant.id, userId, codeDigest, createdAt }))),
    ],
  };
}

const unused = isNull(recoveryCodes.consumedAt);

/** A query that finds a row while the user has an unused recovery code. */
export function recoveryCodeEnrolment(ctx: TenantScope, userId: UserIdRef) {
  return ctx.db
    .select({ userId: recoveryCodes.userId })
    .from(recoveryCodes)
    .where(and(codesOf(ctx, userId), unused))
    .limit(1);
}

/**
 * Spends a recovery code with one conditional UPDATE, so a code works once even when sent
 * twice at the same moment. A use is audited and announced with the number left, so the
 * tenant can tell the user when to generate new ones.
 */
export async function consumeRecoveryCode(
  ctx: ServiceContext,
  userId: string,
  proof: SecondFactorProof,
): Promise<boolean> {
  const code = normalizeRecoveryCode(proof.code ?? '');
  if (!code) return false;
  const codeDigest = await fieldDigest(digestContext(ctx, userId), code);
  const spent = await ctx.db
    .update(recoveryCodes)
    .set({ consumedAt: ctx.now.toISOString() })
    .where(and(codesOf(ctx, userId), eq(recoveryCodes.codeDigest, codeDigest), unused))
    .returning({ userId: recoveryCodes.userId })
    .get();
  if (!spent) return false;
  const [left] = await ctx.db
    .select({ remaining: count() })
    .from(recoveryCodes)
    .where(and(codesOf(ctx, userId), unused));
  const remaining = left?.remaining ?? 0;
  await commit(ctx, {
    statements: [],
    audit: [{ action: 'mfa.recovery_code_used', targetType: 'user', targetId: userId, data: { remaining } }],
    events: [event('mfa.recovery_code_used', { userId, remaining })],
  });
  return true;
}
