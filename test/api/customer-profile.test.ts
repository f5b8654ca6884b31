import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { customers, events } from '../../src/db/tenant';
import { createCustomer, createStaff, createTenant, database, type TestTenant } from '../helpers/factories';
import { call } from '../helpers/http';
import { expectProblem } from '../helpers/problems';

interface CustomerBody {
  status: string;
  phone: string;
  phoneVerified: boolean;
  individual: Record<string, unknown>;
}

async function setStatus(tenant: TestTenant, customerId: string, status: string) {
  await database(tenant).update(customers).set({ status }).where(eq(customers.id, customerId));
}

async function eventsOf(tenant: TestTenant, type: string) {
  return database(tenant)
    .select()
    .from(events)
    .where(and(eq(events.tenantId, tenant.id), eq(events.type, type)));
}

describe('PATCH /customers/{customerId}', () => {
  it('lets a customer change its address and phone; the new phone must be verified again', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const stored = () =>
      database(tenant).select().from(customers).where(eq(customers.id, customer.customerId)).get();
    await database(tenant)
      .update(customers)
      .set({ phoneVerifiedAt: new Date().toISOString() })
      .where(eq(customers.id, customer.customerId));
    const before = await stored();
    const address = { line1: '1 Infinite Loop', city: 'Cupertino', postalCode: '95014', country: 'US' };
    const response = await call<CustomerBody>('PATCH', `/customers/${customer.customerId}`, {
      tenant: tenant.id,
      token: customer.token,
      body: { address, phone: '+14155552671' },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ phone: '+14155552671', phoneVerified: false });
    expect(response.body.individual.address).toEqual(address);
    expect(response.body.individual.firstName).toBe('Ada');
    const [updated] = await eventsOf(tenant, 'customer.updated');
    expect(updated?.data).toEqual({ customerId: customer.customerId, changedFields: ['address', 'phone'] });

    // The profile field and the phone are sealed; only plain columns change in the clear.
    const after = await stored();
    expect(after?.personal).not.toBe(before?.personal);
    expect(JSON.stringify(after)).not.toMatch(/Infinite Loop|Cupertino|4155552671/);
    expect(after).toEqual({
      ...before,
      personal: expect.any(String),
      phoneVerifiedAt: null,
      updatedAt: expect.any(String),
    });
  });

  it('refuses identity changes by a verified customer (409) but lets staff correct them, resetting verification', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    await setStatus(tenant, customer.customerId, 'ACTIVE');
    const path = `/customers/${customer.customerId}`;
    expectProblem(
      await call('PATCH', path, { tenant: tenant.id, token: customer.token, body: { lastName: 'Byron' } }),
      409,
      'reverification_required',
    );
    const occupation = await call('PATCH', path, {
      tenant: tenant.id,
      token: customer.token,
      body: { occupation: 'Analyst' },
    });
    expect(occupation.status).toBe(200);

    const agent = await createStaff(tenant, 'SUPPORT_AGENT');
    const corrected = await call<CustomerBody>('PATCH', path, {
      tenant: tenant.id,
      token: agent.token,
      body: { lastName: 'Byron' },
    });
    expect(corrected.status).toBe(200);
    expect(corrected.body.status).toBe('REGISTERED');
    expect((await eventsOf(tenant, 'customer.status_changed'))[0]?.data).toMatchObject({
      from: 'ACTIVE',
      to: 'REGISTERED',
    });
  });

  it('refuses to change a closed customer (409 customer_closed)', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const staff = await createStaff(tenant);
    await setStatus(tenant, customer.customerId, 'CLOSED');
    expectProblem(
      await call('PATCH', `/customers/${customer.customerId}`, {
        tenant: tenant.id,
        token: staff.token,
        body: { occupation: 'Engineer' },
      }),
      409,
      'customer_closed',
    );
  });

  it('lets no parallel update be lost: the losers of the race get 409 concurrent_update', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const staff = await createStaff(tenant);
    const occupations = Array.from({ length: 20 }, (_, index) => `Engineer ${index}`);
    const responses = await Promise.all(
      occupations.map((occupation) =>
        call<CustomerBody>('PATCH', `/customers/${customer.customerId}`, {
          tenant: tenant.id,
          token: staff.token,
          body: { occupation },
        }),
      ),
    );
    const lost = responses.filter((response) => response.status !== 200);
    for (const response of lost) expectProblem(response, 409, 'concurrent_update');
    expect(lost.length).toBeGreaterThan(0);
    const updates = await eventsOf(tenant, 'customer.updated');
    expect(updates).toHaveLength(responses.length - lost.length);
  });

  it('validates the patch: empty, unknown fields, future or under-age birth dates', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const patch = (body: unknown) =>
      call('PATCH', `/customers/${customer.customerId}`, { tenant: tenant.id, token: customer.token, body });
    expectProblem(await patch({}), 422, 'validation_failed');
    const unknown = await patch({ email: 'new@example.com' });
    expect(unknown.status).toBe(422);
    const future = await patch({ dateOfBirth: '2999-01-01' });
    expect(future.body.errors).toEqual([{ path: 'dateOfBirth', message: 'must not be in the future' }]);
    const young = await patch({ dateOfBirth: new Date().toISOString().slice(0, 10) });
    expect(young.body.errors).toEqual([expect.objectContaining({ path: 'dateOfBirth' })]);
  });
});

describe('PUT /customers/{customerId}/status', () => {
  it('allows the lifecycle’s transitions and refuses the others with 409 invalid_transition', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const staff = await createStaff(tenant);
    const move = (status: string) =>
      call<CustomerBody>('PUT', `/customers/${customer.customerId}/status`, {
        tenant: tenant.id,
        token: staff.token,
        body: { status, reason: 'Test' },
      });
    const skip = await move('ACTIVE');
    expectProblem(skip, 409, 'invalid_transition');
    expect(skip.body).toMatchObject({ allowed: ['REGISTERED', 'CLOSED'] });
    await setStatus(tenant, customer.customerId, 'ACTIVE');
    expect((await move('SUSPENDED')).body.status).toBe('SUSPENDED');
    expect((await move('ACTIVE')).body.status).toBe('ACTIVE');
    expect((await move('CLOSED')).body.status).toBe('CLOSED');
    expectProblem(await move('ACTIVE'), 409, 'invalid_transition');
    expect((await eventsOf(tenant, 'customer.status_changed')).map((event) => event.data.to)).toEqual([
      'SUSPENDED',
      'ACTIVE',
      'CLOSED',
    ]);
  });

  it('ends the customer’s sessions when it is closed, and a customer cannot change its own status', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const response = await call('PUT', `/customers/${customer.customerId}/status`, {
      tenant: tenant.id,
      token: customer.token,
      body: { status: 'CLOSED', reason: 'Leaving' },
    });
    expectProblem(response, 403, 'forbidden');
    const staff = await createStaff(tenant);
    await call('PUT', `/customers/${customer.customerId}/status`, {
      tenant: tenant.id,
      token: staff.token,
      body: { status: 'CLOSED', reason: 'Customer asked to leave' },
    });
    expectProblem(
      await call('GET', `/customers/${customer.customerId}`, { tenant: tenant.id, token: customer.token }),
      401,
      'invalid_token',
    );
    expectProblem(
      await call('POST', '/auth/refresh', {
        tenant: tenant.id,
        body: { refreshToken: customer.refreshToken },
      }),
      401,
      'invalid_refresh_token',
    );
  });
});
