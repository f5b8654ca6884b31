import { webcrypto } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig, type Plugin } from 'vitest/config';
import { openApiContractModule } from './scripts/lib/openapi-contract.ts';

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

export default defineConfig(async () => ({
  plugins: [
    openApiContract(),
    cloudflareTest({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        bindings: {
          ...(await testSecrets()),
          ENVIRONMENT: 'test',
          DOCUMENT_FIXTURES: documentFixtures(),
          REQUEST_COLLECTIONS: requestCollections(),
          LOG_LEVEL: 'silent',
          // `npm run fuzz -- --runs N --seed S` (scripts/fuzz.ts); empty: the fuzz test's defaults.
          FUZZ_RUNS: process.env.FUZZ_RUNS ?? '',
          FUZZ_SEED: process.env.FUZZ_SEED ?? '',
          TEST_MIGRATIONS: {
            control: await readD1Migrations('./migrations/control'),
            tenant: await readD1Migrations('./migrations/tenant'),
          },
        },
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
}));
