/**
 * A token bucket holding at most `capacity` tokens that refills continuously at
 * `capacity / windowSeconds` per second: a full bucket serves a burst of `capacity` requests,
 * then one request per refill interval.
 */
export interface BucketPolicy {
  capacity: number;
  windowSeconds: number;
}

export interface BucketState {
  tokens: number;
  updatedAtMs: number;
}

export interface BucketDecision {
  allowed: boolean;
  state: BucketState;
  /** Whole requests still available after this one. */
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** Seconds until the next request would be allowed; 0 when this one was. */
  retryAfterSeconds: number;
  /** The same, to the millisecond: until then the bucket refuses, whoever else takes from it. */
  refusedForMs: number;
}

export function takeToken(
  policy: BucketPolicy,
  previous: BucketState | undefined,
  nowMs: number,
): BucketDecision {
  const refillPerMs = policy.capacity / (policy.windowSeconds * 1000);
  const elapsedMs = previous ? Math.max(0, nowMs - previous.updatedAtMs) : 0;
  const available = previous
    ? Math.min(policy.capacity, previous.tokens + elapsedMs * refillPerMs)
    : policy.capacity;
  const allowed = available >= 1;
  const tokens = allowed ? available - 1 : available;
  const refusedForMs = allowed ? 0 : Math.ceil((1 - tokens) / refillPerMs);
  return {
    allowed,
    state: { tokens, updatedAtMs: nowMs },
    remaining: Math.floor(tokens),
    resetSeconds: Math.ceil((policy.capacity - tokens) / refillPerMs / 1000),
    retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil(refusedForMs / 1000)),
    refusedForMs,
  };
}
