import { describe, expect, it } from 'vitest';
import { takeToken } from '../../src/platform/rate-limit/token-bucket';

const policy = { capacity: 100, windowSeconds: 60 };

describe('token bucket', () => {
  it('serves a burst of exactly `capacity` requests from a full bucket', () => {
    let state: ReturnType<typeof takeToken>['state'] | undefined;
    const decisions = Array.from({ length: 101 }, () => {
      const decision = takeToken(policy, state, 1_000);
      state = decision.state;
      return decision;
    });
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(100);
    expect(decisions[99]?.remaining).toBe(0);
    expect(decisions[100]).toMatchObject({ allowed: false, remaining: 0, retryAfterSeconds: 1 });
  });

  it('refills at capacity per window', () => {
    let state = takeToken({ capacity: 2, windowSeconds: 60 }, undefined, 0).state;
    state = takeToken({ capacity: 2, windowSeconds: 60 }, state, 0).state;
    const denied = takeToken({ capacity: 2, windowSeconds: 60 }, state, 29_000);
    expect(denied.allowed).toBe(false);
    expect(denied.retryAfterSeconds).toBe(1);
    // 29/30 of a token at 29 s: the next whole one is a second away, to the millisecond.
    expect(denied.refusedForMs).toBe(1000);
    expect(takeToken({ capacity: 2, windowSeconds: 60 }, state, 30_000).allowed).toBe(true);
  });

  it('never holds more than its capacity', () => {
    const first = takeToken(policy, undefined, 0);
    const muchLater = takeToken(policy, first.state, 10 * 60_000);
    expect(muchLater.remaining).toBe(99);
    expect(muchLater.resetSeconds).toBe(1);
  });

  it('ignores a clock that goes backwards', () => {
    const first = takeToken(policy, undefined, 10_000);
    expect(takeToken(policy, first.state, 5_000).remaining).toBe(98);
  });
});
