import { z } from '@hono/zod-openapi';
import { and, asc, eq, inArray, isNull, lt } from 'drizzle-orm';
import type { TenantDb } from '../db/client';
import { events } from '../db/tenant';
import type { Env } from '../env';
import { newId } from './ids';
import type { WebhookQueueMessage } from './queues';

export const sessionRevocationReasons = [
  'LOGOUT',
  'LOGOUT_ALL',
  'REVOKED_BY_USER',
  'REFRESH_TOKEN_REUSED',
  'USER_DISABLED',
  'PASSWORD_CHANGED',
  'PASSWORD_RESET',
  'CREDENTIALS_RESET',
] as const;
export type SessionRevocationReason = (typeof sessionRevocationReasons)[number];

/**
 * The event catalogue: every event type with the schema of its `data`. Event data is thin
 * (ids, statuses, changed field names) so a receiver fetches the current state through the API.
 * Each entry is published as an OpenAPI `webhooks` entry (src/modules/webhooks/routes.ts) and
 * can be subscribed to, so its fields follow the house rules: descriptions, examples, bounds.
 */
export const eventCatalogue = {
  'customer.created': z.object({
    customerId: z
      .string()
      .max(40)
      .openapi({ description: 'The new customer.', example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    type: z
      .enum(['INDIVIDUAL', 'BUSINESS'])
      .openapi({ description: 'Customer type.', example: 'INDIVIDUAL' }),
    status: z
      .string()
      .max(64)
      .openapi({ description: 'Initial status.', example: 'PENDING_EMAIL_VERIFICATION' }),
  }),
  'session.revoked': z.object({
    sessionId: z
      .string()
      .max(40)
      .openapi({ description: 'The revoked session.', example: 'ses_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    userId: z
      .string()
      .max(40)
      .openapi({ description: 'Its user.', example: 'usr_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    reason: z
      .enum(sessionRevocationReasons)
      .openapi({ description: 'Why it was revoked.', example: 'LOGOUT' }),
  }),
  'user.locked': z.object({
    userId: z
      .string()
      .max(40)
      .openapi({ description: 'The locked user.', example: 'usr_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    lockedUntil: z
      .string()
      .max(30)
      .openapi({ description: 'When logins are accepted again.', example: '2026-11-25T10:15:00.000Z' }),
  }),
  'webhook.test': z.object({
    endpointId: z
      .string()
      .max(40)
      .openapi({ description: 'The endpoint being tested.', example: 'whe_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
  }),
  'webhook_endpoint.disabled': z.object({
    endpointId: z
      .string()
      .max(40)
      .openapi({ description: 'The disabled endpoint.', example: 'whe_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    reason: z.enum(['MANUAL', 'FAILING']).openapi({
      description: 'Disabled by hand, or after its deliveries failed for 5 days in a row.',
      example: 'FAILING',
    }),
  }),
} as const;

export type EventType = keyof typeof eventCatalogue;
export type EventData<T extends EventType> = z.infer<(typeof eventCatalogue)[T]>;

export interface OutboxEvent {
  id: string;
  statement: ReturnType<typeof insertEvent>;
}

function insertEvent(db: TenantDb, row: typeof events.$inferInsert) {
  return db.insert(events).values(row);
}

/**
 * Builds the outbox row for an event, validated against the catalogue; commit it with the change.
 * An event its writer delivers itself to one endpoint (`webhook.test`) is `addressed`: it is
 * recorded as already fanned out, so neither the queue nor the sweep sends it to subscribers.
 */
export function outboxEvent<T extends EventType>(
  db: TenantDb,
  tenantId: string,
  type: T,
  data: EventData<T>,
  now: Date,
  options: { addressed?: boolean } = {},
): OutboxEvent {
  const parsed = eventCatalogue[type].parse(data);
  const id = newId('event', now.getTime());
  const createdAt = now.toISOString();
  const fannedOut = options.addressed ? { enqueuedAt: createdAt, dispatchedAt: createdAt } : {};
  return {
    id,
    statement: insertEvent(db, { id, tenantId, type, data: parsed, createdAt, ...fannedOut }),
  };
}

/** Hands events to the webhook queue and marks them enqueued; anything left over is swept by the cron. */
export async function enqueueEvents(
  env: Env,
  db: TenantDb,
  tenantId: string,
  eventIds: string[],
): Promise<void> {
  if (eventIds.length === 0) return;
  const messages: { body: WebhookQueueMessage }[] = eventIds.map((eventId) => ({
    body: { kind: 'event.dispatch', tenantId, eventId },
  }));
  await env.WEBHOOK_QUEUE.sendBatch(messages);
  await db
    .update(events)
    .set({ enqueuedAt: new Date().toISOString() })
    .where(and(eq(events.tenantId, tenantId), inArray(events.id, eventIds)));
}

/** Rows older than this that are still not enqueued were missed by the request path. */
export const SWEEP_GRACE_MS = 30_000;
const SWEEP_BATCH = 100;

export async function sweepUnenqueuedEvents(
  env: Env,
  db: TenantDb,
  tenantId: string,
  now: Date,
): Promise<number> {
  const cutoff = new Date(now.getTime() - SWEEP_GRACE_MS).toISOString();
  const pending = await db
    .select({ id: events.id })
    .from(events)
    .where(and(eq(events.tenantId, tenantId), isNull(events.enqueuedAt), lt(events.createdAt, cutoff)))
    .orderBy(asc(events.createdAt))
    .limit(SWEEP_BATCH);
  await enqueueEvents(
    env,
    db,
    tenantId,
    pending.map((row) => row.id),
  );
  return pending.length;
}
