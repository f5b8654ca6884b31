/*
 * `npm run example:walkthroughs`: runs every curl walkthrough of README.md as written, against
 * the server `npm start` serves (PORT as for npm start), and checks each call's status: the one
 * its comment names (`# → 409 …`, `# 201: …`), else a 2xx. A block is one bash script run with
 * `set -euo pipefail`, so an undefined variable or a failing step fails it too. Blocks preceded by
 * `<!-- walkthrough: skip (reason) -->` are left out (deploying, provisioning).
 *
 * Then it checks what README says of `tenant:create` against the running server: a tenant made
 * while it runs is served without a restart, its admin logs in and its client gets a token. That
 * edits wrangler.toml, as tenant:create does; the file is put back byte for byte afterwards (the
 * tenant stays in the local control database, answering 503 `tenant_unavailable` once its binding
 * is gone). `--no-tenant-create` skips it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOCAL_PORT as PORT } from './lib/local-server.ts';
import { projectRoot } from './lib/wrangler.ts';
import { rewriteConfig } from './lib/wrangler-config.ts';

const BASE_URL = `http://localhost:${PORT}/v2/customer`;
/** How long wrangler dev may take to reload after wrangler.toml changed, on a loaded machine. */
const RELOAD_TIMEOUT_MS = 120_000;

interface Walkthrough {
  heading: string;
  script: string;
  expected: (number | '2xx')[];
}

/** The ```sh blocks that call the local server, with the section they are in. */
export function walkthroughs(readme: string): Walkthrough[] {
  const found: Walkthrough[] = [];
  let heading = '';
  const lines = readme.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? '';
    if (line.startsWith('#')) heading = line.replace(/^#+\s*/, '');
    if (line.trim() !== '```sh') continue;
    const end = lines.indexOf('```', index + 1);
    const script = lines.slice(index + 1, end).join('\n');
    const skipped =
      /<!-- walkthrough: skip/.test(lines[index - 2] ?? '') ||
      /<!-- walkthrough: skip/.test(lines[index - 1] ?? '');
    if (!skipped && script.includes('localhost:8787'))
      found.push({ heading, script, expected: expectations(script) });
    index = end;
  }
  return found;
}

/** Per curl call, in order: the status the comments after it name before the next call, else 2xx. */
function expectations(script: string): (number | '2xx')[] {
  const calls = script.split(/\bcurl\s/).slice(1);
  return calls.map((after) => {
    const named = /#\s*(?:→\s*)?(\d{3})\b/.exec(after);
    return named ? Number(named[1]) : '2xx';
  });
}

function run(walkthrough: Walkthrough, directory: string): string[] {
  const statusFile = join(directory, 'statuses');
  rmSync(statusFile, { force: true });
  const script = [
    'set -euo pipefail',
    // Every call also writes its status to the file; the script's own output is unchanged.
    `curl() { command curl -w '%{stderr}%{http_code}\\n' "$@" 2>>'${statusFile}'; }`,
    walkthrough.script.replaceAll('localhost:8787', `localhost:${PORT}`),
  ].join('\n');
  const result = spawnSync('bash', ['-c', script], { cwd: projectRoot, encoding: 'utf8' });
  const problems: string[] = [];
  if (result.status !== 0) problems.push(`exited ${result.status}: ${result.stderr.trim()}`);
  let statuses: number[] = [];
  try {
    statuses = readFileSync(statusFile, 'utf8').trim().split('\n').filter(Boolean).map(Number);
  } catch {
    // no call answered
  }
  walkthrough.expected.forEach((expected, call) => {
    const status = statuses[call];
    const ok =
      expected === '2xx' ? status !== undefined && status >= 200 && status < 300 : status === expected;
    if (!ok) problems.push(`call ${call + 1}: expected ${expected}, got ${status ?? 'no answer'}`);
  });
  if (problems.length > 0) problems.push(`output:\n${result.stdout}`);
  return problems;
}

/** `name  first / second` as tenant:create prints its credentials. */
function printedPair(output: string, name: string): [string, string] {
  const match = new RegExp(`^\\s*${name}\\s+(\\S+) / (\\S+)$`, 'm').exec(output);
  if (!match?.[1] || !match[2]) throw new Error(`tenant:create printed no ${name}:\n${output}`);
  return [match[1], match[2]];
}

/**
 * Asks for the client's token until the status is `wanted` (a connection wrangler dev refuses
 * while it reloads counts as no answer); the last answer, or undefined after the reload timeout.
 */
async function tokenAnswer(
  clientId: string,
  clientSecret: string,
  wanted: number,
): Promise<Response | undefined> {
  const deadline = Date.now() + RELOAD_TIMEOUT_MS;
  let answer: Response | undefined;
  do {
    if (answer !== undefined) await sleep(500);
    try {
      answer = await fetch(`${BASE_URL}/oauth/token`, {
        method: 'POST',
        headers: { Authorization: `Basic ${btoa(`${clientId}:${clientSecret}`)}` },
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      });
    } catch {
      answer = undefined;
      await sleep(500);
    }
  } while (answer?.status !== wanted && Date.now() < deadline);
  return answer;
}

/** README's "Tenant provisioning", against the running server; the problems found, none when true. */
async function checkTenantCreate(): Promise<{ problems: string[]; note?: string }> {
  const configPath = join(projectRoot, 'wrangler.toml');
  const config = readFileSync(configPath);
  const id = `walkthrough-${Date.now().toString(36)}`;
  const restore = () => rewriteConfig(configPath, config);
  process.once('SIGINT', () => {
    restore();
    process.exit(130);
  });
  let client: [string, string] | undefined;
  try {
    const created = spawnSync('npm', ['run', '-s', 'tenant:create', '--', '--id', id, '--tier', 'STARTER'], {
      cwd: projectRoot,
      encoding: 'utf8',
    });
    if (created.status !== 0)
      return { problems: [`tenant:create exited ${created.status}: ${created.stderr}`] };
    const [adminEmail, adminPassword] = printedPair(created.stdout, 'tenant admin');
    client = printedPair(created.stdout, 'OAuth client');
    const createdAt = Date.now();
    // Until wrangler dev has reloaded with the new binding the tenant answers 503 tenant_unavailable.
    const token = await tokenAnswer(...client, 200);
    if (token?.status !== 200) {
      return {
        problems: [`the new tenant's client got ${token?.status ?? 'no answer'}: ${await token?.text()}`],
      };
    }
    const servedAfter = ((Date.now() - createdAt) / 1000).toFixed(1);
    const { access_token: accessToken } = (await token.json()) as { access_token: string };
    const login = await fetch(`${BASE_URL}/auth/login`, {
      method: 'POST',
      headers: { 'X-Tenant-ID': id, 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: adminEmail, password: adminPassword, accountType: 'STAFF' }),
    });
    const customers = await fetch(`${BASE_URL}/customers`, {
      headers: { 'X-Tenant-ID': id, Authorization: `Bearer ${accessToken}` },
    });
    const problems = [
      ...(login.status === 200 ? [] : [`the admin's login answered ${login.status}: ${await login.text()}`]),
      ...(customers.status === 200 ? [] : [`GET /customers answered ${customers.status}`]),
    ];
    return { problems, note: `${id} served ${servedAfter} s after tenant:create, without a restart` };
  } finally {
    restore();
    // Settled before exiting: a change to wrangler.toml in the middle of a reload can stop wrangler dev.
    if (client) await tokenAnswer(...client, 503);
  }
}

async function main(): Promise<void> {
  try {
    if (!(await fetch(`${BASE_URL}/health`)).ok) throw new Error('unhealthy');
  } catch {
    console.error(`Nothing healthy answers on port ${PORT}: run \`npm start\` first (PORT=${PORT}).`);
    process.exit(1);
  }
  const directory = mkdtempSync(join(tmpdir(), 'fincore-walkthroughs-'));
  let failed = 0;
  try {
    for (const walkthrough of walkthroughs(readFileSync(join(projectRoot, 'README.md'), 'utf8'))) {
      const problems = run(walkthrough, directory);
      const calls = walkthrough.expected.length;
      console.log(`${problems.length === 0 ? 'ok  ' : 'FAIL'} ${walkthrough.heading} (${calls} calls)`);
      for (const problem of problems) console.log(`     ${problem}`);
      if (problems.length > 0) failed += 1;
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  if (!process.argv.includes('--no-tenant-create')) {
    const { problems, note } = await checkTenantCreate();
    console.log(
      `${problems.length === 0 ? 'ok  ' : 'FAIL'} Tenant provisioning (tenant:create on the running server)`,
    );
    for (const line of [...problems, ...(note ? [note] : [])]) console.log(`     ${line}`);
    if (problems.length > 0) failed += 1;
  }
  process.exit(failed > 0 ? 1 : 0);
}

main();
