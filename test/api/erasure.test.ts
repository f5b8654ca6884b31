import { env } from 'cloudflare:test';
import { eq, getTableName, is } from 'drizzle-orm';
import { SQLiteTable } from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import * as tenantSchema from '../../src/db/tenant';
import { consents, customerKeys, customers, idempotencyKeys, sessions, users } from '../../src/db/tenant';
import { startSession } from '../../src/modules/auth/sessions';
import { commitUnlessErased } from '../../src/modules/customers/service';
import { systemContext } from '../../src/platform/context';
import { decryptField } from '../../src/platform/field-encryption';
import { newId } from '../../src/platform/ids';
import { emailDigest } from '../../src/platform/lookup-digests';
import { requireActiveTenant } from '../../src/platform/tenancy';
import {
  createApiClient,
  createCustomer,
  createOrganization,
  createStaff,
  createTenant,
  database,
  individualInput,
  logIn,
  type TestTenant,
  unique,
} from '../helpers/factories';
import { call } from '../helpers/http';
import { awaitNotification, eventsOfType } from '../helpers/outbox';
import { expectProblem } from '../helpers/problems';

const erasurePath = (customerId: string) => `/customers/${customerId}/erasure`;
const holdPath = (customerId: string) => `/customers/${customerId}/legal-hold`;

/** Every row the tenant's database holds for `tenant`, in every table, as one JSON text. */
async function everythingStoredFor(tenant: TestTenant): Promise<string> {
  const d1 = (env as unknown as Record<string, D1Database>)[tenant.binding] as D1Database;
  const tables = Object.values(tenantSchema)
    .filter((value) => is(value, SQLiteTable))
    .map((table) => getTableName(table));
  const dumps = await Promise.all(
    tables.map((table) => d1.prepare(`SELECT * FROM "${table}" WHERE tenant_id = ?`).bind(tenant.id).all()),
  );
  return JSON.stringify(dumps.map((dump) => dump.results));
}

describe('POST /customers/{customerId}/erasure', () => {
  it('erases an organization with more logins than one statement may name', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const organization = await createOrganization(tenant);
    const db = database(tenant);
    const now = new Date().toISOString();
    const emails = Array.from({ length: 120 }, () => `${unique('employee')}@example.com`);
    const digests = await Promise.all(
      emails.map((email) => emailDigest(env.FIELD_ENCRYPTION_KEY, tenant.id, email)),
    );
    const [first, ...rest] = emails.map((email, index) =>
      db.insert(users).values({
        id: newId('user'),
        tenantId: tenant.id,
        email,
        emailDigest: digests[index] as string,
        kind: 'CUSTOMER',
        customerId: organization.customerId,
        passwordHash: 'unusable',
        displayName: 'Employee',
        createdAt: now,
        updatedAt: now,
      }),
    );
    if (first) await db.batch([first, ...rest]);
    const erased = await call('POST', erasurePath(organization.customerId), {
      tenant: tenant.id,
      token: staff.token,
      body: { reference: 'DSR-ORG-1' },
    });
    expect(erased.status, erased.text).toBe(200);
    expect(await db.select().from(users).where(eq(users.customerId, organization.customerId))).toEqual([]);
  });

  it('runs the B2C journey to its end: register, confirm, log in, update, export, erase — and nothing personal is left', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const marker = unique('Quorra').replaceAll('-', '');
    const ip = '198.51.100.77';
    const userAgent = `JourneyBrowser/${marker}`;
    const input = individualInput({
      firstName: marker,
      lastName: `Lovelace${marker}`,
      address: { line1: `1 ${marker} Street`, city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
    });
    const asVisitor = { tenant: tenant.id, headers: { 'CF-Connecting-IP': ip, 'User-Agent': userAgent } };

    const registered = await call<{ id: string; userId: string }>('POST', '/individuals', {
      ...asVisitor,
      body: input,
    });
    expect(registered.status, registered.text).toBe(201);
    const customerId = registered.body.id;
    const session = await logIn(tenant, input.email, input.password);
    const asCustomer = { tenant: tenant.id, token: session.accessToken };

    const sent = await call('POST', '/registration/email-verification', {
      ...asCustomer,
      body: { customerId },
    });
    expect(sent.status, sent.text).toBe(202);
    const { code } = await awaitNotification(tenant, registered.body.userId, 1, 'code');
    const confirmed = await call('POST', '/registration/email-verification/confirm', {
      ...asCustomer,
      body: { customerId, code },
    });
    expect(confirmed.body).toMatchObject({ status: 'REGISTERED', emailVerified: true });

    const updated = await call('PATCH', `/customers/${customerId}`, {
      ...asCustomer,
      body: { occupation: `Analyst of ${marker}` },
    });
    expect(updated.status, updated.text).toBe(200);
    const exported = await call('GET', `/customers/${customerId}/export`, asCustomer);
    expect(exported.status, exported.text).toBe(200);
    expect(exported.text).toContain(input.email);
    expect(exported.text).toContain(`Analyst of ${marker}`);

    // The scan below reads what it should: the consents' IP and user agent are there until the erasure.
    const before = await everythingStoredFor(tenant);
    expect(before).toContain(ip);
    expect(before).toContain(userAgent);
    expect(before).not.toContain(input.email);

    const erased = await call('POST', erasurePath(customerId), {
      tenant: tenant.id,
      token: staff.token,
      body: { reference: 'DSR-2026-0042' },
    });
    expect(erased.status, erased.text).toBe(200);
    expect(erased.body).toMatchObject({
      id: customerId,
      status: 'CLOSED',
      email: null,
      phone: null,
      individual: null,
      erasedAt: expect.any(String),
    });

    // Through the API: a tombstone, and every other door shut.
    const asStaff = { tenant: tenant.id, token: staff.token };
    const read = await call('GET', `/customers/${customerId}`, asStaff);
    expect(read.body).toMatchObject({ id: customerId, status: 'CLOSED', email: null, individual: null });
    expectProblem(await call('GET', `/customers/${customerId}/export`, asStaff), 409, 'customer_erased');
    expectProblem(await call('GET', `/customers/${customerId}/consents`, asStaff), 409, 'customer_erased');
    expectProblem(
      await call('POST', '/registration/email-verification', { ...asStaff, body: { customerId } }),
      409,
      'customer_erased',
    );
    expectProblem(
      await call('PATCH', `/customers/${customerId}`, { ...asStaff, body: { occupation: 'x' } }),
      409,
      'customer_erased',
    );
    expectProblem(await call('GET', '/me', asCustomer), 401, 'invalid_token');
    expectProblem(
      await call('POST', '/auth/refresh', {
        tenant: tenant.id,
        body: { refreshToken: session.refreshToken },
      }),
      401,
      'invalid_refresh_token',
    );
    expectProblem(
      await call('POST', '/auth/login', {
        tenant: tenant.id,
        body: { email: input.email, password: input.password },
      }),
      401,
      'invalid_credentials',
    );
    const byEmail = await call<{ data: unknown[] }>(
      'GET',
      `/customers?email=${encodeURIComponent(input.email)}`,
      asStaff,
    );
    expect(byEmail.body.data).toEqual([]);
    const byName = await call<{ data: unknown[] }>('GET', `/customers?q=${marker}`, asStaff);
    expect(byName.body.data).toEqual([]);
    const eventLog = await call<{ data: { type: string; data: Record<string, unknown> }[] }>(
      'GET',
      '/events?limit=100',
      asStaff,
    );
    const notification = eventLog.body.data.find((entry) => entry.type === 'notification.requested');
    expect(notification?.data).toMatchObject({ recipient: '[erased]', customerId });
    expect(eventLog.body.data.map((entry) => entry.type)).toContain('customer.erased');
    const audit = await call('GET', '/audit-events?limit=100', asStaff);
    expect(audit.body).toMatchObject({
      data: expect.arrayContaining([
        expect.objectContaining({ action: 'customer.erased', targetId: customerId }),
      ]),
    });
    for (const text of [read.text, eventLog.text, audit.text]) {
      expect(text).not.toContain(marker);
      expect(text).not.toContain(input.email);
      expect(text).not.toContain(ip);
    }

    // In the database itself: not one personal value of the customer, in any table.
    const stored = await everythingStoredFor(tenant);
    for (const value of [marker, input.email, input.phone, ip, userAgent])
      expect(stored).not.toContain(value);

    // The address is free for a new registration.
    const again = await call('POST', '/individuals', {
      tenant: tenant.id,
      body: individualInput({ email: input.email }),
    });
    expect(again.status, again.text).toBe(201);
  });

  it('shreds the key: a copy of the row taken before the erasure cannot be opened after it', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const customer = await createCustomer(tenant);
    const db = database(tenant);
    const backup = await db
      .select()
      .from(customerKeys)
      .where(eq(customerKeys.customerId, customer.customerId))
      .get();
    const row = await db.select().from(customers).where(eq(customers.id, customer.customerId)).get();
    expect(backup?.wrappedKey).toMatch(/^v1\./);
    expect(row?.personal).toMatch(/^v1\./);

    const erased = await call('POST', erasurePath(customer.customerId), {
      tenant: tenant.id,
      token: staff.token,
      body: {},
    });
    expect(erased.status, erased.text).toBe(200);
    expect(
      await db.select().from(customerKeys).where(eq(customerKeys.customerId, customer.customerId)).get(),
    ).toBeUndefined();
    expect(
      await db.select().from(customers).where(eq(customers.id, customer.customerId)).get(),
    ).toMatchObject({
      personal: null,
      emailDigest: null,
      status: 'CLOSED',
    });
    // The sealed profile is bound to its key: the tenant-wide root key alone does not open it.
    await expect(
      decryptField(
        {
          rootKey: env.FIELD_ENCRYPTION_KEY,
          tenantId: tenant.id,
          purpose: 'customer-personal',
          recordId: customer.customerId,
        },
        String(row?.personal),
      ),
    ).rejects.toThrow();
  });

  it('erases an organization with its people and every login of its employees', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const organization = await createOrganization(tenant);
    const asStaff = { tenant: tenant.id, token: staff.token };
    const director = await call('POST', `/organizations/${organization.customerId}/directors`, {
      ...asStaff,
      headers: { 'Idempotency-Key': 'director-1' },
      body: { firstName: 'Charles', lastName: 'Babbage', role: 'MANAGING_DIRECTOR', isPep: false },
    });
    expect(director.status, director.text).toBe(201);
    // The reply kept for a retry names the director, so it is sealed, and filed under the organization.
    const replies = () =>
      database(tenant)
        .select()
        .from(idempotencyKeys)
        .where(eq(idempotencyKeys.subjectId, organization.customerId));
    expect(await replies()).toEqual([
      expect.objectContaining({ responseBody: expect.stringMatching(/^v1\./) }),
    ]);
    const exported = await call<{ organizationPeople: { kind: string; details: Record<string, unknown> }[] }>(
      'GET',
      `/customers/${organization.customerId}/export`,
      asStaff,
    );
    expect(exported.body.organizationPeople).toEqual([
      expect.objectContaining({ kind: 'EMPLOYEE', details: expect.objectContaining({ firstName: 'Grace' }) }),
      expect.objectContaining({
        kind: 'DIRECTOR',
        details: expect.objectContaining({ lastName: 'Babbage' }),
      }),
    ]);

    const erased = await call('POST', erasurePath(organization.customerId), { ...asStaff, body: {} });
    expect(erased.status, erased.text).toBe(200);
    expect(erased.body).toMatchObject({ type: 'BUSINESS', organization: null, erasedAt: expect.any(String) });
    expectProblem(
      await call('GET', `/organizations/${organization.customerId}`, asStaff),
      409,
      'customer_erased',
    );
    expectProblem(
      await call('GET', '/me', { tenant: tenant.id, token: organization.token }),
      401,
      'invalid_token',
    );
    const stored = await everythingStoredFor(tenant);
    expect(stored).not.toContain('Babbage');
    expect(stored).not.toContain('Grace');
    expect(await replies()).toEqual([]);
  });

  it('fails a change that adds rows about a customer erased meanwhile, leaving nothing behind', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const customer = await createCustomer(tenant);
    const erased = await call('POST', erasurePath(customer.customerId), {
      tenant: tenant.id,
      token: staff.token,
      body: {},
    });
    expect(erased.status, erased.text).toBe(200);
    // What a consent grant that read the customer just before the erasure would commit after it.
    const db = database(tenant);
    const ctx = systemContext(env, await requireActiveTenant(env, tenant.id), db);
    const consentId = newId('consent');
    await expect(
      commitUnlessErased(ctx, customer.customerId, {
        statements: [
          db.insert(consents).values({
            id: consentId,
            tenantId: tenant.id,
            customerId: customer.customerId,
            type: 'MARKETING',
            version: '1.0',
            status: 'GRANTED',
            acceptedAt: new Date().toISOString(),
            ip: '198.51.100.9',
          }),
        ],
        audit: [{ action: 'consent.granted', targetType: 'customer', targetId: customer.customerId }],
        events: [],
      }),
    ).rejects.toMatchObject({ code: 'customer_erased' });
    expect(await db.select().from(consents).where(eq(consents.id, consentId))).toEqual([]);
  });

  it('gives no session to a login erased or disabled while its password was checked', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const db = database(tenant);
    const user = await db.select().from(users).where(eq(users.id, customer.id)).get();
    if (!user) throw new Error('no login');
    await db.update(users).set({ status: 'DISABLED' }).where(eq(users.id, customer.id));
    const ctx = systemContext(env, await requireActiveTenant(env, tenant.id), db);
    await expect(startSession(ctx, user, ['pwd'])).rejects.toMatchObject({ code: 'invalid_credentials' });
    const open = await db.select().from(sessions).where(eq(sessions.userId, customer.id));
    expect(open.filter((session) => session.id !== customer.sessionId)).toEqual([]);
  });

  it('is final: a second erasure answers 409 customer_erased', async () => {
    const tenant = await createTenant();
    const client = await createApiClient(tenant, ['customers:erase']);
    const customer = await createCustomer(tenant);
    const erase = () =>
      call('POST', erasurePath(customer.customerId), { tenant: tenant.id, token: client.token, body: {} });
    expect((await erase()).status).toBe(200);
    expectProblem(await erase(), 409, 'customer_erased');
  });

  it('is for staff with customers:erase: the customer itself and support agents get 403', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const support = await createStaff(tenant, 'SUPPORT_AGENT');
    for (const token of [customer.token, support.token]) {
      expectProblem(
        await call('POST', erasurePath(customer.customerId), { tenant: tenant.id, token, body: {} }),
        403,
        'forbidden',
      );
    }
  });
});

describe('legal holds', () => {
  it('blocks erasure while it applies (409 legal_hold) and lets it through once released', async () => {
    const tenant = await createTenant();
    const officer = await createStaff(tenant, 'COMPLIANCE_OFFICER');
    const admin = await createStaff(tenant);
    const customer = await createCustomer(tenant);
    const asOfficer = { tenant: tenant.id, token: officer.token };

    expect((await call('GET', holdPath(customer.customerId), asOfficer)).body).toMatchObject({
      active: false,
    });
    const placed = await call('PUT', holdPath(customer.customerId), {
      ...asOfficer,
      body: { reason: 'AML record keeping (case 117)' },
    });
    expect(placed.body).toMatchObject({
      customerId: customer.customerId,
      active: true,
      reason: 'AML record keeping (case 117)',
      placedBy: officer.id,
    });
    const restated = await call('PUT', holdPath(customer.customerId), {
      ...asOfficer,
      body: { reason: 'AML record keeping (case 118)' },
    });
    expect(restated.body).toMatchObject({
      reason: 'AML record keeping (case 118)',
      placedAt: placed.body.placedAt,
    });

    const erase = () =>
      call('POST', erasurePath(customer.customerId), { tenant: tenant.id, token: admin.token, body: {} });
    expectProblem(await erase(), 409, 'legal_hold');
    expect((await call('GET', `/customers/${customer.customerId}`, asOfficer)).body).toMatchObject({
      erasedAt: null,
    });
    // Customers are never told of a hold.
    expectProblem(
      await call('GET', holdPath(customer.customerId), { tenant: tenant.id, token: customer.token }),
      403,
      'forbidden',
    );

    expect((await call('DELETE', holdPath(customer.customerId), asOfficer)).status).toBe(204);
    expectProblem(await call('DELETE', holdPath(customer.customerId), asOfficer), 409, 'no_legal_hold');
    expect((await erase()).status).toBe(200);
    expect((await eventsOfType(tenant, 'customer.legal_hold_placed')).map((row) => row.data)).toEqual([
      { customerId: customer.customerId },
    ]);
    expect((await eventsOfType(tenant, 'customer.legal_hold_released')).map((row) => row.data)).toEqual([
      { customerId: customer.customerId },
    ]);
  });

  it('never lets an erasure and a hold placed at the same time both succeed', async () => {
    const tenant = await createTenant();
    const officer = await createStaff(tenant, 'COMPLIANCE_OFFICER');
    const admin = await createStaff(tenant);
    const customers = await Promise.all(Array.from({ length: 10 }, () => createCustomer(tenant)));
    const outcomes = await Promise.all(
      customers.map(async (customer) => {
        const [hold, erasure] = await Promise.all([
          call('PUT', holdPath(customer.customerId), {
            tenant: tenant.id,
            token: officer.token,
            body: { reason: 'AML investigation' },
          }),
          call('POST', erasurePath(customer.customerId), { tenant: tenant.id, token: admin.token, body: {} }),
        ]);
        return [hold.status, erasure.status];
      }),
    );
    // One of the two may win; the other answers 409 (concurrent_update, legal_hold or customer_erased).
    for (const [hold, erasure] of outcomes) {
      expect([hold, erasure].sort()).toEqual([200, 409]);
    }
  });

  it('refuses a hold without a reason (422)', async () => {
    const tenant = await createTenant();
    const officer = await createStaff(tenant, 'COMPLIANCE_OFFICER');
    const customer = await createCustomer(tenant);
    const response = await call('PUT', holdPath(customer.customerId), {
      tenant: tenant.id,
      token: officer.token,
      body: { reason: '  ' },
    });
    expectProblem(response, 422, 'validation_failed');
  });
});
