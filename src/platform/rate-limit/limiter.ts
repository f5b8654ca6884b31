import type { Env } from '../../env';
import { ApiError } from '../errors';
import { LruCache } from '../lru-cache';
import type { TakeResult } from './durable-object';
import { type HeldLease, spendLease } from './leases';
import type { Bucket } from './policies';
import { type BucketPolicy, type BucketState, msUntilAvailable } from './token-bucket';

export interface RateLimitOutcome {
  headers: Record<string, string>;
}

/**
 * Buckets this isolate saw refuse, with what they held then. A bucket only refills until then
 * (other isolates can only take from it), so until it can hold a request's cost the object
 * would refuse too: a throttled caller's further requests are answered here without a Durable
 * Object call. The state is timed by this isolate's clock, when the answer arrived.
 */
const REFUSALS_REMEMBERED = 10_000;
const refusals = new LruCache<string, { bucket: Bucket; state: BucketState }>(REFUSALS_REMEMBERED);

/**
 * The IETF RateLimit headers (draft-ietf-httpapi-ratelimit-headers): `RateLimit-Policy` states
 * the quota `q` per window `w`, `RateLimit` the remaining `r` and the seconds `t` until the
 * quota is whole again.
 */
function rateLimitHeaders(bucket: Bucket, remaining: number, resetSeconds: number) {
  return {
    'RateLimit-Policy': `"${bucket.name}";q=${bucket.policy.capacity};w=${bucket.policy.windowSeconds}`,
    RateLimit: `"${bucket.name}";r=${remaining};t=${resetSeconds}`,
  };
}

function rateLimited(policy: BucketPolicy, headers: Record<string, string>, retryAfterSeconds: number) {
  return new ApiError('rate_limited', {
    detail: `Rate limit of ${policy.capacity} requests per ${policy.windowSeconds} s exceeded; retry in ${retryAfterSeconds} s.`,
    headers: { ...headers, 'Retry-After': String(retryAfterSeconds) },
  });
}

/** The 429 for a bucket this isolate knows cannot serve `cost` yet, or undefined if only the bucket can tell. */
export function knownRefusal(bucketKey: string, cost = 1, nowMs = Date.now()): ApiError | undefined {
  const refusal = refusals.get(bucketKey);
  if (!refusal) return undefined;
  const { bucket, state } = refusal;
  const waitMs = msUntilAvailable(bucket.policy, state, nowMs, cost);
  if (waitMs === 0) {
    refusals.delete(bucketKey);
    return undefined;
  }
  const fullInMs = msUntilAvailable(bucket.policy, state, nowMs, bucket.policy.capacity);
  const headers = rateLimitHeaders(bucket, 0, Math.ceil(fullInMs / 1000));
  return rateLimited(bucket.policy, headers, Math.max(1, Math.ceil(waitMs / 1000)));
}

/**
 * This isolate's lease of each leased bucket (./leases.ts), and the call to its object under
 * way: one at a time per bucket, so requests that arrive meanwhile wait for the lease it brings
 * instead of each asking for one. A forgotten lease is tokens the bucket counts as spent.
 */
interface LeaseSlot {
  held?: HeldLease;
  asking?: Promise<unknown>;
}
const LEASES_REMEMBERED = 10_000;
const leases = new LruCache<string, LeaseSlot>(LEASES_REMEMBERED);

/**
 * Takes `cost` tokens from the bucket and returns the RateLimit headers, or throws 429
 * `rate_limited`. A leased bucket is served from this isolate's lease while it lasts.
 */
export async function consumeRateLimit(env: Env, bucket: Bucket, cost = 1): Promise<RateLimitOutcome> {
  for (;;) {
    const known = knownRefusal(bucket.key, cost);
    if (known) throw known;
    if (!bucket.lease) return takeFromObject(env, bucket, cost);
    const slot = leases.get(bucket.key) ?? {};
    if (slot.asking) {
      await slot.asking.catch(() => undefined);
      continue;
    }
    const spent = slot.held && spendLease(bucket.policy, slot.held, Date.now(), cost);
    if (spent) {
      slot.held = spent.lease;
      return { headers: rateLimitHeaders(bucket, spent.remaining, spent.resetSeconds) };
    }
    return takeFromObject(env, bucket, cost, slot);
  }
}

/** One call to the bucket's object, giving back what is left of `slot`'s lease and taking a new one. */
async function takeFromObject(env: Env, bucket: Bucket, cost: number, slot?: LeaseSlot) {
  const askedAtMs = Date.now();
  const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(bucket.key));
  let decision: TakeResult;
  if (slot) {
    const returned = slot.held && { id: slot.held.id, unused: slot.held.tokens };
    // From here on the lease is the object's again: nothing in this isolate spends it.
    slot.held = undefined;
    const asking = stub.take(bucket.policy, cost, { lease: bucket.lease, returned });
    slot.asking = asking;
    leases.set(bucket.key, slot);
    try {
      decision = await asking;
    } finally {
      slot.asking = undefined;
    }
    if (decision.lease && bucket.lease) {
      slot.held = {
        ...decision.lease,
        usableUntilMs: askedAtMs + bucket.lease.lifetimeSeconds * 1000,
        bucket: { tokens: decision.tokens, updatedAtMs: Date.now() },
      };
    }
  } else {
    decision = await stub.take(bucket.policy, cost);
  }
  const headers = rateLimitHeaders(bucket, decision.remaining, decision.resetSeconds);
  if (!decision.allowed) {
    refusals.set(bucket.key, { bucket, state: { tokens: decision.tokens, updatedAtMs: Date.now() } });
    throw rateLimited(bucket.policy, headers, decision.retryAfterSeconds);
  }
  return { headers };
}
