import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../../env';
import { type BucketDecision, type BucketPolicy, type BucketState, takeToken } from './token-bucket';

const STATE_KEY = 'bucket';

/**
 * One instance per `tenant:principal`. A single writer makes the bucket exact under any
 * concurrency; the state is kept in memory and mirrored to the object's SQLite storage so an
 * eviction does not hand out a fresh bucket.
 */
export class RateLimiterDurableObject extends DurableObject<Env> {
  private state: BucketState | undefined;

  async take(policy: BucketPolicy): Promise<Omit<BucketDecision, 'state'>> {
    this.state ??= this.ctx.storage.kv.get<BucketState>(STATE_KEY);
    const { state, ...decision } = takeToken(policy, this.state, Date.now());
    this.state = state;
    this.ctx.storage.kv.put(STATE_KEY, state);
    return decision;
  }
}
