import {
  createExecutionContext,
  createScheduledController,
  env,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { auditEvents, events, webhookDeliveries, webhookEndpoints } from '../../src/db/tenant';
import worker from '../../src/index';
import type { WebhookQueueMessage } from '../../src/platform/queues';
import {
  createCustomer,
  createTenant,
  database,
  individualInput,
  type TestTenant,
} from '../helpers/factories';
import { call } from '../helpers/http';
import { expectProblem } from '../helpers/problems';
import {
  attemptMessage,
  createEndpoint,
  type Delivery,
  deliveries,
  delivery,
  type Endpoint,
  failWith,
  installReceiver,
  type ReceivedRequest,
  runQueue,
  settled,
  type TestEndpoint,
} from '../helpers/webhooks';

const receiver = installReceiver();
const DAY_MS = 24 * 60 * 60 * 1000;

async function sendTest(tenant: TestTenant, endpoint: Endpoint): Promise<string> {
  const response = await call<Delivery>('POST', `/webhooks/endpoints/${endpoint.id}/test`, {
    tenant: tenant.id,
    token: endpoint.staff.token,
  });
  expect(response.status, response.text).toBe(202);
  expect(response.body).toMatchObject({
    status: 'PENDING',
    eventType: 'webhook.test',
    endpointId: endpoint.id,
  });
  return response.body.id;
}

/** Verifies with the independent `standardwebhooks` library, as a receiver would. */
function verify(secret: string, request: ReceivedRequest): unknown {
  return new Webhook(secret).verify(request.body, request.headers);
}

/** The signature computed from the specification with WebCrypto alone, for a cross-check. */
async function specSignature(secret: string, request: ReceivedRequest): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    Uint8Array.from(atob(secret.slice('whsec_'.length)), (char) => char.charCodeAt(0)),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const signed = `${request.headers['webhook-id']}.${request.headers['webhook-timestamp']}.${request.body}`;
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(signed)));
  return `v1,${btoa(String.fromCharCode(...mac))}`;
}

async function secretOverlapEnds(tenant: TestTenant, endpoint: TestEndpoint, at: Date): Promise<void> {
  await database(tenant)
    .update(webhookEndpoints)
    .set({ previousSecretExpiresAt: at.toISOString() })
    .where(eq(webhookEndpoints.id, endpoint.id));
}

describe('webhook delivery, end to end', () => {
  it('posts customer.created to a subscribed receiver, signed and verifiable with standardwebhooks', async () => {
    const tenant = await createTenant();
    const subscribed = await createEndpoint(tenant, receiver, { events: ['customer.created'] });
    const other = await createEndpoint(tenant, receiver, {
      events: ['session.revoked'],
      staff: subscribed.staff,
    });
    const registered = await call<{ id: string }>('POST', '/individuals', {
      tenant: tenant.id,
      body: individualInput(),
    });
    expect(registered.status).toBe(201);

    await expect.poll(() => receiver.requests(subscribed.path).length, { timeout: 15_000 }).toBe(1);
    const [request] = receiver.requests(subscribed.path) as [ReceivedRequest];
    expect(request).toMatchObject({ method: 'POST', redirect: 'manual', hasSignal: true });
    expect(request.headers['content-type']).toBe('application/json');
    expect(Math.abs(Number(request.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(300);

    const payload = verify(subscribed.secret, request) as Record<string, unknown>;
    expect(payload).toEqual({
      id: request.headers['webhook-id'],
      type: 'customer.created',
      createdAt: expect.any(String),
      tenantId: tenant.id,
      data: { customerId: registered.body.id, type: 'INDIVIDUAL', status: 'PENDING_EMAIL_VERIFICATION' },
    });
    expect(request.headers['webhook-id']).toMatch(/^evt_/);
    expect(request.headers['webhook-signature']).toBe(await specSignature(subscribed.secret, request));
    expect(() => verify(other.secret, request)).toThrow(WebhookVerificationError);
    expect(() =>
      verify(subscribed.secret, { ...request, body: request.body.replace('INDIVIDUAL', 'BUSINESS') }),
    ).toThrow(WebhookVerificationError);

    const [recorded] = await deliveries(tenant, subscribed, '?status=DELIVERED');
    expect(recorded).toMatchObject({
      status: 'DELIVERED',
      eventId: request.headers['webhook-id'],
      attemptCount: 1,
    });
    const detail = await delivery(tenant, subscribed, recorded?.id ?? '');
    expect(detail.attempts).toEqual([
      {
        number: 1,
        attemptedAt: expect.any(String),
        statusCode: 200,
        latencyMs: expect.any(Number),
        error: null,
        responseBody: 'ok',
      },
    ]);
    expect(await deliveries(tenant, other)).toEqual([]);
    expect(receiver.requests(other.path)).toEqual([]);
  });

  it('signs with the old and the new secret for 24 h after a rotation, then with the new one only', async () => {
    const tenant = await createTenant();
    const endpoint = await createEndpoint(tenant, receiver);
    const rotated = await call<{ secret: string }>(
      'POST',
      `/webhooks/endpoints/${endpoint.id}/rotate-secret`,
      {
        tenant: tenant.id,
        token: endpoint.staff.token,
      },
    );
    const newSecret = rotated.body.secret;

    await sendTest(tenant, endpoint);
    await expect.poll(() => receiver.requests(endpoint.path).length, { timeout: 15_000 }).toBe(1);
    const during = receiver.requests(endpoint.path)[0] as ReceivedRequest;
    expect(during.headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(verify(endpoint.secret, during)).toMatchObject({
      type: 'webhook.test',
      data: { endpointId: endpoint.id },
    });
    expect(verify(newSecret, during)).toMatchObject({ type: 'webhook.test' });

    // 24 h later.
    await secretOverlapEnds(tenant, endpoint, new Date(Date.now() - 1000));
    await sendTest(tenant, endpoint);
    await expect.poll(() => receiver.requests(endpoint.path).length, { timeout: 15_000 }).toBe(2);
    const after = receiver.requests(endpoint.path)[1] as ReceivedRequest;
    expect(after.headers['webhook-signature']?.split(' ')).toHaveLength(1);
    expect(verify(newSecret, after)).toMatchObject({ type: 'webhook.test' });
    expect(() => verify(endpoint.secret, after)).toThrow(WebhookVerificationError);
    const read = await call('GET', `/webhooks/endpoints/${endpoint.id}`, {
      tenant: tenant.id,
      token: endpoint.staff.token,
    });
    expect(read.body.previousSecretExpiresAt).toBeNull();
  });

  it('retries a receiver that is down, delivers once it is up, and records every attempt', async () => {
    const tenant = await createTenant();
    const endpoint = await createEndpoint(tenant, receiver, {
      responder: failWith(503, 'down for maintenance'),
    });
    const id = await sendTest(tenant, endpoint);
    const before = Date.now();
    const failed = await settled(tenant, endpoint, id, (current) => current.attemptCount === 1);
    expect(failed).toMatchObject({ status: 'RETRYING', lastError: 'HTTP 503' });
    // The first retry is due in 1 min ± 20 %.
    const due = Date.parse(failed.nextAttemptAt ?? '') - before;
    expect(due).toBeGreaterThan(40_000);
    expect(due).toBeLessThan(80_000);
    const failing = await call('GET', `/webhooks/endpoints/${endpoint.id}`, {
      tenant: tenant.id,
      token: endpoint.staff.token,
    });
    expect(failing.body.failingSince).toEqual(expect.any(String));

    receiver.respond(endpoint.path, () => new Response(null, { status: 204 }));
    const result = await runQueue('webhook-deliveries', [
      { id: 'retry-2', attempts: 2, body: attemptMessage(tenant, id) },
    ]);
    expect(result.explicitAcks).toEqual(['retry-2']);
    expect(result.retryMessages).toEqual([]);

    const done = await delivery(tenant, endpoint, id);
    expect(done).toMatchObject({
      status: 'DELIVERED',
      attemptCount: 2,
      nextAttemptAt: null,
      lastError: null,
    });
    expect(done.attempts).toMatchObject([
      { number: 1, statusCode: 503, error: 'HTTP 503', responseBody: 'down for maintenance' },
      { number: 2, statusCode: 204, error: null, responseBody: '' },
    ]);
    const requests = receiver.requests(endpoint.path);
    expect(requests).toHaveLength(2);
    expect(new Set(requests.map((request) => request.headers['webhook-id']))).toEqual(
      new Set([done.eventId]),
    );
    expect(new Set(requests.map((request) => request.body)).size).toBe(1);

    // The queue may deliver the message again: a settled delivery is not sent twice.
    const duplicate = await runQueue('webhook-deliveries', [
      { id: 'retry-2-again', attempts: 3, body: attemptMessage(tenant, id) },
    ]);
    expect(duplicate.explicitAcks).toEqual(['retry-2-again']);
    expect(receiver.requests(endpoint.path)).toHaveLength(2);
    const recovered = await call('GET', `/webhooks/endpoints/${endpoint.id}`, {
      tenant: tenant.id,
      token: endpoint.staff.token,
    });
    expect(recovered.body.failingSince).toBeNull();
  });

  it('ends a delivery to a receiver that never answers 2xx as FAILED, through the dead-letter queue', async () => {
    const tenant = await createTenant();
    const endpoint = await createEndpoint(tenant, receiver, { responder: failWith(500) });
    const id = await sendTest(tenant, endpoint);
    await settled(tenant, endpoint, id, (current) => current.attemptCount === 1);

    // Retries 1–7 of the schedule (the queue's max_retries), each asking the queue to retry again.
    for (let attempts = 2; attempts <= 8; attempts++) {
      const result = await runQueue('webhook-deliveries', [
        { id: `attempt-${attempts}`, attempts, body: attemptMessage(tenant, id) },
      ]);
      expect(result.retryMessages.map((message) => message.msgId)).toEqual([`attempt-${attempts}`]);
      expect(result.explicitAcks).toEqual([]);
    }
    const exhausted = await delivery(tenant, endpoint, id);
    expect(exhausted).toMatchObject({ status: 'RETRYING', attemptCount: 8, nextAttemptAt: null });

    // Past max_retries the queue moves the message to the dead-letter queue.
    const dead = await runQueue('webhook-deliveries-dlq', [
      { id: 'dead', attempts: 1, body: attemptMessage(tenant, id) },
    ]);
    expect(dead.explicitAcks).toEqual(['dead']);
    const failed = await delivery(tenant, endpoint, id);
    expect(failed).toMatchObject({ status: 'FAILED', attemptCount: 8, nextAttemptAt: null });
    expect(failed.failedAt).toEqual(expect.any(String));
    expect(failed.attempts).toHaveLength(8);

    // Nothing further is sent, even if a stray copy of the message turns up.
    const stray = await runQueue('webhook-deliveries', [
      { id: 'stray', attempts: 1, body: attemptMessage(tenant, id) },
    ]);
    expect(stray.explicitAcks).toEqual(['stray']);
    expect(receiver.requests(endpoint.path)).toHaveLength(8);
  });

  it('re-queues a FAILED delivery by hand, with the same webhook-id, and replays a DELIVERED one', async () => {
    const tenant = await createTenant();
    const endpoint = await createEndpoint(tenant, receiver, { responder: failWith(502) });
    const id = await sendTest(tenant, endpoint);
    await settled(tenant, endpoint, id, (current) => current.status === 'RETRYING');
    const retry = () =>
      call<Delivery & { detail?: string }>('POST', `/webhooks/deliveries/${id}/retry`, {
        tenant: tenant.id,
        token: endpoint.staff.token,
      });
    const busy = await retry();
    expectProblem(busy, 409, 'webhook_delivery_pending');
    expect(busy.body.detail).toContain('RETRYING');

    await runQueue('webhook-deliveries-dlq', [{ id: 'dead', attempts: 1, body: attemptMessage(tenant, id) }]);
    expect((await delivery(tenant, endpoint, id)).status).toBe('FAILED');

    receiver.respond(endpoint.path, () => new Response('ok'));
    const requeued = await retry();
    expect(requeued.status, requeued.text).toBe(202);
    expect(requeued.body).toMatchObject({ status: 'PENDING', failedAt: null });
    const delivered = await settled(tenant, endpoint, id, (current) => current.status === 'DELIVERED');
    expect(delivered.attempts.map((attempt) => attempt.statusCode)).toEqual([502, 200]);

    const replayed = await retry();
    expect(replayed.status).toBe(202);
    await expect.poll(() => receiver.requests(endpoint.path).length, { timeout: 15_000 }).toBe(3);
    const requests = receiver.requests(endpoint.path);
    expect(new Set(requests.map((request) => request.headers['webhook-id']))).toEqual(
      new Set([delivered.eventId]),
    );
    expect(verify(endpoint.secret, requests[2] as ReceivedRequest)).toMatchObject({ id: delivered.eventId });

    await call('PATCH', `/webhooks/endpoints/${endpoint.id}`, {
      tenant: tenant.id,
      token: endpoint.staff.token,
      body: { enabled: false },
    });
    await settled(tenant, endpoint, id, (current) => current.status === 'DELIVERED');
    expectProblem(await retry(), 409, 'webhook_endpoint_disabled');
  });

  it('sends nothing to a disabled endpoint, not even what was queued before it was disabled', async () => {
    const tenant = await createTenant();
    const enabled = await createEndpoint(tenant, receiver);
    const disabled = await createEndpoint(tenant, receiver, { staff: enabled.staff });
    const patched = await call('PATCH', `/webhooks/endpoints/${disabled.id}`, {
      tenant: tenant.id,
      token: enabled.staff.token,
      body: { enabled: false },
    });
    expect(patched.body.enabled).toBe(false);
    await call('POST', '/individuals', { tenant: tenant.id, body: individualInput() });
    await expect
      .poll(
        () => receiver.requests(enabled.path).filter((request) => request.body.includes('customer.created')),
        {
          timeout: 15_000,
        },
      )
      .toHaveLength(1);
    expect(await deliveries(tenant, disabled)).toEqual([]);
    expect(receiver.requests(disabled.path)).toEqual([]);

    const flaky = await createEndpoint(tenant, receiver, { responder: failWith(503), staff: enabled.staff });
    const id = await sendTest(tenant, flaky);
    await settled(tenant, flaky, id, (current) => current.status === 'RETRYING');
    await call('PATCH', `/webhooks/endpoints/${flaky.id}`, {
      tenant: tenant.id,
      token: enabled.staff.token,
      body: { enabled: false },
    });
    receiver.respond(flaky.path, () => new Response('ok'));
    const result = await runQueue('webhook-deliveries', [
      { id: 'late', attempts: 2, body: attemptMessage(tenant, id) },
    ]);
    expect(result.explicitAcks).toEqual(['late']);
    expect(await delivery(tenant, flaky, id)).toMatchObject({
      status: 'FAILED',
      attemptCount: 1,
      lastError: 'the endpoint is disabled',
    });
    expect(receiver.requests(flaky.path)).toHaveLength(1);
  });

  it('drops a pending message to a customer erased since: its recipient is gone', async () => {
    const tenant = await createTenant();
    const endpoint = await createEndpoint(tenant, receiver, {
      events: ['notification.requested'],
      responder: failWith(503),
    });
    const customer = await createCustomer(tenant);
    const sent = await call('POST', '/registration/email-verification', {
      tenant: tenant.id,
      token: customer.token,
      body: { customerId: customer.customerId },
    });
    expect(sent.status, sent.text).toBe(202);
    await expect.poll(async () => (await deliveries(tenant, endpoint)).length, { timeout: 15_000 }).toBe(1);
    const [pending] = await deliveries(tenant, endpoint);
    if (!pending) throw new Error('no delivery');
    await settled(tenant, endpoint, pending.id, (current) => current.status === 'RETRYING');
    const attemptsBefore = receiver.requests(endpoint.path).length;

    const erased = await call('POST', `/customers/${customer.customerId}/erasure`, {
      tenant: tenant.id,
      token: endpoint.staff.token,
      body: {},
    });
    expect(erased.status, erased.text).toBe(200);
    receiver.respond(endpoint.path, () => new Response('ok'));
    await runQueue('webhook-deliveries', [
      { id: 'retry', attempts: 2, body: attemptMessage(tenant, pending.id) },
    ]);
    expect(await delivery(tenant, endpoint, pending.id)).toMatchObject({
      status: 'FAILED',
      lastError: 'the customer the message was for was erased',
    });
    expect(receiver.requests(endpoint.path)).toHaveLength(attemptsBefore);
  });

  it('is at least once with a stable webhook-id when the consumer fails in the middle of a batch', async () => {
    const tenant = await createTenant();
    const first = await createEndpoint(tenant, receiver, { events: ['customer.created'] });
    const middle = await createEndpoint(tenant, receiver, {
      events: ['customer.created'],
      staff: first.staff,
    });
    const last = await createEndpoint(tenant, receiver, { events: ['customer.created'], staff: first.staff });
    // The middle receiver processes the event, but its answer never reaches the consumer.
    receiver.respond(middle.path, () => {
      throw new TypeError('Network connection lost.');
    });
    await call('POST', '/individuals', { tenant: tenant.id, body: individualInput() });
    const ids = async (endpoint: Endpoint) => {
      await expect.poll(async () => (await deliveries(tenant, endpoint)).length, { timeout: 15_000 }).toBe(1);
      return (await deliveries(tenant, endpoint))[0]?.id ?? '';
    };
    const [firstId, middleId, lastId] = [await ids(first), await ids(middle), await ids(last)];
    await settled(tenant, first, firstId, (current) => current.status === 'DELIVERED');
    await settled(tenant, last, lastId, (current) => current.status === 'DELIVERED');
    const broken = await settled(tenant, middle, middleId, (current) => current.status === 'RETRYING');
    expect(broken.lastError).toBe('Network connection lost.');

    // The queue redelivers the whole batch (as after a consumer crash); the middle receiver fails again.
    const messages = [firstId, middleId, lastId].map((deliveryId, index) => ({
      id: `redelivered-${index}`,
      attempts: 2,
      body: attemptMessage(tenant, deliveryId),
    }));
    const again = await runQueue('webhook-deliveries', messages);
    expect(again.explicitAcks).toEqual(['redelivered-0', 'redelivered-2']);
    expect(again.retryMessages.map((message) => message.msgId)).toEqual(['redelivered-1']);

    receiver.respond(middle.path, () => new Response('ok'));
    const third = await runQueue('webhook-deliveries', [
      { id: 'third', attempts: 3, body: attemptMessage(tenant, middleId) },
    ]);
    expect(third.explicitAcks).toEqual(['third']);

    // Settled deliveries were not posted again; the middle receiver saw one event three times, under one id.
    expect(receiver.requests(first.path)).toHaveLength(1);
    expect(receiver.requests(last.path)).toHaveLength(1);
    const seen = receiver.requests(middle.path);
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((request) => request.headers['webhook-id'])).size).toBe(1);
    expect(seen.map((request) => (verify(middle.secret, request) as { id: string }).id)).toEqual(
      Array(3).fill(seen[0]?.headers['webhook-id']),
    );
    expect(await delivery(tenant, middle, middleId)).toMatchObject({ status: 'DELIVERED', attemptCount: 3 });
  });
});

describe('webhook delivery, failure handling', () => {
  it('does not follow redirects, and records timeouts and the first KiB of a response', async () => {
    const tenant = await createTenant();
    const elsewhere = receiver.path();
    const redirecting = await createEndpoint(tenant, receiver, {
      responder: () =>
        new Response(null, { status: 302, headers: { Location: `https://receiver.example${elsewhere}` } }),
    });
    const slow = await createEndpoint(tenant, receiver, {
      staff: redirecting.staff,
      responder: () => {
        throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
      },
    });
    const verbose = await createEndpoint(tenant, receiver, {
      staff: redirecting.staff,
      responder: () => new Response('x'.repeat(5000), { status: 500 }),
    });
    const outcome = async (endpoint: Endpoint) => {
      const id = await sendTest(tenant, endpoint);
      return (await settled(tenant, endpoint, id, (current) => current.attemptCount === 1)).attempts[0];
    };
    expect(await outcome(redirecting)).toMatchObject({
      statusCode: 302,
      error: 'HTTP 302: redirects are not followed',
    });
    expect(receiver.requests(elsewhere)).toEqual([]);
    expect(await outcome(slow)).toMatchObject({ statusCode: null, error: 'no response within 10 s' });
    const long = await outcome(verbose);
    expect(long?.responseBody).toBe('x'.repeat(1024));
  });

  it('checks the URL again before every attempt and never calls one that became forbidden', async () => {
    const tenant = await createTenant();
    const endpoint = await createEndpoint(tenant, receiver);
    // As if registered under other rules: the stored URL now names a private address.
    await database(tenant)
      .update(webhookEndpoints)
      .set({ url: 'https://10.0.0.5/hook' })
      .where(eq(webhookEndpoints.id, endpoint.id));
    const id = await sendTest(tenant, endpoint);
    const refused = await settled(tenant, endpoint, id, (current) => current.attemptCount === 1);
    expect(refused.status).toBe('RETRYING');
    expect(refused.attempts[0]).toMatchObject({ statusCode: null, latencyMs: 0 });
    expect(refused.attempts[0]?.error).toMatch(/^URL refused: .*private network address/);
    expect(receiver.fetched().filter((url) => url.includes('10.0.0.5'))).toEqual([]);
  });

  it('disables an endpoint whose deliveries have failed for 5 days, with an event', async () => {
    const tenant = await createTenant();
    const failing = await createEndpoint(tenant, receiver, { responder: failWith(500) });
    const watcher = await createEndpoint(tenant, receiver, {
      events: ['webhook_endpoint.disabled'],
      staff: failing.staff,
    });
    const failingSince = new Date(Date.now() - 5 * DAY_MS - 60_000).toISOString();
    await database(tenant)
      .update(webhookEndpoints)
      .set({ failingSince })
      .where(eq(webhookEndpoints.id, failing.id));

    await sendTest(tenant, failing);
    await expect.poll(() => receiver.requests(watcher.path).length, { timeout: 15_000 }).toBe(1);
    const notice = verify(watcher.secret, receiver.requests(watcher.path)[0] as ReceivedRequest);
    expect(notice).toMatchObject({
      type: 'webhook_endpoint.disabled',
      data: { endpointId: failing.id, reason: 'FAILING' },
    });
    const disabled = await call('GET', `/webhooks/endpoints/${failing.id}`, {
      tenant: tenant.id,
      token: failing.staff.token,
    });
    expect(disabled.body).toMatchObject({ enabled: false, disabledReason: 'FAILING', failingSince });
    const audit = await database(tenant)
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.tenantId, tenant.id), eq(auditEvents.targetId, failing.id)));
    expect(audit.map((entry) => entry.action)).toContain('webhook_endpoint.disabled');
  });
});

describe('webhook fan-out', () => {
  it('makes one delivery per subscribed, enabled endpoint, even when the dispatch message comes twice', async () => {
    const tenant = await createTenant();
    const exact = await createEndpoint(tenant, receiver, { events: ['customer.created'] });
    const wildcard = await createEndpoint(tenant, receiver, { events: ['*'], staff: exact.staff });
    const unrelated = await createEndpoint(tenant, receiver, {
      events: ['session.revoked'],
      staff: exact.staff,
    });
    const registered = await call<{ id: string }>('POST', '/individuals', {
      tenant: tenant.id,
      body: individualInput(),
    });
    await expect.poll(() => receiver.requests(exact.path).length, { timeout: 15_000 }).toBe(1);
    // The wildcard may also get the staff login's `session.created`; only the registration counts here.
    const creations = (path: string) =>
      receiver.requests(path).filter((request) => JSON.parse(request.body).type === 'customer.created');
    await expect.poll(() => creations(wildcard.path).length, { timeout: 15_000 }).toBe(1);

    const db = database(tenant);
    const [created] = (
      await db
        .select()
        .from(events)
        .where(and(eq(events.tenantId, tenant.id), eq(events.type, 'customer.created')))
    ).filter((row) => (row.data as { customerId: string }).customerId === registered.body.id);
    if (!created) throw new Error('no customer.created event');
    expect(created.dispatchedAt).toEqual(expect.any(String));

    // As if the message had been delivered again before the first run marked the event.
    await db.update(events).set({ dispatchedAt: null }).where(eq(events.id, created.id));
    const dispatch: WebhookQueueMessage = {
      kind: 'event.dispatch',
      tenantId: tenant.id,
      eventId: created.id,
    };
    const result = await runQueue('webhook-deliveries', [
      { id: 'd1', attempts: 1, body: dispatch },
      { id: 'd2', attempts: 1, body: dispatch },
    ]);
    expect(result.explicitAcks).toEqual(['d1', 'd2']);
    const rows = await db
      .select()
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.tenantId, tenant.id), eq(webhookDeliveries.eventId, created.id)));
    expect(rows.map((row) => row.endpointId).sort()).toEqual([exact.id, wildcard.id].sort());
    expect(rows.every((row) => row.status === 'DELIVERED')).toBe(true);
    expect(receiver.requests(exact.path)).toHaveLength(1);
    expect(receiver.requests(unrelated.path)).toEqual([]);
  });

  it('has the cron sweep push a delivery whose push to the queue was lost', async () => {
    const tenant = await createTenant();
    const endpoint = await createEndpoint(tenant, receiver);
    const id = await sendTest(tenant, endpoint);
    const first = await settled(tenant, endpoint, id, (current) => current.status === 'DELIVERED');
    // A manual retry whose push after the response never happened.
    await database(tenant)
      .update(webhookDeliveries)
      .set({ status: 'PENDING', enqueuedAt: null, updatedAt: new Date(Date.now() - 120_000).toISOString() })
      .where(eq(webhookDeliveries.id, id));
    const ctx = createExecutionContext();
    worker.scheduled(createScheduledController({ cron: '* * * * *' }), env, ctx);
    await waitOnExecutionContext(ctx);
    const again = await settled(tenant, endpoint, id, (current) => current.attemptCount === 2);
    expect(again.status).toBe('DELIVERED');
    expect(new Set(receiver.requests(endpoint.path).map((request) => request.headers['webhook-id']))).toEqual(
      new Set([first.eventId]),
    );
  });
});
