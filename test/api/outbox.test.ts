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
import worker from '../../src/index';
import { newId } from '../../src/platform/ids';
import type { WebhookQueueMessage } from '../../src/platform/queues';
import { createTenant, database, individualInput } from '../helpers/factories';
import { call } from '../helpers/http';

async function customerCreatedEvent(tenant: Awaited<ReturnType<typeof createTenant>>, customerId: string) {
  const rows = await database(tenant)
    .select()
    .from(events)
    .where(and(eq(events.tenantId, tenant.id), eq(events.type, 'customer.created')));
  return rows.find((row) => (row.data as { customerId?: string }).customerId === customerId);
}

describe('the outbox', () => {
  it('enqueues the events of a change after the response', async () => {
    const tenant = await createTenant();
    const created = await call<{ id: string }>('POST', '/individuals', {
      tenant: tenant.id,
      body: individualInput(),
    });
    await expect
      .poll(async () => (await customerCreatedEvent(tenant, created.body.id))?.enqueuedAt, { timeout: 5000 })
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

  it('is swept by the cron when the push after the response was lost', async () => {
    const tenant = await createTenant();
    const created = await call<{ id: string }>('POST', '/individuals', {
      tenant: tenant.id,
      body: individualInput(),
    });
    const db = database(tenant);
    await expect
      .poll(async () => (await customerCreatedEvent(tenant, created.body.id))?.enqueuedAt, { timeout: 5000 })
      .not.toBeNull();
    const event = await customerCreatedEvent(tenant, created.body.id);
    if (!event) throw new Error('no outbox event');
    // Simulate a lost push: the row is old and was never enqueued.
    await db
      .update(events)
      .set({ enqueuedAt: null, createdAt: new Date(Date.now() - 120_000).toISOString() })
      .where(eq(events.id, event.id));
    const ctx = createExecutionContext();
    worker.scheduled(createScheduledController({ cron: '* * * * *' }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect((await customerCreatedEvent(tenant, created.body.id))?.enqueuedAt).not.toBeNull();
  });

  it('sweeps more rows than one statement may name: 250 lost events and 250 lost deliveries in one run', async () => {
    const tenant = await createTenant();
    const db = database(tenant);
    const old = new Date(Date.now() - 120_000).toISOString();
    const eventIds = Array.from({ length: 250 }, () => newId('event'));
    const endpointId = newId('webhookEndpoint');
    const rows = eventIds.flatMap((eventId) => [
      db
        .insert(events)
        .values({ id: eventId, tenantId: tenant.id, type: 'customer.created', data: {}, createdAt: old }),
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
    const ctx = createExecutionContext();
    worker.scheduled(createScheduledController({ cron: '* * * * *' }), env, ctx);
    await waitOnExecutionContext(ctx);
    const [lostEvents] = await db
      .select({ n: count() })
      .from(events)
      .where(and(eq(events.tenantId, tenant.id), isNull(events.enqueuedAt)));
    const [lostDeliveries] = await db
      .select({ n: count() })
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.tenantId, tenant.id), isNull(webhookDeliveries.enqueuedAt)));
    expect({ events: lostEvents?.n, deliveries: lostDeliveries?.n }).toEqual({ events: 0, deliveries: 0 });
  });
});
