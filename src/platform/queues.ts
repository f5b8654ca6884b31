import type { BatchItem } from 'drizzle-orm/batch';
import type { TenantDb } from '../db/client';
import type { Env } from '../env';
/** Typed bodies of every queue message; consumers dispatch on `kind`. */
export type WebhookQueueMessage =
  /** Fan an outbox event out into one delivery per subscribed endpoint. */
  | { kind: 'event.dispatch'; tenantId: string; eventId: string }
  /** Post one delivery to its endpoint. */
  | { kind: 'delivery.attempt'; tenantId: string; deliveryId: string };

/** Work on an uploaded document, after the upload answered. */
export type DocumentQueueMessage = { kind: 'document.scan'; tenantId: string; documentId: string };

export const queueNames = {
  documents: 'document-jobs',
  documentsDeadLetter: 'document-jobs-dlq',
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

/**
 * Thrown by a handler whose work failed in an expected way (a webhook receiver answering 500)
 * and that chooses when to be tried again; any other error is retried with `backoffSeconds`.
 */
export class RetryLater extends Error {
  constructor(
    readonly delaySeconds: number,
    message: string,
  ) {
    super(message);
    this.name = 'RetryLater';
  }
}

/** A queue's `sendBatch` takes at most this many messages. */
const QUEUE_SEND_BATCH_MAX = 100;

/** Sends messages to the webhook queue, in batches it accepts. */
export async function sendToWebhookQueue(env: Env, messages: WebhookQueueMessage[]): Promise<void> {
  for (let start = 0; start < messages.length; start += QUEUE_SEND_BATCH_MAX) {
    await env.WEBHOOK_QUEUE.sendBatch(
      messages.slice(start, start + QUEUE_SEND_BATCH_MAX).map((body) => ({ body })),
    );
  }
}

/**
 * Sends messages to the webhook queue, then records that their rows were handed over. A failure
 * between the two leaves the rows unmarked, so the cron sweep sends them again: at least once.
 */
export async function handToWebhookQueue(
  env: Env,
  db: TenantDb,
  messages: WebhookQueueMessage[],
  markEnqueued: (at: string) => readonly BatchItem<'sqlite'>[],
): Promise<void> {
  await sendToWebhookQueue(env, messages);
  const [first, ...rest] = markEnqueued(new Date().toISOString());
  if (first) await db.batch([first, ...rest]);
}
