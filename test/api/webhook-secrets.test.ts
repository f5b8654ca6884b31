import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { events, webhookDeliveries } from '../../src/db/tenant';
import { createStaff, createTenant, database, type TestTenant, unique } from '../helpers/factories';
import { call } from '../helpers/http';
import { awaitNotification } from '../helpers/outbox';
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
  RECEIVER_ORIGIN,
  type Responder,
  runQueue,
  settled,
} from '../helpers/webhooks';

const receiver = installReceiver();

/** The endpoint's first delivery of `type`, once the fan-out has made it. */
async function deliveryOf(tenant: TestTenant, endpoint: Endpoint, type: string): Promise<Delivery> {
  await expect
    .poll(async () => (await deliveries(tenant, endpoint)).some((row) => row.eventType === type), {
      timeout: 15_000,
    })
    .toBe(true);
  return (await deliveries(tenant, endpoint)).find((row) => row.eventType === type) as Delivery;
}

/** A copy of a delivery's message still in the queue, handed to the consumer as the queue would. */
function attempt(tenant: TestTenant, deliveryId: string, attempts = 2) {
  return { id: unique('msg'), attempts, body: attemptMessage(tenant, deliveryId) };
}

/**
 * A tenant whose administrator's endpoint receives `notification.requested`, then an invitation
 * of a staff user with `roleId`: its delivery (once `until` holds) and the live token it carries.
 */
async function invitationDelivery(options: {
  roleId?: string;
  events?: string[];
  responder?: Responder;
  until: Delivery['status'];
}) {
  const tenant = await createTenant();
  const admin = await createStaff(tenant);
  const endpoint = await createEndpoint(tenant, receiver, {
    events: options.events ?? ['notification.requested'],
    responder: options.responder,
    staff: admin,
  });
  const invited = await call<{ id: string }>('POST', '/access/users', {
    tenant: tenant.id,
    token: admin.token,
    body: {
      email: `${unique('invitee')}@example.com`,
      displayName: 'Pending Admin',
      roleIds: [options.roleId ?? 'rol_support_agent'],
    },
  });
  expect(invited.status, invited.text).toBe(201);
  const { token } = await awaitNotification(tenant, invited.body.id);
  const first = await deliveryOf(tenant, endpoint, 'notification.requested');
  await settled(tenant, endpoint, first.id, (current) => current.status === options.until);
  return { tenant, admin, endpoint, token, first };
}

function moveEndpoint(tenant: TestTenant, endpoint: Endpoint, token: string, path: string) {
  return call('PATCH', `/webhooks/endpoints/${endpoint.id}`, {
    tenant: tenant.id,
    token,
    body: { url: `${RECEIVER_ORIGIN}${path}` },
  });
}

describe('secret-bearing deliveries', () => {
  it('never sends a pending TENANT_ADMIN’s invitation token to a URL the endpoint was moved to', async () => {
    // The tenant's own receiver is down for the first attempt: the queue's retry to the same URL
    // still delivers the token, since nobody had it yet.
    const { tenant, admin, endpoint, token, first } = await invitationDelivery({
      roleId: 'rol_tenant_admin',
      responder: failWith(503),
      until: 'RETRYING',
    });
    receiver.respond(endpoint.path, () => new Response('ok'));
    await runQueue('webhook-deliveries', [attempt(tenant, first.id)]);
    const delivered = await delivery(tenant, endpoint, first.id);
    expect(delivered.status).toBe('DELIVERED');
    expect(receiver.requests(endpoint.path).at(-1)?.body).toContain(token);

    // Someone points the endpoint at their own server (whoever may change its URL) and an
    // attacker holding only webhooks:admin asks for the delivery again.
    const attackerPath = receiver.path();
    const moved = await moveEndpoint(tenant, endpoint, admin.token, attackerPath);
    expect(moved.status, moved.text).toBe(200);
    const attacker = await createStaff(tenant, { permissions: ['webhooks:admin'] });
    const retried = await call('POST', `/webhooks/deliveries/${first.id}/retry`, {
      tenant: tenant.id,
      token: attacker.token,
    });
    expectProblem(retried, 409, 'webhook_delivery_carries_secret');
    // A stray copy of the old message, delivered late by the queue, sends nothing either.
    await runQueue('webhook-deliveries', [attempt(tenant, first.id, 3)]);
    expect(await delivery(tenant, endpoint, first.id)).toMatchObject({
      status: 'DELIVERED',
      attemptCount: 2,
    });
    expect(receiver.requests(attackerPath)).toEqual([]);
  });

  it('keeps no receiver answer for a secret-bearing delivery: an echo of the body would hold the token', async () => {
    const echo: Responder = (request) => new Response(request.body, { status: 500 });
    const { tenant, endpoint, token, first } = await invitationDelivery({
      responder: echo,
      until: 'RETRYING',
    });
    expect(receiver.requests(endpoint.path)[0]?.body).toContain(token);
    const attempted = await call<{ attempts: { statusCode: number; responseBody: string | null }[] }>(
      'GET',
      `/webhooks/deliveries/${first.id}`,
      { tenant: tenant.id, token: endpoint.staff.token },
    );
    expect(attempted.body.attempts).toMatchObject([{ statusCode: 500, responseBody: null }]);
    expect(attempted.text).not.toContain(token);
  });

  it('refuses a manual retry of a secret-bearing delivery even to the URL it was meant for', async () => {
    const { tenant, admin, endpoint, first } = await invitationDelivery({ until: 'DELIVERED' });
    const retried = await call<{ detail: string }>('POST', `/webhooks/deliveries/${first.id}/retry`, {
      tenant: tenant.id,
      token: admin.token,
    });
    expectProblem(retried, 409, 'webhook_delivery_carries_secret');
    expect(retried.body.detail).toContain('POST /auth/password/forgot');
    expect(receiver.requests(endpoint.path)).toHaveLength(1);
  });

  it('voids undelivered secret-bearing deliveries when the URL changes; other events follow the new URL', async () => {
    const {
      tenant,
      admin,
      endpoint,
      token,
      first: secret,
    } = await invitationDelivery({
      events: ['notification.requested', 'webhook.test'],
      responder: failWith(503),
      until: 'RETRYING',
    });
    const tested = await call<Delivery>('POST', `/webhooks/endpoints/${endpoint.id}/test`, {
      tenant: tenant.id,
      token: admin.token,
    });
    expect(tested.status, tested.text).toBe(202);
    await settled(tenant, endpoint, tested.body.id, (current) => current.status === 'RETRYING');

    const newPath = receiver.path();
    expect((await moveEndpoint(tenant, endpoint, admin.token, newPath)).status).toBe(200);
    const voided = await delivery(tenant, endpoint, secret.id);
    expect(voided).toMatchObject({ status: 'VOIDED', voidReason: 'ENDPOINT_URL_CHANGED', attemptCount: 1 });
    expect(voided.voidedAt).toEqual(expect.any(String));
    expect((await delivery(tenant, endpoint, tested.body.id)).status).toBe('RETRYING');

    // The queue still holds both retries: the test event goes to the new URL, the token nowhere.
    const result = await runQueue('webhook-deliveries', [
      attempt(tenant, secret.id),
      attempt(tenant, tested.body.id),
    ]);
    expect(result.retryMessages).toEqual([]);
    expect(await delivery(tenant, endpoint, secret.id)).toMatchObject({
      status: 'VOIDED',
      attemptCount: 1,
    });
    expect(await delivery(tenant, endpoint, tested.body.id)).toMatchObject({ status: 'DELIVERED' });
    const received = receiver.requests(newPath);
    expect(received.map((request) => JSON.parse(request.body).type)).toEqual(['webhook.test']);
    expect(received.some((request) => request.body.includes(token))).toBe(false);

    // A non-secret delivery is still sent again by hand, to the endpoint's current URL.
    const replayed = await call('POST', `/webhooks/deliveries/${tested.body.id}/retry`, {
      tenant: tenant.id,
      token: admin.token,
    });
    expect(replayed.status, replayed.text).toBe(202);
    await expect.poll(() => receiver.requests(newPath).length, { timeout: 15_000 }).toBe(2);
    expectProblem(
      await call('POST', `/webhooks/deliveries/${secret.id}/retry`, {
        tenant: tenant.id,
        token: admin.token,
      }),
      409,
      'webhook_delivery_carries_secret',
    );
  });

  it('sends a secret only to the URL the endpoint had when the event was created, however late the fan-out', async () => {
    const { tenant, admin, endpoint, first } = await invitationDelivery({ until: 'DELIVERED' });

    // As if the event had waited in the outbox while the URL changed: fanned out only afterwards.
    const db = database(tenant);
    await db
      .delete(webhookDeliveries)
      .where(and(eq(webhookDeliveries.tenantId, tenant.id), eq(webhookDeliveries.id, first.id)));
    await db
      .update(events)
      .set({ dispatchedAt: null })
      .where(and(eq(events.tenantId, tenant.id), eq(events.id, first.eventId)));
    const newPath = receiver.path();
    expect((await moveEndpoint(tenant, endpoint, admin.token, newPath)).status).toBe(200);
    await runQueue('webhook-deliveries', [
      {
        id: unique('msg'),
        attempts: 1,
        body: { kind: 'event.dispatch', tenantId: tenant.id, eventId: first.eventId },
      },
    ]);

    const late = await deliveryOf(tenant, endpoint, 'notification.requested');
    const voided = await settled(tenant, endpoint, late.id, (current) => current.status !== 'PENDING');
    expect(voided).toMatchObject({ status: 'VOIDED', voidReason: 'ENDPOINT_URL_CHANGED', attemptCount: 0 });
    expect(receiver.requests(newPath)).toEqual([]);
  });
});
