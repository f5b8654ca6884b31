/*
 * Writes the OpenAPI document the worker serves at GET /v2/customer/openapi.json to a file, offline
 * (see scripts/lib/openapi-document.ts), the route map docs/routes.md rendered from it (see
 * scripts/lib/route-map.ts) and the rate-limit table of docs/api.md (scripts/lib/rate-limit-table.ts).
 *
 *   node scripts/openapi-export.ts [output]           (default .openapi/openapi.json)
 *   node scripts/openapi-export.ts --check [output]   the generated pages are compared, not written
 *
 * Spectral (`npm run openapi:lint`) and openapi-typescript (`npm run client:generate`) read the
 * document; `npm run openapi:check` runs `--check`, so `npm test` fails on a stale generated page.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { buildOpenApiDocumentWithRoutes } from './lib/openapi-document.ts';
import { type RateLimitDocument, renderRateLimitTable, withRateLimitTable } from './lib/rate-limit-table.ts';
import { isListedTestFile, type RouteMapDocument, renderRouteMap } from './lib/route-map.ts';
import { projectRoot } from './lib/wrangler.ts';

const ROUTE_MAP = 'docs/routes.md';
const API_PAGE = 'docs/api.md';

const args = process.argv.slice(2);
const check = args.includes('--check');
const output = resolve(projectRoot, args.find((arg) => arg !== '--check') ?? '.openapi/openapi.json');

const { document, basePath, declaredIn, rateLimits } = await buildOpenApiDocumentWithRoutes();
mkdirSync(dirname(output), { recursive: true });
writeFileSync(output, `${JSON.stringify(document, null, 2)}\n`);
console.log(`OpenAPI document written to ${relative(projectRoot, output)}`);

const testFiles = new Map(
  readdirSync(join(projectRoot, 'test'), { recursive: true, encoding: 'utf8' })
    .map((file) => `test/${file}`)
    .filter(isListedTestFile)
    .map((file) => [file, readFileSync(join(projectRoot, file), 'utf8')]),
);
const routeSources = new Map(
  [...new Set([...declaredIn.values()].map(({ file }) => file))].map((file) => [
    file,
    readFileSync(join(projectRoot, file), 'utf8'),
  ]),
);
const routeMap = renderRouteMap({
  document: document as unknown as RouteMapDocument,
  basePath,
  declaredIn,
  routeSources,
  testFiles,
});
const apiPagePath = join(projectRoot, API_PAGE);
const apiPage = readFileSync(apiPagePath, 'utf8');
const generated = new Map([
  [ROUTE_MAP, routeMap],
  [
    API_PAGE,
    withRateLimitTable(
      apiPage,
      renderRateLimitTable({
        document: document as unknown as RateLimitDocument,
        basePath,
        policies: rateLimits.rateLimitPolicies,
        tierQuotas: rateLimits.defaultRateLimitPerMinute,
      }),
    ),
  ],
]);
for (const [file, text] of generated) {
  const path = join(projectRoot, file);
  if (!check) {
    writeFileSync(path, text);
    console.log(`${file} written`);
  } else if (!existsSync(path) || readFileSync(path, 'utf8') !== text) {
    console.error(`${file} is stale: run npm run openapi:export`);
    process.exitCode = 1;
  }
}
