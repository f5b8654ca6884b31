import { describe, expect, it } from 'vitest';
import { createCustomer, createStaff, createTenant } from '../helpers/factories';
import { call } from '../helpers/http';
import { expectProblem } from '../helpers/problems';

interface Page<T> {
  data: T[];
  nextCursor: string | null;
}
interface EventBody {
  id: string;
  type: string;
  tenantId: string;
  createdAt: string;
  data: Record<string, unknown>;
}

describe('GET /events', () => {
  it('lists this tenant’s events newest first, filtered by type and time, page by page', async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    await createCustomer(other);
    const first = await createCustomer(tenant);
    const second = await createCustomer(tenant);
    const staff = await createStaff(tenant, 'COMPLIANCE_OFFICER');
    const list = (query: string) =>
      call<Page<EventBody>>('GET', `/events${query}`, { tenant: tenant.id, token: staff.token });

    const created = await list('?type=customer.created');
    expect(created.status).toBe(200);
    expect(created.body.data.map((event) => event.data.customerId)).toEqual([
      second.customerId,
      first.customerId,
    ]);
    expect(created.body.data.every((event) => event.tenantId === tenant.id)).toBe(true);

    const pageOne = await list('?type=customer.created&limit=1');
    expect(pageOne.body.data).toHaveLength(1);
    const pageTwo = await list(`?type=customer.created&limit=1&cursor=${pageOne.body.nextCursor}`);
    expect(pageTwo.body.data[0]?.id).toBe(created.body.data[1]?.id);
    expect(pageTwo.body.nextCursor).toBeNull();

    const future = await list(
      `?createdFrom=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
    );
    expect(future.body.data).toEqual([]);
    const everything = await list('');
    expect(everything.body.data.map((event) => event.type)).toContain('session.created');
  });

  it('refuses an unknown event type and a malformed time with 422 naming the field', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const unknown = await call('GET', '/events?type=customer.exploded', {
      tenant: tenant.id,
      token: staff.token,
    });
    expectProblem(unknown, 422, 'validation_failed');
    expect(unknown.body.errors).toEqual([expect.objectContaining({ path: 'query.type' })]);
    const badTime = await call('GET', '/events?createdTo=yesterday', {
      tenant: tenant.id,
      token: staff.token,
    });
    expect(badTime.body.errors).toEqual([expect.objectContaining({ path: 'query.createdTo' })]);
  });
});

describe('GET /events/{eventId}', () => {
  it('returns the event envelope, and 404 for an unknown id', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const staff = await createStaff(tenant);
    const page = await call<Page<EventBody>>('GET', '/events?type=customer.created', {
      tenant: tenant.id,
      token: staff.token,
    });
    const id = page.body.data[0]?.id;
    const one = await call<EventBody>('GET', `/events/${id}`, { tenant: tenant.id, token: staff.token });
    expect(one.body).toMatchObject({
      id,
      type: 'customer.created',
      tenantId: tenant.id,
      data: { customerId: customer.customerId, type: 'INDIVIDUAL' },
    });
    expectProblem(
      await call('GET', '/events/evt_01jd7w3v8m9k2q4r6t8v0x2z4b', { tenant: tenant.id, token: staff.token }),
      404,
      'not_found',
    );
  });
});

describe('GET /audit-events', () => {
  it('filters by actor, action and target, within this tenant only', async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    await createCustomer(other);
    const customer = await createCustomer(tenant);
    const auditor = await createStaff(tenant, 'COMPLIANCE_OFFICER');
    await call('POST', '/auth/logout', { tenant: tenant.id, token: customer.token });
    const list = (query: string) =>
      call<Page<{ action: string; actorId: string | null; targetId: string; tenantId?: string }>>(
        'GET',
        `/audit-events${query}`,
        { tenant: tenant.id, token: auditor.token },
      );

    const registered = await list(`?action=customer.registered&targetId=${customer.customerId}`);
    expect(registered.status).toBe(200);
    expect(registered.body.data).toEqual([
      expect.objectContaining({ action: 'customer.registered', actorType: 'anonymous', actorId: null }),
    ]);
    const byCustomer = await list(`?actorId=${customer.id}`);
    expect(byCustomer.body.data.map((entry) => entry.action)).toContain('session.revoked');
    const sessions = await list('?targetType=user&action=session.created');
    expect(sessions.body.data.map((entry) => entry.targetId).sort()).toEqual(
      [auditor.id, customer.id].sort(),
    );
  });

  it('is closed to a support agent without audit:read', async () => {
    const tenant = await createTenant();
    const agent = await createStaff(tenant, 'SUPPORT_AGENT');
    const response = await call('GET', '/audit-events', { tenant: tenant.id, token: agent.token });
    expectProblem(response, 403, 'forbidden');
    expect(response.body.permission).toBe('audit:read');
  });
});

describe('secrets in the event log', () => {
  it('redacts the reset token of notification.requested, which only the webhook receiver gets', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const forgot = await call('POST', '/auth/password/forgot', {
      tenant: tenant.id,
      body: { email: customer.email },
    });
    expect(forgot.status).toBe(202);
    const staff = await createStaff(tenant);
    let notifications: Page<EventBody> | undefined;
    // The forgot route answers before it does the work; the event lands a moment later.
    for (let attempt = 0; attempt < 50 && !notifications?.data.length; attempt++) {
      notifications = (
        await call<Page<EventBody>>('GET', '/events?type=notification.requested', {
          tenant: tenant.id,
          token: staff.token,
        })
      ).body;
      if (!notifications.data.length) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const [notification] = notifications?.data ?? [];
    expect(notification?.data).toMatchObject({ template: 'PASSWORD_RESET', token: '[redacted]' });
    const one = await call<EventBody>('GET', `/events/${notification?.id}`, {
      tenant: tenant.id,
      token: staff.token,
    });
    expect(one.body.data.token).toBe('[redacted]');
  });
});
