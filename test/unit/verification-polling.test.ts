import { describe, expect, it } from 'vitest';
import { defaultPollPolicy, firstPollAt, pollDecision } from '../../src/modules/verifications/polling';

const start = new Date('2026-12-01T10:00:00.000Z');
const minutes = (date: string) => (new Date(date).getTime() - start.getTime()) / 60_000;

describe('polling verifications stuck IN_PROGRESS', () => {
  it('polls at 10, 20, 40, 80 and 160 minutes, then gives up at 320', () => {
    const visits: number[] = [];
    let due = firstPollAt(start);
    for (let polls = 0; ; polls++) {
      visits.push(minutes(due));
      const decision = pollDecision(polls, new Date(due));
      if (decision.action === 'GIVE_UP') break;
      due = decision.nextPollAt;
    }
    expect(visits).toEqual([10, 20, 40, 80, 160, 320]);
  });

  it('waits from the time the cron actually ran, not from when the poll was due', () => {
    const late = new Date(start.getTime() + 3 * 60_000);
    expect(pollDecision(0, late)).toEqual({ action: 'POLL', nextPollAt: '2026-12-01T10:13:00.000Z' });
  });

  it('caps the wait and gives up at the policy’s number of polls', () => {
    const policy = { ...defaultPollPolicy, intervalMs: 60 * 60_000, maxIntervalMs: 90 * 60_000, maxPolls: 3 };
    expect(pollDecision(2, start, policy)).toEqual({
      action: 'POLL',
      nextPollAt: '2026-12-01T11:30:00.000Z',
    });
    expect(pollDecision(3, start, policy)).toEqual({ action: 'GIVE_UP' });
    expect(pollDecision(0, start, { ...policy, maxPolls: 0 })).toEqual({ action: 'GIVE_UP' });
  });
});
