/*
 * Writes the OpenAPI document the worker serves at GET /v2/customer/openapi.json to a file, offline:
 * no server, no workerd. `src/app.ts` is bundled for Node with esbuild (its imports are extensionless,
 * which Node cannot load directly) and the document route is called in-process with `app.request`.
 * Routes reach the Durable Object modules (for their stubs and token formats), whose classes extend
 * `DurableObject` from `cloudflare:workers`; an empty stand-in class replaces it, since the document
 * route never instantiates one.
 *
 *   node scripts/openapi-export.ts [output]        (default .openapi/openapi.json)
 *
 * Spectral (`npm run openapi:lint`) and openapi-typescript (`npm run client:generate`) read the file.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const output = resolve(root, process.argv[2] ?? '.openapi/openapi.json');
/** As `npm start` serves it: `servers` is the origin the document was requested from. */
const ORIGIN = 'http://localhost:8787';

const workDir = join(root, '.openapi');
mkdirSync(workDir, { recursive: true });
// Inside the project so the bundle's bare imports (hono, zod, …) resolve from node_modules.
const bundle = join(workDir, `app.${process.pid}.mjs`);

try {
  await build({
    entryPoints: [join(root, 'src/app.ts')],
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
  const { createApp } = (await import(pathToFileURL(bundle).href)) as typeof import('../src/app.ts');
  // Only what the document route reads; the route touches no binding.
  // The document route is rate-limited like every route; outside workerd a bucket that always
  // allows stands in for the Durable Object.
  const alwaysAllow = {
    take: async () => ({ allowed: true, remaining: 1, resetSeconds: 0, retryAfterSeconds: 0 }),
  };
  const RATE_LIMITER = { idFromName: (name: string) => name, get: () => alwaysAllow };
  const env = { ENVIRONMENT: 'development', LOG_LEVEL: 'silent', RATE_LIMITER } as unknown as Cloudflare.Env;
  const response = await createApp().request(`${ORIGIN}/v2/customer/openapi.json`, {}, env);
  if (response.status !== 200) {
    throw new Error(`GET /v2/customer/openapi.json answered ${response.status}: ${await response.text()}`);
  }
  const document = await response.json();
  mkdirSync(dirname(output), { recursive: true });
  writeFileSync(output, `${JSON.stringify(document, null, 2)}\n`);
  console.log(
    `OpenAPI document written to ${output.startsWith(root) ? output.slice(root.length + 1) : output}`,
  );
} finally {
  rmSync(bundle, { force: true });
}
