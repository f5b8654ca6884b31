import { type AuthenticationResponseJSON, verifyAuthenticationResponse } from '@simplewebauthn/server';
import { COSEALG, decodeClientDataJSON, isoBase64URL, isoUint8Array } from '@simplewebauthn/server/helpers';
import { and, desc, eq, isNull, lt } from 'drizzle-orm';
import { webauthnChallenges, webauthnCredentials } from '../../db/tenant';
import type { SecondFactor } from '../../platform/auth/second-factor';
import type { ServiceContext } from '../../platform/context';
import { ApiError } from '../../platform/errors';
import { commit, event } from '../../platform/unit-of-work';
import { type AuthenticationResponse, AuthenticationResponseSchema, WebAuthnSettingsSchema } from './schemas';

/** Challenges, and the browser's wait for the user, last five minutes. */
export const CHALLENGE_TTL_SECONDS = 300;

/** EdDSA, ES256 and RS256: what passkey providers and security keys use today. */
export const SUPPORTED_ALGORITHMS = [COSEALG.EdDSA, COSEALG.ES256, COSEALG.RS256];

/**
 * RFC 8176 `amr` of a passkey assertion. `pop`: proof of possession of a key; attestation is not
 * requested, so whether the key is hardware- (`hwk`) or software-secured (`swk`) is unknown.
 * `user`: the authenticator tested user presence, which every accepted assertion carries. When
 * it also verified the user (PIN or biometrics, required for passwordless sign-in), the
 * passkey alone is two factors and sign-in adds `mfa`.
 */
export const PASSKEY_AMR = ['pop', 'user'] as const;

export type CredentialRow = typeof webauthnCredentials.$inferSelect;
type ChallengePurpose = (typeof webauthnChallenges.$inferSelect)['purpose'];

export interface RelyingParty {
  id: string;
  name: string;
  origins: string[];
}

/**
 * The tenant's relying party from the registry (`settings.webauthn`), or by default the API's
 * own host and origin. The operator API validates the setting; a row edited by hand into an
 * invalid shape fails loudly here rather than falling back.
 */
export function relyingParty(ctx: ServiceContext): RelyingParty {
  const configured = ctx.tenant.settings.webauthn;
  if (configured !== undefined && configured !== null) {
    const settings = WebAuthnSettingsSchema.parse(configured);
    return { id: settings.rpId, name: settings.rpName ?? ctx.tenant.name, origins: settings.origins };
  }
  const api = new URL(ctx.issuer);
  return { id: api.hostname, name: ctx.tenant.name, origins: [api.origin] };
}

/** The user handle in options and assertions: the user id's bytes, no personal data. */
export function userHandle(userId: string) {
  return isoUint8Array.fromUTF8String(userId);
}

/** Records a challenge the library generated; expired ones of the tenant go in the same batch. */
export async function storeChallenge(
  ctx: ServiceContext,
  challenge: string,
  purpose: ChallengePurpose,
  userId: string | null,
): Promise<void> {
  const now = ctx.now.toISOString();
  await ctx.db.batch([
    ctx.db
      .delete(webauthnChallenges)
      .where(and(eq(webauthnChallenges.tenantId, ctx.tenant.id), lt(webauthnChallenges.expiresAt, now))),
    ctx.db.insert(webauthnChallenges).values({
      tenantId: ctx.tenant.id,
      challenge,
      purpose,
      userId,
      createdAt: now,
      expiresAt: new Date(ctx.now.getTime() + CHALLENGE_TTL_SECONDS * 1000).toISOString(),
    }),
  ]);
}

/** The challenge a response claims to answer, read from its client data; undefined if unreadable. */
export function challengeOf(clientDataJSON: string): string | undefined {
  try {
    const { challenge } = decodeClientDataJSON(clientDataJSON);
    return typeof challenge === 'string' ? challenge : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Spends a challenge with one `DELETE … RETURNING`: of two requests racing with the same
 * challenge only one gets the row. An expired challenge is spent too, and refused. With
 * `userId`, only a challenge issued to that user matches.
 */
export async function consumeChallenge(
  ctx: ServiceContext,
  challenge: string,
  purpose: ChallengePurpose,
  userId?: string,
): Promise<{ userId: string | null } | undefined> {
  const row = await ctx.db
    .delete(webauthnChallenges)
    .where(
      and(
        eq(webauthnChallenges.tenantId, ctx.tenant.id),
        eq(webauthnChallenges.challenge, challenge),
        eq(webauthnChallenges.purpose, purpose),
        userId === undefined ? undefined : eq(webauthnChallenges.userId, userId),
      ),
    )
    .returning({ userId: webauthnChallenges.userId, expiresAt: webauthnChallenges.expiresAt })
    .get();
  if (!row || row.expiresAt <= ctx.now.toISOString()) return undefined;
  return { userId: row.userId };
}

/** A user's passkeys, scoped to the tenant like every query. */
export function passkeysOfUser(ctx: ServiceContext, userId: string) {
  return and(eq(webauthnCredentials.tenantId, ctx.tenant.id), eq(webauthnCredentials.userId, userId));
}

export function credentialsOf(ctx: ServiceContext, userId: string): Promise<CredentialRow[]> {
  return ctx.db
    .select()
    .from(webauthnCredentials)
    .where(passkeysOfUser(ctx, userId))
    .orderBy(desc(webauthnCredentials.createdAt));
}

/** The passkeys the browser may offer: blocked ones are left out. */
export function descriptorsOf(credentials: CredentialRow[]) {
  return credentials
    .filter((credential) => credential.cloneSuspectedAt === null)
    .map((credential) => ({ id: credential.id, transports: credential.transports }));
}

/**
 * Library errors describe what in the response failed (origin, RP id, flags, signature) against
 * the relying party's public configuration: worth showing to the integrating developer.
 */
export function reasonOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 300);
}

export type AssertionOutcome =
  | { verified: true; credential: CredentialRow }
  | { verified: false; reason: string };

function refused(reason: string): AssertionOutcome {
  return { verified: false, reason };
}

function cloneSuspected(): ApiError {
  return new ApiError('passkey_clone_suspected');
}

/**
 * A counter that does not grow means two authenticators hold the key (WebAuthn §6.1.1); which
 * one is genuine is unknown, so the passkey is blocked for good and the tenant is told.
 */
async function blockClonedCredential(ctx: ServiceContext, credential: CredentialRow, presented: number) {
  await commit(ctx, {
    statements: [
      ctx.db
        .update(webauthnCredentials)
        .set({ cloneSuspectedAt: ctx.now.toISOString() })
        .where(
          and(
            eq(webauthnCredentials.tenantId, ctx.tenant.id),
            eq(webauthnCredentials.id, credential.id),
            isNull(webauthnCredentials.cloneSuspectedAt),
          ),
        ),
    ],
    audit: [
      {
        action: 'passkey.clone_suspected',
        targetType: 'user',
        targetId: credential.userId,
        data: { credentialId: credential.id, storedCounter: credential.counter, presentedCounter: presented },
      },
    ],
    events: [event('passkey.clone_suspected', { userId: credential.userId, credentialId: credential.id })],
  });
}

/**
 * Moves the counter forward only if it grows (or both are 0: authenticators without a counter),
 * in one conditional UPDATE, so two assertions with the same counter cannot both pass.
 */
async function advanceCounter(
  ctx: ServiceContext,
  credential: CredentialRow,
  counter: number,
  backedUp: boolean,
): Promise<boolean> {
  const advanced = await ctx.db
    .update(webauthnCredentials)
    .set({ counter, backedUp, lastUsedAt: ctx.now.toISOString() })
    .where(
      and(
        eq(webauthnCredentials.tenantId, ctx.tenant.id),
        eq(webauthnCredentials.id, credential.id),
        isNull(webauthnCredentials.cloneSuspectedAt),
        counter === 0 ? eq(webauthnCredentials.counter, 0) : lt(webauthnCredentials.counter, counter),
      ),
    )
    .returning({ id: webauthnCredentials.id })
    .get();
  return advanced !== undefined;
}

/**
 * Verifies a passkey assertion against a challenge of `purpose` (bound to `userId` when given):
 * challenge, credential of the right user, origin, RP id, flags and signature, then the counter.
 * A suspected clone throws `passkey_clone_suspected`; every other failure is an outcome, so
 * that sign-in and second factor can each answer in their own terms.
 */
export async function verifyAssertion(
  ctx: ServiceContext,
  input: {
    response: AuthenticationResponse;
    purpose: 'SIGN_IN' | 'SECOND_FACTOR';
    userId?: string;
    requireUserVerification: boolean;
  },
): Promise<AssertionOutcome> {
  const { response } = input;
  const challenge = challengeOf(response.response.clientDataJSON);
  const issued = challenge && (await consumeChallenge(ctx, challenge, input.purpose, input.userId));
  if (!challenge || !issued) {
    return refused('the challenge is unknown, already used or expired: request new options');
  }
  const owner = input.userId ?? issued.userId;
  const credential = await ctx.db
    .select()
    .from(webauthnCredentials)
    .where(and(eq(webauthnCredentials.tenantId, ctx.tenant.id), eq(webauthnCredentials.id, response.id)))
    .get();
  if (!credential || (owner !== null && credential.userId !== owner)) {
    return refused('no such passkey is registered for this user');
  }
  const handle = response.response.userHandle;
  if (handle !== undefined && handle !== isoBase64URL.fromUTF8String(credential.userId)) {
    return refused('the user handle does not belong to this passkey');
  }

  const rp = relyingParty(ctx);
  let verification: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
  try {
    verification = await verifyAuthenticationResponse({
      // The schema checked the shape; the library checks every value.
      response: response as AuthenticationResponseJSON,
      expectedChallenge: challenge,
      expectedOrigin: rp.origins,
      expectedRPID: rp.id,
      // Counter 0 turns off the library's own counter check, which runs before the signature
      // is checked: the clone verdict below is reached only with a valid signature.
      credential: {
        id: credential.id,
        publicKey: isoBase64URL.toBuffer(credential.publicKey),
        counter: 0,
        transports: credential.transports,
      },
      requireUserVerification: input.requireUserVerification,
    });
  } catch (error) {
    return refused(reasonOf(error));
  }
  if (!verification.verified) return refused('the signature does not verify');

  const { newCounter, credentialBackedUp } = verification.authenticationInfo;
  if (credential.cloneSuspectedAt !== null) throw cloneSuspected();
  if (!(await advanceCounter(ctx, credential, newCounter, credentialBackedUp))) {
    await blockClonedCredential(ctx, credential, newCounter);
    throw cloneSuspected();
  }
  return { verified: true, credential };
}

/**
 * WEBAUTHN as a second factor (login's MFA step, step-up): the assertion must answer a
 * challenge issued to this user by `POST /auth/webauthn/authentication/options`. Blocked
 * passkeys still count as enrolled, so a detected clone cannot downgrade the login to password only.
 */
export const passkeySecondFactor: SecondFactor = {
  amr: PASSKEY_AMR,
  enrolment(ctx, userId) {
    return ctx.db
      .select({ id: webauthnCredentials.id })
      .from(webauthnCredentials)
      .where(and(eq(webauthnCredentials.tenantId, ctx.tenant.id), eq(webauthnCredentials.userId, userId)))
      .limit(1);
  },
  async verify(ctx, userId, proof) {
    const parsed = AuthenticationResponseSchema.safeParse(proof.credential);
    if (!parsed.success) return false;
    const outcome = await verifyAssertion(ctx, {
      response: parsed.data,
      purpose: 'SECOND_FACTOR',
      userId,
      requireUserVerification: false,
    });
    return outcome.verified;
  },
};
