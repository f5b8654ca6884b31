import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../../env';
import {
  type LeasedBucketState,
  type LeaseGrant,
  type LeasePolicy,
  type ReturnedLease,
  takeWithLease,
} from './leases';
import type { BucketDecision, BucketPolicy } from './token-bucket';

const STATE_KEY = 'bucket';

export type TakeResult = Omit<BucketDecision, 'state'> & {
  /** What the bucket holds after, for the caller's refusal memory and lease. */
  tokens: number;
  lease?: LeaseGrant;
};

/**
 * One instance per bucket key (src/platform/rate-limit/policies.ts). A single writer makes the
 * bucket exact under any concurrency; the state is kept in memory and mirrored to the object's
 * SQLite storage so an eviction does not hand out a fresh bucket. Leases (./leases.ts) let the
 * calling isolate spend a share of the bucket without calling again.
 */
export class RateLimiterDurableObject extends DurableObject<Env> {
  private state: LeasedBucketState | undefined;

  /** Takes `cost` tokens, crediting back what `returned` did not spend, and leases a share if `lease`. */
  async take(
    policy: BucketPolicy,
    cost = 1,
    options: { lease?: LeasePolicy; returned?: ReturnedLease } = {},
  ): Promise<TakeResult> {
    this.state ??= this.ctx.storage.kv.get<LeasedBucketState>(STATE_KEY);
    const { state, ...decision } = takeWithLease(
      policy,
      options.lease,
      this.state,
      Date.now(),
      cost,
      options.returned,
    );
    this.state = state;
    this.ctx.storage.kv.put(STATE_KEY, state);
    return { ...decision, tokens: state.tokens };
  }
}
