/**
 * Leases: a bucket's Durable Object hands an isolate, along with the tokens of the request it
 * asked for, a share of what the bucket still holds, and the isolate spends it on that bucket's
 * next requests without a call. Exactness is kept by three rules:
 *
 * - A leased token leaves the bucket when it is leased, so no token is granted twice.
 * - While a lease is out, the bucket refills only up to `capacity − tokens leased out`: a token
 *   spent late from a lease is one the bucket has held back for it all along, so however the
 *   requests of a bucket spread over isolates, no interval sees more than a single exact bucket
 *   would have let through. (Without this, tokens leased before a refill and spent after it
 *   would add to a full bucket.)
 * - An isolate spends a lease only for `lifetimeSeconds` after it asked; the object holds it
 *   out a little longer (clocks differ) and then counts it spent. Unused tokens come back on
 *   the isolate's next call for the bucket.
 *
 * What is not exact is the other direction: while one isolate holds tokens, a request landing
 * on another may be refused although the bucket, summed over isolates, could serve it. The
 * share shrinks with the bucket (it is a fraction of what is left), so near its limit a caller
 * is refused early by at most what sits in leases, and only until they come back or expire.
 */
import {
  type BucketDecision,
  type BucketPolicy,
  type BucketState,
  effectiveCost,
  msUntilAvailable,
  takeToken,
  tokensAt,
} from './token-bucket';

export interface LeasePolicy {
  /** Fraction of what the bucket holds after a request that the isolate takes along. */
  share: number;
  /** How long an isolate may spend a lease after it asked for it. */
  lifetimeSeconds: number;
}

/** How much longer than its lifetime the object keeps a lease out: more than clocks can differ. */
export const LEASE_CLOCK_MARGIN_MS = 5_000;

/** A lease as the object keeps it. */
export interface OutstandingLease {
  id: number;
  tokens: number;
  /** Past this, the object counts the lease as spent. */
  heldUntilMs: number;
}

/** A bucket whose object may have leases out. Older states have neither field. */
export interface LeasedBucketState extends BucketState {
  leases?: OutstandingLease[];
  nextLeaseId?: number;
}

/** What an isolate gives back of a lease when it calls again. */
export interface ReturnedLease {
  id: number;
  unused: number;
}

export interface LeaseGrant {
  id: number;
  tokens: number;
}

export interface LeasedDecision extends BucketDecision {
  state: LeasedBucketState;
  /** Tokens beyond the request's own, for the isolate to spend; absent when none. */
  lease?: LeaseGrant;
}

const heldBy = (leases: readonly OutstandingLease[]) => leases.reduce((sum, lease) => sum + lease.tokens, 0);

/**
 * The object's side: takes `cost` tokens as `takeToken` does, first crediting what a lease the
 * caller returns did not spend, and leases a share of what is left when `lease` is set.
 */
export function takeWithLease(
  policy: BucketPolicy,
  leasePolicy: LeasePolicy | undefined,
  previous: LeasedBucketState | undefined,
  nowMs: number,
  cost = 1,
  returned?: ReturnedLease,
): LeasedDecision {
  // Leases past their hold are counted spent: their tokens never come back.
  let leases = (previous?.leases ?? []).filter((lease) => lease.heldUntilMs > nowMs);
  // The refill stops at what the leases out leave room for.
  let tokens = tokensAt(policy, previous, nowMs, policy.capacity - heldBy(leases));
  const back = returned && leases.find((lease) => lease.id === returned.id);
  if (back) {
    tokens += Math.max(0, Math.min(back.tokens, returned.unused));
    leases = leases.filter((lease) => lease !== back);
  }
  const decision = takeToken(policy, { tokens, updatedAtMs: nowMs }, nowMs, cost);
  const nextLeaseId = previous?.nextLeaseId ?? 1;
  const size = decision.allowed && leasePolicy ? Math.floor(decision.state.tokens * leasePolicy.share) : 0;
  if (!leasePolicy || size < 1) return { ...decision, state: { ...decision.state, leases, nextLeaseId } };
  const lease = { id: nextLeaseId, tokens: size };
  const heldUntilMs = nowMs + leasePolicy.lifetimeSeconds * 1000 + LEASE_CLOCK_MARGIN_MS;
  const state = {
    tokens: decision.state.tokens - size,
    updatedAtMs: nowMs,
    leases: [...leases, { ...lease, heldUntilMs }],
    nextLeaseId: nextLeaseId + 1,
  };
  return { ...decision, state, lease };
}

/** One bucket of a call to its object: the request's cost, the lease asked for and the one given back. */
export interface BucketTake {
  /** The bucket's entry among those its object holds. */
  key: string;
  policy: BucketPolicy;
  cost: number;
  lease?: LeasePolicy;
  returned?: ReturnedLease;
}

/**
 * The object's side of a request charging several of its buckets: `takeWithLease` on each in
 * order, until one refuses. The buckets after a refusal are left untouched, as a request charging
 * them one call at a time never gets to them, so the last decision is the only refusal, if any.
 */
export function takeInOrder(
  takes: readonly BucketTake[],
  stateOf: (key: string) => LeasedBucketState | undefined,
  nowMs: number,
): LeasedDecision[] {
  const decisions: LeasedDecision[] = [];
  // A bucket named twice is charged twice, the second time from what the first left.
  const taken = new Map<string, LeasedBucketState>();
  for (const { key, policy, cost, lease, returned } of takes) {
    const decision = takeWithLease(policy, lease, taken.get(key) ?? stateOf(key), nowMs, cost, returned);
    decisions.push(decision);
    taken.set(key, decision.state);
    if (!decision.allowed) break;
  }
  return decisions;
}

/** A lease as the isolate holds it. */
export interface HeldLease extends LeaseGrant {
  /** The isolate spends it until then: its lifetime, counted from before it was asked for. */
  usableUntilMs: number;
}

export interface LeaseSpending {
  lease: HeldLease;
  /**
   * Whole tokens this isolate can vouch for: what is left of its lease. The bucket may hold more,
   * but other isolates may have spent it since the lease was granted: stating it could promise
   * a caller tokens that are gone.
   */
  remaining: number;
  /** Seconds until the bucket, refilling from those tokens, holds its whole capacity again. */
  resetSeconds: number;
}

/** The isolate's side: spends `cost` tokens of its lease, or undefined when it cannot. */
export function spendLease(
  policy: BucketPolicy,
  held: HeldLease,
  nowMs: number,
  cost = 1,
): LeaseSpending | undefined {
  const charged = effectiveCost(policy, cost);
  if (nowMs >= held.usableUntilMs || held.tokens < charged) return undefined;
  const lease = { ...held, tokens: held.tokens - charged };
  const known = { tokens: lease.tokens, updatedAtMs: nowMs };
  return {
    lease,
    remaining: Math.floor(lease.tokens),
    resetSeconds: Math.ceil(msUntilAvailable(policy, known, nowMs, policy.capacity) / 1000),
  };
}
