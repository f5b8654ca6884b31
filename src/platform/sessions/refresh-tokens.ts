import type { Env } from '../../env';
import { base64UrlEncode, randomToken, timingSafeEqual } from '../crypto';
import { isId } from '../ids';

/**
 * Refresh tokens are `<sessionId>.<generation>.<secret>`: opaque to clients, yet they name the
 * one Durable Object that can rotate them, so a refresh needs no lookup table. The secret is an
 * HMAC of the generation under a key only that object holds, so the object can tell a token it
 * issued and that has since been spent (reuse: revoke the family) from a forged one (ignore it):
 * knowing a session id is not enough to end someone's session.
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

/** A new key for a refresh-token family; it never leaves the family's Durable Object. */
export function newFamilyKey(): string {
  return randomToken(32);
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
