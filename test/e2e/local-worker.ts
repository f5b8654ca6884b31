/*
 * The API served locally by `wrangler dev` for browser tests: a free port, its own secrets and
 * its own throwaway state (databases migrated from scratch), so neither the developer's
 * `.dev.vars` nor their `npm start` data are touched.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  controlSeedStatements,
  type DemoCredentials,
  demoCredentials,
  demoTenants,
  tenantSeedStatements,
} from '../../scripts/lib/demo-seed.ts';
import { ensureDevVars } from '../../scripts/lib/dev-vars.ts';
import { tenantBinding } from '../../scripts/lib/tenants.ts';
import { runWrangler, spawnWrangler } from '../../scripts/lib/wrangler.ts';

export interface LocalWorker {
  port: number;
  platformAdminToken: string;
  /** With `seed`: the seeded demo tenant's staff logins and API client, as `npm start` prints them. */
  demo?: DemoCredentials;
  /** Scratch directory of this run (browser profiles may live here too). */
  directory: string;
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 90_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(address)));
    });
  });
}

async function waitUntilServing(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/v2/customer/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`wrangler dev did not serve on port ${port} within ${STARTUP_TIMEOUT_MS / 1000} s`);
}

/** Stops wrangler and the workerd it started: they share the process group we gave it. */
async function stopProcessGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid, 'SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), sleep(10_000).then(() => true)]);
  if (timedOut) process.kill(-child.pid, 'SIGKILL');
}

/**
 * Serves the worker with `databases` migrated (binding names from wrangler.toml); `seed` names a
 * demo tenant to seed as `npm start` does (its database must be among `databases`).
 */
export async function startLocalWorker(
  databases: string[],
  options: { seed?: string } = {},
): Promise<LocalWorker> {
  const directory = mkdtempSync(join(tmpdir(), 'fincore-e2e-'));
  const state = join(directory, 'state');
  const envFile = join(directory, 'worker.env');
  const { secrets } = await ensureDevVars(envFile);
  for (const binding of databases) {
    await runWrangler(['d1', 'migrations', 'apply', binding, '--local', '--persist-to', state]);
  }
  const demo = options.seed
    ? await seedDemoTenant(options.seed, state, secrets.FIELD_ENCRYPTION_KEY)
    : undefined;
  const port = await freePort();
  const child = spawnWrangler(
    [
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--inspector-port',
      String(await freePort()),
      '--persist-to',
      state,
      // An explicit env file replaces .dev.vars, so the developer's secrets are never read.
      '--env-file',
      envFile,
      '--var',
      'LOG_LEVEL:warn',
      '--log-level',
      'warn',
      '--show-interactive-dev-session=false',
    ],
    { detached: true },
  );
  const stop = async () => {
    await stopProcessGroup(child);
    rmSync(directory, { recursive: true, force: true });
  };
  try {
    await waitUntilServing(port, child);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, platformAdminToken: secrets.PLATFORM_ADMIN_TOKEN, demo, directory, stop };
}

async function seedDemoTenant(
  tenantId: string,
  state: string,
  fieldEncryptionKey: string,
): Promise<DemoCredentials> {
  const tenant = demoTenants.find((entry) => entry.id === tenantId);
  if (!tenant) throw new Error(`No demo tenant '${tenantId}'`);
  const credentials = demoCredentials(tenant);
  const now = new Date().toISOString();
  const execute = (binding: string, statements: string[]) =>
    runWrangler([
      'd1',
      'execute',
      binding,
      '--local',
      '--persist-to',
      state,
      '--command',
      statements.join('\n'),
    ]);
  await execute('CONTROL_DB', controlSeedStatements(tenant, credentials, now));
  await execute(tenantBinding(tenant.id), await tenantSeedStatements(credentials, now, fieldEncryptionKey));
  return credentials;
}
