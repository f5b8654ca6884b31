/*
 * Interleaved A/B of the bench worker against a bare worker answering constant JSON, on the same
 * workerd: short autocannon phases alternate between the two, so the ratio survives a shared
 * machine. `node scripts/bench/ab-bare.ts [--rounds 5] [--seconds 3] [--path /v2/customer/health]`
 */
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { bundledWorkerOptions } from '../lib/bundled-worker.ts';
import { clientIp } from './api.ts';
import { startServer } from './server.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '3' },
    path: { type: 'string', default: '/v2/customer/health' },
    addresses: { type: 'string', default: '512' },
  },
});
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const ADDRESSES = Number(values.addresses);

/** The workerd processes this process started: Miniflare spawns one per instance. */
function workerdChildren(): Set<number> {
  const pids = new Set<number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (stat.includes('(workerd)') && Number(fields[1]) === process.pid) pids.add(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** CPU seconds the process has used, all threads, user and system. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Phase {
  rps: number;
  /** workerd CPU microseconds per answer: robust to other load on the machine. */
  cpuUs: number;
}

async function phase(origin: string, pid: number, path: string, seconds: number): Promise<Phase> {
  let n = 0;
  let answers = 0;
  let unexpected = 0;
  const cpuBefore = cpuSeconds(pid);
  const started = performance.now();
  const instance = autocannon({
    url: origin,
    connections: 16,
    duration: seconds,
    requests: [
      {
        setupRequest: (request) => ({
          ...request,
          method: 'GET',
          path,
          headers: { 'CF-Connecting-IP': clientIp(n++ % ADDRESSES) },
        }),
      },
    ],
  });
  instance.on('response', (_client, status) => {
    answers++;
    if (status !== 200) unexpected++;
  });
  await instance;
  if (unexpected) console.warn(`  ${unexpected} answers were not 200 on ${origin}${path}`);
  const cpu = cpuSeconds(pid) - cpuBefore;
  return {
    rps: answers / ((performance.now() - started) / 1000),
    cpuUs: (cpu * 1e6) / answers,
  };
}

const { compatibilityDate, compatibilityFlags } = bundledWorkerOptions();
// wrangler still speaks Miniflare 4's options, as server.ts converts them.
const bare = new Miniflare(
  convertV4MiniflareOptions({
    name: 'bare',
    modules: true,
    compatibilityDate: compatibilityDate as string,
    compatibilityFlags: compatibilityFlags as string[],
    script: `const BODY = '{"status":"ok"}';
export default { fetch() { return new Response(BODY, { headers: { 'content-type': 'application/json' } }); } };`,
    unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
  }),
);
await bare.ready;
const [barePid] = workerdChildren();
const project = await startServer();
const [projectPid] = [...workerdChildren()].filter((pid) => pid !== barePid);
if (barePid === undefined || projectPid === undefined) throw new Error('cannot find the workerd processes');
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
try {
  const bareOrigin = (await bare.unsafeGetDirectURL('bare')).origin;
  const sides = {
    bare: { origin: bareOrigin, pid: barePid },
    project: { origin: project.origin, pid: projectPid },
  };
  await phase(bareOrigin, barePid, values.path, 1);
  await phase(project.origin, projectPid, values.path, 2);
  const rateRatios: number[] = [];
  const cpuRatios: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 ? (['project', 'bare'] as const) : (['bare', 'project'] as const);
    const result: Partial<Record<'bare' | 'project', Phase>> = {};
    for (const side of order)
      result[side] = await phase(sides[side].origin, sides[side].pid, values.path, SECONDS);
    const { bare: b, project: p } = result as Record<'bare' | 'project', Phase>;
    rateRatios.push(p.rps / b.rps);
    cpuRatios.push(b.cpuUs / p.cpuUs);
    console.log(
      `round ${round}: project ${Math.round(p.rps)} req/s ${Math.round(p.cpuUs)} µs CPU/req, bare ${Math.round(b.rps)} req/s ${Math.round(b.cpuUs)} µs CPU/req; rate ratio ${(p.rps / b.rps).toFixed(3)}, CPU ratio ${(b.cpuUs / p.cpuUs).toFixed(3)}`,
    );
  }
  console.log(
    `${values.path}: median rate ratio ${median(rateRatios).toFixed(3)}, median CPU ratio (bare µs/req ÷ project µs/req) ${median(cpuRatios).toFixed(3)}`,
  );
} finally {
  await project.close();
  await bare.dispose();
}
