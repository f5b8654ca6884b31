import type { Env } from '../env';
import { readConfig } from '../env';
import { failScan, scanDocument } from '../modules/documents/lifecycle';
import {
  applyProviderEvent,
  deliverSandboxCallback,
  pollVerification,
  startFailedForGood,
  startVerification,
} from '../modules/verifications/jobs';
import type { VerificationQueueMessage } from '../modules/verifications/queue';
import { attemptDelivery, deferFanOut, failDeliveryForGood, fanOutEvent } from '../modules/webhooks/delivery';
import { createLogger, type Logger, type LogLevel } from '../platform/logger';
import {
  backoffSeconds,
  type DocumentQueueMessage,
  queueNames,
  RetryLater,
  type WebhookQueueMessage,
} from '../platform/queues';

interface Delivery {
  /** How many times the queue has delivered this message, this time included (from 1). */
  attempts: number;
  logger: Logger;
}

type Handlers<M extends { kind: string }> = {
  [K in M['kind']]: (message: Extract<M, { kind: K }>, env: Env, delivery: Delivery) => Promise<void>;
};

const webhookHandlers: Handlers<WebhookQueueMessage> = {
  'event.dispatch': (message, env) => fanOutEvent(env, message.tenantId, message.eventId),
  'delivery.attempt': (message, env, { attempts }) => attemptDelivery(env, message, attempts),
};

/** What the dead-letter queue receives once a message's retries have run out. */
const webhookDeadLetterHandlers: Handlers<WebhookQueueMessage> = {
  'event.dispatch': async (message, env, { logger }) => {
    // Its deliveries were never created; `dispatchedAt` stays null, so the sweep hands it over
    // again, in an hour rather than at its next run.
    logger.error('event_fan_out_failed', { tenantId: message.tenantId, eventId: message.eventId });
    await deferFanOut(env, message.tenantId, message.eventId);
  },
  'delivery.attempt': (message, env) => failDeliveryForGood(env, message.tenantId, message.deliveryId),
};

const documentHandlers: Handlers<DocumentQueueMessage> = {
  'document.scan': (message, env) => scanDocument(env, message),
};

const documentDeadLetterHandlers: Handlers<DocumentQueueMessage> = {
  'document.scan': (message, env) => failScan(env, message),
};

const verificationHandlers: Handlers<VerificationQueueMessage> = {
  'verification.start': (message, env, { attempts }) => startVerification(env, message, attempts),
  'verification.poll': (message, env) => pollVerification(env, message),
  'verification.provider_event': (message, env) => applyProviderEvent(env, message),
  'verification.sandbox_callback': (message, env, { logger }) => deliverSandboxCallback(env, message, logger),
};

const verificationDeadLetterHandlers: Handlers<VerificationQueueMessage> = {
  // A provider that kept failing: a reviewer takes over, told why.
  'verification.start': (message, env, { attempts }) => startFailedForGood(env, message, attempts),
  'verification.poll': async (message, _env, { logger }) => {
    // The cron polls it again at its next poll time, or hands it to a reviewer.
    logger.warn('verification_poll_failed', {
      tenantId: message.tenantId,
      verificationId: message.verificationId,
    });
  },
  'verification.provider_event': async (message, _env, { logger }) => {
    // The row stays RECEIVED, so the cron hands it to the queue again.
    logger.error('provider_event_apply_failed', {
      tenantId: message.tenantId,
      providerEventId: message.providerEventId,
    });
  },
  'verification.sandbox_callback': async (message, _env, { logger }) => {
    // The verification stays IN_PROGRESS; the cron's poll of stuck verifications picks it up.
    logger.error('sandbox_callback_failed', {
      tenantId: message.tenantId,
      verificationId: message.verificationId,
    });
  },
};

/**
 * Each message is acknowledged or retried on its own, so one failure does not redeliver the
 * whole batch; a message that keeps failing ends in the queue's dead-letter queue.
 */
async function consume<M extends { kind: string }>(batch: MessageBatch<M>, env: Env, handlers: Handlers<M>) {
  const logger = createLogger(readConfig(env).logLevel as LogLevel, { queue: batch.queue });
  for (const message of batch.messages) {
    const handler = handlers[message.body.kind as M['kind']] as
      | ((body: M, env: Env, delivery: Delivery) => Promise<void>)
      | undefined;
    try {
      if (!handler) throw new Error(`no handler for message kind '${message.body.kind}'`);
      await handler(message.body, env, { attempts: message.attempts, logger });
      message.ack();
    } catch (error) {
      const fields = {
        messageId: message.id,
        kind: message.body.kind,
        attempts: message.attempts,
        error: error instanceof Error ? error.message : String(error),
      };
      if (error instanceof RetryLater) {
        // An expected failure (a receiver that is down) that picked its own delay.
        logger.info('queue_message_retry', { ...fields, delaySeconds: error.delaySeconds });
        message.retry({ delaySeconds: error.delaySeconds });
      } else {
        logger.warn('queue_message_failed', fields);
        message.retry({ delaySeconds: backoffSeconds(message.attempts) });
      }
    }
  }
}

export async function handleQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  switch (batch.queue) {
    case queueNames.webhooks:
      return consume(batch as MessageBatch<WebhookQueueMessage>, env, webhookHandlers);
    case queueNames.webhooksDeadLetter:
      return consume(batch as MessageBatch<WebhookQueueMessage>, env, webhookDeadLetterHandlers);
    case queueNames.documents:
      return consume(batch as MessageBatch<DocumentQueueMessage>, env, documentHandlers);
    case queueNames.documentsDeadLetter:
      return consume(batch as MessageBatch<DocumentQueueMessage>, env, documentDeadLetterHandlers);
    case queueNames.verification:
      return consume(batch as MessageBatch<VerificationQueueMessage>, env, verificationHandlers);
    case queueNames.verificationDeadLetter:
      return consume(batch as MessageBatch<VerificationQueueMessage>, env, verificationDeadLetterHandlers);
    default: {
      const logger = createLogger(readConfig(env).logLevel as LogLevel, { queue: batch.queue });
      for (const message of batch.messages) {
        logger.error('unknown_queue', { messageId: message.id });
        message.ack();
      }
    }
  }
}
