/*
 * `npm run fuzz -- [--runs N] [--seed S]`: only the property-based fuzzer (test/contract/fuzz.test.ts),
 * with N requests per operation (default 500) instead of the few `npm test` sends. A failure
 * prints its seed: pass it back with --seed (and the same --runs) to replay the same requests.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from './lib/wrangler.ts';

const USAGE = 'Usage: npm run fuzz -- [--runs <requests per operation>] [--seed <integer>]';
const DEFAULT_RUNS = 500;

function usageError(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

let values: { runs?: string; seed?: string };
try {
  ({ values } = parseArgs({ options: { runs: { type: 'string' }, seed: { type: 'string' } } }));
} catch (error) {
  usageError(error instanceof Error ? error.message : String(error));
}
const runs = values.runs ?? String(DEFAULT_RUNS);
if (!/^[1-9]\d*$/.test(runs)) usageError('--runs must be a positive integer.');
if (values.seed !== undefined && !/^-?\d+$/.test(values.seed)) usageError('--seed must be an integer.');

const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
// vitest.config.ts hands these to the workers as bindings.
const child = spawn(process.execPath, [vitest, 'run', 'test/contract/fuzz.test.ts'], {
  cwd: projectRoot,
  stdio: 'inherit',
  env: { ...process.env, FUZZ_RUNS: runs, ...(values.seed !== undefined ? { FUZZ_SEED: values.seed } : {}) },
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
