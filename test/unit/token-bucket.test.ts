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

describe('token bucket, requests costing several tokens', () => {
  const small = { capacity: 10, windowSeconds: 60 };

  it('takes the cost from the bucket: a full bucket serves capacity / cost requests', () => {
    let state: ReturnType<typeof takeToken>['state'] | undefined;
    const decisions = Array.from({ length: 3 }, () => {
      const decision = takeToken(small, state, 0, 4);
      state = decision.state;
      return decision;
    });
    expect(decisions.map((decision) => decision.allowed)).toEqual([true, true, false]);
    expect(decisions[1]?.remaining).toBe(2);
    // 2 tokens left, 4 needed: 2 refills of 6 s each.
    expect(decisions[2]).toMatchObject({ remaining: 2, refusedForMs: 12_000, retryAfterSeconds: 12 });
  });

  it('still serves a one-token request that a costlier one was refused', () => {
    const afterBurst = takeToken(small, undefined, 0, 8).state;
    expect(takeToken(small, afterBurst, 0, 4).allowed).toBe(false);
    expect(takeToken(small, afterBurst, 0, 1)).toMatchObject({ allowed: true, remaining: 1 });
  });

  it('charges a cost above the capacity as the whole bucket', () => {
    const first = takeToken(small, undefined, 0, 50);
    expect(first).toMatchObject({ allowed: true, remaining: 0, resetSeconds: 60 });
    expect(takeToken(small, first.state, 30_000, 50)).toMatchObject({ allowed: false, refusedForMs: 30_000 });
  });
});
