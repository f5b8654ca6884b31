/** Typed bodies of every queue message; consumers dispatch on `kind`. */
export type WebhookQueueMessage = { kind: 'event.dispatch'; tenantId: string; eventId: string };

export const queueNames = {
  verification: 'verification-jobs',
  verificationDeadLetter: 'verification-jobs-dlq',
  webhooks: 'webhook-deliveries',
  webhooksDeadLetter: 'webhook-deliveries-dlq',
} as const;

/** Exponential backoff with full jitter, capped at the 12 h a queue retry may be delayed. */
export function backoffSeconds(attempt: number, baseSeconds = 30, capSeconds = 43_200): number {
  const ceiling = Math.min(capSeconds, baseSeconds * 2 ** Math.max(0, attempt - 1));
  return Math.max(baseSeconds, Math.round(ceiling / 2 + (Math.random() * ceiling) / 2));
}
