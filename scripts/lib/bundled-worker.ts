import { join } from 'node:path';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';
import { projectRoot } from './wrangler.ts';

/**
 * The worker's Miniflare options as wrangler.toml declares them, for a bundle of it served
 * outside `wrangler dev`: by the bench's own Miniflare, or beside the tests (vitest.config.ts).
 * Left out: the assets router (neither reads assets), the queue consumers and cron triggers,
 * whose work would run beside what is measured or tested, and the module settings of the sources.
 */
export function bundledWorkerOptions() {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(projectRoot, 'wrangler.toml'));
  const {
    assets: _assets,
    queueConsumers: _consumers,
    cronTriggers: _crons,
    modulesRules: _rules,
    rootPath: _root,
    ...options
  } = workerOptions;
  return options;
}
