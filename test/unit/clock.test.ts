import { describe, expect, it } from 'vitest';
import { isoTime } from '../../src/platform/clock';

describe('isoTime', () => {
  it('formats each millisecond as Date does, whether it is the last one formatted or not', () => {
    const start = Date.UTC(2026, 11, 4, 23, 59, 59, 998);
    for (const ms of [start, start, start + 1, start + 2, start, 0, start + 86_400_000]) {
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
  });

  it('is the current time without an argument', () => {
    const before = Date.now();
    const formatted = Date.parse(isoTime());
    expect(formatted).toBeGreaterThanOrEqual(before);
    expect(formatted).toBeLessThanOrEqual(Date.now());
  });
});
