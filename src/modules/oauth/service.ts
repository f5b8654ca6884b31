import { and, eq, gt, isNull, type SQL, sql } from 'drizzle-orm';
import { auditEvents, authorizationCodes, clients, oauthGrants, tppConsents, users } from '../../db/tenant';
import {
  isRevoked,
  markRevoked,
  markTokenRevoked,
  revocationSubjects,
} from '../../platform/auth/authenticate';
import type { CertificateConfirmation } from '../../platform/auth/certificate-binding';
import { isPermission, type Permission } from '../../platform/auth/permissions';
import {
  ACCESS_TOKEN_TTL_SECONDS,
  type AccessTokenClaims,
  issueAccessToken,
  verifyAccessToken,
} from '../../platform/auth/tokens';
import type { ServiceContext } from '../../platform/context';
import { base64UrlEncode, randomToken, sha256Hex } from '../../platform/crypto';
import { ApiError, notFound } from '../../platform/errors';
import { newId } from '../../platform/ids';
import {
  familyFacts,
  firstRefreshToken,
  sessionIdOfRefreshToken,
  sessionStub,
} from '../../platform/sessions/refresh-tokens';
import { commit } from '../../platform/unit-of-work';
import type { AuthenticatedClient } from './clients';
import type { IntrospectionResponse, TokenResponse } from './schemas';

/** RFC 6749 §4.1.2 recommends at most ten minutes; a back-end exchanging at once needs seconds. */
const AUTHORIZATION_CODE_TTL_SECONDS = 60;

/** RFC 7636 §4.1: 43–128 unreserved characters. */
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
/** base64url of a SHA-256 digest, unpadded. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

function scopeList(scope: string | undefined): string[] {
  return scope?.trim() ? scope.trim().split(/\s+/) : [];
}

/** The requested permissions (all of `allowed` when none are asked for), refusing any beyond `allowed`. */
function grantedScope(requested: string | undefined, allowed: readonly Permission[]): Permission[] {
  const scopes = [...new Set(scopeList(requested))];
  if (scopes.length === 0) return [...allowed];
  const refused = scopes.filter((scope) => !allowed.includes(scope as Permission));
  if (refused.length > 0) {
    throw new ApiError('invalid_scope', {
      detail: `Not within the scope this client may have: ${refused.join(', ')}.`,
    });
  }
  return scopes as Permission[];
}

function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

export async function clientCredentialsGrant(
  ctx: ServiceContext,
  client: AuthenticatedClient,
  requestedScope: string | undefined,
  issuer: string,
  binding?: CertificateConfirmation,
): Promise<TokenResponse> {
  // A TPP's client holds its permissions only for customers who consented: on its own (to ask
  // for consents) its token carries none.
  const scope = grantedScope(requestedScope, client.tppId === null ? client.permissions : []).join(' ');
  const accessToken = await issueAccessToken(ctx.env, {
    issuer,
    now: ctx.now,
    claims: {
      sub: client.clientId,
      tid: client.tenant.id,
      scope,
      amr: ['client_secret'],
      auth_time: epochSeconds(ctx.now),
      ptype: 'client',
      gen: client.tokenGeneration,
      ...(binding ? { cnf: binding } : {}),
    },
  });
  return { access_token: accessToken, token_type: 'Bearer', expires_in: ACCESS_TOKEN_TTL_SECONDS, scope };
}

export interface AuthorizationCodeRequest {
  clientId: string;
  /** The customer user who consented, and the customer it acts for. */
  userId: string;
  customerId: string;
  redirectUri: string;
  /** PKCE S256 challenge from the client. */
  codeChallenge: string;
  /** Permissions asked for; the code carries those the client may be granted. */
  scope: readonly string[];
  /** How and when the customer authenticated to consent. */
  amr: readonly string[];
  authTime: number;
  consentId?: string;
}

/**
 * Mints a single-use authorization code bound to the client, its redirect URI and the PKCE
 * challenge. A customer authorising a TPP consent mints one (src/modules/tpp-consents).
 */
export async function issueAuthorizationCode(
  ctx: ServiceContext,
  request: AuthorizationCodeRequest,
): Promise<{ code: string; expiresAt: string; scope: string }> {
  const { statement, ...issued } = await authorizationCodeInsert(ctx, request);
  await statement;
  return issued;
}

/**
 * The code `issueAuthorizationCode` mints and the statement that stores it, for a caller that
 * must store it in the same batch as the change it comes from (a TPP consent's authorisation).
 */
export async function authorizationCodeInsert(ctx: ServiceContext, request: AuthorizationCodeRequest) {
  const tenantId = ctx.tenant.id;
  const client = await ctx.db
    .select()
    .from(clients)
    .where(and(eq(clients.tenantId, tenantId), eq(clients.id, request.clientId)))
    .get();
  if (client?.status !== 'ACTIVE' || !client.grantTypes.includes('authorization_code')) {
    throw new ApiError('unauthorized_client', {
      detail: 'The client may not use the authorization_code grant.',
    });
  }
  if (!client.redirectUris.includes(request.redirectUri)) {
    throw new ApiError('invalid_request', { detail: 'The redirect URI is not registered for the client.' });
  }
  if (!S256_CHALLENGE.test(request.codeChallenge)) {
    throw new ApiError('invalid_request', {
      detail: 'The code challenge must be an S256 PKCE challenge (43 base64url characters).',
    });
  }
  const user = await ctx.db
    .select({ status: users.status })
    .from(users)
    .where(
      and(
        eq(users.tenantId, tenantId),
        eq(users.id, request.userId),
        eq(users.kind, 'CUSTOMER'),
        eq(users.customerId, request.customerId),
      ),
    )
    .get();
  if (user?.status !== 'ACTIVE') throw notFound('active customer user');
  const scope = request.scope.filter(
    (permission) => isPermission(permission) && client.permissions.includes(permission),
  );
  if (scope.length === 0) {
    throw new ApiError('invalid_scope', {
      detail: 'None of the requested scope may be granted to the client.',
    });
  }

  const code = randomToken();
  const expiresAt = new Date(ctx.now.getTime() + AUTHORIZATION_CODE_TTL_SECONDS * 1000).toISOString();
  const statement = ctx.db.insert(authorizationCodes).values({
    id: newId('code', ctx.now.getTime()),
    tenantId,
    codeHash: await sha256Hex(code),
    clientId: client.id,
    userId: request.userId,
    customerId: request.customerId,
    redirectUri: request.redirectUri,
    codeChallenge: request.codeChallenge,
    scope: scope.join(' '),
    amr: [...request.amr],
    authTime: request.authTime,
    consentId: request.consentId ?? null,
    createdAt: ctx.now.toISOString(),
    expiresAt,
  });
  return { code, expiresAt, scope: scope.join(' '), statement };
}

type Grant = typeof oauthGrants.$inferSelect;

/** SQL: the TPP consent `consentId` is authorised and unexpired at `now`. */
function consentInForce(tenantId: string, consentId: SQL, now: string): SQL {
  return sql`exists (select 1 from ${tppConsents} where ${tppConsents.tenantId} = ${tenantId}
    and ${tppConsents.id} = ${consentId} and ${tppConsents.status} = 'AUTHORISED' and ${tppConsents.expiresAt} > ${now})`;
}

/** When the grant's consent ends, in epoch seconds; undefined for a grant without one or one not in force. */
async function consentEnd(ctx: ServiceContext, grant: Grant): Promise<number | undefined> {
  if (grant.consentId === null) return undefined;
  const consent = await ctx.db
    .select({ status: tppConsents.status, expiresAt: tppConsents.expiresAt })
    .from(tppConsents)
    .where(and(eq(tppConsents.tenantId, ctx.tenant.id), eq(tppConsents.id, grant.consentId)))
    .get();
  if (consent?.status !== 'AUTHORISED' || consent.expiresAt <= ctx.now.toISOString()) return 0;
  return Math.floor(Date.parse(consent.expiresAt) / 1000);
}

/**
 * The access token of a grant: it acts for the consenting customer, on behalf of the client.
 * Under a TPP consent it names the consent (`cns`) and never outlives it; issued over mTLS it
 * may be bound to the connection's certificate (`cnf`).
 */
function grantAccessToken(
  ctx: ServiceContext,
  grant: Grant,
  scope: string,
  issuer: string,
  consentEndsAt: number | undefined,
  binding: CertificateConfirmation | undefined,
): Promise<string> {
  const ttlSeconds =
    consentEndsAt === undefined
      ? ACCESS_TOKEN_TTL_SECONDS
      : Math.max(1, Math.min(ACCESS_TOKEN_TTL_SECONDS, consentEndsAt - epochSeconds(ctx.now)));
  return issueAccessToken(ctx.env, {
    issuer,
    now: ctx.now,
    ttlSeconds,
    claims: {
      ...(grant.consentId ? { cns: grant.consentId } : {}),
      ...(binding ? { cnf: binding } : {}),
      sub: grant.userId,
      tid: grant.tenantId,
      sid: grant.sessionId,
      scope,
      amr: grant.amr,
      auth_time: grant.authTime,
      ptype: 'customer',
      cus: grant.customerId,
      client_id: grant.clientId,
      azp: grant.clientId,
    },
  });
}

const invalidCode = () =>
  new ApiError('invalid_grant', {
    detail:
      'The authorization code is invalid, expired or already used, or was issued to another client or redirect URI, or the code verifier does not match.',
  });

export async function authorizationCodeGrant(
  ctx: ServiceContext,
  client: AuthenticatedClient,
  params: { code?: string; redirect_uri?: string; code_verifier?: string },
  issuer: string,
  binding?: CertificateConfirmation,
): Promise<TokenResponse> {
  const { code, redirect_uri: redirectUri, code_verifier: verifier } = params;
  if (!code || !redirectUri || !verifier) {
    throw new ApiError('invalid_request', {
      detail: 'The authorization_code grant needs `code`, `redirect_uri` and `code_verifier`.',
    });
  }
  if (!CODE_VERIFIER.test(verifier)) {
    throw new ApiError('invalid_request', {
      detail: 'The code verifier must be 43–128 unreserved characters (RFC 7636).',
    });
  }
  const tenantId = ctx.tenant.id;
  const codeHash = await sha256Hex(code);
  const challenge = base64UrlEncode(
    new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))),
  );
  const sessionId = newId('session', ctx.now.getTime());
  const now = ctx.now.toISOString();
  const codeRow = and(eq(authorizationCodes.tenantId, tenantId), eq(authorizationCodes.codeHash, codeHash));

  // One batch, so one transaction: the code is consumed only if every binding holds, and the
  // grant exists exactly when the code was consumed. A replay racing this exchange therefore
  // always finds the grant to revoke.
  const [consumed] = await ctx.db.batch([
    ctx.db
      .update(authorizationCodes)
      .set({ consumedAt: now, sessionId })
      .where(
        and(
          codeRow,
          eq(authorizationCodes.clientId, client.clientId),
          eq(authorizationCodes.redirectUri, redirectUri),
          eq(authorizationCodes.codeChallenge, challenge),
          isNull(authorizationCodes.consumedAt),
          gt(authorizationCodes.expiresAt, now),
          // A code minted from a TPP consent is spent only while the consent is in force.
          sql`(${authorizationCodes.consentId} is null or ${consentInForce(tenantId, sql`${authorizationCodes.consentId}`, now)})`,
        ),
      )
      .returning({ id: authorizationCodes.id }),
    ctx.db.insert(oauthGrants).select(
      ctx.db
        .select({
          sessionId: authorizationCodes.sessionId,
          tenantId: authorizationCodes.tenantId,
          clientId: authorizationCodes.clientId,
          userId: authorizationCodes.userId,
          customerId: authorizationCodes.customerId,
          scope: authorizationCodes.scope,
          amr: authorizationCodes.amr,
          authTime: authorizationCodes.authTime,
          consentId: authorizationCodes.consentId,
          createdAt: sql<string>`${now}`.as('created_at'),
          revokedAt: sql<string | null>`null`.as('revoked_at'),
          revokedReason: sql<string | null>`null`.as('revoked_reason'),
        })
        .from(authorizationCodes)
        .where(and(codeRow, eq(authorizationCodes.sessionId, sessionId))),
    ),
  ]);

  if (consumed.length === 0) {
    await revokeGrantOfReplayedCode(ctx, client, codeHash);
    throw invalidCode();
  }
  const grant = await findGrant(ctx, sessionId);
  if (!grant) throw invalidCode();
  const refreshToken = await firstRefreshToken(ctx.env, tenantId, sessionId);
  const endsAt = await consentEnd(ctx, grant);
  return {
    access_token: await grantAccessToken(ctx, grant, grant.scope, issuer, endsAt, binding),
    token_type: 'Bearer',
    expires_in: ACCESS_TOKEN_TTL_SECONDS,
    refresh_token: refreshToken,
    scope: grant.scope,
  };
}

/**
 * RFC 6749 §4.1.2: a code used twice means it leaked, so the tokens issued for it are revoked.
 * Only the code's own client can trigger this; another client's attempt changes nothing.
 */
async function revokeGrantOfReplayedCode(
  ctx: ServiceContext,
  client: AuthenticatedClient,
  codeHash: string,
): Promise<void> {
  const spent = await ctx.db
    .select({ clientId: authorizationCodes.clientId, sessionId: authorizationCodes.sessionId })
    .from(authorizationCodes)
    .where(and(eq(authorizationCodes.tenantId, ctx.tenant.id), eq(authorizationCodes.codeHash, codeHash)))
    .get();
  if (!spent?.sessionId || spent.clientId !== client.clientId) return;
  const grant = await findGrant(ctx, spent.sessionId);
  if (grant) await revokeGrant(ctx, grant, 'authorization_code_reused');
}

/**
 * What the grant's refresh-token object starts its family from on first use. A grant has no
 * last-use column: an object without state has never rotated, so its idle clock runs from the
 * grant's creation, as it did when the exchange started the family.
 */
function grantFamily(grant: Grant) {
  return familyFacts(grant);
}

function findGrant(ctx: ServiceContext, sessionId: string): Promise<Grant | undefined> {
  return ctx.db
    .select()
    .from(oauthGrants)
    .where(and(eq(oauthGrants.tenantId, ctx.tenant.id), eq(oauthGrants.sessionId, sessionId)))
    .get();
}

/** The live grant of the client a refresh token names, or undefined: other clients' grants are not theirs to touch. */
async function clientGrantOfRefreshToken(
  ctx: ServiceContext,
  client: AuthenticatedClient,
  refreshToken: string,
): Promise<Grant | undefined> {
  const sessionId = sessionIdOfRefreshToken(refreshToken);
  if (!sessionId) return undefined;
  const grant = await findGrant(ctx, sessionId);
  return grant && grant.clientId === client.clientId && grant.revokedAt === null ? grant : undefined;
}

/**
 * Ends a grant everywhere it lives: the refresh-token family (Durable Object), its access tokens
 * (KV revocation mark for the session) and the grant row, audited.
 */
async function revokeGrant(ctx: ServiceContext, grant: Grant, reason: string): Promise<void> {
  await Promise.all([
    markRevoked(ctx.env, ctx.tenant.id, grant.sessionId, reason),
    sessionStub(ctx.env, grant.sessionId).revoke(reason, ctx.now.getTime(), grantFamily(grant)),
    commit(ctx, {
      statements: [
        ctx.db
          .update(oauthGrants)
          .set({ revokedAt: ctx.now.toISOString(), revokedReason: reason })
          .where(
            and(
              eq(oauthGrants.tenantId, ctx.tenant.id),
              eq(oauthGrants.sessionId, grant.sessionId),
              isNull(oauthGrants.revokedAt),
            ),
          ),
      ],
      audit: [
        {
          action: 'oauth.grant.revoked',
          targetType: 'session',
          targetId: grant.sessionId,
          data: { reason, clientId: grant.clientId, customerId: grant.customerId },
        },
      ],
      events: [],
    }),
  ]);
}

/** Ends every live grant `which` selects (of a customer, a client, a consent). */
async function revokeGrantsWhere(ctx: ServiceContext, which: SQL, reason: string): Promise<void> {
  const live = await ctx.db
    .select()
    .from(oauthGrants)
    .where(and(eq(oauthGrants.tenantId, ctx.tenant.id), which, isNull(oauthGrants.revokedAt)));
  await Promise.all(live.map((grant) => revokeGrant(ctx, grant, reason)));
}

/** Ends every live third-party grant of a customer: closing or erasing it ends their access too. */
export function revokeCustomerGrants(ctx: ServiceContext, customerId: string, reason: string): Promise<void> {
  return revokeGrantsWhere(ctx, eq(oauthGrants.customerId, customerId), reason);
}

/** Ends every live grant of a client: its TPP was suspended or revoked. */
export function revokeClientGrants(ctx: ServiceContext, clientId: string, reason: string): Promise<void> {
  return revokeGrantsWhere(ctx, eq(oauthGrants.clientId, clientId), reason);
}

/** Ends every live grant made under a TPP consent: the consent was revoked or expired. */
export function revokeConsentGrants(ctx: ServiceContext, consentId: string, reason: string): Promise<void> {
  return revokeGrantsWhere(ctx, eq(oauthGrants.consentId, consentId), reason);
}

const invalidRefreshToken = (
  detail = 'The refresh token is invalid, expired, revoked or was issued to another client.',
) => new ApiError('invalid_grant', { detail });

export async function refreshTokenGrant(
  ctx: ServiceContext,
  client: AuthenticatedClient,
  params: { refresh_token?: string; scope?: string },
  issuer: string,
  binding?: CertificateConfirmation,
): Promise<TokenResponse> {
  if (!params.refresh_token) {
    throw new ApiError('invalid_request', { detail: 'The refresh_token grant needs `refresh_token`.' });
  }
  const grant = await clientGrantOfRefreshToken(ctx, client, params.refresh_token);
  if (!grant) throw invalidRefreshToken();
  const user = await ctx.db
    .select({ status: users.status })
    .from(users)
    .where(and(eq(users.tenantId, ctx.tenant.id), eq(users.id, grant.userId)))
    .get();
  if (user?.status !== 'ACTIVE') throw invalidRefreshToken('The customer user of this grant is disabled.');
  const endsAt = await consentEnd(ctx, grant);
  if (endsAt === 0) {
    await revokeGrant(ctx, grant, 'CONSENT_NOT_IN_FORCE');
    throw invalidRefreshToken('The TPP consent of this grant is revoked or expired.');
  }
  // RFC 6749 §6: a narrower scope may be asked for; the client's current permissions bound it too.
  const allowed = scopeList(grant.scope).filter((scope): scope is Permission =>
    client.permissions.includes(scope as Permission),
  );
  const scope = grantedScope(params.scope, allowed).join(' ');

  const rotation = await sessionStub(ctx.env, grant.sessionId).rotate(
    params.refresh_token,
    ctx.now.getTime(),
    grantFamily(grant),
  );
  if (rotation.outcome === 'reused') {
    await revokeGrant(ctx, grant, 'refresh_token_reused');
    throw invalidRefreshToken('The refresh token was already used; the grant is revoked.');
  }
  if (rotation.outcome !== 'rotated') throw invalidRefreshToken();
  return {
    access_token: await grantAccessToken(ctx, grant, scope, issuer, endsAt, binding),
    token_type: 'Bearer',
    expires_in: ACCESS_TOKEN_TTL_SECONDS,
    refresh_token: rotation.refreshToken,
    scope,
  };
}

type Presented =
  | { kind: 'refresh'; grant: Grant; expiresAt: number; createdAt: number }
  /** A grant's access token carries its live grant; a client-credentials token has none. */
  | { kind: 'access'; claims: AccessTokenClaims; owner: string; grant?: Grant }
  | { kind: 'foreign' }
  | { kind: 'invalid' };

/** The audit row of a single access token's revocation: its record in D1. */
const ACCESS_TOKEN_REVOKED = 'oauth.access_token.revoked';

async function accessTokenRevocationRecorded(ctx: ServiceContext, jti: string): Promise<boolean> {
  const row = await ctx.db
    .select({ id: auditEvents.id })
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.tenantId, ctx.tenant.id),
        eq(auditEvents.targetId, jti),
        eq(auditEvents.action, ACCESS_TOKEN_REVOKED),
      ),
    )
    .get();
  return row !== undefined;
}

/**
 * What a token presented to introspection or revocation is, from the point of view of `client`:
 * its own live refresh or access token, a live token of someone else, or nothing valid.
 * Access tokens are checked against their KV marks like on any route, then against D1, which
 * holds every revocation at once while a mark may take up to a minute to reach this location.
 */
async function identify(
  ctx: ServiceContext,
  client: AuthenticatedClient,
  token: string,
  issuer: string,
): Promise<Presented> {
  const sessionId = sessionIdOfRefreshToken(token);
  if (sessionId) {
    const grant = await findGrant(ctx, sessionId);
    if (!grant || grant.revokedAt !== null || (await consentEnd(ctx, grant)) === 0)
      return { kind: 'invalid' };
    const live = await sessionStub(ctx.env, sessionId).inspect(token, ctx.now.getTime(), grantFamily(grant));
    if (!live) return { kind: 'invalid' };
    if (grant.clientId !== client.clientId) return { kind: 'foreign' };
    return { kind: 'refresh', grant, expiresAt: live.expiresAt, createdAt: live.createdAt };
  }
  let claims: AccessTokenClaims;
  try {
    claims = await verifyAccessToken(ctx.env, token, issuer);
  } catch {
    return { kind: 'invalid' };
  }
  const subjects = revocationSubjects(claims);
  if (
    claims.tid !== ctx.tenant.id ||
    !subjects ||
    (await isRevoked(ctx.env, ctx.tenant.id, [...subjects, claims.jti], { fresh: true }))
  ) {
    return { kind: 'invalid' };
  }
  const owner = claims.client_id ?? (claims.ptype === 'client' ? claims.sub : undefined);
  if (owner !== client.clientId) return { kind: 'foreign' };
  if (claims.sid) {
    const grant = await findGrant(ctx, claims.sid);
    return grant?.revokedAt === null && (await consentEnd(ctx, grant)) !== 0
      ? { kind: 'access', claims, owner, grant }
      : { kind: 'invalid' };
  }
  if (await accessTokenRevocationRecorded(ctx, claims.jti)) return { kind: 'invalid' };
  return { kind: 'access', claims, owner };
}

/** RFC 7662. A client learns about its own tokens only; anything else is simply inactive. */
export async function introspectToken(
  ctx: ServiceContext,
  client: AuthenticatedClient,
  token: string,
  issuer: string,
): Promise<IntrospectionResponse> {
  const presented = await identify(ctx, client, token, issuer);
  if (presented.kind === 'refresh') {
    const { grant } = presented;
    return {
      active: true,
      scope: grant.scope,
      client_id: grant.clientId,
      sub: grant.userId,
      exp: Math.floor(presented.expiresAt / 1000),
      iat: Math.floor(presented.createdAt / 1000),
      iss: issuer,
      tid: grant.tenantId,
      sid: grant.sessionId,
      cus: grant.customerId,
    };
  }
  if (presented.kind === 'access') {
    const { claims } = presented;
    return {
      active: true,
      scope: claims.scope,
      client_id: presented.owner,
      token_type: 'Bearer',
      sub: claims.sub,
      exp: claims.exp,
      iat: claims.iat,
      iss: claims.iss,
      aud: typeof claims.aud === 'string' ? claims.aud : undefined,
      jti: claims.jti,
      tid: claims.tid,
      sid: claims.sid,
      cus: claims.cus,
      cnf: claims.cnf,
    };
  }
  return { active: false };
}

/**
 * A client-credentials token has no grant to end: its own KV mark stops it on every route, and
 * the audit row is the record introspection reads. The mark is written first, so a recorded
 * revocation always has its mark.
 */
async function revokeAccessToken(ctx: ServiceContext, claims: AccessTokenClaims, reason: string) {
  await markTokenRevoked(ctx.env, ctx.tenant.id, claims, reason, ctx.now);
  await commit(ctx, {
    statements: [],
    audit: [
      {
        action: ACCESS_TOKEN_REVOKED,
        targetType: 'access_token',
        targetId: claims.jti,
        data: { reason, clientId: claims.sub, expiresAt: new Date(claims.exp * 1000).toISOString() },
      },
    ],
    events: [],
  });
}

/**
 * RFC 7009, for every token this server issues; the hint is ignored, the token's form tells.
 * Revoking either token of a grant revokes the whole grant: the refresh-token family and every
 * access token of its session. A client-credentials access token is revoked on its own.
 * Invalid, expired or already revoked tokens are a success with nothing to do.
 */
export async function revokeToken(
  ctx: ServiceContext,
  client: AuthenticatedClient,
  token: string,
  issuer: string,
): Promise<void> {
  const presented = await identify(ctx, client, token, issuer);
  if (presented.kind === 'foreign') {
    throw new ApiError('unauthorized_client', { detail: 'The token was not issued to this client.' });
  }
  if (presented.kind === 'refresh') return revokeGrant(ctx, presented.grant, 'revoked_by_client');
  if (presented.kind !== 'access') return;
  if (presented.grant) return revokeGrant(ctx, presented.grant, 'revoked_by_client');
  return revokeAccessToken(ctx, presented.claims, 'revoked_by_client');
}
