/**
 * A token bucket holding at most `capacity` tokens that refills continuously at
 * `capacity / windowSeconds` per second: a full bucket serves a burst of `capacity` requests,
 * then one request per refill interval. A request may cost more than one token.
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
  /** Whole tokens still available after this request. */
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** Seconds until this request would be allowed; 0 when it was. */
  retryAfterSeconds: number;
  /** The same, to the millisecond: until then the bucket refuses it, whoever else takes from it. */
  refusedForMs: number;
}

/**
 * A cost above the capacity is charged as the whole bucket: a route priced for large tenants
 * stays callable, once a window, by a tenant whose operator set a smaller limit.
 */
export const effectiveCost = (policy: BucketPolicy, cost: number) => Math.min(cost, policy.capacity);

const refillPerMs = (policy: BucketPolicy) => policy.capacity / (policy.windowSeconds * 1000);

/**
 * The tokens the bucket holds at `nowMs`: what `state` held, refilled since, at most `ceiling`
 * (the capacity, less what leases hold back: src/platform/rate-limit/leases.ts).
 */
export function tokensAt(
  policy: BucketPolicy,
  state: BucketState | undefined,
  nowMs: number,
  ceiling = policy.capacity,
): number {
  if (!state) return ceiling;
  const elapsedMs = Math.max(0, nowMs - state.updatedAtMs);
  return Math.min(ceiling, state.tokens + elapsedMs * refillPerMs(policy));
}

/**
 * Milliseconds from `nowMs` until the bucket holds `cost` tokens, if nobody takes any; 0 when it
 * does already. A bucket only refills by itself, so this is a lower bound whoever shares it.
 */
export function msUntilAvailable(
  policy: BucketPolicy,
  state: BucketState | undefined,
  nowMs: number,
  cost = 1,
): number {
  const missing = effectiveCost(policy, cost) - tokensAt(policy, state, nowMs);
  return missing > 0 ? Math.ceil(missing / refillPerMs(policy)) : 0;
}

export function takeToken(
  policy: BucketPolicy,
  previous: BucketState | undefined,
  nowMs: number,
  cost = 1,
): BucketDecision {
  const available = tokensAt(policy, previous, nowMs);
  const charged = effectiveCost(policy, cost);
  const allowed = available >= charged;
  const state = { tokens: allowed ? available - charged : available, updatedAtMs: nowMs };
  const refusedForMs = allowed ? 0 : msUntilAvailable(policy, state, nowMs, cost);
  return {
    allowed,
    state,
    remaining: Math.floor(state.tokens),
    resetSeconds: Math.ceil(msUntilAvailable(policy, state, nowMs, policy.capacity) / 1000),
    retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil(refusedForMs / 1000)),
    refusedForMs,
  };
}
