/*
 * `npm start`: everything a new clone needs to serve the API locally, offline and without a
 * Cloudflare account. One process prepares every local database through Miniflare (the
 * databases `wrangler dev` then serves), skipping migrations already applied and seeds already in
 * place, then serves with `wrangler dev`, adds the sample customers through the API and prints a
 * summary. Safe to re-run: secrets and demo credentials are kept.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  controlSeedStatements,
  type DemoCredentials,
  demoCredentials,
  demoTenants,
  tenantSeedIsCurrent,
  tenantSeedStatements,
} from './lib/demo-seed.ts';
import { ensureDevVars } from './lib/dev-vars.ts';
import { inboxNotice } from './lib/inbox-notice.ts';
import { applyLocalMigrations, type LocalDatabases, openLocalDatabases } from './lib/local-d1.ts';
import { freePort, LOCAL_PORT, requireFreePort, waitUntilServing } from './lib/local-server.ts';
import { COLLECTION_TENANT, requestCollectionEnv } from './lib/request-collections.ts';
import { type Api, seedSampleCustomers } from './lib/sample-data.ts';
import { tenantBinding } from './lib/tenants.ts';
import { projectRoot, reportFailure, spawnWrangler } from './lib/wrangler.ts';
import { d1Bindings } from './lib/wrangler-config.ts';

const HOST = '127.0.0.1';
const BASE_URL = `http://localhost:${LOCAL_PORT}/v2/customer`;
const CREDENTIALS_PATH = join(projectRoot, '.dev', 'demo-credentials.json');
const COLLECTION_ENV_PATH = join(projectRoot, 'requests', '.env');
const STARTUP_TIMEOUT_MS = 120_000;

interface CredentialsFile {
  baseUrl: string;
  platformAdminToken: string;
  tenants: DemoCredentials[];
}

const started = Date.now();

/** One progress line: elapsed time since start, the step, the database or tenant, the outcome. */
function progress(step: string, subject: string, outcome: string): void {
  const elapsed = `${((Date.now() - started) / 1000).toFixed(1)}s`.padStart(6);
  console.log(`[${elapsed}] ${step.padEnd(11)} ${subject.padEnd(26)} ${outcome}`);
}

/** Earlier credentials by tenant id; an unreadable file is an error rather than silently replaced. */
function previousCredentials(): Map<string, unknown> {
  if (!existsSync(CREDENTIALS_PATH)) return new Map();
  let parsed: { tenants?: unknown };
  try {
    parsed = JSON.parse(readFileSync(CREDENTIALS_PATH, 'utf8'));
  } catch (error) {
    throw new Error(
      `${CREDENTIALS_PATH} is not valid JSON (${error}); delete it to generate new credentials.`,
    );
  }
  const entries = Array.isArray(parsed.tenants) ? (parsed.tenants as { id?: unknown }[]) : [];
  return new Map(entries.map((entry) => [String(entry?.id), entry]));
}

/** Every D1 binding with its migrations directory: the demo tenants and those of `tenant:create`. */
function databases(): { binding: string; migrationsDir: string }[] {
  const declared = d1Bindings(readFileSync(join(projectRoot, 'wrangler.toml'), 'utf8'));
  const missing = ['CONTROL_DB', ...demoTenants.map((tenant) => tenantBinding(tenant.id))].filter(
    (binding) => !declared.some((d1) => d1.binding === binding),
  );
  if (missing.length > 0) throw new Error(`wrangler.toml does not declare: ${missing.join(', ')}`);
  return declared.flatMap((d1) =>
    d1.migrations_dir && (d1.binding === 'CONTROL_DB' || d1.binding.startsWith('TENANT_DB_'))
      ? [{ binding: d1.binding, migrationsDir: d1.migrations_dir }]
      : [],
  );
}

/** One database after another: side by side they were no faster on two cores, and less reliable. */
async function migrateAll(local: LocalDatabases): Promise<void> {
  for (const { binding, migrationsDir } of databases()) {
    const applied = await applyLocalMigrations(await local.database(binding), migrationsDir);
    const outcome =
      applied.length > 0 ? `applied ${applied.length} (${applied[0]} … ${applied.at(-1)})` : 'up to date';
    progress('migrations', binding, outcome);
  }
}

async function run(db: D1Database, statements: string[]): Promise<number> {
  const results = await db.batch(statements.map((statement) => db.prepare(statement)));
  return results.reduce((changes, result) => changes + (result.meta.changes ?? 0), 0);
}

async function seed(local: LocalDatabases, fieldEncryptionKey: string): Promise<DemoCredentials[]> {
  const previous = previousCredentials();
  const now = new Date().toISOString();
  const seeded = demoTenants.map((tenant) => ({
    tenant,
    credentials: demoCredentials(tenant, previous.get(tenant.id)),
  }));
  const changes = await run(
    await local.database('CONTROL_DB'),
    seeded.flatMap(({ tenant, credentials }) => controlSeedStatements(tenant, credentials, now)),
  );
  progress('seed', 'CONTROL_DB', changes > 0 ? 'registered the demo tenants' : 'up to date');
  for (const { tenant, credentials } of seeded) {
    const binding = tenantBinding(tenant.id);
    const db = await local.database(binding);
    if (await tenantSeedIsCurrent(db, credentials, fieldEncryptionKey)) {
      progress('seed', binding, 'up to date');
      continue;
    }
    await run(db, await tenantSeedStatements(credentials, now, fieldEncryptionKey));
    progress('seed', binding, 'staff users and OAuth client written');
  }
  return seeded.map(({ credentials }) => credentials);
}

/** Calls the local server as the sample-data seeder expects. */
function localApi(tenantId: string): Api {
  return async (method, path, { token, body }) => {
    const response = await fetch(`http://${HOST}:${LOCAL_PORT}/v2/customer${path}`, {
      method,
      headers: {
        'X-Tenant-ID': tenantId,
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json().catch(() => null) };
  };
}

async function clientToken(tenant: DemoCredentials): Promise<string> {
  const response = await fetch(`http://${HOST}:${LOCAL_PORT}/v2/customer/oauth/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: tenant.client.clientId,
      client_secret: tenant.client.clientSecret,
    }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (!response.ok || !body.access_token) {
    throw new Error(
      `The demo client of ${tenant.id} got no token: ${response.status} ${JSON.stringify(body)}`,
    );
  }
  return body.access_token;
}

/** Tenants are independent: their samples are made side by side. */
async function seedSamples(tenants: DemoCredentials[]): Promise<void> {
  await Promise.all(
    tenants.map(async (tenant) => {
      const made = await seedSampleCustomers(localApi(tenant.id), tenant, await clientToken(tenant));
      progress('samples', tenant.id, made > 0 ? `${made} sample customers made` : 'up to date');
    }),
  );
}

function printSummary(file: CredentialsFile): void {
  const inbox = `${file.baseUrl}/dev/inbox?tenant=demo-pro`;
  const lines = [
    '',
    `FinCore Customer API is serving (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
    `  Base URL              ${file.baseUrl}   (health: ${file.baseUrl}/health)`,
    `  API reference         ${file.baseUrl}/docs`,
    `  Platform admin token  ${file.platformAdminToken}`,
    '  Inbox                 codes and tokens sent are printed here as they go out, and listed at',
    `                        curl -s -H 'Authorization: Bearer ${file.platformAdminToken}' '${inbox}'`,
  ];
  for (const tenant of file.tenants) {
    lines.push(
      '',
      `  ${tenant.id} (${tenant.tier})  X-Tenant-ID: ${tenant.id}`,
      `    tenant admin        ${tenant.admin.email} / ${tenant.admin.password}`,
      `    compliance officer  ${tenant.complianceOfficer.email} / ${tenant.complianceOfficer.password}`,
      `    OAuth client        ${tenant.client.clientId} / ${tenant.client.clientSecret}`,
    );
  }
  const example = file.tenants.find((tenant) => tenant.id === 'demo-pro') ?? file.tenants[0];
  lines.push(
    '',
    `  All of this is saved to ${CREDENTIALS_PATH}`,
    `  Request collections (VS Code REST Client): requests/*.http, with ${COLLECTION_TENANT}'s credentials in ${COLLECTION_ENV_PATH}`,
  );
  if (example) {
    const { admin, client } = example;
    lines.push(
      '  Staff log in with accountType STAFF (staff and customers are separate email namespaces):',
      `    curl -s -X POST ${file.baseUrl}/auth/login -H 'X-Tenant-ID: ${example.id}' -H 'Content-Type: application/json' -d '{"email": "${admin.email}", "password": "${admin.password}", "accountType": "STAFF"}'`,
      '  Token for a client:',
      `    curl -s -u ${client.clientId}:${client.clientSecret} -d grant_type=client_credentials ${file.baseUrl}/oauth/token`,
      '  Stop with Ctrl+C.',
    );
  }
  console.log(`${lines.join('\n')}\n`);
}

/**
 * Serves in the foreground. wrangler's output is passed through line by line, with the worker's
 * log lines that carry a code or token (development only) printed readably as well; signals go
 * to wrangler so it can stop workerd cleanly.
 */
async function serve(): Promise<ChildProcess> {
  const inspectorPort = await freePort();
  const child = spawnWrangler(
    [
      'dev',
      '--port',
      String(LOCAL_PORT),
      '--ip',
      HOST,
      '--inspector-port',
      String(inspectorPort),
      '--show-interactive-dev-session=false',
    ],
    { stdio: ['inherit', 'pipe', 'inherit'] },
  );
  if (child.stdout) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      console.log(line);
      const notice = inboxNotice(line, BASE_URL);
      if (notice) console.log(notice);
    });
  }
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('error', reportFailure);
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? constants.signals[signal] : 1)));
  progress('serve', `wrangler dev :${LOCAL_PORT}`, `starting (inspector on :${inspectorPort})`);
  await waitUntilServing(`http://${HOST}:${LOCAL_PORT}/v2/customer/health`, child, STARTUP_TIMEOUT_MS);
  progress('serve', `wrangler dev :${LOCAL_PORT}`, 'healthy');
  return child;
}

async function main(): Promise<void> {
  await requireFreePort(LOCAL_PORT, HOST, 'the API', 'Stop what holds it, or run `PORT=8790 npm start`.');
  const { secrets, added } = await ensureDevVars(join(projectRoot, '.dev.vars'));
  progress('secrets', '.dev.vars', added.length > 0 ? `generated ${added.join(', ')}` : 'present');
  const local = await openLocalDatabases();
  progress('open', 'local D1 (Miniflare)', '.wrangler/state/v3');
  let tenants: DemoCredentials[];
  try {
    await migrateAll(local);
    tenants = await seed(local, secrets.FIELD_ENCRYPTION_KEY);
  } finally {
    await local.dispose();
  }
  const file: CredentialsFile = {
    baseUrl: BASE_URL,
    platformAdminToken: secrets.PLATFORM_ADMIN_TOKEN,
    tenants,
  };
  mkdirSync(join(projectRoot, '.dev'), { recursive: true });
  writeFileSync(CREDENTIALS_PATH, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  writeFileSync(COLLECTION_ENV_PATH, requestCollectionEnv(file.platformAdminToken, tenants), { mode: 0o600 });
  const child = await serve();
  try {
    await seedSamples(tenants);
  } catch (error) {
    child.kill('SIGTERM');
    throw error;
  }
  printSummary(file);
}

main().catch(reportFailure);
