import { defineConfig } from 'vitest/config';

/**
 * `npm run test:e2e`: browser tests in Node (not workerd), against the worker served by
 * `wrangler dev`. They need Chromium at /usr/bin/chromium (Debian package `chromium`).
 */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    environment: 'node',
    // One browser and one local worker at a time.
    fileParallelism: false,
    // The JSON summary is added to `npm test`'s by .ci/run.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-e2e-results.json' },
    testTimeout: 60_000,
    hookTimeout: 240_000,
  },
});
