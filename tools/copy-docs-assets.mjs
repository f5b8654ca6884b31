// Copies the Swagger UI files that GET /v2/customer/docs serves from node_modules into `assets/`,
// the Workers Static Assets directory of wrangler.toml (gitignored). Runs as `postinstall`, so
// `npm ci` on a fresh clone produces them. Plain JavaScript: it must run before anything is built.
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The vendor files of `ASSETS` in src/modules/docs/routes.ts. */
const FILES = ['swagger-ui-bundle.js', 'swagger-ui.css'];

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const { version } = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8'));
const target = join(root, 'assets', 'swagger-ui');

// Versioned directory: a stale copy can never be served under a newer version's immutable URL.
rmSync(target, { recursive: true, force: true });
mkdirSync(join(target, version), { recursive: true });
for (const file of FILES) copyFileSync(join(source, file), join(target, version, file));
console.log(`docs assets: swagger-ui-dist ${version} -> ${join('assets', 'swagger-ui', version)}`);
