/*
 * `npm start`: everything a new clone needs to serve the API locally, offline and without a
 * Cloudflare account. Safe to re-run: secrets and demo credentials are kept, wrangler applies only
 * the migrations a database lacks, and the seed inserts what is missing and resets the demo
 * passwords and secrets to the ones in the credentials file.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import {
  controlSeedStatements,
  type DemoCredentials,
  demoCredentials,
  demoTenants,
  tenantSeedStatements,
} from './lib/demo-seed.ts';
import { ensureDevVars } from './lib/dev-vars.ts';
import { tenantBinding } from './lib/tenants.ts';
import { applyMigrations, executeSql, projectRoot, reportFailure, spawnWrangler } from './lib/wrangler.ts';
import { d1Bindings } from './lib/wrangler-config.ts';

/** PORT moves the server when 8787 is taken; the credentials file's base URL follows it. */
const PORT = Number(process.env.PORT ?? 8787);
const HOST = '127.0.0.1';
const BASE_URL = `http://localhost:${PORT}/v2/customer`;
const CREDENTIALS_PATH = join(projectRoot, '.dev', 'demo-credentials.json');

interface CredentialsFile {
  baseUrl: string;
  platformAdminToken: string;
  tenants: DemoCredentials[];
}

function step(message: string): void {
  console.log(`• ${message}`);
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

async function migrateAll(): Promise<void> {
  const declared = d1Bindings(readFileSync(join(projectRoot, 'wrangler.toml'), 'utf8')).map(
    (d1) => d1.binding,
  );
  const missing = ['CONTROL_DB', ...demoTenants.map((tenant) => tenantBinding(tenant.id))].filter(
    (binding) => !declared.includes(binding),
  );
  if (missing.length > 0) throw new Error(`wrangler.toml does not declare: ${missing.join(', ')}`);
  // Every tenant database, not only the demo ones: tenants added with `npm run tenant:create` too.
  const bindings = declared.filter((binding) => binding === 'CONTROL_DB' || binding.startsWith('TENANT_DB_'));
  for (const binding of bindings) {
    step(`migrations: ${binding}`);
    await applyMigrations(binding, '--local');
  }
}

async function seed(fieldEncryptionKey: string): Promise<DemoCredentials[]> {
  const previous = previousCredentials();
  const now = new Date().toISOString();
  const seeded = demoTenants.map((tenant) => ({
    tenant,
    credentials: demoCredentials(tenant, previous.get(tenant.id)),
  }));
  step('seed: tenant registry and client directory (CONTROL_DB)');
  const control = seeded.flatMap(({ tenant, credentials }) =>
    controlSeedStatements(tenant, credentials, now),
  );
  await executeSql('CONTROL_DB', '--local', control.join('\n'));
  for (const { tenant, credentials } of seeded) {
    const binding = tenantBinding(tenant.id);
    step(`seed: staff users and OAuth client of ${tenant.id} (${binding})`);
    await executeSql(
      binding,
      '--local',
      (await tenantSeedStatements(credentials, now, fieldEncryptionKey)).join('\n'),
    );
  }
  return seeded.map(({ credentials }) => credentials);
}

function printSummary(file: CredentialsFile): void {
  const lines = [
    '',
    'FinCore Customer API: local demo',
    `  Base URL              ${file.baseUrl}`,
    `  Platform admin token  ${file.platformAdminToken}`,
  ];
  for (const tenant of file.tenants) {
    lines.push(
      '',
      `  ${tenant.id} (${tenant.tier})`,
      `    tenant admin        ${tenant.admin.email} / ${tenant.admin.password}`,
      `    compliance officer  ${tenant.complianceOfficer.email} / ${tenant.complianceOfficer.password}`,
      `    OAuth client        ${tenant.client.clientId} / ${tenant.client.clientSecret}`,
    );
  }
  const example = file.tenants[0];
  lines.push('', `  Saved to ${CREDENTIALS_PATH}`);
  if (example) {
    const { admin, client } = example;
    lines.push(
      '  Staff log in with accountType STAFF (staff and customers are separate email namespaces):',
      `    curl -s -X POST ${file.baseUrl}/auth/login -H 'X-Tenant-ID: ${example.id}' -H 'Content-Type: application/json' -d '{"email": "${admin.email}", "password": "${admin.password}", "accountType": "STAFF"}'`,
      '  Token for a client:',
      `    curl -s -u ${client.clientId}:${client.clientSecret} -d grant_type=client_credentials ${file.baseUrl}/oauth/token`,
    );
  }
  console.log(`${lines.join('\n')}\n`);
}

/** Serves in the foreground; signals go to wrangler so it can stop workerd cleanly. */
function serve(): void {
  const child = spawnWrangler(['dev', '--port', String(PORT), '--ip', HOST]);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('error', reportFailure);
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? constants.signals[signal] : 1)));
}

async function main(): Promise<void> {
  const { secrets, added } = await ensureDevVars(join(projectRoot, '.dev.vars'));
  step(added.length > 0 ? `.dev.vars: generated ${added.join(', ')}` : '.dev.vars: present');
  await migrateAll();
  const tenants = await seed(secrets.FIELD_ENCRYPTION_KEY);
  const file: CredentialsFile = {
    baseUrl: BASE_URL,
    platformAdminToken: secrets.PLATFORM_ADMIN_TOKEN,
    tenants,
  };
  mkdirSync(join(projectRoot, '.dev'), { recursive: true });
  writeFileSync(CREDENTIALS_PATH, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  printSummary(file);
  serve();
}

main().catch(reportFailure);
