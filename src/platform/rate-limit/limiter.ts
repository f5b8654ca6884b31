import type { Env } from '../../env';
import { ApiError } from '../errors';
import type { BucketPolicy } from './token-bucket';

export interface RateLimitOutcome {
  headers: Record<string, string>;
}

/**
 * Takes one token from the principal's bucket and returns the IETF RateLimit headers
 * (draft-ietf-httpapi-ratelimit-headers): `RateLimit-Policy` states the quota `q` per window `w`,
 * `RateLimit` the remaining `r` and the seconds `t` until the quota is whole again.
 */
export async function consumeRateLimit(
  env: Env,
  policyName: string,
  bucketKey: string,
  policy: BucketPolicy,
): Promise<RateLimitOutcome> {
  const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(bucketKey));
  const decision = await stub.take(policy);
  const headers = {
    'RateLimit-Policy': `"${policyName}";q=${policy.capacity};w=${policy.windowSeconds}`,
    RateLimit: `"${policyName}";r=${decision.remaining};t=${decision.resetSeconds}`,
  };
  if (!decision.allowed) {
    throw new ApiError('rate_limited', {
      detail: `Rate limit of ${policy.capacity} requests per ${policy.windowSeconds} s exceeded; retry in ${decision.retryAfterSeconds} s.`,
      headers: { ...headers, 'Retry-After': String(decision.retryAfterSeconds) },
    });
  }
  return { headers };
}
