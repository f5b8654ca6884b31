import { and, eq } from 'drizzle-orm';
import { events } from '../db/tenant';
import type { Env } from '../env';
import { readConfig } from '../env';
import { createLogger, type LogLevel } from '../platform/logger';
import { backoffSeconds, queueNames, type WebhookQueueMessage } from '../platform/queues';
import { requireActiveTenant, tenantDatabase } from '../platform/tenancy';

type Handlers<M extends { kind: string }> = {
  [K in M['kind']]: (message: Extract<M, { kind: K }>, env: Env) => Promise<void>;
};

/** Marks an outbox event as fanned out; webhook endpoints subscribe to it in the webhooks module. */
async function dispatchEvent(message: WebhookQueueMessage, env: Env): Promise<void> {
  const tenant = await requireActiveTenant(env, message.tenantId);
  await tenantDatabase(env, tenant)
    .update(events)
    .set({ dispatchedAt: new Date().toISOString() })
    .where(and(eq(events.tenantId, tenant.id), eq(events.id, message.eventId)));
}

const webhookHandlers: Handlers<WebhookQueueMessage> = {
  'event.dispatch': dispatchEvent,
};

/**
 * Each message is acknowledged or retried on its own, so one failure does not redeliver the
 * whole batch; a message that keeps failing ends in the queue's dead-letter queue.
 */
async function consume<M extends { kind: string }>(batch: MessageBatch<M>, env: Env, handlers: Handlers<M>) {
  const logger = createLogger(readConfig(env).logLevel as LogLevel, { queue: batch.queue });
  for (const message of batch.messages) {
    const handler = handlers[message.body.kind as M['kind']] as
      | ((body: M, env: Env) => Promise<void>)
      | undefined;
    try {
      if (!handler) throw new Error(`no handler for message kind '${message.body.kind}'`);
      await handler(message.body, env);
      message.ack();
    } catch (error) {
      logger.warn('queue_message_failed', {
        messageId: message.id,
        kind: message.body.kind,
        attempts: message.attempts,
        error: error instanceof Error ? error.message : String(error),
      });
      message.retry({ delaySeconds: backoffSeconds(message.attempts) });
    }
  }
}

/** Dead letters are logged for operators; the owning modules record the failure on their rows. */
function consumeDeadLetters(batch: MessageBatch<unknown>, env: Env) {
  const logger = createLogger(readConfig(env).logLevel as LogLevel, { queue: batch.queue });
  for (const message of batch.messages) {
    logger.error('dead_letter', { messageId: message.id, attempts: message.attempts, body: message.body });
    message.ack();
  }
}

export async function handleQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  switch (batch.queue) {
    case queueNames.webhooks:
      return consume(batch as MessageBatch<WebhookQueueMessage>, env, webhookHandlers);
    case queueNames.webhooksDeadLetter:
    case queueNames.verificationDeadLetter:
      return consumeDeadLetters(batch, env);
    default:
      // verification-jobs has no producer yet; its messages retry into the dead-letter queue.
      for (const message of batch.messages) message.retry();
  }
}
