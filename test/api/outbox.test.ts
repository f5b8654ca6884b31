import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  env,
  getQueueResult,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { and, count, eq, isNull } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { events, webhookDeliveries } from '../../src/db/tenant';
import type { Env } from '../../src/env';
import worker from '../../src/index';
import { DEAD_LETTERED_EVENT_RETRY_MS } from '../../src/platform/events';
import { newId } from '../../src/platform/ids';
import type { WebhookQueueMessage } from '../../src/platform/queues';
import { createTenant, database, individualInput, randomIp } from '../helpers/factories';
import { BASE, call } from '../helpers/http';
import { createEndpoint, installReceiver } from '../helpers/webhooks';

const receiver = installReceiver();

async function customerCreatedEvent(tenant: Awaited<ReturnType<typeof createTenant>>, customerId: string) {
  const rows = await database(tenant)
    .select()
    .from(events)
    .where(and(eq(events.tenantId, tenant.id), eq(events.type, 'customer.created')));
  return rows.find((row) => (row.data as { customerId?: string }).customerId === customerId);
}

/** The worker's bindings with a webhook queue whose sends are recorded here, or refused. */
function webhookQueueOf(handle: (messages: WebhookQueueMessage[]) => void): Env {
  const queue = {
    send: async (body: WebhookQueueMessage) => handle([body]),
    sendBatch: async (messages: Iterable<{ body: WebhookQueueMessage }>) =>
      handle([...messages].map((message) => message.body)),
  };
  return { ...env, WEBHOOK_QUEUE: queue as unknown as Queue };
}

async function runSweep(bindings: Env = env) {
  const ctx = createExecutionContext();
  worker.scheduled(createScheduledController({ cron: '* * * * *' }), bindings, ctx);
  await waitOnExecutionContext(ctx);
}

const twoMinutesAgo = () => new Date(Date.now() - 120_000).toISOString();

/** An event row written handed over at `at` and not yet dispatched. */
const handedOverEvent = (tenantId: string, id: string, at: string) => ({
  id,
  tenantId,
  type: 'customer.created' as const,
  data: {},
  createdAt: at,
  enqueuedAt: at,
});

describe('the outbox', () => {
  it('writes the events of a change as handed over, and sends them after the response', async () => {
    const tenant = await createTenant();
    const created = await call<{ id: string }>('POST', '/individuals', {
      tenant: tenant.id,
      body: individualInput(),
    });
    const written = await customerCreatedEvent(tenant, created.body.id);
    expect(written?.enqueuedAt).toBe(written?.createdAt);
    await expect
      .poll(async () => (await customerCreatedEvent(tenant, created.body.id))?.dispatchedAt, {
        timeout: 5000,
      })
      .not.toBeNull();
  });

  it('is dispatched by the webhook queue consumer, one message at a time', async () => {
    const tenant = await createTenant();
    const created = await call<{ id: string }>('POST', '/individuals', {
      tenant: tenant.id,
      body: individualInput(),
    });
    const event = await customerCreatedEvent(tenant, created.body.id);
    if (!event) throw new Error('no outbox event');
    const batch = createMessageBatch<WebhookQueueMessage>('webhook-deliveries', [
      {
        id: 'm1',
        timestamp: new Date(),
        attempts: 1,
        body: { kind: 'event.dispatch', tenantId: tenant.id, eventId: event.id },
      },
      {
        id: 'm2',
        timestamp: new Date(),
        attempts: 1,
        body: { kind: 'event.dispatch', tenantId: 'no-such-tenant', eventId: event.id },
      },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch as MessageBatch<unknown>, env);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(['m1']);
    expect(result.retryMessages).toEqual([expect.objectContaining({ msgId: 'm2' })]);
    expect((await customerCreatedEvent(tenant, created.body.id))?.dispatchedAt).not.toBeNull();
  });

  it('is swept by the cron when the send after the response was lost', async () => {
    const tenant = await createTenant();
    const request = new Request(`${BASE}/individuals`, {
      method: 'POST',
      headers: {
        'CF-Connecting-IP': randomIp(),
        'X-Tenant-ID': tenant.id,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify(individualInput()),
    });
    // The send goes nowhere, as if the isolate died before it or the queue lost the message.
    const losing = webhookQueueOf(() => {});
    const ctx = createExecutionContext();
    const response = await worker.fetch(request as Parameters<typeof worker.fetch>[0], losing, ctx);
    const created = (await response.json()) as { id: string };
    await waitOnExecutionContext(ctx);
    const event = await customerCreatedEvent(tenant, created.id);
    if (!event) throw new Error('no outbox event');
    expect(event.dispatchedAt).toBeNull();
    // The grace has passed since the failed handover.
    const db = database(tenant);
    await db
      .update(events)
      .set({ enqueuedAt: twoMinutesAgo(), createdAt: twoMinutesAgo() })
      .where(eq(events.id, event.id));
    await runSweep();
    await expect
      .poll(async () => (await customerCreatedEvent(tenant, created.id))?.dispatchedAt, { timeout: 5000 })
      .not.toBeNull();
  });

  it('sweeps an event handed over but never dispatched, and leaves a dispatched one alone', async () => {
    const tenant = await createTenant();
    const db = database(tenant);
    const old = twoMinutesAgo();
    const [lost, dispatched] = [newId('event'), newId('event')];
    await db.batch([
      db.insert(events).values(handedOverEvent(tenant.id, lost, old)),
      db.insert(events).values({
        id: dispatched,
        tenantId: tenant.id,
        type: 'customer.created',
        data: {},
        createdAt: old,
        enqueuedAt: old,
        dispatchedAt: old,
      }),
    ]);
    const sent: WebhookQueueMessage[] = [];
    await runSweep(webhookQueueOf((messages) => sent.push(...messages)));
    const handed = sent.filter((message) => message.tenantId === tenant.id);
    expect(handed).toEqual([{ kind: 'event.dispatch', tenantId: tenant.id, eventId: lost }]);
    const rows = await db.select().from(events).where(eq(events.tenantId, tenant.id));
    // Handed over again now: a copy still waiting in a backlog is not sent again before the grace.
    expect(rows.find((row) => row.id === lost)?.enqueuedAt).not.toBe(old);
    expect(rows.find((row) => row.id === dispatched)?.enqueuedAt).toBe(old);
  });

  it('tries an event the dead-letter queue got again in an hour, not at the next sweep', async () => {
    const tenant = await createTenant();
    const db = database(tenant);
    const old = twoMinutesAgo();
    const eventId = newId('event');
    await db.insert(events).values(handedOverEvent(tenant.id, eventId, old));
    await worker.queue(
      createMessageBatch<WebhookQueueMessage>('webhook-deliveries-dlq', [
        {
          id: 'dead-1',
          timestamp: new Date(),
          attempts: 1,
          body: { kind: 'event.dispatch', tenantId: tenant.id, eventId },
        },
      ]),
      env,
    );
    const row = await db.select().from(events).where(eq(events.id, eventId)).get();
    expect(row?.dispatchedAt).toBeNull();
    const retryIn = Date.parse(String(row?.enqueuedAt)) - Date.now();
    expect(retryIn).toBeGreaterThan(DEAD_LETTERED_EVENT_RETRY_MS - 60_000);
    expect(retryIn).toBeLessThanOrEqual(DEAD_LETTERED_EVENT_RETRY_MS);
    const sent: WebhookQueueMessage[] = [];
    await runSweep(webhookQueueOf((messages) => sent.push(...messages)));
    expect(sent.filter((message) => message.tenantId === tenant.id)).toEqual([]);
  });

  it('fans an event out once when two copies of its message are handled at the same time', async () => {
    const tenant = await createTenant();
    await createEndpoint(tenant, receiver, { events: ['customer.created'] });
    const db = database(tenant);
    const eventId = newId('event');
    const at = new Date().toISOString();
    await db.insert(events).values({
      id: eventId,
      tenantId: tenant.id,
      type: 'customer.created',
      data: {},
      createdAt: at,
      enqueuedAt: at,
    });
    const sent: WebhookQueueMessage[] = [];
    const recording = webhookQueueOf((messages) => sent.push(...messages));
    const body: WebhookQueueMessage = { kind: 'event.dispatch', tenantId: tenant.id, eventId };
    await Promise.all(
      ['m1', 'm2'].map((id) =>
        worker.queue(
          createMessageBatch<WebhookQueueMessage>('webhook-deliveries', [
            { id, timestamp: new Date(), attempts: 1, body },
          ]) as MessageBatch<unknown>,
          recording,
        ),
      ),
    );
    const made = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.eventId, eventId));
    expect(made).toHaveLength(1);
    expect(sent).toEqual([{ kind: 'delivery.attempt', tenantId: tenant.id, deliveryId: made[0]?.id }]);
  });

  it('sweeps more rows than one statement may name: 250 lost events and 250 lost deliveries in one run', async () => {
    const tenant = await createTenant();
    const db = database(tenant);
    const old = twoMinutesAgo();
    const eventIds = Array.from({ length: 250 }, () => newId('event'));
    const endpointId = newId('webhookEndpoint');
    const rows = eventIds.flatMap((eventId) => [
      db.insert(events).values(handedOverEvent(tenant.id, eventId, old)),
      db.insert(webhookDeliveries).values({
        id: newId('delivery'),
        tenantId: tenant.id,
        endpointId,
        eventId,
        eventType: 'customer.created',
        status: 'PENDING',
        createdAt: old,
        updatedAt: old,
      }),
    ]);
    const [first, ...rest] = rows;
    if (first) await db.batch([first, ...rest]);
    await runSweep();
    const [lostEvents] = await db
      .select({ n: count() })
      .from(events)
      .where(and(eq(events.tenantId, tenant.id), eq(events.enqueuedAt, old)));
    const [lostDeliveries] = await db
      .select({ n: count() })
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.tenantId, tenant.id), isNull(webhookDeliveries.enqueuedAt)));
    expect({ events: lostEvents?.n, deliveries: lostDeliveries?.n }).toEqual({ events: 0, deliveries: 0 });
  });
});
