/*
 * `npm run tenant:create -- --id acme --tier PROFESSIONAL [--admin-email a@acme.com] [--remote]`:
 * gives a tenant its own D1 database, declares the binding in wrangler.toml, applies the tenant
 * migrations, registers the tenant in the control database and makes its first TENANT_ADMIN and
 * API client, whose password and secret are printed once. Local by default (through Miniflare, as
 * `npm start` does); --remote acts on the Cloudflare account and the `production` environment.
 * Re-running with the same id finishes an interrupted run and changes nothing already done.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { newId } from '../src/platform/ids.ts';
import { emailDigest, normaliseEmail } from '../src/platform/lookup-digests.ts';
import type { Tier } from '../src/platform/tenancy';
import { clientDirectoryStatement, type TenantAccess, tenantSeedStatements } from './lib/demo-seed.ts';
import { readDevVars } from './lib/dev-vars.ts';
import { applyLocalMigrations, openLocalDatabases } from './lib/local-d1.ts';
import { LOCAL_PORT } from './lib/local-server.ts';
import { randomSecret } from './lib/secrets.ts';
import { sqlLiteral } from './lib/sql.ts';
import {
  isTenantId,
  isTier,
  registryStatement,
  tenantBinding,
  tenantDatabaseName,
  tiers,
} from './lib/tenants.ts';
import { projectRoot, reportFailure, runWrangler } from './lib/wrangler.ts';
import { type D1Binding, d1Bindings, rewriteConfig, withD1Binding } from './lib/wrangler-config.ts';

const CONFIG_PATH = join(projectRoot, 'wrangler.toml');
const USAGE = `Usage: npm run tenant:create -- --id <tenant-id> --tier <${tiers.join('|')}> [--admin-email <email>] [--remote]`;
/** Remote tenants are production's: their bindings go under [env.production] (see wrangler.toml). */
const REMOTE_ENVIRONMENT = 'production';

function usageError(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function parseOptions(): { id: string; tier: Tier; remote: boolean; adminEmail: string } {
  let values: { id?: string; tier?: string; remote?: boolean; 'admin-email'?: string };
  try {
    ({ values } = parseArgs({
      options: {
        id: { type: 'string' },
        tier: { type: 'string' },
        remote: { type: 'boolean' },
        'admin-email': { type: 'string' },
      },
    }));
  } catch (error) {
    usageError(error instanceof Error ? error.message : String(error));
  }
  const { id, tier, remote = false, 'admin-email': adminEmail } = values;
  if (!id || !isTenantId(id)) {
    usageError('--id must be 2–63 lower-case letters, digits or dashes, starting with a letter or digit.');
  }
  const upperTier = tier?.toUpperCase();
  if (!upperTier || !isTier(upperTier)) usageError(`--tier must be one of ${tiers.join(', ')}.`);
  if (adminEmail !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(adminEmail)) {
    usageError('--admin-email must be an email address.');
  }
  return { id, tier: upperTier, remote, adminEmail: adminEmail ?? `admin@${id}.example.com` };
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

/** Where the script acts: the local databases `npm start` serves, or the account's. */
interface Target {
  remote: boolean;
  migrate(binding: string): Promise<string[]>;
  /** Runs the statements in order and resolves with each one's rows. */
  execute(binding: string, statements: string[]): Promise<Record<string, unknown>[][]>;
  close(): Promise<void>;
}

async function localTarget(): Promise<Target> {
  const local = await openLocalDatabases();
  const migrationsDirs = new Map(
    d1Bindings(readFileSync(CONFIG_PATH, 'utf8')).map((d1) => [d1.binding, d1.migrations_dir ?? '']),
  );
  return {
    remote: false,
    migrate: async (binding) =>
      applyLocalMigrations(await local.database(binding), migrationsDirs.get(binding) ?? ''),
    execute: async (binding, statements) => {
      const db = await local.database(binding);
      const results = await db.batch(statements.map((statement) => db.prepare(statement)));
      return results.map((result) => result.results as Record<string, unknown>[]);
    },
    close: () => local.dispose(),
  };
}

const remoteFlags = ['--remote', '--env', REMOTE_ENVIRONMENT];

const remoteTarget: Target = {
  remote: true,
  migrate: async (binding) => {
    await runWrangler(['d1', 'migrations', 'apply', binding, ...remoteFlags]);
    return [];
  },
  execute: async (binding, statements) => {
    const output = await runWrangler([
      'd1',
      'execute',
      binding,
      ...remoteFlags,
      '--json',
      '--command',
      statements.join('\n'),
    ]);
    return (JSON.parse(output) as { results: Record<string, unknown>[] }[]).map((entry) => entry.results);
  },
  close: async () => {},
};

/**
 * Locally any id works (it only names the local SQLite file), so an existing binding is kept.
 * Remotely the binding must carry the account database's real id, under [env.production].
 */
async function declareBinding(id: string, remote: boolean): Promise<D1Binding> {
  const configText = readFileSync(CONFIG_PATH, 'utf8');
  const environment = remote ? REMOTE_ENVIRONMENT : undefined;
  const binding = tenantBinding(id);
  const declared = d1Bindings(configText, environment).find((entry) => entry.binding === binding);
  const databaseName = tenantDatabaseName(id);
  const databaseId = remote ? await remoteDatabaseId(databaseName) : (declared?.database_id ?? randomUUID());
  if (declared?.database_id === databaseId) {
    step(`wrangler.toml already declares ${binding}${remote ? ' for production' : ''}`);
    return declared;
  }
  const entry: D1Binding = {
    binding,
    database_name: databaseName,
    database_id: databaseId,
    migrations_dir: 'migrations/tenant',
  };
  rewriteConfig(CONFIG_PATH, withD1Binding(configText, entry, environment));
  step(
    `wrangler.toml: ${declared ? 'updated the database_id of' : 'added'} ${binding}${remote ? ' under [env.production]' : ''}`,
  );
  return entry;
}

/**
 * Registers the tenant, or warns when it already is with other settings (which are kept), and
 * resolves with the tier it ends up with.
 */
async function register(id: string, tier: Tier, binding: string, target: Target): Promise<string> {
  step(`register tenant ${id} (${tier}) in CONTROL_DB`);
  const results = await target.execute('CONTROL_DB', [
    registryStatement({ id, name: id, tier }, new Date().toISOString()),
    `SELECT tier, d1_binding FROM tenants WHERE id = ${sqlLiteral(id)};`,
  ]);
  const registered = results.at(-1)?.[0] as { tier: string; d1_binding: string } | undefined;
  if (!registered) throw new Error(`Tenant ${id} is missing from CONTROL_DB right after registering it.`);
  if (registered.tier !== tier || registered.d1_binding !== binding) {
    console.warn(
      `  ${id} was already registered as ${registered.tier} on ${registered.d1_binding} and is left so;` +
        ` change it with PATCH /v2/customer/platform/tenants/${id}.`,
    );
  }
  return registered.tier;
}

/**
 * The key staff emails are digested with: the local `.dev.vars`, or for --remote the production
 * secret, which only its operator has (FIELD_ENCRYPTION_KEY in the environment).
 */
function fieldEncryptionKey(remote: boolean): string | undefined {
  if (remote) return process.env.FIELD_ENCRYPTION_KEY || undefined;
  return readDevVars(join(projectRoot, '.dev.vars')).FIELD_ENCRYPTION_KEY;
}

/**
 * The tenant's first TENANT_ADMIN (with a generated password) and API client, unless it has its
 * admin already: a re-run never replaces credentials someone may be using. Resolves with them,
 * or undefined when nothing was made. The directory entry goes first, so an interrupted run
 * leaves at worst an entry naming a client that does not exist.
 */
async function firstPrincipals(id: string, binding: string, adminEmail: string, target: Target) {
  const key = fieldEncryptionKey(target.remote);
  if (!key) {
    console.warn(
      target.remote
        ? '  No first admin made: set FIELD_ENCRYPTION_KEY to the production secret and run this again.'
        : '  No first admin made: .dev.vars is missing; run `npm start` once, then this again.',
    );
    return undefined;
  }
  const digest = await emailDigest(key, id, normaliseEmail(adminEmail));
  const [existing] = await target.execute(binding, [
    `SELECT id FROM users WHERE tenant_id = ${sqlLiteral(id)} AND kind = 'STAFF' AND email_digest = ${sqlLiteral(digest)};`,
  ]);
  if (existing && existing.length > 0) {
    step(
      `${adminEmail} exists already: left as it is (POST /access/users/{userId}/credentials/reset resets it)`,
    );
    return undefined;
  }
  const access: TenantAccess = {
    id,
    admin: { email: adminEmail, password: randomSecret(18) },
    client: { clientId: newId('client'), clientSecret: `fcs_${randomSecret(32)}` },
  };
  const now = new Date().toISOString();
  step(`first TENANT_ADMIN ${adminEmail} and API client ${access.client.clientId}`);
  await target.execute('CONTROL_DB', [clientDirectoryStatement(access, now)]);
  await target.execute(binding, await tenantSeedStatements(access, now, key));
  return access;
}

async function main(): Promise<void> {
  const { id, tier, remote, adminEmail } = parseOptions();
  if (remote) step('remote: the account of `npx wrangler login` (or CLOUDFLARE_API_TOKEN), --env production');
  const { binding } = await declareBinding(id, remote);
  const target = remote ? remoteTarget : await localTarget();
  let registeredTier: string;
  let access: TenantAccess | undefined;
  try {
    // The control database too: registering needs its tables, even before the first `npm start`.
    for (const database of ['CONTROL_DB', binding]) {
      const applied = await target.migrate(database);
      step(
        `migrations: ${database}${remote ? '' : applied.length > 0 ? ` (applied ${applied.length})` : ' (up to date)'}`,
      );
    }
    registeredTier = await register(id, tier, binding, target);
    access = await firstPrincipals(id, binding, adminEmail, target);
  } finally {
    await target.close();
  }
  const baseUrl = remote ? '<your worker URL>/v2/customer' : `http://localhost:${LOCAL_PORT}/v2/customer`;
  console.log(`\nTenant ${id} (${registeredTier}) is provisioned ${remote ? 'on the account' : 'locally'}.`);
  if (access) {
    console.log(
      [
        '  Shown this once; nothing else stores the password or the secret:',
        `    tenant admin        ${access.admin.email} / ${access.admin.password}`,
        `    OAuth client        ${access.client.clientId} / ${access.client.clientSecret}`,
        `    token:  curl -s -u ${access.client.clientId}:${access.client.clientSecret} -d grant_type=client_credentials ${baseUrl}/oauth/token`,
      ].join('\n'),
    );
  }
  const next = remote
    ? [
        'Deploy so the worker gets the new binding: npx wrangler deploy --env production',
        `Then commit wrangler.toml: every later deploy must keep ${binding}.`,
      ]
    : [
        'A running `npm start` reloads when wrangler.toml changes and serves the tenant without a restart.',
        `Call it with the header X-Tenant-ID: ${id}`,
      ];
  console.log(next.map((line) => `  ${line}`).join('\n'));
}

main().catch(reportFailure);
