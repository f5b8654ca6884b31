import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../../env';
import { type BucketDecision, type BucketPolicy, type BucketState, takeToken } from './token-bucket';

const STATE_KEY = 'bucket';

/**
 * One instance per bucket key (src/platform/rate-limit/policies.ts). A single writer makes the
 * bucket exact under any concurrency; the state is kept in memory and mirrored to the object's
 * SQLite storage so an eviction does not hand out a fresh bucket.
 */
export class RateLimiterDurableObject extends DurableObject<Env> {
  private state: BucketState | undefined;

  /** Takes `cost` tokens; `tokens` is what the bucket holds after, for the caller's refusal memory. */
  async take(policy: BucketPolicy, cost = 1): Promise<Omit<BucketDecision, 'state'> & { tokens: number }> {
    this.state ??= this.ctx.storage.kv.get<BucketState>(STATE_KEY);
    const { state, ...decision } = takeToken(policy, this.state, Date.now(), cost);
    this.state = state;
    this.ctx.storage.kv.put(STATE_KEY, state);
    return { ...decision, tokens: state.tokens };
  }
}
