import { sealPurposes } from '../../db/customer-data';
import type { Env } from '../../env';
import { base64UrlEncode, timingSafeEqual } from '../crypto';
import { fieldDigest } from '../field-encryption';
import { isId } from '../ids';

/**
 * Refresh tokens are `<sessionId>.<generation>.<secret>`: opaque to clients, yet they name the
 * one Durable Object that can rotate them, so a refresh needs no lookup table. The secret is an
 * HMAC of the generation under the family's key, so the object can tell a token it issued and
 * that has since been spent (reuse: revoke the family) from a forged one (ignore it): knowing a
 * session id is not enough to end someone's session.
 *
 * The family key is derived from the root secret `FIELD_ENCRYPTION_KEY`, the tenant and the
 * session id (`familyKeyOf`), so the worker mints generation 0 at login without calling the
 * object, and the object starts the family on first use from the same derivation. The worker
 * holds that root secret anyway (field encryption; with the JWT keys it can already mint any
 * access token), so this widens nothing to a new holder; what it implies is that whoever has the
 * root secret can compute any session's tokens (every generation, not only 0), and that
 * replacing the root secret voids the generation-0 tokens of sessions never refreshed since.
 * Families started before this derivation keep the random key their object stored.
 */
export interface ParsedRefreshToken {
  sessionId: string;
  generation: number;
  secret: string;
}

const SECRET = /^[A-Za-z0-9_-]{43}$/;
const GENERATION = /^(0|[1-9][0-9]{0,8})$/;

export function parseRefreshToken(token: string): ParsedRefreshToken | null {
  const [sessionId, generation, secret, ...rest] = token.split('.');
  if (rest.length > 0 || !sessionId || !isId('session', sessionId)) return null;
  if (!generation || !GENERATION.test(generation) || !secret || !SECRET.test(secret)) return null;
  return { sessionId, generation: Number(generation), secret };
}

/** The session a refresh token belongs to, or null when the token is not one of ours. */
export function sessionIdOfRefreshToken(token: string): string | null {
  return parseRefreshToken(token)?.sessionId ?? null;
}

/**
 * What D1 holds of a session or an OAuth grant, passed to every call of its object: an object
 * with no state yet starts its family from them, as generation 0. Times are epoch milliseconds.
 */
export interface FamilyFacts {
  sessionId: string;
  tenantId: string;
  userId: string;
  createdAt: number;
}

/** The facts of a row read from D1, whose times are ISO strings. */
export function familyFacts(row: {
  sessionId: string;
  tenantId: string;
  userId: string;
  createdAt: string;
}): FamilyFacts {
  return {
    sessionId: row.sessionId,
    tenantId: row.tenantId,
    userId: row.userId,
    createdAt: Date.parse(row.createdAt),
  };
}

/**
 * The key of a family started on first use: the per-tenant HMAC key HKDF derives from the root
 * secret for this purpose (derived once per isolate, src/platform/field-encryption.ts), applied
 * to the session id. Bound to the tenant too, so a session id presented under another tenant
 * derives a key that verifies none of its tokens.
 */
export function familyKeyOf(env: Env, tenantId: string, sessionId: string): Promise<string> {
  return fieldDigest(
    {
      rootKey: env.FIELD_ENCRYPTION_KEY,
      tenantId,
      purpose: sealPurposes.refreshTokenFamily,
      recordId: sessionId,
    },
    'v1',
  );
}

/** The generation-0 token of a session just committed to D1: its object has no state until first used. */
export async function firstRefreshToken(env: Env, tenantId: string, sessionId: string): Promise<string> {
  return refreshTokenFor(sessionId, await familyKeyOf(env, tenantId, sessionId), 0);
}

async function generationSecret(familyKey: string, generation: number): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(familyKey),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(String(generation)));
  return base64UrlEncode(new Uint8Array(mac));
}

export async function refreshTokenFor(
  sessionId: string,
  familyKey: string,
  generation: number,
): Promise<string> {
  return `${sessionId}.${generation}.${await generationSecret(familyKey, generation)}`;
}

/** Whether the family issued this token (at its generation), whether or not it is still current. */
export async function issuedByFamily(parsed: ParsedRefreshToken, familyKey: string): Promise<boolean> {
  return timingSafeEqual(parsed.secret, await generationSecret(familyKey, parsed.generation));
}

/**
 * The single writer of a session's refresh-token family. Its type comes from the binding's, so
 * this file need not import the object, which imports it.
 */
export function sessionStub(env: Env, sessionId: string) {
  return env.SESSIONS.get(env.SESSIONS.idFromName(sessionId));
}
