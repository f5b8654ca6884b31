import { webcrypto } from 'node:crypto';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

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

export default defineConfig(async () => ({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        bindings: {
          ...(await testSecrets()),
          ENVIRONMENT: 'test',
          LOG_LEVEL: 'silent',
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
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
}));
