import { describe, expect, it } from 'vitest';
import {
  type HeldLease,
  LEASE_CLOCK_MARGIN_MS,
  type LeasedBucketState,
  type LeasePolicy,
  spendLease,
  takeInOrder,
  takeWithLease,
} from '../../src/platform/rate-limit/leases';
import type { BucketPolicy } from '../../src/platform/rate-limit/token-bucket';

const policy: BucketPolicy = { capacity: 100, windowSeconds: 60 };
const lease: LeasePolicy = { share: 0.25, lifetimeSeconds: 10 };

/** One bucket's object and the isolates that call it, as src/platform/rate-limit/limiter.ts does. */
function bucketShared(bucketPolicy: BucketPolicy, leasePolicy: LeasePolicy) {
  let object: LeasedBucketState | undefined;
  const held = new Map<string, HeldLease | undefined>();
  const stats = { objectCalls: 0, leaseSizes: [] as number[] };
  function take(isolate: string, nowMs: number, cost = 1): boolean {
    const mine = held.get(isolate);
    const spent = mine && spendLease(bucketPolicy, mine, nowMs, cost);
    if (spent) {
      held.set(isolate, spent.lease);
      return true;
    }
    stats.objectCalls += 1;
    const returned = mine && { id: mine.id, unused: mine.tokens };
    const decision = takeWithLease(bucketPolicy, leasePolicy, object, nowMs, cost, returned);
    object = decision.state;
    held.set(
      isolate,
      decision.lease && { ...decision.lease, usableUntilMs: nowMs + leasePolicy.lifetimeSeconds * 1000 },
    );
    if (decision.lease) stats.leaseSizes.push(decision.lease.tokens);
    return decision.allowed;
  }
  return { take, stats, state: () => object };
}

/** A deterministic pseudo-random sequence (mulberry32), so a failure replays. */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('rate-limit leases', () => {
  it('serves exactly the capacity of a full bucket to one isolate, in a few object calls', () => {
    const bucket = bucketShared(policy, lease);
    let allowed = 0;
    while (bucket.take('a', 1_000)) allowed += 1;
    expect(allowed).toBe(100);
    expect(bucket.stats.objectCalls).toBeLessThan(25);
  });

  it('leases a shrinking share as the bucket empties, and nothing from the last tokens', () => {
    const bucket = bucketShared(policy, lease);
    while (bucket.take('a', 1_000));
    const sizes = bucket.stats.leaseSizes;
    expect(sizes[0]).toBe(Math.floor(99 * 0.25));
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]).toBeLessThanOrEqual(sizes[i - 1] as number);
    expect(sizes.at(-1)).toBe(1);
  });

  it('two isolates cannot together let through more than one exact bucket would', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const next = random(seed);
      const bucket = bucketShared(policy, lease);
      // The exact bucket the allowed requests are replayed into: each must have been allowed there too.
      let exact = policy.capacity;
      let exactAtMs = 0;
      let nowMs = 0;
      let allowed = 0;
      while (nowMs < 5 * 60_000) {
        // Bursts and lulls, so leases are spent late, returned and left to expire.
        nowMs += next() < 0.05 ? Math.floor(next() * 20_000) : Math.floor(next() * 300);
        const isolate = next() < 0.5 ? 'a' : 'b';
        const cost = next() < 0.1 ? 10 : 1;
        if (!bucket.take(isolate, nowMs, cost)) continue;
        allowed += 1;
        exact = Math.min(policy.capacity, exact + ((nowMs - exactAtMs) * policy.capacity) / 60_000);
        exactAtMs = nowMs;
        expect(exact, `seed ${seed} at ${nowMs} ms`).toBeGreaterThanOrEqual(cost - 1e-9);
        exact -= cost;
      }
      expect(allowed).toBeGreaterThan(0);
    }
  });

  it('does not let a lease taken before a refill add to the refilled bucket', () => {
    const bucket = bucketShared(policy, lease);
    expect(bucket.take('a', 0)).toBe(true); // a holds 24 tokens
    let drained = 0;
    while (bucket.take('b', 0)) drained += 1;
    expect(drained).toBe(75);
    // 9 s later the bucket has earned 15 tokens: a's 24 plus those, not plus a refill of 24 more.
    let later = 0;
    while (bucket.take('a', 9_000) || bucket.take('b', 9_000)) later += 1;
    expect(later).toBe(24 + 15);
  });

  it('credits what a returned lease did not spend, once, and nothing for an expired one', () => {
    // One token every 60 s: the refill does not hide what the leases do.
    const slow: BucketPolicy = { capacity: 100, windowSeconds: 6_000 };
    const first = takeWithLease(slow, lease, undefined, 0);
    const grant = first.lease;
    expect(grant).toEqual({ id: 1, tokens: 24 });
    const returned = takeWithLease(slow, lease, first.state, 0, 1, { id: 1, unused: 20 });
    // 75 left + 20 back − 1 for this request (a quarter of what is left then goes out again).
    expect(returned.remaining).toBe(94);
    const again = takeWithLease(slow, undefined, returned.state, 0, 1, { id: 1, unused: 20 });
    expect(again.remaining).toBe(returned.state.tokens - 1);
    const late = lease.lifetimeSeconds * 1000 + LEASE_CLOCK_MARGIN_MS;
    const before = takeWithLease(slow, undefined, first.state, late - 1, 0, { id: 1, unused: 24 });
    expect(before.remaining).toBe(75 + 24);
    const expired = takeWithLease(slow, undefined, first.state, late, 0, { id: 1, unused: 24 });
    expect(expired.remaining).toBe(75);
  });

  it('is not spent past its lifetime or beyond its tokens', () => {
    const held: HeldLease = { id: 1, tokens: 2, usableUntilMs: 10_000 };
    expect(spendLease(policy, held, 10_000)).toBeUndefined();
    expect(spendLease(policy, held, 0, 3)).toBeUndefined();
    expect(spendLease(policy, held, 0, 2)).toMatchObject({ lease: { tokens: 0 } });
  });

  it('states only what is left of the lease, which other isolates cannot have spent', () => {
    const held: HeldLease = { id: 1, tokens: 24, usableUntilMs: 10_000 };
    const spent = spendLease(policy, held, 0);
    expect(spent).toMatchObject({ lease: { tokens: 23 }, remaining: 23 });
    // 77 tokens short of the capacity of 100 per 60 s: 46.2 s of refill.
    expect(spent?.resetSeconds).toBe(47);
  });

  it('charges several buckets of one object in order and leaves those after a refusal untouched', () => {
    const small: BucketPolicy = { capacity: 2, windowSeconds: 6_000 };
    const states = new Map<string, LeasedBucketState>();
    const charge = (...keys: string[]) => {
      const takes = keys.map((key) => ({ key, policy: key === 'small' ? small : policy, cost: 1 }));
      const decisions = takeInOrder(takes, (key) => states.get(key), 0);
      decisions.forEach((decision, index) => {
        states.set(keys[index] as string, decision.state);
      });
      return decisions.map((decision) => decision.allowed);
    };
    expect(charge('small', 'quota')).toEqual([true, true]);
    expect(charge('small', 'quota')).toEqual([true, true]);
    // The refusal ends the call: the quota after it keeps what it had.
    expect(charge('small', 'quota')).toEqual([false]);
    expect(states.get('quota')?.tokens).toBe(98);
    expect(charge('quota', 'small')).toEqual([true, false]);
    expect(states.get('quota')?.tokens).toBe(97);
  });

  it('charges a bucket named twice in one call from what the first take left', () => {
    const two: BucketPolicy = { capacity: 2, windowSeconds: 6_000 };
    const take = { key: 'b', policy: two, cost: 1, lease };
    const decisions = takeInOrder([take, take, take], () => undefined, 0);
    expect(decisions.map((decision) => decision.allowed)).toEqual([true, true, false]);
  });
});
