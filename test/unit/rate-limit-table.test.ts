import { describe, expect, it } from 'vitest';
import {
  RATE_LIMITS_END,
  RATE_LIMITS_START,
  renderRateLimitTable,
  withRateLimitTable,
} from '../../scripts/lib/rate-limit-table';
import type { RateLimitPolicy } from '../../src/platform/rate-limit/policies';

const policies: Record<string, RateLimitPolicy> = {
  tenant: { per: 'tenant+principal', capacity: 'tenant tier', windowSeconds: 60, kind: 'quota' },
  login: { per: 'tenant+ip', capacity: 20, windowSeconds: 60, kind: 'guessing' },
};
const tenantOnly = { cost: 1, buckets: [{ policy: 'tenant' }] };
const document = {
  paths: {
    '/v2/customer/widgets': { get: { operationId: 'listWidgets', 'x-rate-limit': tenantOnly } },
    '/v2/customer/widgets/{id}/export': {
      get: { operationId: 'exportWidget', 'x-rate-limit': { ...tenantOnly, cost: 10 } },
    },
    '/v2/customer/sign-in': {
      post: {
        operationId: 'signIn',
        'x-rate-limit': { cost: 1, buckets: [{ policy: 'tenant' }, { policy: 'login' }] },
      },
    },
  },
};
const table = renderRateLimitTable({
  document,
  basePath: '/v2/customer',
  policies,
  tierQuotas: { STARTER: 100, ENTERPRISE: 2000 },
});

/** The rows without the padding that aligns the columns. */
const rows = table.replace(/ {2,}/g, ' ');

describe('the rate-limit table of docs/api.md', () => {
  it('shows each policy with its scope, tokens, window and the operations that take from it', () => {
    expect(rows).toContain(
      '| `tenant` | tenant + principal (IP when anonymous) | STARTER 100, ENTERPRISE 2000 (the operator may set another) | 60 s | quota | every operation |',
    );
    expect(rows).toContain('| `login` | tenant + IP | 20 | 60 s | guessing | `signIn` |');
  });

  it('names every route that costs more than one token, below the base path', () => {
    expect(table).toContain('unless its route costs more: `GET /widgets/{id}/export` costs 10.');
  });

  it('replaces only what is between the markers, and refuses a page without them', () => {
    const page = `intro\n${RATE_LIMITS_START}\nold table\n${RATE_LIMITS_END}\noutro\n`;
    expect(withRateLimitTable(page, table)).toBe(`intro\n${table}\noutro\n`);
    expect(() => withRateLimitTable('no markers', table)).toThrow(/markers/);
  });
});
