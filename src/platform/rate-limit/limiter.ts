import type { Env } from '../../env';
import { ApiError } from '../errors';
import { LruCache } from '../lru-cache';
import type { BucketPolicy } from './token-bucket';

export interface RateLimitOutcome {
  headers: Record<string, string>;
}

/**
 * Buckets this isolate saw refuse, until they can allow again. A bucket only refills until
 * then (other isolates can only take from it), so the object would refuse too: a throttled
 * caller's further requests are answered here without a Durable Object call.
 */
const REFUSALS_REMEMBERED = 10_000;
const refusals = new LruCache<
  string,
  { policyName: string; policy: BucketPolicy; retryAtMs: number; fullAtMs: number }
>(REFUSALS_REMEMBERED);

/**
 * The IETF RateLimit headers (draft-ietf-httpapi-ratelimit-headers): `RateLimit-Policy` states
 * the quota `q` per window `w`, `RateLimit` the remaining `r` and the seconds `t` until the
 * quota is whole again.
 */
function rateLimitHeaders(policyName: string, policy: BucketPolicy, remaining: number, resetSeconds: number) {
  return {
    'RateLimit-Policy': `"${policyName}";q=${policy.capacity};w=${policy.windowSeconds}`,
    RateLimit: `"${policyName}";r=${remaining};t=${resetSeconds}`,
  };
}

function rateLimited(policy: BucketPolicy, headers: Record<string, string>, retryAfterSeconds: number) {
  return new ApiError('rate_limited', {
    detail: `Rate limit of ${policy.capacity} requests per ${policy.windowSeconds} s exceeded; retry in ${retryAfterSeconds} s.`,
    headers: { ...headers, 'Retry-After': String(retryAfterSeconds) },
  });
}

/** The 429 for a bucket this isolate knows to be empty, or undefined if only the bucket can tell. */
export function knownRefusal(bucketKey: string, nowMs = Date.now()): ApiError | undefined {
  const refusal = refusals.get(bucketKey);
  if (!refusal) return undefined;
  if (refusal.retryAtMs <= nowMs) {
    refusals.delete(bucketKey);
    return undefined;
  }
  const headers = rateLimitHeaders(
    refusal.policyName,
    refusal.policy,
    0,
    Math.ceil((refusal.fullAtMs - nowMs) / 1000),
  );
  return rateLimited(refusal.policy, headers, Math.max(1, Math.ceil((refusal.retryAtMs - nowMs) / 1000)));
}

/** Takes one token from the bucket and returns the RateLimit headers, or throws 429 `rate_limited`. */
export async function consumeRateLimit(
  env: Env,
  policyName: string,
  bucketKey: string,
  policy: BucketPolicy,
): Promise<RateLimitOutcome> {
  const known = knownRefusal(bucketKey);
  if (known) throw known;
  const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(bucketKey));
  const decision = await stub.take(policy);
  const headers = rateLimitHeaders(policyName, policy, decision.remaining, decision.resetSeconds);
  if (!decision.allowed) {
    const now = Date.now();
    refusals.set(bucketKey, {
      policyName,
      policy,
      retryAtMs: now + decision.refusedForMs,
      fullAtMs: now + decision.resetSeconds * 1000,
    });
    throw rateLimited(policy, headers, decision.retryAfterSeconds);
  }
  return { headers };
}
