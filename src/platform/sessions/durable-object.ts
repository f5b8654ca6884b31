import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../../env';
import {
  type FamilyFacts,
  familyKeyOf,
  issuedByFamily,
  parseRefreshToken,
  refreshTokenFor,
} from './refresh-tokens';

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
  /**
   * HMAC key of the family's tokens (see refresh-tokens.ts): derived from the root secret
   * (`familyKeyOf`) for a family started on first use, random for one started before that
   * derivation existed, whose tokens only this stored copy verifies.
   */
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
 * D1 without transactions cannot give. A login does not call it: the worker mints generation 0
 * and the object starts its state on the first rotation, inspection or revocation. Callers look
 * the session up in D1 in the caller's tenant first (unknown, foreign or revoked sessions never
 * get here) and pass what the row says.
 */
export class SessionDurableObject extends DurableObject<Env> {
  private read(): SessionState | undefined {
    return this.ctx.storage.kv.get<SessionState>(STATE_KEY);
  }

  private write(state: SessionState): void {
    this.ctx.storage.kv.put(STATE_KEY, state);
  }

  /**
   * The family's state: the stored one, or, before the family's first use, generation 0 started
   * from what D1 holds of the session (not written until something changes). A stored state of
   * another session or tenant than the caller's D1 row is none of the caller's business.
   */
  private async stateFor(facts: FamilyFacts): Promise<SessionState | undefined> {
    const stored = this.read();
    if (stored) {
      return stored.sessionId === facts.sessionId && stored.tenantId === facts.tenantId ? stored : undefined;
    }
    const absoluteExpiresAt = facts.createdAt + REFRESH_ABSOLUTE_TTL_MS;
    return {
      sessionId: facts.sessionId,
      tenantId: facts.tenantId,
      userId: facts.userId,
      createdAt: facts.createdAt,
      // Idle since its login: D1's lastUsedAt also moves on step-ups and on refresh attempts with
      // forged tokens, neither of which uses the family.
      lastUsedAt: facts.createdAt,
      absoluteExpiresAt,
      idleExpiresAt: Math.min(absoluteExpiresAt, facts.createdAt + REFRESH_IDLE_TTL_MS),
      familyKey: await familyKeyOf(this.env, facts.tenantId, facts.sessionId),
      generation: 0,
      rotatedAt: null,
      revokedAt: null,
      revokedReason: null,
    };
  }

  async rotate(presentedToken: string, now: number, facts: FamilyFacts): Promise<RotationResult> {
    const presented = parseRefreshToken(presentedToken);
    if (!presented || presented.sessionId !== facts.sessionId) return { outcome: 'unknown' };
    const state = await this.stateFor(facts);
    if (!state) return { outcome: 'unknown' };
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

  /**
   * Ends the family. One never used gets a revoked state all the same (a tombstone): a refresh
   * that read the D1 row before the logout committed must not start the family afterwards.
   */
  async revoke(reason: string, now: number, facts: FamilyFacts): Promise<boolean> {
    const state = await this.stateFor(facts);
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
    facts: FamilyFacts,
  ): Promise<{ userId: string; createdAt: number; expiresAt: number } | null> {
    const state = await this.stateFor(facts);
    if (!state || state.revokedAt !== null) return null;
    const expiresAt = Math.min(state.absoluteExpiresAt, state.idleExpiresAt);
    const presented = parseRefreshToken(presentedToken);
    if (now >= expiresAt || !presented || presented.generation !== state.generation) return null;
    if (!(await issuedByFamily(presented, state.familyKey))) return null;
    return { userId: state.userId, createdAt: state.createdAt, expiresAt };
  }
}
