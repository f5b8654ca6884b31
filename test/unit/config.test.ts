import { describe, expect, it } from 'vitest';
import { type Env, readConfig, UNMARKED_REMEMBERED_MAX_MS } from '../../src/env';

const base = { ENVIRONMENT: 'production' } as unknown as Env;

describe('configuration', () => {
  it('trusts a missing revocation mark for 30 s unless told less, and never longer', () => {
    expect(readConfig({ ...base }).unmarkedRememberedMs).toBe(UNMARKED_REMEMBERED_MAX_MS);
    expect(readConfig({ ...base, UNMARKED_REMEMBERED_MS: '1000' }).unmarkedRememberedMs).toBe(1000);
    expect(readConfig({ ...base, UNMARKED_REMEMBERED_MS: '0' }).unmarkedRememberedMs).toBe(0);
    // More would break the 60 s revocation bound: the first request fails loudly instead.
    expect(() => readConfig({ ...base, UNMARKED_REMEMBERED_MS: '30001' })).toThrow();
    expect(() => readConfig({ ...base, UNMARKED_REMEMBERED_MS: 'soon' })).toThrow();
  });
});
