import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type RegistrationResponseJSON,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { isoBase64URL } from '@simplewebauthn/server/helpers';
import { and, eq, sql } from 'drizzle-orm';
import { webauthnCredentials } from '../../db/tenant';
import { requireUserPrincipal, type UserPrincipal } from '../../platform/auth/principal';
import { verifyMfaToken } from '../../platform/auth/tokens';
import { identityOf } from '../../platform/auth/user-identity';
import type { ServiceContext } from '../../platform/context';
import { ApiError, notFound, validationError } from '../../platform/errors';
import { type Change, commit, commitUnlessRefused, event } from '../../platform/unit-of-work';
import { assertNotLocked, clearFailures } from '../auth/attempts';
import { findUser, findUserByEmail } from '../auth/login';
import type { TokenPairView } from '../auth/schemas';
import { deviceLabel, startSession, type UserRow } from '../auth/sessions';
import {
  type AuthenticationOptionsRequest,
  type AuthenticationVerifyInput,
  MAX_PASSKEYS_PER_USER,
  type PasskeyView,
  type RegistrationVerifyInput,
} from './schemas';
import {
  CHALLENGE_TTL_SECONDS,
  type CredentialRow,
  challengeOf,
  consumeChallenge,
  credentialsOf,
  descriptorsOf,
  PASSKEY_AMR,
  passkeysOfUser,
  reasonOf,
  relyingParty,
  SUPPORTED_ALGORITHMS,
  storeChallenge,
  userHandle,
  verifyAssertion,
} from './webauthn';

async function activeUser(ctx: ServiceContext, principal: UserPrincipal): Promise<UserRow> {
  const user = await findUser(ctx, principal.id);
  if (user?.status !== 'ACTIVE')
    throw new ApiError('invalid_token', { detail: 'The account is not active.' });
  return user;
}

function passkeyLimitReached(): ApiError {
  return new ApiError('passkey_limit_reached', {
    detail: `A user can have at most ${MAX_PASSKEYS_PER_USER} passkeys: remove one first.`,
  });
}

function assertRoomForAnother(credentials: CredentialRow[]): void {
  if (credentials.length >= MAX_PASSKEYS_PER_USER) throw passkeyLimitReached();
}

/**
 * The user id, or NULL (refusing the batch) once the user has the most passkeys allowed: the
 * count is taken by the insert itself, so ceremonies verified side by side cannot all pass the
 * check made before them.
 */
function whileThereIsRoom(ctx: ServiceContext, userId: string) {
  return sql<string>`(CASE WHEN (SELECT count(*) FROM ${webauthnCredentials} WHERE ${webauthnCredentials.tenantId} = ${ctx.tenant.id} AND ${webauthnCredentials.userId} = ${userId}) < ${MAX_PASSKEYS_PER_USER} THEN ${userId} END)`;
}

function invalidRegistration(reason: string): ApiError {
  return new ApiError('invalid_passkey_registration', {
    detail: `The passkey registration did not verify: ${reason}.`,
  });
}

function presentPasskey(row: CredentialRow): PasskeyView {
  return {
    id: row.id,
    name: row.name,
    deviceType: row.deviceType,
    backedUp: row.backedUp,
    transports: row.transports,
    aaguid: row.aaguid,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    cloneSuspectedAt: row.cloneSuspectedAt,
  };
}

/** Step one of enrolment: creation options with a challenge bound to the calling user. */
export async function registrationOptions(ctx: ServiceContext, principal: UserPrincipal) {
  const user = await activeUser(ctx, principal);
  const existing = await credentialsOf(ctx, user.id);
  assertRoomForAnother(existing);
  const rp = relyingParty(ctx);
  const identity = await identityOf(ctx, user);
  const options = await generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userID: userHandle(user.id),
    userName: identity.email,
    userDisplayName: identity.displayName,
    timeout: CHALLENGE_TTL_SECONDS * 1000,
    attestationType: 'none',
    excludeCredentials: existing.map((credential) => ({
      id: credential.id,
      transports: credential.transports,
    })),
    // Discoverable where the authenticator can (passwordless without an email); security keys
    // without storage still enrol, for email-first sign-in and as a second factor.
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
  });
  await storeChallenge(ctx, options.challenge, 'REGISTRATION', user.id);
  return options;
}

/** Step two of enrolment: verifies the attestation and stores the passkey. */
export async function verifyRegistration(
  ctx: ServiceContext,
  principal: UserPrincipal,
  input: RegistrationVerifyInput,
): Promise<PasskeyView> {
  const user = await activeUser(ctx, principal);
  const { credential: response } = input;
  const challenge = challengeOf(response.response.clientDataJSON);
  if (!challenge || !(await consumeChallenge(ctx, challenge, 'REGISTRATION', user.id))) {
    throw invalidRegistration('the challenge is unknown, already used, issued to someone else or expired');
  }
  const rp = relyingParty(ctx);
  let verification: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    verification = await verifyRegistrationResponse({
      // The schema checked the shape; the library checks every value.
      response: response as RegistrationResponseJSON,
      expectedChallenge: challenge,
      expectedOrigin: rp.origins,
      expectedRPID: rp.id,
      requireUserVerification: false,
      supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
    });
  } catch (error) {
    throw invalidRegistration(reasonOf(error));
  }
  if (!verification.verified) throw invalidRegistration('the attestation does not verify');

  const existing = await credentialsOf(ctx, user.id);
  assertRoomForAnother(existing);
  const info = verification.registrationInfo;
  const taken = await ctx.db
    .select({ id: webauthnCredentials.id })
    .from(webauthnCredentials)
    .where(
      and(eq(webauthnCredentials.tenantId, ctx.tenant.id), eq(webauthnCredentials.id, info.credential.id)),
    )
    .get();
  if (taken)
    throw new ApiError('passkey_already_registered', { detail: 'This passkey is already registered.' });

  const row: CredentialRow = {
    tenantId: ctx.tenant.id,
    id: info.credential.id,
    userId: user.id,
    publicKey: isoBase64URL.fromBuffer(info.credential.publicKey),
    counter: info.credential.counter,
    transports: response.response.transports ?? [],
    deviceType: info.credentialDeviceType,
    backedUp: info.credentialBackedUp,
    aaguid: info.aaguid,
    name: input.name ?? deviceLabel(ctx.userAgent),
    createdAt: ctx.now.toISOString(),
    lastUsedAt: null,
    cloneSuspectedAt: null,
  };
  await commitUnlessRefused(
    ctx,
    {
      statements: [
        ctx.db.insert(webauthnCredentials).values({ ...row, userId: whileThereIsRoom(ctx, user.id) }),
      ],
      audit: [
        {
          action: 'passkey.added',
          targetType: 'user',
          targetId: user.id,
          data: { credentialId: row.id, name: row.name, deviceType: row.deviceType, aaguid: row.aaguid },
        },
      ],
      events: [event('passkey.added', { userId: user.id, credentialId: row.id })],
    },
    { violates: 'webauthn_credentials.user_id', refusal: () => passkeyLimitReached() },
  );
  return presentPasskey(row);
}

/** Verifies an MFA token of this tenant and returns its active user. */
async function userOfMfaToken(ctx: ServiceContext, mfaToken: string): Promise<UserRow> {
  const claims = await verifyMfaToken(ctx.env, mfaToken, ctx.issuer);
  const user = claims && claims.tenantId === ctx.tenant.id ? await findUser(ctx, claims.userId) : undefined;
  if (user?.status !== 'ACTIVE') throw new ApiError('invalid_mfa_token');
  return user;
}

/**
 * Request options for the three uses of an assertion. With `mfaToken` (login's second step) or
 * a user's access token (step-up) the challenge is bound to that user and only their passkeys
 * are offered. Otherwise it is a passwordless sign-in: user verification is required, and with
 * `email` that user's passkeys are listed (an unknown email gets an empty list, as a user
 * without passkeys does).
 */
export async function authenticationOptions(ctx: ServiceContext, input: AuthenticationOptionsRequest) {
  const rp = relyingParty(ctx);
  const common = { rpID: rp.id, timeout: CHALLENGE_TTL_SECONDS * 1000 };

  if (input.mfaToken !== undefined || ctx.actor.type !== 'anonymous') {
    if (input.email !== undefined) {
      throw validationError([
        { path: 'email', message: 'is only for passwordless sign-in, without mfaToken or access token' },
      ]);
    }
    const user =
      input.mfaToken !== undefined
        ? await userOfMfaToken(ctx, input.mfaToken)
        : await activeUser(ctx, requireUserPrincipal(ctx.actor));
    const allowCredentials = descriptorsOf(await credentialsOf(ctx, user.id));
    if (allowCredentials.length === 0) {
      throw new ApiError('mfa_method_not_enrolled', {
        detail: 'No usable passkey is registered for this user.',
      });
    }
    const options = await generateAuthenticationOptions({
      ...common,
      allowCredentials,
      userVerification: 'discouraged',
    });
    await storeChallenge(ctx, options.challenge, 'SECOND_FACTOR', user.id);
    return options;
  }

  const user =
    input.email !== undefined
      ? await findUserByEmail(ctx, { kind: input.accountType, email: input.email })
      : undefined;
  const options = await generateAuthenticationOptions({
    ...common,
    allowCredentials:
      input.email !== undefined ? descriptorsOf(user ? await credentialsOf(ctx, user.id) : []) : undefined,
    userVerification: 'required',
  });
  await storeChallenge(ctx, options.challenge, 'SIGN_IN', user?.id ?? null);
  return options;
}

/**
 * Passwordless sign-in. The passkey with user verification is both factors, hence `mfa`. A bad
 * assertion is no guess at a secret of the user, so it does not count towards the lockout;
 * the per-IP login limit bounds the attempts.
 */
export async function signInWithPasskey(
  ctx: ServiceContext,
  input: AuthenticationVerifyInput,
): Promise<TokenPairView> {
  const outcome = await verifyAssertion(ctx, {
    response: input.credential,
    purpose: 'SIGN_IN',
    requireUserVerification: true,
  });
  if (!outcome.verified) {
    throw new ApiError('invalid_passkey', { detail: `The passkey did not verify: ${outcome.reason}.` });
  }
  const user = await findUser(ctx, outcome.credential.userId);
  if (!user) throw new ApiError('invalid_passkey', { detail: 'The passkey belongs to no account.' });
  assertNotLocked(user, ctx.now);
  if (user.status !== 'ACTIVE') throw new ApiError('account_disabled');
  return startSession(ctx, user, [...PASSKEY_AMR, 'mfa'], [clearFailures(ctx, user.id)]);
}

export async function listPasskeys(
  ctx: ServiceContext,
  principal: UserPrincipal,
): Promise<{ data: PasskeyView[]; nextCursor: null }> {
  const rows = await credentialsOf(ctx, principal.id);
  return { data: rows.map(presentPasskey), nextCursor: null };
}

/** Another user's or another tenant's passkey is a 404 like any missing one. */
export async function removePasskey(
  ctx: ServiceContext,
  principal: UserPrincipal,
  credentialId: string,
): Promise<void> {
  const ownPasskey = and(
    eq(webauthnCredentials.tenantId, ctx.tenant.id),
    eq(webauthnCredentials.userId, principal.id),
    eq(webauthnCredentials.id, credentialId),
  );
  const row = await ctx.db.select().from(webauthnCredentials).where(ownPasskey).get();
  if (!row) throw notFound('passkey');
  await commit(ctx, {
    statements: [ctx.db.delete(webauthnCredentials).where(ownPasskey)],
    ...passkeysRemoved(principal.id, [row]),
  });
}

function passkeysRemoved(userId: string, rows: readonly CredentialRow[]): Pick<Change, 'audit' | 'events'> {
  return {
    audit: rows.map((row) => ({
      action: 'passkey.removed',
      targetType: 'user',
      targetId: userId,
      data: { credentialId: row.id, name: row.name },
    })),
    events: rows.map((row) => event('passkey.removed', { userId, credentialId: row.id })),
  };
}

/**
 * Removes every passkey of the user (an administrator's reset). The delete is by user rather
 * than by the ids read first, so a passkey added in between does not survive the reset either;
 * only its event would be missing.
 */
export async function allPasskeysRemoval(ctx: ServiceContext, userId: string): Promise<Change> {
  const rows = await credentialsOf(ctx, userId);
  return {
    statements: [ctx.db.delete(webauthnCredentials).where(passkeysOfUser(ctx, userId))],
    ...passkeysRemoved(userId, rows),
  };
}
