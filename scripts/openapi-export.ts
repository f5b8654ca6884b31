/*
 * Writes the OpenAPI document the worker serves at GET /v2/customer/openapi.json to a file, offline
 * (see scripts/lib/openapi-document.ts).
 *
 *   node scripts/openapi-export.ts [output]        (default .openapi/openapi.json)
 *
 * Spectral (`npm run openapi:lint`) and openapi-typescript (`npm run client:generate`) read the file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { buildOpenApiDocument } from './lib/openapi-document.ts';
import { projectRoot } from './lib/wrangler.ts';

const output = resolve(projectRoot, process.argv[2] ?? '.openapi/openapi.json');
const document = await buildOpenApiDocument();
mkdirSync(dirname(output), { recursive: true });
writeFileSync(output, `${JSON.stringify(document, null, 2)}\n`);
console.log(`OpenAPI document written to ${relative(projectRoot, output)}`);
