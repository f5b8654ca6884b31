import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The project's pinned wrangler, run with the current Node: no global install or PATH lookup involved. */
const wranglerCli = join(
  dirname(createRequire(import.meta.url).resolve('wrangler/package.json')),
  'bin',
  'wrangler.js',
);

/**
 * No telemetry from a developer's machine, and no fetch of the `Request.cf` sample from
 * workers.cloudflare.com (miniflare's built-in placeholder serves offline just as well).
 */
const baseEnv = { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' };

export class WranglerError extends Error {
  readonly output: string;

  constructor(args: string[], code: number | null, output: string) {
    super(`wrangler ${args.join(' ')} failed (exit ${code ?? 'signal'})`);
    this.name = 'WranglerError';
    this.output = output;
  }
}

/**
 * Runs a one-shot wrangler command and resolves with its stdout. CI=true makes wrangler take the
 * fallback answer of its confirmations (always "yes" for `d1 migrations apply`) instead of
 * waiting on a prompt. The output is kept quiet unless the command fails.
 */
export function runWrangler(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [wranglerCli, ...args], {
      cwd: projectRoot,
      env: { ...baseEnv, CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      output += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new WranglerError(args, code, output));
    });
  });
}

/**
 * A long-running wrangler (e.g. `dev`) sharing this terminal unless `stdio` says otherwise.
 * `detached` gives it its own process group, so a test can stop it together with the workerd it
 * starts.
 */
export function spawnWrangler(
  args: string[],
  options: { detached?: boolean; stdio?: StdioOptions } = {},
): ChildProcess {
  return spawn(process.execPath, [wranglerCli, ...args], {
    cwd: projectRoot,
    env: baseEnv,
    stdio: options.stdio ?? 'inherit',
    detached: options.detached ?? false,
  });
}

/** Prints a failed wrangler command's output before the error itself, then exits non-zero. */
export function reportFailure(error: unknown): never {
  if (error instanceof WranglerError) process.stderr.write(`${error.output}\n`);
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
