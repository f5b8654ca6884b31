import {
  type CryptoKey,
  createLocalJWKSet,
  importJWK,
  type JWK,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
} from 'jose';
import type { Env } from '../../env';
import { newId } from '../ids';
import { LruCache } from '../lru-cache';

/** Access tokens live at most ten minutes; revocation marks in KV outlive them by this much. */
export const ACCESS_TOKEN_TTL_SECONDS = 600;
/** The lifetime as route descriptions state it, so no description can fall behind the number. */
export const ACCESS_TOKEN_LIFETIME = `${ACCESS_TOKEN_TTL_SECONDS / 60} minutes`;
const TOKEN_ALGORITHM = 'ES256';

export interface AccessTokenClaims extends JWTPayload {
  sub: string;
  tid: string;
  /** Required by `verifyAccessToken`: the key of the token's own revocation mark. */
  jti: string;
  exp: number;
  iat: number;
  sid?: string;
  scope: string;
  amr: string[];
  auth_time: number;
  /** `staff`, `customer` or `client`. */
  ptype: 'staff' | 'customer' | 'client';
  /** The customer a customer user acts for. */
  cus?: string;
  /** The OAuth client a customer's token was issued to (RFC 9068 `client_id`; `azp` says the same). */
  client_id?: string;
  azp?: string;
  /** The TPP consent a third party's token acts under (src/modules/tpp-consents). */
  cns?: string;
  /** A client-credentials token's generation of its client (`clients.tokenGeneration`). */
  gen?: number;
  /** RFC 8705 §3.1: the token is bound to the client certificate with this SHA-256 thumbprint. */
  cnf?: { 'x5t#S256': string };
}

interface SigningKeys {
  kid: string;
  privateKey: CryptoKey;
  jwks: { keys: JWK[] };
  verify: ReturnType<typeof createLocalJWKSet>;
  /** Access tokens these keys verified, by the whole token (see `verifyAccessToken`). */
  verified: LruCache<string, { issuer: string; claims: Readonly<AccessTokenClaims> }>;
}

/**
 * Distinct access tokens an isolate keeps verified: about the callers it serves within a token's
 * ten minutes. A token is a kilobyte with its claims, so this is a few megabytes at most.
 */
const VERIFIED_TOKENS_KEPT = 2_000;

let cached: { source: string; keys: Promise<SigningKeys> } | undefined;

async function parseKeys(source: string): Promise<SigningKeys> {
  const parsed = JSON.parse(source) as { current: JWK; previous?: JWK | null };
  const { current, previous } = parsed;
  if (!current?.kid || !current.d)
    throw new Error('JWT_SIGNING_KEYS.current must be a private JWK with a kid');
  const privateKey = (await importJWK({ ...current, alg: TOKEN_ALGORITHM }, TOKEN_ALGORITHM)) as CryptoKey;
  const toPublic = ({ kty, crv, x, y, kid }: JWK): JWK => ({
    kty,
    crv,
    x,
    y,
    kid,
    alg: TOKEN_ALGORITHM,
    use: 'sig',
  });
  const keys = [toPublic(current), ...(previous ? [toPublic(previous)] : [])];
  return {
    kid: current.kid,
    privateKey,
    jwks: { keys },
    verify: createLocalJWKSet({ keys }),
    verified: new LruCache(VERIFIED_TOKENS_KEPT),
  };
}

/** Keys are parsed once per isolate; a new secret value (rotation) is picked up on the next deploy. */
export function signingKeys(env: Env): Promise<SigningKeys> {
  if (cached?.source !== env.JWT_SIGNING_KEYS) {
    cached = { source: env.JWT_SIGNING_KEYS, keys: parseKeys(env.JWT_SIGNING_KEYS) };
  }
  return cached.keys;
}

export interface IssueAccessToken {
  issuer: string;
  claims: Omit<AccessTokenClaims, 'iss' | 'aud' | 'iat' | 'exp' | 'jti'>;
  ttlSeconds?: number;
  now?: Date;
}

export async function issueAccessToken(env: Env, options: IssueAccessToken): Promise<string> {
  const keys = await signingKeys(env);
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  return new SignJWT(options.claims)
    .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: keys.kid, typ: 'at+jwt' })
    .setIssuer(options.issuer)
    .setAudience(options.issuer)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (options.ttlSeconds ?? ACCESS_TOKEN_TTL_SECONDS))
    .setJti(newId('token'))
    .sign(keys.privateKey);
}

/**
 * Whether claims verified earlier still hold at `nowSeconds`: what jose checks of time (`exp`,
 * without tolerance; the tokens carry no `nbf`) is all that changes for an unchanged token.
 */
export function unexpired(claims: Pick<AccessTokenClaims, 'exp'>, nowSeconds: number): boolean {
  return claims.exp > nowSeconds;
}

/**
 * Throws jose's errors on any failure; the caller turns them into `invalid_token`. A token these
 * keys verified before is not verified again, only its expiry checked: the signature covers the
 * whole string, so the same string is the same verified claims (an ES256 verification is the
 * largest part of a cached read's CPU). Only verified tokens are kept, under the keys that
 * verified them, so a new key set (`signingKeys`) starts afresh.
 */
export async function verifyAccessToken(
  env: Env,
  token: string,
  issuer: string,
): Promise<Readonly<AccessTokenClaims>> {
  const keys = await signingKeys(env);
  const known = keys.verified.get(token);
  if (known?.issuer === issuer) {
    if (unexpired(known.claims, Math.floor(Date.now() / 1000))) return known.claims;
    keys.verified.delete(token);
    throw new joseErrors.JWTExpired(
      '"exp" claim timestamp check failed',
      known.claims,
      'exp',
      'check_failed',
    );
  }
  const { payload } = await jwtVerify<AccessTokenClaims>(token, keys.verify, {
    issuer,
    audience: issuer,
    algorithms: [TOKEN_ALGORITHM],
    requiredClaims: ['sub', 'tid', 'exp', 'iat', 'jti'],
  });
  // Frozen: one object now answers every request that presents the token.
  const claims = Object.freeze(payload);
  keys.verified.set(token, { issuer, claims });
  return claims;
}

export async function publicJwks(env: Env): Promise<{ keys: JWK[] }> {
  return (await signingKeys(env)).jwks;
}

/** Lifetime of the token that carries a half-finished (password-only) login to its MFA step. */
const MFA_TOKEN_TTL_SECONDS = 300;
const MFA_TOKEN_TYPE = 'mfa+jwt';

function mfaAudience(issuer: string): string {
  return `${issuer}/auth/mfa/verify`;
}

/** Proves the password step of a login; useless as an access token (own audience and `typ`). */
export async function issueMfaToken(
  env: Env,
  options: { issuer: string; userId: string; tenantId: string; now: Date },
): Promise<string> {
  const keys = await signingKeys(env);
  const iat = Math.floor(options.now.getTime() / 1000);
  return new SignJWT({ tid: options.tenantId, amr: ['pwd'] })
    .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: keys.kid, typ: MFA_TOKEN_TYPE })
    .setSubject(options.userId)
    .setIssuer(options.issuer)
    .setAudience(mfaAudience(options.issuer))
    .setIssuedAt(iat)
    .setExpirationTime(iat + MFA_TOKEN_TTL_SECONDS)
    .setJti(newId('token'))
    .sign(keys.privateKey);
}

/** The user and tenant of a valid MFA token, or null for anything else. */
export async function verifyMfaToken(
  env: Env,
  token: string,
  issuer: string,
): Promise<{ userId: string; tenantId: string } | null> {
  const keys = await signingKeys(env);
  try {
    const { payload } = await jwtVerify<{ tid: string }>(token, keys.verify, {
      issuer,
      audience: mfaAudience(issuer),
      algorithms: [TOKEN_ALGORITHM],
      typ: MFA_TOKEN_TYPE,
      requiredClaims: ['sub', 'tid', 'exp'],
    });
    return payload.sub ? { userId: payload.sub, tenantId: payload.tid } : null;
  } catch {
    return null;
  }
}
