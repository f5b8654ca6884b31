import { describe, expect, it } from 'vitest';
import { RETRY_SCHEDULE_SECONDS, retryDelaySeconds } from '../../src/modules/webhooks/delivery';

const DAY = 24 * 60 * 60;
const QUEUE_MAX_DELAY = 12 * 60 * 60;

function totalDelay(random: () => number): number {
  return RETRY_SCHEDULE_SECONDS.reduce((sum, _, index) => sum + retryDelaySeconds(index + 1, random), 0);
}

describe('webhook retry schedule', () => {
  it('grows exponentially: 1 min, 5 min, 30 min, 2 h, 6 h, then the 12 h a queue retry allows', () => {
    const nominal = RETRY_SCHEDULE_SECONDS.map((_, index) => retryDelaySeconds(index + 1, () => 0.5));
    expect(nominal).toEqual([60, 300, 1800, 7200, 21_600, 43_200, 43_200]);
  });

  it('spans at least 24 h even when every jitter draw is the shortest', () => {
    expect(totalDelay(() => 0)).toBeGreaterThanOrEqual(DAY);
    expect(totalDelay(() => 0.5)).toBeGreaterThanOrEqual(DAY);
  });

  it('jitters each delay by ±20 % without passing the queue’s 12 h limit', () => {
    for (const [index, base] of RETRY_SCHEDULE_SECONDS.entries()) {
      const attempt = index + 1;
      expect(retryDelaySeconds(attempt, () => 0)).toBe(Math.round(base * 0.8));
      expect(retryDelaySeconds(attempt, () => 1)).toBe(Math.min(QUEUE_MAX_DELAY, Math.round(base * 1.2)));
    }
    for (let attempt = 1; attempt <= 20; attempt++) {
      expect(retryDelaySeconds(attempt)).toBeLessThanOrEqual(QUEUE_MAX_DELAY);
    }
  });
});
