import { and, asc, count, desc, eq, inArray, lt, type SQL } from 'drizzle-orm';
import { webhookAttempts, webhookDeliveries, webhookEndpoints } from '../../db/tenant';
import { readConfig } from '../../env';
import { assertMayActOn } from '../../platform/auth/escalation';
import { allPermissions } from '../../platform/auth/permissions';
import type { ServiceContext } from '../../platform/context';
import { base64Encode } from '../../platform/crypto';
import { ApiError, notFound } from '../../platform/errors';
import { carriesSecret, outboxEvent } from '../../platform/events';
import { encryptField } from '../../platform/field-encryption';
import { newId } from '../../platform/ids';
import { decodeCursor, toPage } from '../../platform/pagination';
import { commit, event } from '../../platform/unit-of-work';
import { enqueueDeliveries, secretContext, voidUndeliveredSecrets } from './delivery';
import {
  ALL_EVENTS,
  type AttemptView,
  type CreateEndpointInput,
  type DeliveryListQuery,
  type DeliveryView,
  type DeliveryWithAttemptsView,
  type EndpointListQuery,
  type EndpointView,
  type EndpointWithSecretView,
  MAX_ENDPOINTS_PER_TENANT,
  type UpdateEndpointInput,
} from './schemas';
import { webhookUrlRefusal } from './url-policy';

type EndpointRow = typeof webhookEndpoints.$inferSelect;
type DeliveryRow = typeof webhookDeliveries.$inferSelect;
type AttemptRow = typeof webhookAttempts.$inferSelect;

/** After a rotation the old secret keeps signing this long, so receivers can switch without a gap. */
const SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;
const ATTEMPTS_SHOWN = 100;

function presentEndpoint(row: EndpointRow, now: Date): EndpointView {
  const overlap = row.previousSecretExpiresAt;
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events,
    enabled: row.enabled,
    disabledReason: row.disabledReason,
    failingSince: row.failingSince,
    previousSecretExpiresAt: overlap && overlap > now.toISOString() ? overlap : null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function presentDelivery(row: DeliveryRow): DeliveryView {
  return {
    id: row.id,
    endpointId: row.endpointId,
    eventId: row.eventId,
    eventType: row.eventType,
    status: row.status,
    attemptCount: row.attemptCount,
    lastAttemptAt: row.lastAttemptAt,
    lastStatusCode: row.lastStatusCode,
    lastError: row.lastError,
    nextAttemptAt: row.nextAttemptAt,
    deliveredAt: row.deliveredAt,
    failedAt: row.failedAt,
    voidedAt: row.voidedAt,
    voidReason: row.voidReason,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function presentAttempt(row: AttemptRow, number: number): AttemptView {
  return {
    number,
    attemptedAt: row.attemptedAt,
    statusCode: row.statusCode,
    latencyMs: row.latencyMs,
    error: row.error,
    responseBody: row.responseBody,
  };
}

/** 32 random bytes, base64, with the `whsec_` prefix of the Standard Webhooks secret format. */
function newSecret(): string {
  return `whsec_${base64Encode(crypto.getRandomValues(new Uint8Array(32)))}`;
}

function assertUrlAllowed(ctx: ServiceContext, url: string): void {
  const refusal = webhookUrlRefusal(url, readConfig(ctx.env).environment);
  if (refusal) {
    throw new ApiError('webhook_url_not_allowed', {
      detail: `url: ${refusal}.`,
      errors: [{ path: 'url', message: refusal }],
    });
  }
}

function subscribedEvents(events: readonly string[]): string[] {
  return events.includes(ALL_EVENTS) ? [ALL_EVENTS] : [...new Set(events)];
}

/** Events whose deliveries carry live codes and tokens (`carriesSecret`), `*` included. */
function receivesSecrets(events: readonly string[]): boolean {
  return events.some((type) => type === ALL_EVENTS || carriesSecret(type));
}

/**
 * Whoever sends live codes and reset tokens somewhere can take over any login with them, so
 * pointing a secret-bearing subscription at a URL (subscribing, or moving such an endpoint)
 * needs every permission: a webhook endpoint that receives them is as strong as TENANT_ADMIN.
 */
function assertMayRouteSecrets(
  ctx: ServiceContext,
  before: { url: string; events: readonly string[] } | undefined,
  after: { url: string; events: readonly string[] },
): void {
  const secretsAfter = receivesSecrets(after.events);
  const secretsBefore = before !== undefined && receivesSecrets(before.events);
  const moved = before !== undefined && before.url !== after.url;
  if ((secretsAfter && !secretsBefore) || (moved && (secretsBefore || secretsAfter))) {
    assertMayActOn(ctx.actor, 'webhook-endpoint', allPermissions);
  }
}

function endpointFilter(ctx: ServiceContext, endpointId: string): SQL | undefined {
  return and(eq(webhookEndpoints.tenantId, ctx.tenant.id), eq(webhookEndpoints.id, endpointId));
}

async function requireEndpoint(ctx: ServiceContext, endpointId: string): Promise<EndpointRow> {
  const row = await ctx.db.select().from(webhookEndpoints).where(endpointFilter(ctx, endpointId)).get();
  if (!row) throw notFound('webhook endpoint');
  return row;
}

export async function createEndpoint(
  ctx: ServiceContext,
  input: CreateEndpointInput,
): Promise<EndpointWithSecretView> {
  assertUrlAllowed(ctx, input.url);
  assertMayRouteSecrets(ctx, undefined, input);
  const [existing] = await ctx.db
    .select({ total: count() })
    .from(webhookEndpoints)
    .where(eq(webhookEndpoints.tenantId, ctx.tenant.id));
  if ((existing?.total ?? 0) >= MAX_ENDPOINTS_PER_TENANT) {
    throw new ApiError('webhook_endpoint_limit_reached', {
      detail: `A tenant can have at most ${MAX_ENDPOINTS_PER_TENANT} webhook endpoints; delete one first.`,
    });
  }
  const id = newId('webhookEndpoint', ctx.now.getTime());
  const secret = newSecret();
  const now = ctx.now.toISOString();
  const row: EndpointRow = {
    id,
    tenantId: ctx.tenant.id,
    url: input.url,
    description: input.description ?? null,
    events: subscribedEvents(input.events),
    enabled: true,
    disabledReason: null,
    secret: await encryptField(secretContext(ctx.env, ctx.tenant.id, id), secret),
    previousSecret: null,
    previousSecretExpiresAt: null,
    failingSince: null,
    urlChangedAt: null,
    createdAt: now,
    updatedAt: now,
  };
  await commit(ctx, {
    statements: [ctx.db.insert(webhookEndpoints).values(row)],
    audit: [
      {
        action: 'webhook_endpoint.created',
        targetType: 'webhook_endpoint',
        targetId: id,
        data: { url: row.url, events: row.events },
      },
    ],
    events: [],
  });
  return { ...presentEndpoint(row, ctx.now), secret };
}

export async function listEndpoints(
  ctx: ServiceContext,
  query: EndpointListQuery,
): Promise<{ data: EndpointView[]; nextCursor: string | null }> {
  const after = decodeCursor(query.cursor, 'whe');
  const rows = await ctx.db
    .select()
    .from(webhookEndpoints)
    .where(
      and(eq(webhookEndpoints.tenantId, ctx.tenant.id), after ? lt(webhookEndpoints.id, after) : undefined),
    )
    .orderBy(desc(webhookEndpoints.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit);
  return { data: page.data.map((row) => presentEndpoint(row, ctx.now)), nextCursor: page.nextCursor };
}

export async function getEndpoint(ctx: ServiceContext, endpointId: string): Promise<EndpointView> {
  return presentEndpoint(await requireEndpoint(ctx, endpointId), ctx.now);
}

export async function updateEndpoint(
  ctx: ServiceContext,
  endpointId: string,
  input: UpdateEndpointInput,
): Promise<EndpointView> {
  const current = await requireEndpoint(ctx, endpointId);
  if (input.url !== undefined) assertUrlAllowed(ctx, input.url);
  assertMayRouteSecrets(ctx, current, {
    url: input.url ?? current.url,
    events: input.events ?? current.events,
  });
  const newUrl = input.url !== current.url ? input.url : undefined;
  const now = ctx.now.toISOString();
  const changes: Partial<EndpointRow> = {
    ...(newUrl !== undefined ? { url: newUrl } : {}),
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.events !== undefined ? { events: subscribedEvents(input.events) } : {}),
  };
  const disabling = input.enabled === false && current.enabled;
  if (input.enabled === true && !current.enabled) {
    // A fresh start: the failures that disabled it no longer count towards the 5 days.
    Object.assign(changes, { enabled: true, disabledReason: null, failingSince: null });
  }
  if (disabling) Object.assign(changes, { enabled: false, disabledReason: 'MANUAL' });
  const updated: EndpointRow = { ...current, ...changes, updatedAt: now };
  await commit(ctx, {
    statements: [
      ctx.db
        .update(webhookEndpoints)
        .set({ ...changes, ...(newUrl !== undefined ? { urlChangedAt: now } : {}), updatedAt: now })
        .where(endpointFilter(ctx, endpointId)),
      ...(newUrl !== undefined ? [voidUndeliveredSecrets(ctx.db, ctx.tenant.id, endpointId, now)] : []),
    ],
    audit: [
      {
        action: 'webhook_endpoint.updated',
        targetType: 'webhook_endpoint',
        targetId: endpointId,
        data: { changed: Object.keys(changes) },
      },
    ],
    events: disabling ? [event('webhook_endpoint.disabled', { endpointId, reason: 'MANUAL' })] : [],
  });
  return presentEndpoint(updated, ctx.now);
}

/** Deletes the endpoint with its delivery log; queued attempts find nothing and are dropped. */
export async function deleteEndpoint(ctx: ServiceContext, endpointId: string): Promise<void> {
  await requireEndpoint(ctx, endpointId);
  const tenantId = ctx.tenant.id;
  const deliveries = ctx.db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.tenantId, tenantId), eq(webhookDeliveries.endpointId, endpointId)));
  await commit(ctx, {
    statements: [
      ctx.db
        .delete(webhookAttempts)
        .where(and(eq(webhookAttempts.tenantId, tenantId), inArray(webhookAttempts.deliveryId, deliveries))),
      ctx.db
        .delete(webhookDeliveries)
        .where(and(eq(webhookDeliveries.tenantId, tenantId), eq(webhookDeliveries.endpointId, endpointId))),
      ctx.db.delete(webhookEndpoints).where(endpointFilter(ctx, endpointId)),
    ],
    audit: [{ action: 'webhook_endpoint.deleted', targetType: 'webhook_endpoint', targetId: endpointId }],
    events: [],
  });
}

/**
 * A new secret; the old one keeps signing alongside it for 24 h (two signatures per delivery),
 * so receivers can deploy the new secret without rejecting anything in between.
 */
export async function rotateSecret(ctx: ServiceContext, endpointId: string): Promise<EndpointWithSecretView> {
  const current = await requireEndpoint(ctx, endpointId);
  const secret = newSecret();
  const context = secretContext(ctx.env, ctx.tenant.id, endpointId);
  const changes = {
    secret: await encryptField(context, secret),
    previousSecret: current.secret,
    previousSecretExpiresAt: new Date(ctx.now.getTime() + SECRET_OVERLAP_MS).toISOString(),
    updatedAt: ctx.now.toISOString(),
  };
  await commit(ctx, {
    statements: [ctx.db.update(webhookEndpoints).set(changes).where(endpointFilter(ctx, endpointId))],
    audit: [
      {
        action: 'webhook_endpoint.secret_rotated',
        targetType: 'webhook_endpoint',
        targetId: endpointId,
        data: { previousSecretExpiresAt: changes.previousSecretExpiresAt },
      },
    ],
    events: [],
  });
  return { ...presentEndpoint({ ...current, ...changes }, ctx.now), secret };
}

function assertEnabled(endpoint: EndpointRow): void {
  if (!endpoint.enabled) {
    throw new ApiError('webhook_endpoint_disabled', {
      detail: 'The endpoint is disabled and receives nothing; enable it first (PATCH with enabled: true).',
    });
  }
}

/** Sends `webhook.test` to this endpoint only, whatever it subscribes to. */
export async function sendTestEvent(ctx: ServiceContext, endpointId: string): Promise<DeliveryView> {
  const endpoint = await requireEndpoint(ctx, endpointId);
  assertEnabled(endpoint);
  const test = await outboxEvent(ctx.db, ctx.tenant.id, 'webhook.test', { endpointId }, ctx.now, {
    addressed: true,
  });
  const now = ctx.now.toISOString();
  const delivery: DeliveryRow = {
    id: newId('delivery', ctx.now.getTime()),
    tenantId: ctx.tenant.id,
    endpointId,
    eventId: test.id,
    eventType: 'webhook.test',
    status: 'PENDING',
    attemptCount: 0,
    lastAttemptAt: null,
    lastStatusCode: null,
    lastError: null,
    nextAttemptAt: null,
    deliveredAt: null,
    failedAt: null,
    voidedAt: null,
    voidReason: null,
    enqueuedAt: null,
    createdAt: now,
    updatedAt: now,
  };
  await commit(ctx, {
    statements: [test.statement, ctx.db.insert(webhookDeliveries).values(delivery)],
    audit: [
      {
        action: 'webhook_endpoint.tested',
        targetType: 'webhook_endpoint',
        targetId: endpointId,
        data: { deliveryId: delivery.id },
      },
    ],
    events: [],
  });
  ctx.waitUntil(enqueueDeliveries(ctx.env, ctx.db, ctx.tenant.id, [delivery.id]));
  return presentDelivery(delivery);
}

export async function listDeliveries(
  ctx: ServiceContext,
  endpointId: string,
  query: DeliveryListQuery,
): Promise<{ data: DeliveryView[]; nextCursor: string | null }> {
  await requireEndpoint(ctx, endpointId);
  const after = decodeCursor(query.cursor, 'dlv');
  const rows = await ctx.db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.tenantId, ctx.tenant.id),
        eq(webhookDeliveries.endpointId, endpointId),
        after ? lt(webhookDeliveries.id, after) : undefined,
        query.status ? eq(webhookDeliveries.status, query.status) : undefined,
      ),
    )
    .orderBy(desc(webhookDeliveries.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit);
  return { data: page.data.map(presentDelivery), nextCursor: page.nextCursor };
}

async function requireDelivery(ctx: ServiceContext, deliveryId: string): Promise<DeliveryRow> {
  const row = await ctx.db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.tenantId, ctx.tenant.id), eq(webhookDeliveries.id, deliveryId)))
    .get();
  if (!row) throw notFound('webhook delivery');
  return row;
}

export async function getDelivery(
  ctx: ServiceContext,
  deliveryId: string,
): Promise<DeliveryWithAttemptsView> {
  const delivery = await requireDelivery(ctx, deliveryId);
  const attempts = await ctx.db
    .select()
    .from(webhookAttempts)
    .where(and(eq(webhookAttempts.tenantId, ctx.tenant.id), eq(webhookAttempts.deliveryId, deliveryId)))
    .orderBy(asc(webhookAttempts.id));
  const shown = attempts.slice(-ATTEMPTS_SHOWN);
  const skipped = attempts.length - shown.length;
  return {
    ...presentDelivery(delivery),
    attempts: shown.map((row, index) => presentAttempt(row, skipped + index + 1)),
  };
}

/**
 * Sends a settled delivery again, FAILED or DELIVERED (a replay), with the same `webhook-id`, so
 * a receiver that did get it can tell. The retry schedule starts over. A delivery that carries a
 * secret is refused rather than sent redacted: a receiver would pass a message without its token
 * or code on to the person, who could not use it, and the secret itself must not travel twice.
 */
export async function retryDelivery(ctx: ServiceContext, deliveryId: string): Promise<DeliveryView> {
  const delivery = await requireDelivery(ctx, deliveryId);
  if (delivery.status === 'PENDING' || delivery.status === 'RETRYING') {
    throw new ApiError('webhook_delivery_pending', {
      detail: `The delivery is ${delivery.status}: it is already queued and will be tried again.`,
    });
  }
  if (carriesSecret(delivery.eventType)) {
    throw new ApiError('webhook_delivery_carries_secret', {
      detail: `A ${delivery.eventType} delivery carries a single-use token or code and is never sent again. Issue a new one instead: POST /auth/password/forgot for a password token, POST /access/users/{userId}/credentials/reset for a staff user, POST /registration/email-verification or /registration/phone-verification for a verification code.`,
    });
  }
  assertEnabled(await requireEndpoint(ctx, delivery.endpointId));
  const changes = {
    status: 'PENDING' as const,
    nextAttemptAt: null,
    failedAt: null,
    enqueuedAt: null,
    updatedAt: ctx.now.toISOString(),
  };
  await commit(ctx, {
    statements: [
      ctx.db
        .update(webhookDeliveries)
        .set(changes)
        .where(
          and(
            eq(webhookDeliveries.tenantId, ctx.tenant.id),
            eq(webhookDeliveries.id, deliveryId),
            eq(webhookDeliveries.status, delivery.status),
          ),
        ),
    ],
    audit: [
      {
        action: 'webhook_delivery.retried',
        targetType: 'webhook_delivery',
        targetId: deliveryId,
        data: { previousStatus: delivery.status },
      },
    ],
    events: [],
  });
  ctx.waitUntil(enqueueDeliveries(ctx.env, ctx.db, ctx.tenant.id, [deliveryId]));
  return presentDelivery({ ...delivery, ...changes });
}
