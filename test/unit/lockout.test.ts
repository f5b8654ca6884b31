import { describe, expect, it } from 'vitest';
import {
  type AttemptCounter,
  decideAttempt,
  isLocked,
  type LockoutPolicy,
  lockoutClock,
} from '../../src/platform/auth/lockout';

const policy: LockoutPolicy = { limit: 5, windowMs: 15 * 60_000, lockMs: 15 * 60_000 };
const NOW = Date.parse('2025-03-01T12:00:00.000Z');

function counter(overrides: Partial<AttemptCounter> = {}): AttemptCounter {
  return { failedLoginCount: 0, failedLoginWindowStartedAt: null, lockedUntil: null, ...overrides };
}

describe('account lockout decisions', () => {
  it('grants a reservation and marks only the last slot as the one whose failure locks', () => {
    for (let slot = 1; slot <= policy.limit; slot++) {
      const reserved = counter({
        failedLoginCount: slot,
        failedLoginWindowStartedAt: '2025-03-01T11:58:00.000Z',
      });
      expect(decideAttempt(policy, reserved, reserved, NOW)).toEqual({
        allowed: true,
        reserved,
        locksOnFailure: slot === policy.limit,
      });
    }
  });

  it('refuses for as long as the lock lasts', () => {
    const current = counter({
      failedLoginCount: policy.limit,
      failedLoginWindowStartedAt: '2025-03-01T11:50:00.000Z',
      lockedUntil: '2025-03-01T12:10:00.500Z',
    });
    expect(decideAttempt(policy, undefined, current, NOW)).toEqual({
      allowed: false,
      retryAfterSeconds: 601,
    });
  });

  it('refuses a window full of undecided attempts until the window closes', () => {
    // Five reservations still being checked, or lost to a crash: they count as failures.
    const current = counter({
      failedLoginCount: policy.limit,
      failedLoginWindowStartedAt: '2025-03-01T11:50:00.000Z',
    });
    expect(decideAttempt(policy, undefined, current, NOW)).toEqual({
      allowed: false,
      retryAfterSeconds: 300,
    });
  });

  it('never asks to wait less than a second', () => {
    const current = counter({ failedLoginCount: policy.limit, lockedUntil: '2025-03-01T12:00:00.001Z' });
    expect(decideAttempt(policy, undefined, current, NOW)).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it('gives the instants the reservation compares with', () => {
    expect(lockoutClock(policy, NOW)).toEqual({
      now: '2025-03-01T12:00:00.000Z',
      windowClosedBy: '2025-03-01T11:45:00.000Z',
      lockUntil: '2025-03-01T12:15:00.000Z',
    });
  });

  it('treats a lock that has run out as no lock', () => {
    expect(isLocked(counter({ lockedUntil: '2025-03-01T12:00:00.001Z' }), NOW)).toBe(true);
    expect(isLocked(counter({ lockedUntil: '2025-03-01T12:00:00.000Z' }), NOW)).toBe(false);
    expect(isLocked(counter(), NOW)).toBe(false);
  });
});
