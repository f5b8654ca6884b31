import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { type TenantDb, withinParameterLimit } from '../../db/client';
import { sealPurposes } from '../../db/customer-data';
import { events, webhookAttempts, webhookDeliveries, webhookEndpoints } from '../../db/tenant';
import { type Env, readConfig } from '../../env';
import { systemContext } from '../../platform/context';
import {
  carriesSecret,
  deferDeadLetteredEvent,
  isMessageToErasedCustomer,
  openEvents,
  secretEventTypes,
  sweepUnenqueued,
} from '../../platform/events';
import { decryptField, type FieldContext } from '../../platform/field-encryption';
import { newId } from '../../platform/ids';
import { handToWebhookQueue, RetryLater } from '../../platform/queues';
import { requireActiveTenant, tenantDatabase } from '../../platform/tenancy';
import { commit, event } from '../../platform/unit-of-work';
import { ALL_EVENTS } from './schemas';
import { webhookUrlRefusal } from './url-policy';

type EndpointRow = typeof webhookEndpoints.$inferSelect;
type EventRow = typeof events.$inferSelect;

export const DELIVERY_TIMEOUT_MS = 10_000;
/** Receivers' answers are kept for diagnosis, not as data: the first KiB is enough. */
const RESPONSE_BODY_LIMIT_BYTES = 1024;
/** An endpoint whose deliveries have all failed for this long is disabled. */
const FAILING_ENDPOINT_LIMIT_MS = 5 * 24 * 60 * 60 * 1000;

/**
 * Delay before each retry of a failed attempt: 1 min, 5 min, 30 min, 2 h, 6 h, 12 h, 12 h, each
 * ±20 % jitter so receivers coming back up are not hit by every sender at once. A queue retry
 * can be delayed 12 h at most (Cloudflare Queues' `delaySeconds` limit), so the last steps sit
 * at that cap and jitter only shortens them; even at the shortest draw the retries span 26 h,
 * and at the nominal values 32.6 h. The `webhook-deliveries` consumer's `max_retries` in
 * wrangler.toml equals the length of this list: after the last retry the message goes to the
 * dead-letter queue, whose consumer marks the delivery FAILED.
 */
export const RETRY_SCHEDULE_SECONDS = [60, 300, 1800, 7200, 21_600, 43_200, 43_200] as const;
const MAX_QUEUE_DELAY_SECONDS = 43_200;
const JITTER = 0.2;

/** Delay before the retry that follows attempt number `attempt` (1-based, as `message.attempts`). */
export function retryDelaySeconds(attempt: number, random: () => number = Math.random): number {
  const index = Math.min(Math.max(attempt, 1), RETRY_SCHEDULE_SECONDS.length) - 1;
  const base = RETRY_SCHEDULE_SECONDS[index] ?? MAX_QUEUE_DELAY_SECONDS;
  const jittered = base * (1 - JITTER + 2 * JITTER * random());
  return Math.min(MAX_QUEUE_DELAY_SECONDS, Math.round(jittered));
}

/** The JSON body every receiver gets; the same bytes are signed. */
function deliveryPayload(row: EventRow): string {
  return JSON.stringify({
    id: row.id,
    type: row.type,
    createdAt: row.createdAt,
    tenantId: row.tenantId,
    data: row.data,
  });
}

/**
 * Standard Webhooks headers. Signing goes through `standardwebhooks`, the specification's own
 * reference library, rather than hand-rolled HMAC code: the guide prefers a well-kept library
 * for a standard format, and receivers verify with the same one. During a rotation every live
 * secret signs, and the signatures are space-separated as the specification allows.
 */
function signedHeaders(
  secrets: readonly string[],
  messageId: string,
  timestamp: Date,
  payload: string,
): Record<string, string> {
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': secrets
      .map((secret) => new Webhook(secret).sign(messageId, timestamp, payload))
      .join(' '),
  };
}

export function secretContext(env: Env, tenantId: string, endpointId: string): FieldContext {
  return {
    rootKey: env.FIELD_ENCRYPTION_KEY,
    tenantId,
    purpose: sealPurposes.webhookSecret,
    recordId: endpointId,
  };
}

/** The current secret, and the previous one while its 24 h of overlap after a rotation last. */
async function signingSecrets(env: Env, endpoint: EndpointRow, now: Date): Promise<string[]> {
  const context = secretContext(env, endpoint.tenantId, endpoint.id);
  const secrets = [await decryptField(context, endpoint.secret)];
  if (
    endpoint.previousSecret &&
    endpoint.previousSecretExpiresAt &&
    endpoint.previousSecretExpiresAt > now.toISOString()
  ) {
    secrets.push(await decryptField(context, endpoint.previousSecret));
  }
  return secrets;
}

async function readPrefix(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    // The rest of a large body is never downloaded.
    await reader.cancel().catch(() => undefined);
  }
  const bytes = new Uint8Array(Math.min(size, limit));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, bytes.length - offset);
    bytes.set(part, offset);
    offset += part.length;
  }
  return new TextDecoder().decode(bytes);
}

interface AttemptOutcome {
  ok: boolean;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  responseBody: string | null;
}

function describeFailure(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') {
    return `no response within ${DELIVERY_TIMEOUT_MS / 1000} s`;
  }
  return (error instanceof Error ? error.message : String(error)).slice(0, 500);
}

/**
 * One POST: redirects are not followed (a 3xx could lead anywhere, past the URL check) and
 * count as failures, like any answer outside 2xx or no answer within 10 s.
 */
async function post(url: string, headers: Record<string, string>, payload: string): Promise<AttemptOutcome> {
  const started = Date.now();
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json', 'User-Agent': 'FinCore-Webhooks/1' },
      body: payload,
      redirect: 'manual',
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    const responseBody = await readPrefix(response, RESPONSE_BODY_LIMIT_BYTES);
    const latencyMs = Date.now() - started;
    const ok = response.status >= 200 && response.status < 300;
    const redirect = response.status >= 300 && response.status < 400;
    return {
      ok,
      statusCode: response.status,
      latencyMs,
      error: ok
        ? null
        : redirect
          ? `HTTP ${response.status}: redirects are not followed`
          : `HTTP ${response.status}`,
      responseBody,
    };
  } catch (error) {
    return {
      ok: false,
      statusCode: null,
      latencyMs: Date.now() - started,
      error: describeFailure(error),
      responseBody: null,
    };
  }
}

/** Never to be sent: the endpoint's URL is newer than the secret-bearing event. */
function voidedForNewUrl(now: string) {
  return {
    status: 'VOIDED' as const,
    voidReason: 'ENDPOINT_URL_CHANGED' as const,
    voidedAt: now,
    nextAttemptAt: null,
    updatedAt: now,
  };
}

/**
 * A secret reaches an endpoint only at the URL it had when the event was created: the tenant
 * subscribed that receiver to it. One set up or moved since (by whoever could) gets none.
 */
function mayReceiveSecretOf(endpoint: EndpointRow, row: EventRow): boolean {
  return (endpoint.urlChangedAt ?? endpoint.createdAt) <= row.createdAt;
}

/**
 * For the batch that changes an endpoint's URL: its secret-bearing deliveries not made yet are
 * voided, so no queued retry carries their secret to the new URL.
 */
export function voidUndeliveredSecrets(db: TenantDb, tenantId: string, endpointId: string, now: string) {
  return db
    .update(webhookDeliveries)
    .set(voidedForNewUrl(now))
    .where(
      and(
        eq(webhookDeliveries.tenantId, tenantId),
        eq(webhookDeliveries.endpointId, endpointId),
        inArray(webhookDeliveries.eventType, secretEventTypes),
        inArray(webhookDeliveries.status, ['PENDING', 'RETRYING', 'FAILED']),
      ),
    );
}

/** Hands deliveries to the queue and marks them enqueued; PENDING ones left over are swept by the cron. */
export async function enqueueDeliveries(
  env: Env,
  db: TenantDb,
  tenantId: string,
  deliveryIds: string[],
): Promise<void> {
  await handToWebhookQueue(
    env,
    db,
    deliveryIds.map((deliveryId) => ({ kind: 'delivery.attempt', tenantId, deliveryId })),
    (enqueuedAt) =>
      withinParameterLimit(deliveryIds, (ids) =>
        db
          .update(webhookDeliveries)
          .set({ enqueuedAt })
          .where(and(eq(webhookDeliveries.tenantId, tenantId), inArray(webhookDeliveries.id, ids))),
      ),
  );
}

export function subscribes(endpoint: Pick<EndpointRow, 'events'>, type: string): boolean {
  return endpoint.events.includes(ALL_EVENTS) || endpoint.events.includes(type);
}

/**
 * `event.dispatch`: one delivery per enabled endpoint subscribed to the event. A repeated message
 * is harmless, even at the same time: the unique index on (event, endpoint) keeps one delivery
 * each, and only the batch that set `dispatchedAt` pushes them. Deliveries it created but could
 * not push stay PENDING without `enqueuedAt`, for the sweep to push.
 */
export async function fanOutEvent(env: Env, tenantId: string, eventId: string): Promise<void> {
  const tenant = await requireActiveTenant(env, tenantId);
  const db = tenantDatabase(env, tenant);
  const row = await db
    .select()
    .from(events)
    .where(and(eq(events.tenantId, tenant.id), eq(events.id, eventId)))
    .get();
  if (!row || row.dispatchedAt) return;
  const endpoints = await db
    .select({ id: webhookEndpoints.id, events: webhookEndpoints.events })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.tenantId, tenant.id), eq(webhookEndpoints.enabled, true)));
  const now = new Date();
  const iso = now.toISOString();
  const inserts = endpoints
    .filter((endpoint) => subscribes(endpoint, row.type))
    .map((endpoint) =>
      db
        .insert(webhookDeliveries)
        .values({
          id: newId('delivery', now.getTime()),
          tenantId: tenant.id,
          endpointId: endpoint.id,
          eventId: row.id,
          eventType: row.type,
          status: 'PENDING',
          createdAt: iso,
          updatedAt: iso,
        })
        .onConflictDoNothing(),
    );
  const [claimed] = await db.batch([
    db
      .update(events)
      .set({ dispatchedAt: iso })
      .where(and(eq(events.tenantId, tenant.id), eq(events.id, row.id), isNull(events.dispatchedAt)))
      .returning({ id: events.id }),
    ...inserts,
  ]);
  // A copy of the message fanned it out first (the sweep sends again what waits in a backlog):
  // that one pushes the deliveries, so no delivery is attempted twice at once.
  if (claimed.length === 0) return;
  const pending = await db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.tenantId, tenant.id),
        eq(webhookDeliveries.eventId, row.id),
        eq(webhookDeliveries.status, 'PENDING'),
        isNull(webhookDeliveries.enqueuedAt),
      ),
    );
  await enqueueDeliveries(
    env,
    db,
    tenant.id,
    pending.map((delivery) => delivery.id),
  );
}

/**
 * `delivery.attempt`: signs and posts the event, records the attempt, and on failure asks the
 * queue to retry on the schedule above. A message for a delivery that is already settled (a
 * duplicate, or one whose endpoint was deleted) is dropped.
 */
export async function attemptDelivery(
  env: Env,
  message: { tenantId: string; deliveryId: string },
  attempt: number,
): Promise<void> {
  const tenant = await requireActiveTenant(env, message.tenantId);
  const db = tenantDatabase(env, tenant);
  const found = await db
    .select({ delivery: webhookDeliveries, endpoint: webhookEndpoints, event: events })
    .from(webhookDeliveries)
    .innerJoin(
      webhookEndpoints,
      and(
        eq(webhookEndpoints.tenantId, webhookDeliveries.tenantId),
        eq(webhookEndpoints.id, webhookDeliveries.endpointId),
      ),
    )
    .innerJoin(
      events,
      and(eq(events.tenantId, webhookDeliveries.tenantId), eq(events.id, webhookDeliveries.eventId)),
    )
    .where(and(eq(webhookDeliveries.tenantId, tenant.id), eq(webhookDeliveries.id, message.deliveryId)))
    .get();
  if (!found) return;
  const { delivery, endpoint, event: row } = found;
  if (delivery.status !== 'PENDING' && delivery.status !== 'RETRYING') return;

  const ctx = systemContext(env, tenant, db);
  const now = ctx.now.toISOString();
  const thisDelivery = and(eq(webhookDeliveries.tenantId, tenant.id), eq(webhookDeliveries.id, delivery.id));
  const thisEndpoint = and(eq(webhookEndpoints.tenantId, tenant.id), eq(webhookEndpoints.id, endpoint.id));

  // The URL change voids what was queued in its own batch; this catches a fan-out that read the
  // endpoints before the change and created its delivery after.
  if (carriesSecret(row.type) && !mayReceiveSecretOf(endpoint, row)) {
    await db.update(webhookDeliveries).set(voidedForNewUrl(now)).where(thisDelivery);
    return;
  }

  const [opened = row] = await openEvents(db, env.FIELD_ENCRYPTION_KEY, tenant.id, [row]);
  const notDelivered = !endpoint.enabled
    ? // A disabled endpoint receives nothing; the delivery can be retried by hand once it is enabled.
      'the endpoint is disabled'
    : isMessageToErasedCustomer(opened)
      ? // Its recipient was erased: there is nobody left to send the message to, nor a right to.
        'the customer the message was for was erased'
      : null;
  if (notDelivered) {
    await db
      .update(webhookDeliveries)
      .set({ status: 'FAILED', lastError: notDelivered, failedAt: now, nextAttemptAt: null, updatedAt: now })
      .where(thisDelivery);
    return;
  }

  const refusal = webhookUrlRefusal(endpoint.url, readConfig(env).environment);
  const payload = deliveryPayload(opened);
  const outcome: AttemptOutcome = refusal
    ? { ok: false, statusCode: null, latencyMs: 0, error: `URL refused: ${refusal}`, responseBody: null }
    : await post(
        endpoint.url,
        signedHeaders(await signingSecrets(env, endpoint, ctx.now), row.id, ctx.now, payload),
        payload,
      );

  const recordAttempt = db.insert(webhookAttempts).values({
    id: newId('deliveryAttempt', ctx.now.getTime()),
    tenantId: tenant.id,
    deliveryId: delivery.id,
    attemptedAt: now,
    statusCode: outcome.statusCode,
    latencyMs: outcome.latencyMs,
    error: outcome.error,
    // A receiver may echo what it was sent, and the attempt log is read by anyone managing webhooks.
    responseBody: carriesSecret(row.type) ? null : outcome.responseBody,
  });
  const counted = {
    attemptCount: sql`${webhookDeliveries.attemptCount} + 1`,
    lastAttemptAt: now,
    updatedAt: now,
  };

  if (outcome.ok) {
    await db.batch([
      recordAttempt,
      db
        .update(webhookDeliveries)
        .set({
          ...counted,
          status: 'DELIVERED',
          deliveredAt: now,
          lastStatusCode: outcome.statusCode,
          lastError: null,
          nextAttemptAt: null,
        })
        .where(thisDelivery),
      db.update(webhookEndpoints).set({ failingSince: null }).where(thisEndpoint),
    ]);
    return;
  }

  // Failed: recorded with the endpoint's run of failures, which after 5 days disables it.

  const delaySeconds = retryDelaySeconds(attempt);
  const lastAttempt = attempt > RETRY_SCHEDULE_SECONDS.length;
  const failingSince = endpoint.failingSince ?? now;
  const disable = ctx.now.getTime() - Date.parse(failingSince) >= FAILING_ENDPOINT_LIMIT_MS;
  await commit(ctx, {
    statements: [
      recordAttempt,
      db
        .update(webhookDeliveries)
        .set({
          ...counted,
          status: 'RETRYING',
          lastStatusCode: outcome.statusCode,
          lastError: outcome.error,
          nextAttemptAt: lastAttempt ? null : new Date(ctx.now.getTime() + delaySeconds * 1000).toISOString(),
        })
        .where(thisDelivery),
      db
        .update(webhookEndpoints)
        .set(
          disable
            ? { failingSince, enabled: false, disabledReason: 'FAILING', updatedAt: now }
            : { failingSince: sql`coalesce(${webhookEndpoints.failingSince}, ${now})` },
        )
        .where(thisEndpoint),
    ],
    audit: disable
      ? [
          {
            action: 'webhook_endpoint.disabled',
            targetType: 'webhook_endpoint',
            targetId: endpoint.id,
            data: { reason: 'FAILING', failingSince },
          },
        ]
      : [],
    events: disable
      ? [event('webhook_endpoint.disabled', { endpointId: endpoint.id, reason: 'FAILING' })]
      : [],
  });
  await ctx.settle();
  throw new RetryLater(delaySeconds, `delivery ${delivery.id} failed: ${outcome.error}`);
}

/**
 * The dead-letter consumer's part: a delivery whose retries ran out is FAILED for good. Nothing
 * is sent any more; `POST /webhooks/deliveries/{deliveryId}/retry` starts it over by hand.
 */
/** The dead-letter queue's `event.dispatch`: its fan-out is tried again by the sweep in an hour. */
export async function deferFanOut(env: Env, tenantId: string, eventId: string): Promise<void> {
  const tenant = await requireActiveTenant(env, tenantId);
  await deferDeadLetteredEvent(tenantDatabase(env, tenant), tenant.id, eventId);
}

export async function failDeliveryForGood(env: Env, tenantId: string, deliveryId: string): Promise<void> {
  const tenant = await requireActiveTenant(env, tenantId);
  const now = new Date().toISOString();
  await tenantDatabase(env, tenant)
    .update(webhookDeliveries)
    .set({ status: 'FAILED', failedAt: now, nextAttemptAt: null, updatedAt: now })
    .where(
      and(
        eq(webhookDeliveries.tenantId, tenant.id),
        eq(webhookDeliveries.id, deliveryId),
        inArray(webhookDeliveries.status, ['PENDING', 'RETRYING']),
      ),
    );
}

/** The cron's safety net for deliveries created or retried whose push to the queue was lost. */
export function sweepUnenqueuedDeliveries(
  env: Env,
  db: TenantDb,
  tenantId: string,
  now: Date,
): Promise<number> {
  const { id, enqueuedAt, updatedAt } = webhookDeliveries;
  return sweepUnenqueued(
    db,
    webhookDeliveries,
    { id, tenantId: webhookDeliveries.tenantId, settledAt: enqueuedAt, dueSince: updatedAt },
    { tenantId, now, also: eq(webhookDeliveries.status, 'PENDING') },
    (ids) => enqueueDeliveries(env, db, tenantId, ids),
  );
}
