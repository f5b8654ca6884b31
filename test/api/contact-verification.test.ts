import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditEvents, contactVerificationCodes, customers } from '../../src/db/tenant';
import {
  createCustomer,
  createStaff,
  createTenant,
  database,
  insertCustomer,
  randomIp,
  type TestCustomer,
  type TestTenant,
  unique,
} from '../helpers/factories';
import { call } from '../helpers/http';
import { awaitNotification, eventsOfType, notificationsFor } from '../helpers/outbox';
import { expectProblem } from '../helpers/problems';

const EMAIL = '/registration/email-verification';
const PHONE = '/registration/phone-verification';
/** Each test calls from its own address, clear of the per-IP limit on code checks. */
function caller(tenant: TestTenant, principal: { token: string }) {
  const ip = randomIp();
  return (path: string, body: Record<string, unknown>) =>
    call('POST', path, {
      tenant: tenant.id,
      token: principal.token,
      body,
      headers: { 'CF-Connecting-IP': ip },
    });
}

async function setUp() {
  const tenant = await createTenant();
  const customer = await createCustomer(tenant);
  return { tenant, customer, post: caller(tenant, customer) };
}

function codeRow(tenant: TestTenant, customer: TestCustomer, contact: 'EMAIL' | 'PHONE') {
  return and(
    eq(contactVerificationCodes.tenantId, tenant.id),
    eq(contactVerificationCodes.customerId, customer.customerId),
    eq(contactVerificationCodes.contact, contact),
  );
}

/** Moves the last code's issue time back past the resend interval. */
async function allowResend(tenant: TestTenant, customer: TestCustomer, contact: 'EMAIL' | 'PHONE') {
  await database(tenant)
    .update(contactVerificationCodes)
    .set({ createdAt: new Date(Date.now() - 61_000).toISOString() })
    .where(codeRow(tenant, customer, contact));
}

/** Any 6-digit code other than `code`. */
function wrong(code: string): string {
  return String((Number(code) + 1) % 1_000_000).padStart(6, '0');
}

describe('email verification', () => {
  it('registers, sends a code through the outbox, and confirming it makes the customer REGISTERED', async () => {
    const { tenant, customer, post } = await setUp();
    const issued = await post(EMAIL, { customerId: customer.customerId });
    expect(issued.status, issued.text).toBe(202);
    expect(issued.body).toMatchObject({ customerId: customer.customerId, contact: 'EMAIL' });
    const expiresIn = Date.parse(String(issued.body.expiresAt)) - Date.now();
    expect(expiresIn).toBeGreaterThan(9 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(10 * 60_000);

    const notification = await awaitNotification(tenant, customer.id, 1, 'code');
    expect(notification).toMatchObject({
      channel: 'EMAIL',
      template: 'EMAIL_VERIFICATION',
      customerId: customer.customerId,
      recipient: customer.email,
      expiresAt: issued.body.expiresAt,
    });
    expect(notification.code).toMatch(/^\d{6}$/);
    expect(notification).not.toHaveProperty('token');
    const stored = await database(tenant)
      .select()
      .from(contactVerificationCodes)
      .where(codeRow(tenant, customer, 'EMAIL'))
      .get();
    expect(stored?.codeDigest).toMatch(/^[\w-]{43}$/);
    expect(JSON.stringify(stored)).not.toContain(notification.code);

    const confirmed = await post(`${EMAIL}/confirm`, {
      customerId: customer.customerId,
      code: notification.code,
    });
    expect(confirmed.status, confirmed.text).toBe(200);
    expect(confirmed.body).toMatchObject({
      id: customer.customerId,
      status: 'REGISTERED',
      emailVerified: true,
      phoneVerified: false,
    });
    const read = await call('GET', `/customers/${customer.customerId}`, {
      tenant: tenant.id,
      token: customer.token,
    });
    expect(read.body).toMatchObject({ status: 'REGISTERED', emailVerified: true });

    expect((await eventsOfType(tenant, 'customer.contact_verified')).map((row) => row.data)).toEqual([
      { customerId: customer.customerId, contact: 'EMAIL' },
    ]);
    expect((await eventsOfType(tenant, 'customer.status_changed')).map((row) => row.data)).toContainEqual({
      customerId: customer.customerId,
      from: 'PENDING_EMAIL_VERIFICATION',
      to: 'REGISTERED',
      reason: 'Email address verified',
    });
    const audit = await database(tenant)
      .select({ action: auditEvents.action, data: auditEvents.data })
      .from(auditEvents)
      .where(and(eq(auditEvents.tenantId, tenant.id), eq(auditEvents.targetId, customer.customerId)));
    expect(audit).toContainEqual({ action: 'customer.verification_code_sent', data: { contact: 'EMAIL' } });
    expect(audit).toContainEqual({
      action: 'customer.contact_verified',
      data: { contact: 'EMAIL', from: 'PENDING_EMAIL_VERIFICATION', to: 'REGISTERED' },
    });

    // The code is spent and the email verified: nothing more to send or confirm.
    expect(
      await database(tenant)
        .select()
        .from(contactVerificationCodes)
        .where(codeRow(tenant, customer, 'EMAIL')),
    ).toEqual([]);
    expectProblem(await post(EMAIL, { customerId: customer.customerId }), 409, 'contact_already_verified');
    expectProblem(
      await post(`${EMAIL}/confirm`, { customerId: customer.customerId, code: notification.code }),
      409,
      'contact_already_verified',
    );
  });

  it('refuses a wrong code (422 invalid_code) and counts down the attempts left', async () => {
    const { tenant, customer, post } = await setUp();
    expect((await post(EMAIL, { customerId: customer.customerId })).status).toBe(202);
    const { code } = await awaitNotification(tenant, customer.id, 1, 'code');
    const response = await post(`${EMAIL}/confirm`, { customerId: customer.customerId, code: wrong(code) });
    expectProblem(response, 422, 'invalid_code');
    expect(response.body.attemptsRemaining).toBe(4);
    expect(response.body.detail).toMatch(/4 attempts left/);
    const right = await post(`${EMAIL}/confirm`, { customerId: customer.customerId, code });
    expect(right.status, right.text).toBe(200);
  });

  it('voids the code after 5 wrong attempts, so even the right one fails until a new code is sent', async () => {
    const { tenant, customer, post } = await setUp();
    expect((await post(EMAIL, { customerId: customer.customerId })).status).toBe(202);
    const { code } = await awaitNotification(tenant, customer.id, 1, 'code');
    for (let attempt = 1; attempt <= 5; attempt++) {
      const response = await post(`${EMAIL}/confirm`, { customerId: customer.customerId, code: wrong(code) });
      expectProblem(response, 422, 'invalid_code');
      expect(response.body.attemptsRemaining).toBe(5 - attempt);
    }
    const right = await post(`${EMAIL}/confirm`, { customerId: customer.customerId, code });
    expectProblem(right, 422, 'invalid_code');
    expect(right.body.detail).toMatch(/Request a new one/);

    await allowResend(tenant, customer, 'EMAIL');
    expect((await post(EMAIL, { customerId: customer.customerId })).status).toBe(202);
    const fresh = await awaitNotification(tenant, customer.id, 2, 'code');
    const confirmed = await post(`${EMAIL}/confirm`, { customerId: customer.customerId, code: fresh.code });
    expect(confirmed.status, confirmed.text).toBe(200);
  });

  it('refuses an expired code', async () => {
    const { tenant, customer, post } = await setUp();
    expect((await post(EMAIL, { customerId: customer.customerId })).status).toBe(202);
    const { code } = await awaitNotification(tenant, customer.id, 1, 'code');
    await database(tenant)
      .update(contactVerificationCodes)
      .set({ expiresAt: new Date(Date.now() - 1000).toISOString() })
      .where(codeRow(tenant, customer, 'EMAIL'));
    const response = await post(`${EMAIL}/confirm`, { customerId: customer.customerId, code });
    expectProblem(response, 422, 'invalid_code');
    expect(response.body.detail).toMatch(/expired/);
  });

  it('refuses a confirmation with no code sent', async () => {
    const { customer, post } = await setUp();
    expectProblem(
      await post(`${EMAIL}/confirm`, { customerId: customer.customerId, code: '123456' }),
      422,
      'invalid_code',
    );
  });

  it('sends at most one code a minute (429 with Retry-After); a new code voids the old one', async () => {
    const { tenant, customer, post } = await setUp();
    expect((await post(EMAIL, { customerId: customer.customerId })).status).toBe(202);
    const first = await awaitNotification(tenant, customer.id, 1, 'code');
    const again = await post(EMAIL, { customerId: customer.customerId });
    expectProblem(again, 429, 'rate_limited');
    const retryAfter = Number(again.headers.get('Retry-After'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await notificationsFor(tenant, customer.id)).toHaveLength(1);

    await allowResend(tenant, customer, 'EMAIL');
    expect((await post(EMAIL, { customerId: customer.customerId })).status).toBe(202);
    const second = await awaitNotification(tenant, customer.id, 2, 'code');
    if (first.code !== second.code) {
      expectProblem(
        await post(`${EMAIL}/confirm`, { customerId: customer.customerId, code: first.code }),
        422,
        'invalid_code',
      );
    }
    const confirmed = await post(`${EMAIL}/confirm`, { customerId: customer.customerId, code: second.code });
    expect(confirmed.status, confirmed.text).toBe(200);
  });

  it("answers 404 for another customer's id, and for another tenant's customer", async () => {
    const { tenant, customer, post } = await setUp();
    const other = await createCustomer(tenant);
    expectProblem(await post(EMAIL, { customerId: other.customerId }), 404, 'not_found');
    expectProblem(
      await post(`${EMAIL}/confirm`, { customerId: other.customerId, code: '123456' }),
      404,
      'not_found',
    );
    expect(await notificationsFor(tenant, other.id)).toEqual([]);

    const elsewhere = await createTenant();
    const outsider = await createStaff(elsewhere);
    const response = await call('POST', EMAIL, {
      tenant: elsewhere.id,
      token: outsider.token,
      body: { customerId: customer.customerId },
    });
    expectProblem(response, 404, 'not_found');
    expect(response.text).not.toContain(customer.customerId);
  });

  it('redacts the code in GET /events; the webhook receiver alone gets it', async () => {
    const { tenant, customer, post } = await setUp();
    expect((await post(EMAIL, { customerId: customer.customerId })).status).toBe(202);
    const { code } = await awaitNotification(tenant, customer.id, 1, 'code');
    const staff = await createStaff(tenant);
    const page = await call<{ data: { id: string; data: Record<string, unknown> }[] }>(
      'GET',
      '/events?type=notification.requested',
      { tenant: tenant.id, token: staff.token },
    );
    expect(page.status, page.text).toBe(200);
    expect(page.body.data[0]?.data).toMatchObject({ template: 'EMAIL_VERIFICATION', code: '[redacted]' });
    expect(page.text).not.toContain(code);
  });
});

describe('phone verification', () => {
  it('lets staff send a code by SMS; confirming sets phoneVerified and leaves the status alone', async () => {
    const { tenant, customer, post } = await setUp();
    const agent = await createStaff(tenant, 'SUPPORT_AGENT');
    const issued = await caller(tenant, agent)(PHONE, { customerId: customer.customerId });
    expect(issued.status, issued.text).toBe(202);
    expect(issued.body).toMatchObject({ contact: 'PHONE' });
    const notification = await awaitNotification(tenant, customer.id, 1, 'code');
    expect(notification).toMatchObject({
      channel: 'SMS',
      template: 'PHONE_VERIFICATION',
      recipient: '+447911123456',
    });
    // An email code is a different secret: the phone code does not confirm the email.
    expectProblem(
      await post(`${EMAIL}/confirm`, { customerId: customer.customerId, code: notification.code }),
      422,
      'invalid_code',
    );
    const confirmed = await post(`${PHONE}/confirm`, {
      customerId: customer.customerId,
      code: notification.code,
    });
    expect(confirmed.status, confirmed.text).toBe(200);
    expect(confirmed.body).toMatchObject({
      status: 'PENDING_EMAIL_VERIFICATION',
      phoneVerified: true,
      emailVerified: false,
    });
    expect((await eventsOfType(tenant, 'customer.contact_verified')).map((row) => row.data)).toEqual([
      { customerId: customer.customerId, contact: 'PHONE' },
    ]);
    expect(
      (await eventsOfType(tenant, 'customer.status_changed')).filter(
        (row) => row.data.customerId === customer.customerId,
      ),
    ).toEqual([]);
  });

  it('voids a code sent to a phone number the customer has since changed', async () => {
    const { tenant, customer, post } = await setUp();
    expect((await post(PHONE, { customerId: customer.customerId })).status).toBe(202);
    const { code } = await awaitNotification(tenant, customer.id, 1, 'code');
    const changed = await call('PATCH', `/customers/${customer.customerId}`, {
      tenant: tenant.id,
      token: customer.token,
      body: { phone: '+447911123457' },
    });
    expect(changed.status, changed.text).toBe(200);
    const response = await post(`${PHONE}/confirm`, { customerId: customer.customerId, code });
    expectProblem(response, 422, 'invalid_code');
    expect(response.body.detail).toMatch(/no longer has/);
  });
});

describe('contacts that cannot be verified', () => {
  it('refuses a customer without a phone number (409 no_phone_number) and a closed one (409 customer_closed)', async () => {
    const tenant = await createTenant();
    const post = caller(tenant, await createStaff(tenant));
    // Registration asks for a phone; a customer made otherwise may have none.
    const customer = {
      customerId: await insertCustomer(tenant, {
        type: 'INDIVIDUAL',
        status: 'REGISTERED',
        email: `${unique('ada')}@example.com`,
        phone: null,
        displayName: 'Ada Lovelace',
        profile: { firstName: 'Ada', lastName: 'Lovelace' },
      }),
    };
    expectProblem(await post(PHONE, { customerId: customer.customerId }), 409, 'no_phone_number');
    await database(tenant)
      .update(customers)
      .set({ status: 'CLOSED' })
      .where(eq(customers.id, customer.customerId));
    expectProblem(await post(EMAIL, { customerId: customer.customerId }), 409, 'customer_closed');
  });
});
