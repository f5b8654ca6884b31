/*
 * `npm run bench [-- --duration 10 --warmup 2 --connections 16 --only 'GET /health']`
 *
 * Serves the built worker on one local workerd, seeds a bench tenant through the API, drives each
 * scenario with autocannon and prints one table (throughput, latency, ratio to the health check
 * measured in the same run, binding calls per request) and the budgets, PASS or FAIL. Exits 1 when
 * a budget fails or a scenario got answers it did not expect. See docs/benchmarks.md.
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { reportFailure } from '../lib/wrangler.ts';
import { api } from './api.ts';
import { type PhaseResult, runPhase } from './load.ts';
import { BASE_PATH, benchRoutes, type CountsReport, emptyCounts } from './protocol.ts';
import {
  budgetLines,
  evaluateBudgets,
  percentile,
  perRequest,
  resultsTable,
  type ScenarioResult,
} from './report.ts';
import { BASELINE, budgets, type Scenario, type ScenarioContext, scenarios } from './scenarios.ts';
import { seed } from './seed.ts';
import { BENCH_TENANT_BINDING, type BenchServer, startServer } from './server.ts';

const USAGE =
  'Usage: npm run bench -- [--duration <s>] [--warmup <s>] [--connections <n>] [--only <scenario>]...';

interface Options {
  duration: number;
  warmup: number;
  connections: number;
  only: string[];
}

function positive(name: string, text: string | undefined, fallback: number): number {
  const value = text === undefined ? fallback : Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`--${name} must be a positive number.\n${USAGE}`);
    process.exit(2);
  }
  return value;
}

function parseOptions(): Options {
  try {
    const { values } = parseArgs({
      options: {
        duration: { type: 'string' },
        warmup: { type: 'string' },
        connections: { type: 'string' },
        only: { type: 'string', multiple: true },
      },
    });
    return {
      duration: positive('duration', values.duration, 10),
      warmup: positive('warmup', values.warmup, 2),
      connections: Math.round(positive('connections', values.connections, 16)),
      only: values.only ?? [],
    };
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : error}\n${USAGE}`);
    process.exit(2);
  }
}

function step(message: string): void {
  console.log(`• ${message}`);
}

/** `METHOD /path` of every operation the served document declares, below the base path. */
async function servedOperations(origin: string): Promise<Set<string>> {
  const document = await api(origin).call<{ paths: Record<string, Record<string, unknown>> }>({
    method: 'GET',
    path: '/openapi.json',
  });
  return new Set(
    Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.slice(BASE_PATH.length)}`),
    ),
  );
}

/** Counts are read once the phase's waitUntil work (outbox pushes and the like) has finished. */
async function settledCounts(origin: string): Promise<CountsReport> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const report = await api(origin).call<CountsReport>({
      method: 'GET',
      path: benchRoutes.counts,
      raw: true,
    });
    if (report.pendingWaitUntil === 0) return report;
    if (Date.now() > deadline) throw new Error(`${report.pendingWaitUntil} waitUntil tasks never settled`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const RATE_LIMITED_HINT = 'rate-limited: spread the scenario over more client addresses';

/** Answers other than the expected status, and connection failures; empty when all went well. */
function unexpectedAnswers(scenario: Scenario, phase: PhaseResult): string[] {
  const found = [...phase.statuses]
    .filter(([status]) => status !== scenario.expectedStatus)
    .map(([status, count]) => `${count} × ${status}${status === 429 ? ` (${RATE_LIMITED_HINT})` : ''}`);
  if (phase.failures > 0) found.push(`${phase.failures} connection errors or timeouts`);
  if (phase.responses === 0) found.push('no responses');
  return found;
}

async function measure(
  server: BenchServer,
  scenario: Scenario,
  context: ScenarioContext,
  options: Options,
): Promise<{ result: ScenarioResult; problems: string[]; generatorCpuShare: number }> {
  const connections = Math.min(options.connections, scenario.maxConnections ?? options.connections);
  const source = await scenario.start({ ...context, connections });
  const sequence = { next: 0 };
  const phase = { origin: server.origin, source, sequence, connections };
  const warmupLabel = `warm-up: ${scenario.name}`;
  const priming = scenario.primingRequests
    ? [await runPhase({ ...phase, label: warmupLabel, length: { requests: scenario.primingRequests } })]
    : [];
  const counted = scenario.requestsPerConnection;
  const warmup = await runPhase({
    ...phase,
    label: warmupLabel,
    length: counted ? { requests: counted.warmup * connections } : { seconds: options.warmup },
  });
  const measured = await runPhase({
    ...phase,
    label: scenario.name,
    length: counted ? { requests: counted.measured * connections } : { seconds: options.duration },
  });
  const report = await settledCounts(server.origin);
  const counts = report.scenarios[scenario.name] ?? emptyCounts();
  const latencies = measured.latenciesMs.sort((a, b) => a - b);
  return {
    result: {
      name: scenario.name,
      requestsPerSecond: measured.responses / measured.seconds,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      perRequest: perRequest(counts),
      answeredPerRequest: perRequest(report.answered?.[scenario.name] ?? counts),
    },
    problems: [...priming, warmup, measured].flatMap((each) => unexpectedAnswers(scenario, each)),
    generatorCpuShare: measured.generatorCpuShare,
  };
}

/** The scenarios that ran phases of a number of requests instead of the durations, for the load line. */
function countedPhases(results: readonly ScenarioResult[]): string {
  const counted = scenarios.flatMap(({ name, requestsPerConnection: perConnection }) =>
    perConnection && results.some((result) => result.name === name)
      ? [`${name} ${perConnection.warmup} then ${perConnection.measured} requests per connection`]
      : [],
  );
  return counted.length > 0 ? ` (${counted.join('; ')})` : '';
}

/** `loadBefore`: the 1-minute load average when the run began, to show whether the machine was quiet. */
function machine(server: BenchServer, loadBefore: number): string {
  const processors = cpus();
  return [
    `Date: ${new Date().toISOString().slice(0, 10)}`,
    `Machine: ${processors[0]?.model.trim() ?? 'unknown CPU'}, ${processors.length} logical cores, load average ${loadBefore.toFixed(2)} before the run`,
    `Runtime: Node ${process.version}, workerd ${server.workerdVersion} (one process, through Miniflare), storage in ${server.storage}`,
  ].join('\n');
}

async function main(): Promise<void> {
  const options = parseOptions();
  const [loadBefore = 0] = loadavg();
  step('build the instrumented worker (wrangler deploy --dry-run) and start workerd');
  const server = await startServer();
  // Ctrl-C still stops workerd and removes the run's files.
  process.once('SIGINT', () => {
    server.close().finally(() => process.exit(130));
  });
  try {
    const client = api(server.origin);
    step(`seed the bench tenant through the API (${server.origin})`);
    const tenantDatabase = await server.database(BENCH_TENANT_BINDING);
    const seeded = await seed(client, {
      adminToken: server.secrets.PLATFORM_ADMIN_TOKEN,
      fieldEncryptionKey: server.secrets.FIELD_ENCRYPTION_KEY,
      tenantDatabase,
      tenantBinding: BENCH_TENANT_BINDING,
      staffUsers: options.connections,
    });
    const served = await servedOperations(server.origin);
    const context: ScenarioContext = {
      seed: seeded,
      api: client,
      tenantDatabase,
      connections: options.connections,
    };
    const results: ScenarioResult[] = [];
    const failures: string[] = [];
    const cpuShares: string[] = [];
    for (const scenario of scenarios) {
      if (options.only.length > 0 && !options.only.includes(scenario.name)) continue;
      if (scenario.operation && !served.has(scenario.operation)) {
        step(`${scenario.name}: skipped, this build has no such route`);
        continue;
      }
      const { result, problems, generatorCpuShare } = await measure(server, scenario, context, options);
      results.push(result);
      cpuShares.push(`${scenario.name} ${Math.round(generatorCpuShare * 100)} %`);
      if (problems.length > 0) failures.push(`${scenario.name}: unexpected answers: ${problems.join(', ')}`);
      step(`${scenario.name}: ${Math.round(result.requestsPerSecond)} req/s`);
    }
    const outcomes = evaluateBudgets(budgets, results);
    console.log(
      [
        '',
        machine(server, loadBefore),
        `Load: autocannon, ${options.connections} connections, ${options.warmup} s warm-up then ${options.duration} s per scenario${countedPhases(results)}`,
        '',
        resultsTable(results, BASELINE),
        '',
        'Budgets',
        budgetLines(outcomes),
        '',
        `Load generator CPU (share of one core): ${cpuShares.join(', ')}`,
        ...failures.map((failure) => `ERROR ${failure}`),
      ].join('\n'),
    );
    if (failures.length > 0 || outcomes.some((outcome) => outcome.status === 'FAIL')) process.exitCode = 1;
  } finally {
    await server.close();
  }
}

main().catch(reportFailure);
