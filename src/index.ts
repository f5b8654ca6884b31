import { createApp } from './app';
import type { Env } from './env';
import { handleQueue } from './queues/consumer';
import { DAILY_CRON, runDailyTasks, sweepOutboxes } from './queues/sweep';

export { RateLimiterDurableObject } from './platform/rate-limit/durable-object';
export { SessionDurableObject } from './platform/sessions/durable-object';

const app = createApp();

export default {
  fetch: app.fetch,
  queue: (batch, env) => handleQueue(batch, env),
  scheduled: (controller, env, ctx) => {
    ctx.waitUntil(controller.cron === DAILY_CRON ? runDailyTasks(env) : sweepOutboxes(env));
  },
} satisfies ExportedHandler<Env, unknown>;
