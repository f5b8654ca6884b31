import type { Env } from '../../env';
import { ApiError } from '../errors';
import { LruCache } from '../lru-cache';
import type { TakeResult } from './durable-object';
import { type HeldLease, type LeaseSpending, spendLease } from './leases';
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

/** What a bucket's next request needs, as this isolate knows without a call. */
type Need =
  | { refused: ApiError }
  | { waitFor: Promise<unknown> }
  | { spend: LeaseSpending; slot: LeaseSlot }
  | { object: true; slot?: LeaseSlot };

function needOf(bucket: Bucket, cost: number): Need {
  const refused = knownRefusal(bucket.key, cost);
  if (refused) return { refused };
  if (!bucket.lease) return { object: true };
  const slot = leases.get(bucket.key) ?? {};
  if (slot.asking) return { waitFor: slot.asking };
  const spend = slot.held && spendLease(bucket.policy, slot.held, Date.now(), cost);
  return spend ? { spend, slot } : { object: true, slot };
}

function spend(bucket: Bucket, { spend, slot }: { spend: LeaseSpending; slot: LeaseSlot }): RateLimitOutcome {
  slot.held = spend.lease;
  return { headers: rateLimitHeaders(bucket, spend.remaining, spend.resetSeconds) };
}

interface ObjectTake {
  bucket: Bucket;
  slot?: LeaseSlot;
}

/**
 * Takes `cost` tokens from each bucket in order and returns each one's RateLimit headers, or
 * throws the 429 `rate_limited` of the first bucket that refuses; the buckets after it are left
 * untouched. A leased bucket is served from this isolate's lease while it lasts, a bucket known
 * to refuse without a call, and the buckets in a row that need the same object (the quota and
 * the guessing bucket of one tenant and address) are charged in one call to it. When leases
 * serve every bucket (most requests of a steady caller) the outcomes come without a promise.
 */
export function consumeRateLimits(
  env: Env,
  buckets: readonly Bucket[],
  cost = 1,
): RateLimitOutcome[] | Promise<RateLimitOutcome[]> {
  const outcomes: RateLimitOutcome[] = [];
  while (outcomes.length < buckets.length) {
    const bucket = buckets[outcomes.length] as Bucket;
    const need = needOf(bucket, cost);
    if ('refused' in need) throw need.refused;
    if (!('spend' in need)) return consumeWithCalls(env, buckets, cost, outcomes);
    outcomes.push(spend(bucket, need));
  }
  return outcomes;
}

/** `consumeRateLimits` from the first bucket its leases cannot serve, `outcomes` those before it. */
async function consumeWithCalls(
  env: Env,
  buckets: readonly Bucket[],
  cost: number,
  outcomes: RateLimitOutcome[],
): Promise<RateLimitOutcome[]> {
  while (outcomes.length < buckets.length) {
    const bucket = buckets[outcomes.length] as Bucket;
    const need = needOf(bucket, cost);
    if ('refused' in need) throw need.refused;
    if ('waitFor' in need) {
      await need.waitFor.catch(() => undefined);
      continue;
    }
    if ('spend' in need) {
      outcomes.push(spend(bucket, need));
      continue;
    }
    const run: ObjectTake[] = [{ bucket, slot: need.slot }];
    for (const next of buckets.slice(outcomes.length + 1)) {
      const nextNeed = next.object === bucket.object ? needOf(next, cost) : undefined;
      if (!nextNeed || !('object' in nextNeed)) break;
      run.push({ bucket: next, slot: nextNeed.slot });
    }
    outcomes.push(...(await takeFromObject(env, run, cost)));
  }
  return outcomes;
}

/**
 * One call to the object of `run`'s buckets, giving back what is left of their leases and taking
 * new ones. Until it answers, the buckets' slots say so: their further requests wait for it.
 */
async function takeFromObject(env: Env, run: readonly ObjectTake[], cost: number) {
  const askedAtMs = Date.now();
  const object = (run[0] as ObjectTake).bucket.object;
  const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(object));
  const given = run.map(({ slot }) => slot?.held);
  const takes = run.map(({ bucket }, index) => {
    const held = given[index];
    const returned = held && { id: held.id, unused: held.tokens };
    return { key: bucket.key, policy: bucket.policy, cost, lease: bucket.lease, returned };
  });
  const asking = stub.take(takes);
  for (const { bucket, slot } of run) {
    if (!slot) continue;
    // From here on the lease is the object's again: nothing in this isolate spends it.
    slot.held = undefined;
    slot.asking = asking;
    leases.set(bucket.key, slot);
  }
  let answers: TakeResult[];
  try {
    answers = await asking;
  } finally {
    for (const { slot } of run) if (slot) slot.asking = undefined;
  }
  // A bucket after a refusal was not charged: its lease was not given back and is still this isolate's.
  run.forEach(({ slot }, index) => {
    if (slot && index >= answers.length) slot.held = given[index];
  });
  return answers.map((decision, index) => {
    const { bucket, slot } = run[index] as ObjectTake;
    if (slot && decision.lease && bucket.lease) {
      slot.held = { ...decision.lease, usableUntilMs: askedAtMs + bucket.lease.lifetimeSeconds * 1000 };
    }
    const headers = rateLimitHeaders(bucket, decision.remaining, decision.resetSeconds);
    if (!decision.allowed) {
      refusals.set(bucket.key, { bucket, state: { tokens: decision.tokens, updatedAtMs: Date.now() } });
      throw rateLimited(bucket.policy, headers, decision.retryAfterSeconds);
    }
    return { headers };
  });
}
