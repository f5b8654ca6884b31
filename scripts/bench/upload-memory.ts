/*
 * `npm run bench:upload-memory`: how much memory a document upload costs the worker, measured on
 * the workerd process rather than reasoned about. workerd offers a worker no heap statistics, so
 * this reads the process from outside: before each upload it resets the peak resident set
 * (`/proc/<pid>/clear_refs`, Linux only) and reads the resident set, after it the peak (`VmHWM`).
 * The difference is what the upload made the process hold at its worst: the worker's buffers and
 * whatever garbage V8 had not collected yet, and Miniflare's local R2 in the same process, so an
 * upper bound of what the pipeline itself holds. Small uploads of the same form give the fixed
 * cost of a request to set against it.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { api, requestBody, requestHeaders, requestPath } from './api.ts';
import { documentUpload } from './scenarios.ts';
import { seed } from './seed.ts';
import { BENCH_TENANT_BINDING, startServer } from './server.ts';

const MiB = 1024 * 1024;
const RUNS = 5;

/** The workerd processes below this one (Miniflare starts one). */
function workerdPid(): number {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
      names.set(Number(entry), name);
    } catch {
      // The process ended while the table was read.
    }
  }
  const below = (pid: number): boolean => {
    for (let at = parents.get(pid); at !== undefined && at > 1; at = parents.get(at)) {
      if (at === process.pid) return true;
    }
    return false;
  };
  const found = [...names].find(([pid, name]) => name === 'workerd' && below(pid));
  if (!found) throw new Error('no workerd process below this one');
  return found[0];
}

function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((each) => each.startsWith(`${field}:`));
  return Number(line?.replace(/\D+/g, '') ?? Number.NaN);
}

const server = await startServer();
try {
  const client = api(server.origin);
  const seeded = await seed(client, {
    adminToken: server.secrets.PLATFORM_ADMIN_TOKEN,
    fieldEncryptionKey: server.secrets.FIELD_ENCRYPTION_KEY,
    tenantDatabase: await server.database(BENCH_TENANT_BINDING),
    tenantBinding: BENCH_TENANT_BINDING,
    staffUsers: 1,
  });
  const pid = workerdPid();
  const rows: string[] = [];
  let n = 0;
  for (const size of [10 * 1024, 10 * MiB]) {
    const form = documentUpload(size);
    for (let run = 1; run <= RUNS; run++) {
      const request = form(seeded, n, n);
      n += 1;
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
      const before = statusKiB(pid, 'VmRSS');
      const response = await fetch(`${server.origin}${requestPath(request)}`, {
        method: request.method,
        headers: requestHeaders(request),
        body: requestBody(request),
      });
      await response.text();
      if (response.status !== 201) throw new Error(`upload answered ${response.status}`);
      const peak = statusKiB(pid, 'VmHWM');
      const grew = (peak - before) / 1024;
      rows.push(
        `| ${size >= MiB ? `${size / MiB} MiB` : `${size / 1024} KiB`} | ${run} | ${(before / 1024).toFixed(1)} | ${(peak / 1024).toFixed(1)} | ${grew.toFixed(1)} | ${(grew / (size / MiB)).toFixed(2)} |`,
      );
    }
  }
  console.log(
    [
      '| File | Run | RSS before (MiB) | Peak RSS (MiB) | Peak − before (MiB) | ÷ file size |',
      '| ---- | --: | ---------------: | -------------: | ------------------: | ----------: |',
      ...rows,
    ].join('\n'),
  );
} finally {
  await server.close();
}
