import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../../env';
import { issuedByFamily, newFamilyKey, parseRefreshToken, refreshTokenFor } from './refresh-tokens';

/** A second refresh with the same token inside this window gets the same successor, not a reuse alarm. */
const REFRESH_GRACE_MS = 10_000;
const REFRESH_IDLE_TTL_MS = 30 * 24 * 60 * 60 * 1000;
const REFRESH_ABSOLUTE_TTL_MS = 90 * 24 * 60 * 60 * 1000;

interface SessionState {
  sessionId: string;
  tenantId: string;
  userId: string;
  createdAt: number;
  lastUsedAt: number;
  absoluteExpiresAt: number;
  idleExpiresAt: number;
  /** HMAC key of the family's tokens (see refresh-tokens.ts); never leaves this object. */
  familyKey: string;
  /** The generation of the one live refresh token; every lower one is spent. */
  generation: number;
  /** When the last rotation happened: a concurrent refresh of the token it spent gets the same successor. */
  rotatedAt: number | null;
  revokedAt: number | null;
  revokedReason: string | null;
}

export type RotationResult =
  | { outcome: 'rotated'; refreshToken: string; userId: string }
  | { outcome: 'reused' | 'expired' | 'revoked' | 'unknown' };

const STATE_KEY = 'session';

/**
 * One instance per session: the single writer of its refresh-token family. Rotation, reuse
 * detection and the concurrent-refresh grace need a strongly consistent read-modify-write, which
 * D1 without transactions cannot give.
 */
export class SessionDurableObject extends DurableObject<Env> {
  private read(): SessionState | undefined {
    return this.ctx.storage.kv.get<SessionState>(STATE_KEY);
  }

  private write(state: SessionState): void {
    this.ctx.storage.kv.put(STATE_KEY, state);
  }

  /** Starts the family and returns its first refresh token. */
  async start(input: { sessionId: string; tenantId: string; userId: string; now: number }): Promise<string> {
    const familyKey = newFamilyKey();
    this.write({
      sessionId: input.sessionId,
      tenantId: input.tenantId,
      userId: input.userId,
      createdAt: input.now,
      lastUsedAt: input.now,
      absoluteExpiresAt: input.now + REFRESH_ABSOLUTE_TTL_MS,
      idleExpiresAt: input.now + REFRESH_IDLE_TTL_MS,
      familyKey,
      generation: 0,
      rotatedAt: null,
      revokedAt: null,
      revokedReason: null,
    });
    return refreshTokenFor(input.sessionId, familyKey, 0);
  }

  async rotate(presentedToken: string, now: number): Promise<RotationResult> {
    const state = this.read();
    const presented = parseRefreshToken(presentedToken);
    if (!state || !presented || presented.sessionId !== state.sessionId) return { outcome: 'unknown' };
    // A token this family never issued is a guess, not a leak: it changes nothing.
    if (!(await issuedByFamily(presented, state.familyKey))) return { outcome: 'unknown' };
    if (state.revokedAt !== null) return { outcome: 'revoked' };
    if (now >= state.absoluteExpiresAt || now >= state.idleExpiresAt) return { outcome: 'expired' };
    if (presented.generation === state.generation) {
      const generation = state.generation + 1;
      this.write({
        ...state,
        generation,
        rotatedAt: now,
        lastUsedAt: now,
        idleExpiresAt: Math.min(state.absoluteExpiresAt, now + REFRESH_IDLE_TTL_MS),
      });
      return {
        outcome: 'rotated',
        refreshToken: await refreshTokenFor(state.sessionId, state.familyKey, generation),
        userId: state.userId,
      };
    }
    const withinGrace = state.rotatedAt !== null && now - state.rotatedAt <= REFRESH_GRACE_MS;
    if (presented.generation === state.generation - 1 && withinGrace) {
      return {
        outcome: 'rotated',
        refreshToken: await refreshTokenFor(state.sessionId, state.familyKey, state.generation),
        userId: state.userId,
      };
    }
    // A spent token came back: someone holds a copy, so the whole family dies.
    this.write({ ...state, revokedAt: now, revokedReason: 'refresh_token_reused' });
    return { outcome: 'reused' };
  }

  async revoke(reason: string, now: number): Promise<boolean> {
    const state = this.read();
    if (!state || state.revokedAt !== null) return false;
    this.write({ ...state, revokedAt: now, revokedReason: reason });
    return true;
  }

  /**
   * Whether `presentedToken` is the family's live refresh token, without rotating it: token
   * introspection (RFC 7662) and revocation (RFC 7009) must tell a current token from a spent one.
   */
  async inspect(
    presentedToken: string,
    now: number,
  ): Promise<{ userId: string; createdAt: number; expiresAt: number } | null> {
    const state = this.read();
    if (!state || state.revokedAt !== null) return null;
    const expiresAt = Math.min(state.absoluteExpiresAt, state.idleExpiresAt);
    const presented = parseRefreshToken(presentedToken);
    if (now >= expiresAt || !presented || presented.generation !== state.generation) return null;
    if (!(await issuedByFamily(presented, state.familyKey))) return null;
    return { userId: state.userId, createdAt: state.createdAt, expiresAt };
  }
}
