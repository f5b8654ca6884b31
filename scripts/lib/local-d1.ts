/*
 * The local D1 databases `wrangler dev` serves, opened in this process through Miniflare: one
 * workerd for every database instead of one `wrangler d1 …` child (and its workerd) per command.
 * wrangler computes the bindings (database ids, migrations_dir) and the persistence directory is
 * the one `wrangler dev` and `wrangler d1 … --local` use, so what is written here is what they see.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } from 'wrangler';
import { projectRoot } from './wrangler.ts';

/** wrangler's default for `--persist-to` (.wrangler/state) plus the v3 layout it writes. */
export const LOCAL_STATE = join(projectRoot, '.wrangler', 'state', 'v3');

/** The table `wrangler d1 migrations apply` records applied migrations in (its default name). */
const MIGRATIONS_TABLE = 'd1_migrations';

export interface LocalDatabases {
  database(binding: string): Promise<D1Database>;
  dispose(): Promise<void>;
}

/** Opens every D1 binding wrangler.toml declares, persisted where `wrangler dev` keeps them. */
export async function openLocalDatabases(persistTo: string = LOCAL_STATE): Promise<LocalDatabases> {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(projectRoot, 'wrangler.toml'));
  const miniflare = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
      script: 'export default {};',
      d1Databases: workerOptions.d1Databases as Record<string, string>,
      resourcePersistencePath: persistTo,
    }),
  );
  await miniflare.ready;
  return {
    database: (binding) => miniflare.getD1Database(binding) as Promise<D1Database>,
    dispose: () => miniflare.dispose(),
  };
}

/** Every `.sql` file of the directory in name order, as `wrangler d1 migrations apply` lists them. */
export function migrationFiles(directory: string): string[] {
  return readdirSync(join(projectRoot, directory))
    .filter((file) => file.endsWith('.sql'))
    .sort();
}

/** One migration's statements, split as wrangler splits them. */
export function migrationStatements(directory: string, file: string): string[] {
  return unstable_splitSqlQuery(readFileSync(join(projectRoot, directory, file), 'utf8'));
}

/**
 * Applies the migrations the database lacks and records them in wrangler's table, so a later
 * `wrangler d1 migrations apply --local` agrees that they are applied. Each migration and its
 * record are one batch, as wrangler applies them: an interrupted run leaves none half applied.
 * Resolves with the names applied (empty when the database was up to date).
 */
export async function applyLocalMigrations(database: D1Database, directory: string): Promise<string[]> {
  await database.exec(
    `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL);`,
  );
  const isApplied = async (file: string) =>
    (await database.prepare(`SELECT 1 FROM ${MIGRATIONS_TABLE} WHERE name = ?`).bind(file).first()) !== null;
  const applied = new Set(
    (await database.prepare(`SELECT name FROM ${MIGRATIONS_TABLE}`).all<{ name: string }>()).results.map(
      (row) => row.name,
    ),
  );
  const missing = migrationFiles(directory).filter((file) => !applied.has(file));
  for (const file of missing) {
    const batch = () =>
      database.batch([
        ...migrationStatements(directory, file).map((statement) => database.prepare(statement)),
        database.prepare(`INSERT INTO ${MIGRATIONS_TABLE} (name) VALUES (?)`).bind(file),
      ]);
    try {
      await batch();
    } catch (error) {
      // On a starved machine Miniflare's loopback call to workerd can fail ("fetch failed") while
      // the batch went through or not at all (it is one transaction): look, and retry only if not.
      if (!String(error).includes('fetch failed')) throw error;
      if (!(await isApplied(file))) await batch();
    }
  }
  return missing;
}
