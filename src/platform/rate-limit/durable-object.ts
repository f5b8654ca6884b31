import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../../env';
import { type BucketTake, type LeasedBucketState, type LeaseGrant, takeInOrder } from './leases';
import type { BucketDecision } from './token-bucket';

export type TakeResult = Omit<BucketDecision, 'state'> & {
  /** What the bucket holds after, for the caller's refusal memory and lease. */
  tokens: number;
  lease?: LeaseGrant;
};

/**
 * One instance per object name of src/platform/rate-limit/policies.ts (`Bucket.object`): the
 * buckets of one tenant and address together, any other bucket alone. A single writer makes
 * each bucket exact under any concurrency; the states are kept in memory and mirrored to the
 * object's SQLite storage, one entry per bucket key, so an eviction does not hand out a fresh
 * bucket. (Objects of an earlier layout hold one entry under `bucket`: the names or keys they
 * answer to changed, so they are left to go idle, as their buckets are a minute of state.)
 * Leases (./leases.ts) let the calling isolate spend a share of a bucket without calling again.
 */
export class RateLimiterDurableObject extends DurableObject<Env> {
  private readonly states = new Map<string, LeasedBucketState>();

  /**
   * Charges the buckets in order, each crediting back what its returned lease did not spend and
   * leasing a share if asked, and stops at the first refusal: one answer per bucket charged.
   */
  async take(takes: BucketTake[]): Promise<TakeResult[]> {
    const decisions = takeInOrder(
      takes,
      (key) => this.states.get(key) ?? this.ctx.storage.kv.get<LeasedBucketState>(key),
      Date.now(),
    );
    return decisions.map(({ state, ...decision }, index) => {
      const { key } = takes[index] as BucketTake;
      this.states.set(key, state);
      this.ctx.storage.kv.put(key, state);
      return { ...decision, tokens: state.tokens };
    });
  }
}
