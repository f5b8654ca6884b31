/*
 * `npm run example:walkthroughs`: runs every curl walkthrough of README.md as written, against
 * the server `npm start` serves (PORT as for npm start), and checks each call's status: the one
 * its comment names (`# → 409 …`, `# 201: …`), else a 2xx. A block is one bash script run with
 * `set -euo pipefail`, so an undefined variable or a failing step fails it too. Blocks preceded by
 * `<!-- walkthrough: skip (reason) -->` are left out (deploying, provisioning).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from './lib/wrangler.ts';

const PORT = Number(process.env.PORT ?? 8787);

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

async function main(): Promise<void> {
  try {
    if (!(await fetch(`http://127.0.0.1:${PORT}/v2/customer/health`)).ok) throw new Error('unhealthy');
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
  process.exit(failed > 0 ? 1 : 0);
}

main();
