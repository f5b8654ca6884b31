import type { Env } from '../../env';
import { randomToken } from '../crypto';
import { isId } from '../ids';
import type { SessionDurableObject } from './durable-object';

/**
 * Refresh tokens are `<sessionId>.<secret>`: opaque to clients, yet they name the one Durable
 * Object that can rotate them, so a refresh needs no lookup table.
 */
export function newRefreshToken(sessionId: string): string {
  return `${sessionId}.${randomToken()}`;
}

/** The session a refresh token belongs to, or null when the token is not one of ours. */
export function sessionIdOfRefreshToken(token: string): string | null {
  const [sessionId, secret, ...rest] = token.split('.');
  if (!sessionId || !isId('session', sessionId) || rest.length > 0) return null;
  return secret && /^[A-Za-z0-9_-]{43}$/.test(secret) ? sessionId : null;
}

/** The single writer of a session's refresh-token family. */
export function sessionStub(env: Env, sessionId: string): DurableObjectStub<SessionDurableObject> {
  return env.SESSIONS.get(env.SESSIONS.idFromName(sessionId));
}
