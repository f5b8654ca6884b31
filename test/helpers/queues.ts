import { createMessageBatch, env } from 'cloudflare:test';
import worker from '../../src/index';
import { unique } from './factories';

/** Runs the worker's queue consumer on one message, as the queue would deliver it the first time. */
export async function deliver<M>(queue: string, body: M): Promise<void> {
  const batch = createMessageBatch<M>(queue, [
    { id: unique('message'), timestamp: new Date(), attempts: 1, body },
  ]);
  await worker.queue(batch as MessageBatch<unknown>, env);
}
