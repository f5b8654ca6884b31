/**
 * When the cron asks a provider for the outcome of a verification stuck IN_PROGRESS (its
 * callback late or lost), and when it gives up: a pure rule (test/unit/verification-polling.test.ts).
 * The first poll comes once the provider's deadline has passed, the next ones back off
 * exponentially, and after `maxPolls` unanswered polls a reviewer takes over (MANUAL_REVIEW,
 * reason `provider_timeout`).
 */
export interface PollPolicy {
  /** How long a provider has to call back before the first poll. */
  deadlineMs: number;
  /** The wait after the first unanswered poll; each further one doubles it, up to `maxIntervalMs`. */
  intervalMs: number;
  maxIntervalMs: number;
  maxPolls: number;
}

const MINUTE_MS = 60_000;

/** Polls 10, 20, 40, 80 and 160 minutes after the start; at 320 minutes without an outcome, a reviewer. */
export const defaultPollPolicy: PollPolicy = {
  deadlineMs: 10 * MINUTE_MS,
  intervalMs: 10 * MINUTE_MS,
  maxIntervalMs: 6 * 60 * MINUTE_MS,
  maxPolls: 5,
};

export type PollDecision = { action: 'POLL'; nextPollAt: string } | { action: 'GIVE_UP' };

/** The first poll of an attempt the provider started at `startedAt`. */
export function firstPollAt(startedAt: Date, policy: PollPolicy = defaultPollPolicy): string {
  return new Date(startedAt.getTime() + policy.deadlineMs).toISOString();
}

/** What the cron does with a verification due for a poll, which has had `pollsMade` polls so far. */
export function pollDecision(
  pollsMade: number,
  now: Date,
  policy: PollPolicy = defaultPollPolicy,
): PollDecision {
  if (pollsMade >= policy.maxPolls) return { action: 'GIVE_UP' };
  const wait = Math.min(policy.maxIntervalMs, policy.intervalMs * 2 ** pollsMade);
  return { action: 'POLL', nextPollAt: new Date(now.getTime() + wait).toISOString() };
}
