import { describe, expect, it } from 'vitest';
import { emptyCounts } from '../../scripts/bench/protocol';
import {
  type Budget,
  budgetLines,
  evaluateBudgets,
  percentile,
  perRequest,
  resultsTable,
  type ScenarioResult,
} from '../../scripts/bench/report';
import { markdownTable } from '../../scripts/lib/markdown-table';

function result(name: string, requestsPerSecond: number, d1Queries = 0): ScenarioResult {
  return {
    name,
    requestsPerSecond,
    p50Ms: 1.234,
    p99Ms: 45.67,
    perRequest: { ...perRequest(emptyCounts()), d1Queries, d1Statements: d1Queries },
  };
}

describe('bench report', () => {
  it('takes nearest-rank percentiles', () => {
    const sorted = Array.from({ length: 100 }, (_, index) => index + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('averages binding calls per request, rounded as printed', () => {
    const counts = { ...emptyCounts(), requests: 3000, d1Queries: 3001, d1Statements: 9000, doCalls: 1500 };
    expect(perRequest(counts)).toMatchObject({ d1Queries: 1, d1Statements: 3, doCalls: 0.5, kvReads: 0 });
    expect(perRequest(emptyCounts()).d1Queries).toBe(0);
  });

  it('pads a Markdown table, numbers to the right', () => {
    expect(
      markdownTable(
        ['Scenario', 'req/s'],
        [
          ['a', '1,234'],
          ['longer', '5'],
        ],
      ),
    ).toBe(
      ['| Scenario | req/s |', '| -------- | ----: |', '| a        | 1,234 |', '| longer   |     5 |'].join(
        '\n',
      ),
    );
  });

  it('prints each scenario against the baseline', () => {
    const lines = resultsTable([result('health', 2000), result('read', 500, 1)], 'health').split('\n');
    expect(lines[0]).toMatch(/^\| Scenario \| req\/s \| p50 ms \| p99 ms \| × health \| D1 queries/);
    expect(lines[2]).toMatch(/^\| health\s+\|\s+2,000 \|\s+1\.23 \|\s+45\.7 \|\s+1\.00 \|\s+0 \|/);
    expect(lines[3]).toMatch(/^\| read\s+\|\s+500 \|\s+1\.23 \|\s+45\.7 \|\s+0\.25 \|\s+1 \|/);
  });

  it('passes, fails or skips each budget', () => {
    const atLeastHalf: Budget = {
      title: 'read ≥ 50 % of health',
      needs: ['read', 'health'],
      check: (of) => {
        const share = of('read').requestsPerSecond / of('health').requestsPerSecond;
        return { pass: share >= 0.5, detail: `${share}` };
      },
    };
    const needsLogin: Budget = { ...atLeastHalf, title: 'login', needs: ['login'] };
    const outcomes = evaluateBudgets(
      [atLeastHalf, needsLogin],
      [result('health', 1000), result('read', 400)],
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['FAIL', 'SKIP']);
    expect(outcomes[1]?.detail).toBe('not measured: login');
    expect(budgetLines(outcomes)).toBe(
      'FAIL  read ≥ 50 % of health (0.4)\nSKIP  login (not measured: login)',
    );
    expect(evaluateBudgets([atLeastHalf], [result('health', 1000), result('read', 600)])[0]?.status).toBe(
      'PASS',
    );
  });
});
