/*
 * One workerd serving the instrumented worker, started through Miniflare's API rather than
 * `wrangler dev`, whose proxy layers in front of workerd cost several times the worker's own time.
 * Requests go straight to the worker's socket, past Miniflare's entry worker too. The bindings are
 * wrangler.toml's, the storage and the secrets are made for the run and removed after it.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { unstable_splitSqlQuery } from 'wrangler';
import { bundledWorkerOptions } from '../lib/bundled-worker.ts';
import { type DevSecrets, generateDevSecrets } from '../lib/dev-vars.ts';
import { projectRoot, runWrangler } from '../lib/wrangler.ts';
import { d1Bindings } from '../lib/wrangler-config.ts';

const WORKER_NAME = 'fincore-bench';
const ENTRY = 'scripts/bench/instrumented-worker.ts';
const TENANT_MIGRATIONS = 'migrations/tenant';
/** The bench tenant's own database, as `npm run tenant:create` would give it. */
export const BENCH_TENANT_BINDING = 'TENANT_DB_BENCH';

export interface BenchServer {
  /** Origin of the worker's own socket, e.g. http://127.0.0.1:41234 */
  origin: string;
  secrets: DevSecrets;
  workerdVersion: string;
  /** Where D1, KV and the Durable Objects keep their SQLite files for the run. */
  storage: string;
  database(binding: string): Promise<D1Database>;
  close(): Promise<void>;
}

/** Bundled by wrangler as `wrangler deploy` bundles, with the bench entry in place of src/index.ts. */
async function buildWorker(outdir: string): Promise<string> {
  await runWrangler(['deploy', ENTRY, '--dry-run', '--outdir', outdir]);
  return join(outdir, 'instrumented-worker.js');
}

/** Every `.sql` file of the directory in name order, as `wrangler d1 migrations apply` runs them. */
async function migrate(database: D1Database, directory: string): Promise<void> {
  const files = readdirSync(join(projectRoot, directory))
    .filter((file) => file.endsWith('.sql'))
    .sort();
  for (const file of files) {
    const statements = unstable_splitSqlQuery(readFileSync(join(projectRoot, directory, file), 'utf8'));
    await database.batch(statements.map((statement) => database.prepare(statement)));
  }
}

/** The workerd Miniflare runs: its own dependency, not necessarily hoisted next to this project's. */
function workerdVersion(): string {
  const fromMiniflare = createRequire(createRequire(import.meta.url).resolve('miniflare'));
  return (fromMiniflare('workerd/package.json') as { version: string }).version;
}

/**
 * Local D1, KV and Durable Objects are SQLite files that commit every write; on a disk, flushing
 * them takes several times the worker's own time per request (3× for a D1 read, 6× for a
 * rate-limiter call measured here), so where a memory file system exists (Linux) they live on it.
 */
function storageRoot(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

export async function startServer(): Promise<BenchServer> {
  const buildDir = mkdtempSync(join(tmpdir(), 'fincore-bench-build-'));
  const storage = mkdtempSync(join(storageRoot(), 'fincore-bench-storage-'));
  const removeFiles = () => {
    rmSync(buildDir, { recursive: true, force: true });
    rmSync(storage, { recursive: true, force: true });
  };
  try {
    const scriptPath = await buildWorker(buildDir);
    const options = bundledWorkerOptions();
    const secrets = await generateDevSecrets();
    // wrangler still speaks Miniflare 4's options; Miniflare 5 converts them.
    const miniflare = new Miniflare(
      convertV4MiniflareOptions({
        ...options,
        name: WORKER_NAME,
        modules: true,
        scriptPath,
        modulesRoot: buildDir,
        unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
        resourcePersistencePath: storage,
        logRequests: false,
        // Local workerd evicts an object idle for 10 s, production after 70–140 s: the scenarios
        // come back to an address's limiter object every few seconds to 17 s, which production
        // finds in memory and local workerd would restore from its storage on most requests.
        durableObjects: Object.fromEntries(
          Object.entries(options.durableObjects ?? {}).map(([binding, object]) => [
            binding,
            { ...(typeof object === 'string' ? { className: object } : object), unsafePreventEviction: true },
          ]),
        ),
        d1Databases: {
          ...(options.d1Databases as Record<string, unknown>),
          [BENCH_TENANT_BINDING]: 'fincore-tenant-bench',
        },
        // Request logs off: workerd would hand every line to this process to print.
        bindings: { ...(options.bindings as Record<string, unknown>), ...secrets, LOG_LEVEL: 'silent' },
      }),
    );
    const close = async () => {
      await miniflare.dispose();
      removeFiles();
    };
    try {
      await miniflare.ready;
      const migrations = [
        ...d1Bindings(readFileSync(join(projectRoot, 'wrangler.toml'), 'utf8')).flatMap((d1) =>
          d1.migrations_dir ? [{ binding: d1.binding, directory: d1.migrations_dir }] : [],
        ),
        { binding: BENCH_TENANT_BINDING, directory: TENANT_MIGRATIONS },
      ];
      for (const { binding, directory } of migrations) {
        await migrate(await miniflare.getD1Database(binding), directory);
      }
      return {
        origin: (await miniflare.unsafeGetDirectURL(WORKER_NAME)).origin,
        secrets,
        workerdVersion: workerdVersion(),
        storage: storageRoot(),
        database: (binding) => miniflare.getD1Database(binding) as Promise<D1Database>,
        close,
      };
    } catch (error) {
      await close();
      throw error;
    }
  } catch (error) {
    removeFiles();
    throw error;
  }
}
