import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { build } from 'esbuild';
import type { Declaration } from './route-map.ts';
import { projectRoot } from './wrangler.ts';

/** As `npm start` serves it: `servers` is the origin the document was requested from. */
const ORIGIN = 'http://localhost:8787';

type Router = OpenAPIHono<import('../../src/platform/context.ts').AppEnv>;

interface Bundle {
  createApp: typeof import('../../src/app.ts').createApp;
  BASE_PATH: string;
  createRouter: typeof import('../../src/platform/openapi.ts').createRouter;
  rateLimitPolicies: typeof import('../../src/platform/rate-limit/policies.ts').rateLimitPolicies;
  defaultRateLimitPerMinute: typeof import('../../src/platform/tenancy.ts').defaultRateLimitPerMinute;
  /** Each module's routes file, by its path from the project root, with what it exports. */
  routeFiles: Record<string, Record<string, unknown>>;
}

/** Every module's `routes.ts` under src/modules, sorted, as paths from the project root. */
function routeFilePaths(): string[] {
  return readdirSync(join(projectRoot, 'src/modules'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file === 'routes.ts' || file.endsWith('/routes.ts'))
    .map((file) => `src/modules/${file}`)
    .sort();
}

/**
 * `src/app.ts` and every module's routes file, bundled for Node with esbuild (their imports are
 * extensionless, which Node cannot load directly) into one module, so the app and the routers
 * read here are the same objects. Routes reach the Durable Object modules, whose classes extend
 * `DurableObject` from `cloudflare:workers`; an empty stand-in class replaces it, since nothing
 * here instantiates one.
 */
async function loadBundle(): Promise<Bundle> {
  const workDir = join(projectRoot, '.openapi');
  mkdirSync(workDir, { recursive: true });
  // Inside the project so the bundle's bare imports (hono, zod, …) resolve from node_modules.
  const bundle = join(workDir, `app.${process.pid}.${Date.now()}.mjs`);
  const files = routeFilePaths();
  const entry = [
    "export { BASE_PATH, createApp } from './src/app.ts';",
    "export { createRouter } from './src/platform/openapi.ts';",
    "export { rateLimitPolicies } from './src/platform/rate-limit/policies.ts';",
    "export { defaultRateLimitPerMinute } from './src/platform/tenancy.ts';",
    ...files.map((file, index) => `import * as routes${index} from './${file}';`),
    `export const routeFiles = { ${files.map((file, index) => `${JSON.stringify(file)}: routes${index}`).join(', ')} };`,
  ].join('\n');
  try {
    await build({
      stdin: { contents: entry, resolveDir: projectRoot, sourcefile: 'openapi-entry.ts', loader: 'ts' },
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
    return (await import(pathToFileURL(bundle).href)) as Bundle;
  } finally {
    rmSync(bundle, { force: true });
  }
}

/** The app's answer to GET /v2/customer/openapi.json, asked in-process with `app.request`. */
async function requestDocument(createApp: Bundle['createApp']): Promise<Record<string, unknown>> {
  // Only what the document route reads; the route touches no binding.
  // The document route is rate-limited like every route; outside workerd a bucket that always
  // allows stands in for the Durable Object.
  const alwaysAllow = {
    take: async (takes: unknown[]) =>
      takes.map(() => ({ allowed: true, remaining: 1, resetSeconds: 0, retryAfterSeconds: 0, tokens: 1 })),
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
}

/**
 * The operationId and declared path of every route each routes file registers, read from its
 * routers' own OpenAPI registries. A routes file exports only router factories (`customerRoutes()`, which return
 * their router) and registrars (`openApiDocument(app)`, which register on the router they are
 * given); each is called once more here, on a fresh router.
 */
function operationsByFile(bundle: Bundle): Map<string, { operationId: string; path: string }[]> {
  const byFile = new Map<string, { operationId: string; path: string }[]>();
  for (const [file, exports] of Object.entries(bundle.routeFiles)) {
    const operations: { operationId: string; path: string }[] = [];
    for (const [name, value] of Object.entries(exports)) {
      if (typeof value !== 'function') {
        throw new Error(`${file} exports ${name}, which is not a router factory or registrar`);
      }
      const given = bundle.createRouter();
      const returned: unknown = value(given);
      const router = (returned ?? given) as Router;
      for (const definition of router.openAPIRegistry.definitions) {
        if (definition.type !== 'route') continue;
        if (!definition.route.operationId) {
          throw new Error(`${file}: ${definition.route.method} ${definition.route.path} has no operationId`);
        }
        operations.push({ operationId: definition.route.operationId, path: definition.route.path });
      }
    }
    byFile.set(file, operations);
  }
  return byFile;
}

/**
 * The OpenAPI document the worker serves at GET /v2/customer/openapi.json, built offline: no
 * server, no workerd.
 */
export async function buildOpenApiDocument(): Promise<Record<string, unknown>> {
  return requestDocument((await loadBundle()).createApp);
}

/**
 * The document, its base path, for each operationId the routes file and path it is declared with,
 * and the rate-limit policies with the tiers' quotas (for docs/api.md's table).
 */
export async function buildOpenApiDocumentWithRoutes(): Promise<{
  document: Record<string, unknown>;
  basePath: string;
  declaredIn: Map<string, Declaration>;
  rateLimits: Pick<Bundle, 'rateLimitPolicies' | 'defaultRateLimitPerMinute'>;
}> {
  const bundle = await loadBundle();
  const document = await requestDocument(bundle.createApp);
  const declaredIn = new Map<string, Declaration>();
  for (const [file, operations] of operationsByFile(bundle)) {
    for (const { operationId, path } of operations) {
      const other = declaredIn.get(operationId);
      if (other) throw new Error(`operationId ${operationId} is declared in both ${other.file} and ${file}`);
      declaredIn.set(operationId, { file, path });
    }
  }
  const { rateLimitPolicies, defaultRateLimitPerMinute } = bundle;
  return {
    document,
    basePath: bundle.BASE_PATH,
    declaredIn,
    rateLimits: { rateLimitPolicies, defaultRateLimitPerMinute },
  };
}
