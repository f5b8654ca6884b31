/*
 * Writes the OpenAPI document the worker serves at GET /v2/customer/openapi.json to a file, offline
 * (see scripts/lib/openapi-document.ts), and the route map docs/routes.md rendered from it (see
 * scripts/lib/route-map.ts).
 *
 *   node scripts/openapi-export.ts [output]           (default .openapi/openapi.json)
 *   node scripts/openapi-export.ts --check [output]   docs/routes.md is compared, not written
 *
 * Spectral (`npm run openapi:lint`) and openapi-typescript (`npm run client:generate`) read the
 * document; `npm run openapi:check` runs `--check`, so `npm test` fails on a stale route map.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { buildOpenApiDocumentWithRoutes } from './lib/openapi-document.ts';
import { isListedTestFile, type RouteMapDocument, renderRouteMap } from './lib/route-map.ts';
import { projectRoot } from './lib/wrangler.ts';

const ROUTE_MAP = 'docs/routes.md';

const args = process.argv.slice(2);
const check = args.includes('--check');
const output = resolve(projectRoot, args.find((arg) => arg !== '--check') ?? '.openapi/openapi.json');

const { document, basePath, declaredIn } = await buildOpenApiDocumentWithRoutes();
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
const routeMapPath = join(projectRoot, ROUTE_MAP);
if (check) {
  if (!existsSync(routeMapPath) || readFileSync(routeMapPath, 'utf8') !== routeMap) {
    console.error(`${ROUTE_MAP} is stale: run npm run openapi:export`);
    process.exit(1);
  }
} else {
  writeFileSync(routeMapPath, routeMap);
  console.log(`Route map written to ${ROUTE_MAP}`);
}
