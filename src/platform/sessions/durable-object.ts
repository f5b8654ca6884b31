import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../../env';
import { sha256Hex } from '../crypto';
import { newRefreshToken } from './refresh-tokens';

/** A second refresh with the same token inside this window gets the same successor, not a reuse alarm. */
export const REFRESH_GRACE_MS = 10_000;
export const REFRESH_IDLE_TTL_MS = 30 * 24 * 60 * 60 * 1000;
export const REFRESH_ABSOLUTE_TTL_MS = 90 * 24 * 60 * 60 * 1000;

interface SessionState {
  sessionId: string;
  tenantId: string;
  userId: string;
  createdAt: number;
  lastUsedAt: number;
  absoluteExpiresAt: number;
  idleExpiresAt: number;
  currentHash: string;
  /** The token rotated last, kept for the grace window so a concurrent refresh gets the same answer. */
  previous: { hash: string; successor: string; rotatedAt: number } | null;
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
    const refreshToken = newRefreshToken(input.sessionId);
    this.write({
      sessionId: input.sessionId,
      tenantId: input.tenantId,
      userId: input.userId,
      createdAt: input.now,
      lastUsedAt: input.now,
      absoluteExpiresAt: input.now + REFRESH_ABSOLUTE_TTL_MS,
      idleExpiresAt: input.now + REFRESH_IDLE_TTL_MS,
      currentHash: await sha256Hex(refreshToken),
      previous: null,
      revokedAt: null,
      revokedReason: null,
    });
    return refreshToken;
  }

  async rotate(presentedToken: string, now: number): Promise<RotationResult> {
    const state = this.read();
    if (!state) return { outcome: 'unknown' };
    if (state.revokedAt !== null) return { outcome: 'revoked' };
    if (now >= state.absoluteExpiresAt || now >= state.idleExpiresAt) return { outcome: 'expired' };
    const presentedHash = await sha256Hex(presentedToken);
    if (presentedHash === state.currentHash) {
      const successor = newRefreshToken(state.sessionId);
      this.write({
        ...state,
        currentHash: await sha256Hex(successor),
        previous: { hash: presentedHash, successor, rotatedAt: now },
        lastUsedAt: now,
        idleExpiresAt: Math.min(state.absoluteExpiresAt, now + REFRESH_IDLE_TTL_MS),
      });
      return { outcome: 'rotated', refreshToken: successor, userId: state.userId };
    }
    if (state.previous?.hash === presentedHash && now - state.previous.rotatedAt <= REFRESH_GRACE_MS) {
      return { outcome: 'rotated', refreshToken: state.previous.successor, userId: state.userId };
    }
    // A spent token came back: someone holds a copy, so the whole family dies.
    this.write({ ...state, revokedAt: now, revokedReason: 'refresh_token_reused', previous: null });
    return { outcome: 'reused' };
  }

  async revoke(reason: string, now: number): Promise<boolean> {
    const state = this.read();
    if (!state || state.revokedAt !== null) return false;
    this.write({ ...state, revokedAt: now, revokedReason: reason, previous: null });
    return true;
  }

  async describe(): Promise<Omit<SessionState, 'currentHash' | 'previous'> | null> {
    const state = this.read();
    if (!state) return null;
    const { currentHash: _hash, previous: _previous, ...visible } = state;
    return visible;
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
    if (now >= expiresAt || (await sha256Hex(presentedToken)) !== state.currentHash) return null;
    return { userId: state.userId, createdAt: state.createdAt, expiresAt };
  }
}
