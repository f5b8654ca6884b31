import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { projectRoot } from './wrangler.ts';

/** As `npm start` serves it: `servers` is the origin the document was requested from. */
const ORIGIN = 'http://localhost:8787';

/**
 * The OpenAPI document the worker serves at GET /v2/customer/openapi.json, built offline: no server,
 * no workerd. `src/app.ts` is bundled for Node with esbuild (its imports are extensionless, which
 * Node cannot load directly) and the document route is called in-process with `app.request`.
 * Routes reach the Durable Object modules, whose classes extend `DurableObject` from
 * `cloudflare:workers`; an empty stand-in class replaces it, since the document route never
 * instantiates one.
 */
export async function buildOpenApiDocument(): Promise<Record<string, unknown>> {
  const workDir = join(projectRoot, '.openapi');
  mkdirSync(workDir, { recursive: true });
  // Inside the project so the bundle's bare imports (hono, zod, …) resolve from node_modules.
  const bundle = join(workDir, `app.${process.pid}.${Date.now()}.mjs`);
  try {
    await build({
      entryPoints: [join(projectRoot, 'src/app.ts')],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      packages: 'external',
      logLevel: 'error',
      plugins: [
        {
          name: 'cloudflare-workers-stand-in',
          setup(plugin) {
            plugin.onResolve({ filter: /^cloudflare:workers$/ }, () => ({
              path: 'cloudflare:workers',
              namespace: 'stand-in',
            }));
            plugin.onLoad({ filter: /.*/, namespace: 'stand-in' }, () => ({
              contents: 'export class DurableObject {}',
              loader: 'js',
            }));
          },
        },
      ],
    });
    const { createApp } = (await import(pathToFileURL(bundle).href)) as typeof import('../../src/app.ts');
    // Only what the document route reads; the route touches no binding.
    // The document route is rate-limited like every route; outside workerd a bucket that always
    // allows stands in for the Durable Object.
    const alwaysAllow = {
      take: async () => ({ allowed: true, remaining: 1, resetSeconds: 0, retryAfterSeconds: 0 }),
    };
    const RATE_LIMITER = { idFromName: (name: string) => name, get: () => alwaysAllow };
    const env = {
      ENVIRONMENT: 'development',
      LOG_LEVEL: 'silent',
      RATE_LIMITER,
    } as unknown as Cloudflare.Env;
    const response = await createApp().request(`${ORIGIN}/v2/customer/openapi.json`, {}, env);
    if (response.status !== 200) {
      throw new Error(`GET /v2/customer/openapi.json answered ${response.status}: ${await response.text()}`);
    }
    return (await response.json()) as Record<string, unknown>;
  } finally {
    rmSync(bundle, { force: true });
  }
}
