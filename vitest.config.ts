import { webcrypto } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig, type Plugin } from 'vitest/config';
import { bundledWorkerOptions } from './scripts/lib/bundled-worker.ts';
import { openApiContractModule } from './scripts/lib/openapi-contract.ts';
import { projectRoot, runWrangler } from './scripts/lib/wrangler.ts';

/** Fresh secrets for every run: tests never depend on the developer's `.dev.vars`. */
async function testSecrets() {
  const pair = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ]);
  const current = {
    ...(await webcrypto.subtle.exportKey('jwk', pair.privateKey)),
    kid: 'test-key',
    alg: 'ES256',
    use: 'sig',
  };
  return {
    JWT_SIGNING_KEYS: JSON.stringify({ current, previous: null }),
    FIELD_ENCRYPTION_KEY: Buffer.from(webcrypto.getRandomValues(new Uint8Array(32))).toString('base64'),
    PLATFORM_ADMIN_TOKEN: `test-admin-${Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex')}`,
  };
}

/** The committed document fixtures, base64 by file name: workerd has no file system to read them from. */
function documentFixtures(): Record<string, string> {
  const dir = './test/fixtures/documents';
  return Object.fromEntries(
    readdirSync(dir).map((name) => [name, readFileSync(`${dir}/${name}`).toString('base64')]),
  );
}

/** requests/*.http by file name: the request collections test checks them against the document. */
function requestCollections(): Record<string, string> {
  const dir = './requests';
  return Object.fromEntries(
    readdirSync(dir)
      .filter((name) => name.endsWith('.http'))
      .map((name) => [name, readFileSync(`${dir}/${name}`, 'utf8')]),
  );
}

/**
 * `virtual:openapi-contract`: the OpenAPI document and its compiled response validators, built in
 * Node from the current sources whenever a test imports it (scripts/lib/openapi-contract.ts).
 */
function openApiContract(): Plugin {
  const id = 'virtual:openapi-contract';
  return {
    name: 'openapi-contract',
    resolveId: (source) => (source === id ? `\0${id}` : undefined),
    load: (resolved) => (resolved === `\0${id}` ? openApiContractModule() : undefined),
  };
}

/** The worker under test, as the plugin names it in its Miniflare (its project has no name). */
const RUNNER_WORKER = 'vitest-plugin-runner-';

/**
 * A second isolate of the worker, for the tests of what isolates keep apart (rate-limit leases,
 * remembered revocation marks; test/api/two-isolates.test.ts): the worker bundled as `wrangler
 * deploy` bundles it, with the same bindings and secrets, and the runner's Durable Objects, D1
 * databases and KV namespace, so both isolates share every store and only their memory differs.
 * Tests reach it through the runner's `SECOND_ISOLATE` service binding. It forgets unmarked
 * revocation ids after 1 s instead of 30, so the revocation bound is tested in real time.
 */
async function secondIsolate(bindings: Record<string, unknown>) {
  const outdir = join(projectRoot, '.wrangler/vitest-second-isolate');
  await runWrangler(['deploy', '--dry-run', '--outdir', outdir]);
  const { durableObjects, ...options } = bundledWorkerOptions();
  return {
    ...options,
    name: 'second-isolate',
    modules: true,
    scriptPath: join(outdir, 'index.js'),
    durableObjects: Object.fromEntries(
      Object.entries(durableObjects ?? {}).map(([name, object]) => [
        name,
        { className: typeof object === 'string' ? object : object.className, scriptName: RUNNER_WORKER },
      ]),
    ),
    bindings: {
      ...(options.bindings as Record<string, unknown>),
      ...bindings,
      UNMARKED_REMEMBERED_MS: '1000',
    },
  };
}

export default defineConfig(async () => {
  const secrets = await testSecrets();
  const bindings = { ...secrets, ENVIRONMENT: 'test', LOG_LEVEL: 'silent' };
  return {
    plugins: [
      openApiContract(),
      cloudflareTest({
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            ...bindings,
            DOCUMENT_FIXTURES: documentFixtures(),
            REQUEST_COLLECTIONS: requestCollections(),
            // `npm run fuzz -- --runs N --seed S` (scripts/fuzz.ts); empty: the fuzz test's defaults.
            FUZZ_RUNS: process.env.FUZZ_RUNS ?? '',
            FUZZ_SEED: process.env.FUZZ_SEED ?? '',
            TEST_MIGRATIONS: {
              control: await readD1Migrations('./migrations/control'),
              tenant: await readD1Migrations('./migrations/tenant'),
            },
          },
          serviceBindings: { SECOND_ISOLATE: 'second-isolate' },
          workers: [await secondIsolate(bindings)],
        },
      }),
    ],
    test: {
      include: ['test/**/*.test.ts'],
      // The JSON summary lets .ci/run print `N passed, M failed`.
      reporters: ['default', 'json'],
      outputFile: { json: '.vitest-results.json' },
      setupFiles: ['./test/setup/migrations.ts'],
      // One workerd per worker for the whole run, not one per file: every test builds its own tenant.
      isolate: false,
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  };
});
