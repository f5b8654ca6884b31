/*
 * `npm run bench [-- --duration 10 --warmup 2 --connections 16 --rounds 3 --only 'GET /health']`
 *
 * Each scenario is warmed up once, then measured in rounds whose order alternates (see main).
 * Serves the built worker on one local workerd, seeds a bench tenant through the API, drives each
 * scenario with autocannon and prints one table (throughput, latency, ratio to the health check
 * measured in the same run, binding calls per request) and the budgets, PASS or FAIL. Exits 1 when
 * a budget fails or a scenario got answers it did not expect. See docs/benchmarks.md.
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { reportFailure } from '../lib/wrangler.ts';
import { api } from './api.ts';
import { type PhaseOptions, type PhaseResult, runPhase } from './load.ts';
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
  'Usage: npm run bench -- [--duration <s>] [--warmup <s>] [--connections <n>] [--rounds <n>] [--only <scenario>]...';

interface Options {
  duration: number;
  warmup: number;
  connections: number;
  rounds: number;
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
        rounds: { type: 'string' },
        only: { type: 'string', multiple: true },
      },
    });
    return {
      duration: positive('duration', values.duration, 10),
      warmup: positive('warmup', values.warmup, 2),
      connections: Math.round(positive('connections', values.connections, 16)),
      rounds: Math.round(positive('rounds', values.rounds, 3)),
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

/** A scenario warmed up and ready for its measured phases, and what its phases answered so far. */
interface Running {
  scenario: Scenario;
  phase: Omit<PhaseOptions, 'label' | 'length'>;
  /** Requests of the measured phases all told, for scenarios that prepared that many. */
  measuredRequests?: number;
  measured: PhaseResult[];
  problems: string[];
}

async function warmUp(
  server: BenchServer,
  scenario: Scenario,
  context: ScenarioContext,
  options: Options,
): Promise<Running> {
  const connections = Math.min(options.connections, scenario.maxConnections ?? options.connections);
  const source = await scenario.start({ ...context, connections });
  const phase = { origin: server.origin, source, sequence: { next: 0 }, connections };
  const label = `warm-up: ${scenario.name}`;
  const priming = scenario.primingRequests
    ? [await runPhase({ ...phase, label, length: { requests: scenario.primingRequests } })]
    : [];
  const counted = scenario.requestsPerConnection;
  const warmup = await runPhase({
    ...phase,
    label,
    length: counted ? { requests: counted.warmup * connections } : { seconds: options.warmup },
  });
  return {
    scenario,
    phase,
    ...(counted ? { measuredRequests: counted.measured * connections } : {}),
    measured: [],
    problems: [...priming, warmup].flatMap((each) => unexpectedAnswers(scenario, each)),
  };
}

/** One of the `rounds` measured phases of a scenario: an equal share of its duration or requests. */
async function measureRound(running: Running, round: number, options: Options): Promise<void> {
  const { measuredRequests } = running;
  const share = (total: number) =>
    Math.floor((total * (round + 1)) / options.rounds) - Math.floor((total * round) / options.rounds);
  const measured = await runPhase({
    ...running.phase,
    label: running.scenario.name,
    length:
      measuredRequests === undefined
        ? { seconds: options.duration / options.rounds }
        : { requests: share(measuredRequests) },
  });
  running.measured.push(measured);
  running.problems.push(...unexpectedAnswers(running.scenario, measured));
}

function resultOf(running: Running, report: CountsReport): ScenarioResult {
  const { name } = running.scenario;
  const counts = report.scenarios[name] ?? emptyCounts();
  const responses = running.measured.reduce((sum, phase) => sum + phase.responses, 0);
  const seconds = running.measured.reduce((sum, phase) => sum + phase.seconds, 0);
  const latencies = running.measured.flatMap((phase) => phase.latenciesMs).sort((a, b) => a - b);
  return {
    name,
    requestsPerSecond: responses / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    perRequest: perRequest(counts),
    answeredPerRequest: perRequest(report.answered?.[name] ?? counts),
  };
}

function generatorCpuShare(running: Running): number {
  const cpuSeconds = running.measured.reduce(
    (sum, phase) => sum + phase.generatorCpuShare * phase.seconds,
    0,
  );
  return cpuSeconds / running.measured.reduce((sum, phase) => sum + phase.seconds, 0);
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
      // A priming phase, the warm-up and the rounds.
      phases: options.rounds + 2,
    };
    const running: Running[] = [];
    for (const scenario of scenarios) {
      if (options.only.length > 0 && !options.only.includes(scenario.name)) continue;
      if (scenario.operation && !served.has(scenario.operation)) {
        step(`${scenario.name}: skipped, this build has no such route`);
        continue;
      }
      step(`${scenario.name}: warm-up`);
      running.push(await warmUp(server, scenario, context, options));
    }
    // Rounds alternate the scenarios' order, so what drifts on a shared machine (another
    // process, the CPU's clock) weighs on every scenario alike and ratios between them hold.
    for (let round = 0; round < options.rounds; round++) {
      for (const each of round % 2 === 0 ? running : [...running].reverse()) {
        await measureRound(each, round, options);
      }
      step(`round ${round + 1} of ${options.rounds} measured`);
    }
    const report = await settledCounts(server.origin);
    const results = running.map((each) => resultOf(each, report));
    const cpuShares = running.map(
      (each) => `${each.scenario.name} ${Math.round(generatorCpuShare(each) * 100)} %`,
    );
    const failures = running.flatMap(({ scenario, problems }) =>
      problems.length > 0 ? [`${scenario.name}: unexpected answers: ${problems.join(', ')}`] : [],
    );
    for (const result of results) step(`${result.name}: ${Math.round(result.requestsPerSecond)} req/s`);
    const outcomes = evaluateBudgets(budgets, results);
    console.log(
      [
        '',
        machine(server, loadBefore),
        `Load: autocannon, ${options.connections} connections, ${options.warmup} s warm-up then ${options.duration} s per scenario in ${options.rounds} rounds of alternating order${countedPhases(results)}`,
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
