import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditEvents, consents, events, users } from '../../src/db/tenant';
import {
  createApiClient,
  createCustomer,
  createStaff,
  createTenant,
  database,
  individualInput,
  logIn,
  randomIp,
  STAFF_PASSWORD,
  type TestSession,
  type TestTenant,
} from '../helpers/factories';
import { call } from '../helpers/http';
import { expectProblem } from '../helpers/problems';

function yearsAgo(years: number, days = 0): string {
  const date = new Date();
  date.setUTCFullYear(date.getUTCFullYear() - years);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

function passwordLogin(tenant: TestTenant, body: Record<string, unknown>) {
  return call('POST', '/auth/login', {
    tenant: tenant.id,
    body,
    headers: { 'CF-Connecting-IP': randomIp() },
  });
}

describe('POST /individuals', () => {
  it('self-registers a customer with its login, consents, audit row and outbox event in one batch', async () => {
    const tenant = await createTenant({ tier: 'STARTER' });
    const input = individualInput({
      email: '  Ada.Mixed@Example.COM ',
      consents: { termsAndConditions: true, privacyPolicy: true, marketing: true },
    });
    const response = await call<Record<string, unknown> & { id: string; userId: string }>(
      'POST',
      '/individuals',
      {
        tenant: tenant.id,
        body: input,
        headers: { 'User-Agent': 'registration-test/1.0', 'CF-Connecting-IP': '198.51.100.4' },
      },
    );
    expect(response.status, response.text).toBe(201);
    expect(response.body).toMatchObject({
      type: 'INDIVIDUAL',
      status: 'PENDING_EMAIL_VERIFICATION',
      email: 'ada.mixed@example.com',
      emailVerified: false,
      individual: { firstName: 'Ada', lastName: 'Lovelace', nationality: 'GB', address: { country: 'GB' } },
    });
    expect(response.body).not.toHaveProperty('password');
    expect(response.body.id).toMatch(/^cus_/);
    expect(response.body.userId).toMatch(/^usr_/);
    expect(response.headers.get('Location')).toBe(`/v2/customer/customers/${response.body.id}`);

    const db = database(tenant);
    const user = await db.select().from(users).where(eq(users.id, response.body.userId)).get();
    expect(user).toMatchObject({ kind: 'CUSTOMER', customerId: response.body.id });
    // The login's email is the customer's personal data: sealed under its key, found by digest.
    expect(user?.email).toMatch(/^v1\./);
    // No `@` survives sealing (base64url has none), nor the name.
    expect(JSON.stringify(user)).not.toMatch(/@|lovelace/i);
    expect(user?.passwordHash).toMatch(/^pbkdf2-sha256\$100000\$/);

    const granted = await db.select().from(consents).where(eq(consents.customerId, response.body.id));
    expect(granted.map((consent) => consent.type).sort()).toEqual([
      'MARKETING',
      'PRIVACY_POLICY',
      'TERMS_AND_CONDITIONS',
    ]);
    expect(granted[0]).toMatchObject({
      status: 'GRANTED',
      ip: '198.51.100.4',
      userAgent: 'registration-test/1.0',
      version: '1.0',
    });

    const audit = await db.select().from(auditEvents).where(eq(auditEvents.targetId, response.body.id));
    expect(audit).toEqual([
      expect.objectContaining({ action: 'customer.registered', actorType: 'anonymous' }),
    ]);
    const outbox = await db
      .select()
      .from(events)
      .where(and(eq(events.tenantId, tenant.id), eq(events.type, 'customer.created')));
    expect(outbox.map((event) => event.data)).toContainEqual({
      customerId: response.body.id,
      type: 'INDIVIDUAL',
      status: 'PENDING_EMAIL_VERIFICATION',
    });
  });

  it('lets staff and API clients with customers:write register customers', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant, 'SUPPORT_AGENT');
    const byStaff = await call('POST', '/individuals', {
      tenant: tenant.id,
      token: staff.token,
      body: individualInput(),
    });
    expect(byStaff.status).toBe(201);
    const client = await createApiClient(tenant, ['customers:write']);
    const byClient = await call('POST', '/individuals', {
      tenant: tenant.id,
      token: client.token,
      body: individualInput(),
    });
    expect(byClient.status).toBe(201);
    const audit = await database(tenant)
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.targetId, String(byClient.body.id)))
      .get();
    expect(audit).toMatchObject({ actorType: 'client', actorId: client.id });
  });

  it('refuses authenticated callers without customers:write, such as a customer', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const response = await call('POST', '/individuals', {
      tenant: tenant.id,
      token: customer.token,
      body: individualInput(),
    });
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ code: 'forbidden', permission: 'customers:write' });
  });

  it('answers 409 email_taken for an email already in use, whatever its case', async () => {
    const tenant = await createTenant();
    const first = await createCustomer(tenant);
    const response = await call('POST', '/individuals', {
      tenant: tenant.id,
      body: individualInput({ email: first.email.toUpperCase() }),
    });
    expect(response.status).toBe(409);
    expect(response.body.code).toBe('email_taken');
  });

  it('keeps staff and customers in separate email namespaces: a staff email registers a new customer', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const input = individualInput({ email: admin.email.toUpperCase() });
    const registered = await call<{ id: string; userId: string }>('POST', '/individuals', {
      tenant: tenant.id,
      body: input,
    });
    expect(registered.status, registered.text).toBe(201);
    expect(registered.body.userId).not.toBe(admin.id);

    const principalOf = async (session: TestSession) =>
      (await call<{ principal: unknown }>('GET', '/me', { tenant: tenant.id, token: session.accessToken }))
        .body.principal;
    expect(await principalOf(await logIn(tenant, admin.email, input.password))).toMatchObject({
      id: registered.body.userId,
      kind: 'CUSTOMER',
      customerId: registered.body.id,
    });
    expect(await principalOf(await logIn(tenant, admin.email, STAFF_PASSWORD, 'STAFF'))).toMatchObject({
      id: admin.id,
      kind: 'STAFF',
    });
    // No fall-back from one namespace to the other: the staff password is no customer's.
    expectProblem(
      await passwordLogin(tenant, { email: admin.email, password: STAFF_PASSWORD }),
      401,
      'invalid_credentials',
    );

    expectProblem(
      await call('POST', '/individuals', {
        tenant: tenant.id,
        body: individualInput({ email: admin.email }),
      }),
      409,
      'email_taken',
    );
  });

  it('accepts the same email in another tenant', async () => {
    const first = await createTenant();
    const second = await createTenant();
    const customer = await createCustomer(first);
    const response = await call('POST', '/individuals', {
      tenant: second.id,
      body: individualInput({ email: customer.email }),
    });
    expect(response.status).toBe(201);
  });

  it('lets exactly one of twenty parallel registrations with one email through; the rest get 409', async () => {
    const tenant = await createTenant();
    const input = individualInput();
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => call('POST', '/individuals', { tenant: tenant.id, body: input })),
    );
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 409)).toHaveLength(19);
    for (const response of responses.filter((r) => r.status === 409))
      expect(response.body.code).toBe('email_taken');
  });

  it.each([
    ['an under-18 date of birth', { dateOfBirth: yearsAgo(18, 1) }, 'dateOfBirth'],
    ['a future date of birth', { dateOfBirth: yearsAgo(-1) }, 'dateOfBirth'],
    ['an impossible date', { dateOfBirth: '1990-02-30' }, 'dateOfBirth'],
    ['a short password', { password: 'short' }, 'password'],
    [
      'the email as password',
      { email: 'charles.babbage.x@example.com', password: 'charles.babbage.x@example.com' },
      'password',
    ],
    ['a non-E.164 phone', { phone: '07911 123456' }, 'phone'],
    ['an unknown country', { nationality: 'XX' }, 'nationality'],
    ['an unknown gender', { gender: 'N/A' }, 'gender'],
    [
      'terms not accepted',
      { consents: { termsAndConditions: false, privacyPolicy: true } },
      'consents.termsAndConditions',
    ],
    ['a missing first name', { firstName: '   ' }, 'firstName'],
  ])('refuses %s with 422 naming the field', async (_label, overrides, path) => {
    const tenant = await createTenant();
    const response = await call('POST', '/individuals', {
      tenant: tenant.id,
      body: individualInput(overrides),
    });
    expect(response.status, response.text).toBe(422);
    expect(response.body.code).toBe('validation_failed');
    expect((response.body.errors as { path: string }[]).map((error) => error.path)).toContain(path);
  });

  it('accepts someone who turns 18 today', async () => {
    const tenant = await createTenant();
    const response = await call('POST', '/individuals', {
      tenant: tenant.id,
      body: individualInput({ dateOfBirth: yearsAgo(18) }),
    });
    expect(response.status, response.text).toBe(201);
  });

  it('is available on every tier (SCT01) and needs no token', async () => {
    for (const tier of ['STARTER', 'PROFESSIONAL', 'ENTERPRISE'] as const) {
      const tenant = await createTenant({ tier });
      expect(
        (await call('POST', '/individuals', { tenant: tenant.id, body: individualInput() })).status,
      ).toBe(201);
    }
  });

  it('is refused to a CUSTOM tenant configured without SCT01', async () => {
    const tenant = await createTenant({ tier: 'CUSTOM', capabilities: ['SCT11'] });
    const response = await call('POST', '/individuals', { tenant: tenant.id, body: individualInput() });
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ code: 'capability_not_enabled', capability: 'SCT01' });
  });
});
