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

/** KV key marking a session or client as revoked until its last access token has expired. */
export function revocationKey(tenantId: string, subjectId: string): string {
  return `revoked:${tenantId}:${subjectId}`;
}

/**
 * KV keeps a revocation mark this long: past it, every access token of the session or client
 * has expired anyway. KV's minimum TTL is 60 s, and the slack covers clock skew between locations.
 */
export const REVOCATION_MARK_TTL_SECONDS = ACCESS_TOKEN_TTL_SECONDS + 60;

/** From now on, access tokens of the session or client are refused (see `authenticateToken`). */
export function markRevoked(env: Env, tenantId: string, subjectId: string, reason: string): Promise<void> {
  return env.CACHE.put(revocationKey(tenantId, subjectId), reason, {
    expirationTtl: REVOCATION_MARK_TTL_SECONDS,
  });
}

/** Client tokens are revoked with their client, user tokens with their session. */
export function revocationSubject(claims: AccessTokenClaims): string | undefined {
  return claims.ptype === 'client' ? claims.sub : claims.sid;
}

export async function isRevoked(env: Env, tenantId: string, subjectId: string): Promise<boolean> {
  return (await env.CACHE.get(revocationKey(tenantId, subjectId))) !== null;
}

/**
 * Verifies the access token locally (no round trip) and checks the revocation mark in KV: the
 * only I/O an authenticated request spends on authentication.
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
  if (!subject || (await isRevoked(env, tenant.id, subject))) {
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
