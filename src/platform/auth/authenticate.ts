import { errors as joseErrors } from 'jose';
import { type Env, readConfig, UNMARKED_REMEMBERED_MAX_MS } from '../../env';
import { ApiError } from '../errors';
import { LruCache } from '../lru-cache';
import type { Tenant } from '../tenancy';
import { bindingHolds } from './certificate-binding';
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

/**
 * The revocation bound elsewhere, 60 s, in two halves. KV's edge keeps what a location read for
 * `cacheTtl` (30 s is the least it takes), so a mark written elsewhere shows there within that;
 * and this isolate remembers that an id was not marked for as long again (or less, as
 * `UNMARKED_REMEMBERED_MS` says), so a steady caller's requests make no KV read at all. Marks are
 * remembered until the memory forgets them: nothing unmarks an id.
 */
const KV_EDGE_CACHE_TTL_SECONDS = 30;
/** The default and the most `UNMARKED_REMEMBERED_MS` may be: with the edge's 30 s, the 60 s bound. */
export const UNMARKED_REMEMBERED_MS = UNMARKED_REMEMBERED_MAX_MS;
const MARKS_REMEMBERED = 10_000;
const marks = new LruCache<string, { revoked: boolean; readAtMs: number }>(MARKS_REMEMBERED);

/** What this isolate knows of a key: revoked, not revoked (recently), or nothing. */
function rememberedMark(key: string, nowMs: number, unmarkedForMs: number): boolean | undefined {
  const mark = marks.get(key);
  if (!mark) return undefined;
  if (mark.revoked) return true;
  if (nowMs - mark.readAtMs < unmarkedForMs) return false;
  marks.delete(key);
  return undefined;
}

/** From now on, access tokens of the session or client are refused (see `authenticateToken`). */
export function markRevoked(
  env: Env,
  tenantId: string,
  subjectId: string,
  reason: string,
  ttlSeconds = REVOCATION_MARK_TTL_SECONDS,
): Promise<void> {
  const key = revocationKey(tenantId, subjectId);
  // At once in this isolate, whatever it remembered.
  marks.set(key, { revoked: true, readAtMs: Date.now() });
  return env.CACHE.put(key, reason, {
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

/** The mark that stops one generation of a client's tokens (see `clients.tokenGeneration`). */
export function clientGenerationSubject(clientId: string, generation: number): string {
  return `${clientId}~${generation}`;
}

/**
 * The marks that stop a token besides its own `jti`: a client token's client (revoked for good)
 * and its generation (suspended), a user token's session. Undefined for a user token without one.
 */
export function revocationSubjects(claims: AccessTokenClaims): string[] | undefined {
  if (claims.ptype === 'client') return [claims.sub, clientGenerationSubject(claims.sub, claims.gen ?? 0)];
  return claims.sid ? [claims.sid] : undefined;
}

/**
 * Whether any of the ids (a token's session or client, and its `jti`) is marked revoked: from
 * this isolate's memory when it knows, else with one bulk KV read for all of them. `fresh`
 * skips the memory of unmarked ids, for callers that then look further (introspection's D1).
 */
export async function isRevoked(
  env: Env,
  tenantId: string,
  ids: readonly string[],
  { fresh = false } = {},
): Promise<boolean> {
  const keys = ids.map((id) => revocationKey(tenantId, id));
  const { unmarkedRememberedMs } = readConfig(env);
  const known = keys.map((key) =>
    fresh ? undefined : rememberedMark(key, Date.now(), unmarkedRememberedMs),
  );
  if (known.includes(true)) return true;
  if (!known.includes(undefined)) return false;
  const readAtMs = Date.now();
  const read = await env.CACHE.get(keys, { cacheTtl: KV_EDGE_CACHE_TTL_SECONDS });
  for (const key of keys) {
    // A mark this isolate wrote or saw stays, whatever a location KV has not reached yet says.
    if (!marks.get(key)?.revoked) marks.set(key, { revoked: (read.get(key) ?? null) !== null, readAtMs });
  }
  return [...read.values()].some((mark) => mark !== null);
}

/**
 * Verifies the access token locally (no round trip) and checks its revocation marks, in at most
 * one KV read: the only I/O an authenticated request spends on authentication. A token bound to
 * a client certificate needs that certificate on the request (`presentedSha256`, RFC 8705 §3).
 */
export async function authenticateToken(
  env: Env,
  token: string,
  tenant: Tenant,
  issuer: string,
  presentedSha256?: string,
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
  if (!bindingHolds(claims.cnf, presentedSha256)) {
    throw new ApiError('invalid_token', {
      detail:
        'The access token is bound to a client certificate (RFC 8705): send it over mTLS with that certificate.',
    });
  }
  const subjects = revocationSubjects(claims);
  if (!subjects || (await isRevoked(env, tenant.id, [...subjects, claims.jti]))) {
    throw new ApiError('invalid_token', { detail: 'The access token has been revoked.' });
  }
  let principal = principals.get(claims);
  if (!principal) {
    principal = principalOf(claims);
    principals.set(claims, principal);
  }
  return principal;
}

/**
 * Principals of claims `verifyAccessToken` keeps, one per token: its requests share the object,
 * which lives as long as the claims (parsing a staff token's scope into a set was two thirds of
 * authentication's CPU in a customer read). Every request still checks expiry and revocation first.
 */
const principals = new WeakMap<Readonly<AccessTokenClaims>, Principal>();

/** Who verified claims name; a user token's session is its `sid` (`revocationSubjects`). */
function principalOf(claims: Readonly<AccessTokenClaims>): Principal {
  const permissions = new Set<Permission>((claims.scope ?? '').split(' ').filter(isPermission));
  const authentication = { amr: claims.amr ?? [], authTime: claims.auth_time };
  if (claims.ptype === 'client') return { type: 'client', id: claims.sub, permissions, ...authentication };
  return {
    type: 'user',
    id: claims.sub,
    userKind: claims.ptype === 'staff' ? 'STAFF' : 'CUSTOMER',
    customerId: claims.cus ?? null,
    sessionId: claims.sid as string,
    permissions,
    ...authentication,
    delegatedTo: claims.client_id ?? null,
  };
}
