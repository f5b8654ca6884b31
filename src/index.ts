import { createApp } from './app';
import type { Env } from './env';
import { handleQueue } from './queues/consumer';
import { sweepOutboxes } from './queues/sweep';

export { RateLimiterDurableObject } from './platform/rate-limit/durable-object';
export { SessionDurableObject } from './platform/sessions/durable-object';

const app = createApp();

export default {
  fetch: app.fetch,
  queue: (batch, env) => handleQueue(batch, env),
  scheduled: (_controller, env, ctx) => {
    ctx.waitUntil(sweepOutboxes(env));
  },
} satisfies ExportedHandler<Env, unknown>;
