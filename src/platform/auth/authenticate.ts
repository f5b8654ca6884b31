import { errors as joseErrors } from 'jose';
import type { Env } from '../../env';
import { ApiError } from '../errors';
import type { Tenant } from '../tenancy';
import { isPermission, type Permission } from './permissions';
import type { Principal } from './principal';
import { ACCESS_TOKEN_TTL_SECONDS, type AccessTokenClaims, verifyAccessToken } from './tokens';

export function bearerToken(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/.exec(authorization.trim());
  if (!match?.[1])
    throw new ApiError('invalid_token', {
      detail: 'The Authorization header must be `Bearer <access token>`.',
    });
  return match[1];
}

/** KV key marking a session, a client or one access token (its `jti`) as revoked. */
export function revocationKey(tenantId: string, subjectId: string): string {
  return `revoked:${tenantId}:${subjectId}`;
}

/** KV refuses an `expirationTtl` below this. */
const KV_MINIMUM_TTL_SECONDS = 60;
/** Marks outlive the tokens they stop by this much: clocks of other locations may run behind. */
const CLOCK_SKEW_SECONDS = 60;

/** KV keeps a session's or client's mark this long: past it, all of its access tokens have expired. */
const REVOCATION_MARK_TTL_SECONDS = ACCESS_TOKEN_TTL_SECONDS + CLOCK_SKEW_SECONDS;

/** From now on, access tokens of the session or client are refused (see `authenticateToken`). */
export function markRevoked(
  env: Env,
  tenantId: string,
  subjectId: string,
  reason: string,
  ttlSeconds = REVOCATION_MARK_TTL_SECONDS,
): Promise<void> {
  return env.CACHE.put(revocationKey(tenantId, subjectId), reason, {
    expirationTtl: Math.max(KV_MINIMUM_TTL_SECONDS, Math.ceil(ttlSeconds)),
  });
}

/** From now on this one access token is refused, for as long as it could still verify anywhere. */
export function markTokenRevoked(
  env: Env,
  tenantId: string,
  claims: AccessTokenClaims,
  reason: string,
  now: Date,
): Promise<void> {
  const remaining = claims.exp - now.getTime() / 1000;
  return markRevoked(env, tenantId, claims.jti, reason, remaining + CLOCK_SKEW_SECONDS);
}

/** Client tokens are revoked with their client, user tokens with their session. */
export function revocationSubject(claims: AccessTokenClaims): string | undefined {
  return claims.ptype === 'client' ? claims.sub : claims.sid;
}

/**
 * Whether any of the ids (a token's session or client, and its `jti`) is marked revoked. One
 * bulk KV read for all of them, so an authenticated request spends a single KV operation.
 */
export async function isRevoked(env: Env, tenantId: string, ids: readonly string[]): Promise<boolean> {
  const marks = await env.CACHE.get(ids.map((id) => revocationKey(tenantId, id)));
  return [...marks.values()].some((mark) => mark !== null);
}

/**
 * Verifies the access token locally (no round trip) and checks its revocation marks in one KV
 * read: the only I/O an authenticated request spends on authentication.
 */
export async function authenticateToken(
  env: Env,
  token: string,
  tenant: Tenant,
  issuer: string,
): Promise<Principal> {
  let claims: Awaited<ReturnType<typeof verifyAccessToken>>;
  try {
    claims = await verifyAccessToken(env, token, issuer);
  } catch (error) {
    const detail =
      error instanceof joseErrors.JWTExpired
        ? 'The access token has expired.'
        : 'The access token is not valid.';
    throw new ApiError('invalid_token', { detail, cause: error });
  }
  if (claims.tid !== tenant.id) {
    throw new ApiError('tenant_mismatch', { detail: 'The access token was issued for another tenant.' });
  }
  const subject = revocationSubject(claims);
  if (!subject || (await isRevoked(env, tenant.id, [subject, claims.jti]))) {
    throw new ApiError('invalid_token', { detail: 'The access token has been revoked.' });
  }
  const permissions = new Set<Permission>((claims.scope ?? '').split(' ').filter(isPermission));
  const authentication = { amr: claims.amr ?? [], authTime: claims.auth_time };
  if (claims.ptype === 'client') return { type: 'client', id: claims.sub, permissions, ...authentication };
  return {
    type: 'user',
    id: claims.sub,
    userKind: claims.ptype === 'staff' ? 'STAFF' : 'CUSTOMER',
    customerId: claims.cus ?? null,
    sessionId: subject,
    permissions,
    ...authentication,
    delegatedTo: claims.client_id ?? null,
  };
}
