/*
 * Turning measurements into the printed table and budget verdicts. Pure functions, no I/O, so
 * test/unit/bench-report.test.ts runs them inside workerd like any other unit.
 */
import { markdownTable } from '../lib/markdown-table.ts';
import type { BindingCounts } from './protocol.ts';

export type PerRequest = Omit<BindingCounts, 'requests'>;

export interface ScenarioResult {
  name: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Binding calls per request, rounded to two decimals as printed. */
  perRequest: PerRequest;
  /** The same up to the answer only (scripts/bench/budgets.ts); absent from older entries. */
  answeredPerRequest?: PerRequest;
}

export interface Budget {
  title: string;
  /** Scenarios it compares; it is skipped when any of them did not run. */
  needs: string[];
  check(result: (scenario: string) => ScenarioResult): { pass: boolean; detail: string };
}

export interface BudgetOutcome {
  title: string;
  status: 'PASS' | 'FAIL' | 'SKIP';
  detail: string;
}

/** Nearest-rank percentile of values sorted ascending; NaN when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * Averages over the requests of the phase. The budgets compare these rounded values, so a cache
 * refilled once in tens of thousands of requests (the tenant registry, every 30 s) does not
 * count against a route whose every other request stays within its budget.
 */
export function perRequest(counts: BindingCounts): PerRequest {
  const { requests, ...calls } = counts;
  const each = (total: number) => (requests === 0 ? 0 : round2(total / requests));
  return {
    d1Queries: each(calls.d1Queries),
    d1Statements: each(calls.d1Statements),
    doCalls: each(calls.doCalls),
    kvReads: each(calls.kvReads),
    kvWrites: each(calls.kvWrites),
    queueSends: each(calls.queueSends),
  };
}

export function evaluateBudgets(
  budgets: readonly Budget[],
  results: readonly ScenarioResult[],
): BudgetOutcome[] {
  const byName = new Map(results.map((result) => [result.name, result]));
  const result = (name: string) => {
    const found = byName.get(name);
    if (!found) throw new Error(`No result for ${name}`);
    return found;
  };
  return budgets.map((budget) => {
    const missing = budget.needs.filter((name) => !byName.has(name));
    if (missing.length > 0) {
      return { title: budget.title, status: 'SKIP', detail: `not measured: ${missing.join(', ')}` };
    }
    const { pass, detail } = budget.check(result);
    return { title: budget.title, status: pass ? 'PASS' : 'FAIL', detail };
  });
}

function formatRate(perSecond: number): string {
  return perSecond < 100 ? perSecond.toFixed(1) : Math.round(perSecond).toLocaleString('en-US');
}

function formatMs(ms: number): string {
  if (Number.isNaN(ms)) return '–';
  return ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : Math.round(ms).toString();
}

/** Counts are rounded to two decimals already; whole numbers print without them. */
function formatD1(calls: PerRequest): string {
  const queries = String(calls.d1Queries);
  return calls.d1Statements === calls.d1Queries ? queries : `${queries} (${calls.d1Statements})`;
}

export function resultsTable(results: readonly ScenarioResult[], baseline: string): string {
  const base = results.find((result) => result.name === baseline)?.requestsPerSecond;
  const header = [
    'Scenario',
    'req/s',
    'p50 ms',
    'p99 ms',
    `× ${baseline}`,
    'D1 queries (statements)',
    'DO calls',
    'KV reads',
    'KV writes',
    'Queue sends',
  ];
  const rows = results.map((result) => [
    result.name,
    formatRate(result.requestsPerSecond),
    formatMs(result.p50Ms),
    formatMs(result.p99Ms),
    base ? (result.requestsPerSecond / base).toFixed(2) : '–',
    formatD1(result.perRequest),
    String(result.perRequest.doCalls),
    String(result.perRequest.kvReads),
    String(result.perRequest.kvWrites),
    String(result.perRequest.queueSends),
  ]);
  return markdownTable(header, rows);
}

export function budgetLines(outcomes: readonly BudgetOutcome[]): string {
  return outcomes
    .map((outcome) => `${outcome.status.padEnd(4)}  ${outcome.title} (${outcome.detail})`)
    .join('\n');
}
