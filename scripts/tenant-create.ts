/*
 * `npm run tenant:create -- --id acme --tier PROFESSIONAL [--remote]`: gives a tenant its own D1
 * database, declares the binding in wrangler.toml, applies the tenant migrations and registers
 * the tenant in the control database. Local by default; --remote acts on the Cloudflare account.
 * Re-running with the same id finishes an interrupted run and changes nothing already done.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Tier } from '../src/platform/tenancy';
import { sqlLiteral } from './lib/sql.ts';
import {
  isTenantId,
  isTier,
  registryStatement,
  tenantBinding,
  tenantDatabaseName,
  tiers,
} from './lib/tenants.ts';
import { applyMigrations, projectRoot, reportFailure, runWrangler, type Target } from './lib/wrangler.ts';
import { type D1Binding, d1Bindings, withD1Binding } from './lib/wrangler-config.ts';

const CONFIG_PATH = join(projectRoot, 'wrangler.toml');
const USAGE = `Usage: npm run tenant:create -- --id <tenant-id> --tier <${tiers.join('|')}> [--remote]`;

function usageError(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function parseOptions(): { id: string; tier: Tier; remote: boolean } {
  let values: { id?: string; tier?: string; remote?: boolean };
  try {
    ({ values } = parseArgs({
      options: { id: { type: 'string' }, tier: { type: 'string' }, remote: { type: 'boolean' } },
    }));
  } catch (error) {
    usageError(error instanceof Error ? error.message : String(error));
  }
  const { id, tier, remote = false } = values;
  if (!id || !isTenantId(id)) {
    usageError('--id must be 2–63 lower-case letters, digits or dashes, starting with a letter or digit.');
  }
  const upperTier = tier?.toUpperCase();
  if (!upperTier || !isTier(upperTier)) usageError(`--tier must be one of ${tiers.join(', ')}.`);
  return { id, tier: upperTier, remote };
}

function step(message: string): void {
  console.log(`• ${message}`);
}

/** `wrangler d1 create` prints the binding snippet (TOML or JSON, by config format) holding the new id. */
function databaseIdFrom(output: string): string {
  const match = /database_id\W+([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/i.exec(output);
  if (!match?.[1]) throw new Error(`Could not find the database_id in wrangler's output:\n${output}`);
  return match[1];
}

/**
 * The account's database of that name, created if it does not exist yet, so that a run
 * interrupted after `d1 create` can simply be repeated.
 */
async function remoteDatabaseId(name: string): Promise<string> {
  const listed = JSON.parse(await runWrangler(['d1', 'list', '--json'])) as { uuid: string; name: string }[];
  const existing = listed.find((database) => database.name === name);
  if (existing) {
    step(`remote database ${name} exists (${existing.uuid})`);
    return existing.uuid;
  }
  step(`wrangler d1 create ${name}`);
  return databaseIdFrom(await runWrangler(['d1', 'create', name]));
}

/**
 * Locally any id works (it only names the local SQLite file), so an existing binding is kept.
 * Remotely the binding must carry the account database's real id.
 */
async function declareBinding(id: string, remote: boolean): Promise<D1Binding> {
  const configText = readFileSync(CONFIG_PATH, 'utf8');
  const binding = tenantBinding(id);
  const declared = d1Bindings(configText).find((entry) => entry.binding === binding);
  const databaseName = tenantDatabaseName(id);
  const databaseId = remote ? await remoteDatabaseId(databaseName) : (declared?.database_id ?? randomUUID());
  if (declared?.database_id === databaseId) {
    step(`wrangler.toml already declares ${binding}`);
    return declared;
  }
  const entry: D1Binding = {
    binding,
    database_name: databaseName,
    database_id: databaseId,
    migrations_dir: 'migrations/tenant',
  };
  writeFileSync(CONFIG_PATH, withD1Binding(configText, entry));
  step(`wrangler.toml: ${declared ? 'updated the database_id of' : 'added'} ${binding}`);
  return entry;
}

/**
 * Registers the tenant, or warns when it already is with other settings (which are kept), and
 * resolves with the tier it ends up with.
 */
async function register(id: string, tier: Tier, binding: string, target: Target): Promise<string> {
  step(`register tenant ${id} (${tier}) in CONTROL_DB ${target}`);
  const sql = [
    registryStatement({ id, name: id, tier }, new Date().toISOString()),
    `SELECT tier, d1_binding FROM tenants WHERE id = ${sqlLiteral(id)};`,
  ].join('\n');
  const output = await runWrangler(['d1', 'execute', 'CONTROL_DB', target, '--json', '--command', sql]);
  const statements = JSON.parse(output) as { results: { tier: string; d1_binding: string }[] }[];
  const registered = statements.at(-1)?.results[0];
  if (!registered) throw new Error(`Tenant ${id} is missing from CONTROL_DB right after registering it.`);
  if (registered.tier !== tier || registered.d1_binding !== binding) {
    console.warn(
      `  ${id} was already registered as ${registered.tier} on ${registered.d1_binding} and is left so;` +
        ` change it with PATCH /v2/customer/platform/tenants/${id}.`,
    );
  }
  return registered.tier;
}

async function main(): Promise<void> {
  const { id, tier, remote } = parseOptions();
  const target: Target = remote ? '--remote' : '--local';
  if (remote) step('remote: the account of `npx wrangler login` (or CLOUDFLARE_API_TOKEN)');
  const { binding } = await declareBinding(id, remote);
  // The control database too: registering needs its tables, even before the first `npm start`.
  for (const database of ['CONTROL_DB', binding]) {
    step(`migrations: ${database} ${target}`);
    await applyMigrations(database, target);
  }
  const registeredTier = await register(id, tier, binding, target);
  const next = remote
    ? [
        'Deploy so the worker gets the new binding: npx wrangler deploy',
        `Then commit wrangler.toml: every later deploy must keep ${binding}.`,
      ]
    : [
        'Restart `npm start` so the local server picks up the new binding.',
        `Then call it with the header X-Tenant-ID: ${id}`,
      ];
  console.log(`\nTenant ${id} (${registeredTier}) is provisioned ${remote ? 'on the account' : 'locally'}.`);
  console.log(next.map((line) => `  ${line}`).join('\n'));
}

main().catch(reportFailure);
