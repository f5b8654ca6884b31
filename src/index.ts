import { createApp } from './app';
import type { Env } from './env';
import { answerHealthDirectly } from './modules/system/health';
import { handleQueue } from './queues/consumer';
import { DAILY_CRON, runDailyTasks, sweepOutboxes } from './queues/sweep';

export { RateLimiterDurableObject } from './platform/rate-limit/durable-object';
export { SessionDurableObject } from './platform/sessions/durable-object';

const app = createApp();
type FetchArguments = Parameters<typeof app.fetch>;

export default {
  // Typed as the router's own fetch, which tests call with bindings of their own making.
  fetch: (request: FetchArguments[0], env: FetchArguments[1], ctx: FetchArguments[2]) =>
    answerHealthDirectly(request, env as Env, () => app.fetch(request, env, ctx)),
  queue: (batch, env) => handleQueue(batch, env),
  scheduled: (controller, env, ctx) => {
    ctx.waitUntil(controller.cron === DAILY_CRON ? runDailyTasks(env) : sweepOutboxes(env));
  },
} satisfies ExportedHandler<Env, unknown>;
