/**
 * Account lockout, exact under concurrency. Every check of a user's secret (password, second
 * factor) first reserves an attempt with one conditional UPDATE (src/modules/auth/attempts.ts)
 * and is evaluated only if the reservation was granted, so however many requests race, at most
 * `limit` of them are checked per window. A reservation counts as a failure until a proof gives
 * it back: a request that dies between the reservation and its result leaves it counted (fail
 * closed). The failure in the last slot locks the account for `lockMs`; a lock that runs out
 * opens a fresh window.
 *
 * The reservation's condition lives in SQL, where it is atomic; what follows from its result is
 * decided here.
 */
export interface LockoutPolicy {
  /** Attempts checked per window; the failure in the last one locks. */
  limit: number;
  /** The window opens at the first attempt after a quiet spell and lasts this long. */
  windowMs: number;
  lockMs: number;
}

export const ACCOUNT_LOCKOUT: LockoutPolicy = {
  limit: 5,
  windowMs: 15 * 60 * 1000,
  lockMs: 15 * 60 * 1000,
};

/** The attempt counter as a user row holds it. */
export interface AttemptCounter {
  /** Attempts reserved in the window: failures and checks still in flight. */
  failedLoginCount: number;
  failedLoginWindowStartedAt: string | null;
  lockedUntil: string | null;
}

/** The instants the reservation and the lock compare with, as the ISO strings the rows hold. */
export interface LockoutClock {
  now: string;
  /** A window that opened at or before this has closed. */
  windowClosedBy: string;
  /** The end of a lock set now. */
  lockUntil: string;
}

export function lockoutClock(policy: LockoutPolicy, nowMs: number): LockoutClock {
  return {
    now: new Date(nowMs).toISOString(),
    windowClosedBy: new Date(nowMs - policy.windowMs).toISOString(),
    lockUntil: new Date(nowMs + policy.lockMs).toISOString(),
  };
}

export type AttemptDecision<T extends AttemptCounter> =
  | {
      allowed: true;
      reserved: T;
      /** This attempt holds the last slot: if it fails, the account locks. */
      locksOnFailure: boolean;
    }
  | { allowed: false; retryAfterSeconds: number };

/**
 * Reads a reservation: `reserved` is the counter the granted reservation wrote, absent when it
 * was refused; `current` is the counter as it stood after the reservation ran. A refusal waits
 * for the lock to end, or, when the window is full of attempts not yet decided (or never, after
 * a crash), for the window to close.
 */
export function decideAttempt<T extends AttemptCounter>(
  policy: LockoutPolicy,
  reserved: T | undefined,
  current: AttemptCounter,
  nowMs: number,
): AttemptDecision<T> {
  if (reserved) return { allowed: true, reserved, locksOnFailure: reserved.failedLoginCount >= policy.limit };
  const lockedUntilMs = current.lockedUntil ? Date.parse(current.lockedUntil) : Number.NaN;
  const untilMs =
    lockedUntilMs > nowMs
      ? lockedUntilMs
      : Date.parse(current.failedLoginWindowStartedAt ?? '') + policy.windowMs;
  return {
    allowed: false,
    retryAfterSeconds: Number.isNaN(untilMs) ? 1 : Math.max(1, Math.ceil((untilMs - nowMs) / 1000)),
  };
}

/** Whether a lock is in force: passkey sign-in checks no secret, but a locked account stays shut. */
export function isLocked(counter: AttemptCounter, nowMs: number): boolean {
  return counter.lockedUntil !== null && Date.parse(counter.lockedUntil) > nowMs;
}
