import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditEvents, beneficiaries } from '../../src/db/tenant';
import {
  createApiClient,
  createCustomer,
  createEmployee,
  createOrganization,
  createStaff,
  createTenant,
  database,
  randomIp,
  staleAccessToken,
  type TestCustomer,
  type TestTenant,
} from '../helpers/factories';
import { call } from '../helpers/http';
import { eventsOfType } from '../helpers/outbox';
import { expectProblem } from '../helpers/problems';

interface Beneficiary {
  id: string;
  customerId: string;
  name: string;
  nickname: string | null;
  email: string | null;
  status: string;
  network: string;
  account: Record<string, string | null>;
  modulusCheck: string | null;
  payeeVerification: { status: string; suggestedName: string | null; scheme: string | null };
  confirmationExpiresAt: string | null;
  payeeWarningAcknowledgedAt: string | null;
}

const sepaBody = (overrides: Record<string, unknown> = {}) => ({
  name: 'Ada Lovelace',
  type: 'INDIVIDUAL',
  network: 'SEPA',
  currency: 'EUR',
  country: 'DE',
  account: { iban: 'DE89370400440532013000', bic: 'DEUTDEFF' },
  ...overrides,
});

const listPath = (customerId: string) => `/customers/${customerId}/beneficiaries`;

function add(tenant: TestTenant, token: string, customerId: string, body: unknown) {
  return call<Beneficiary>('POST', listPath(customerId), { tenant: tenant.id, token, body });
}

async function stale(tenant: TestTenant, customer: TestCustomer) {
  return staleAccessToken(tenant, customer);
}

async function stepUp(tenant: TestTenant, token: string, password: string) {
  const stepped = await call<{ accessToken: string }>('POST', '/auth/step-up', {
    tenant: tenant.id,
    token,
    body: { method: 'PASSWORD', password },
    headers: { 'CF-Connecting-IP': randomIp() },
  });
  expect(stepped.status, stepped.text).toBe(200);
  return stepped.body.accessToken;
}

describe('POST /customers/{customerId}/beneficiaries', () => {
  it('adds a trusted (ACTIVE) beneficiary for a fresh login, normalising the account, and verifies the payee', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const created = await add(
      tenant,
      customer.token,
      customer.customerId,
      sepaBody({ account: { iban: 'de89 3704 0044 0532 0130 00', bic: 'deut-de-ff' }, nickname: 'Landlord' }),
    );
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      status: 'ACTIVE',
      name: 'Ada Lovelace',
      nickname: 'Landlord',
      account: { iban: 'DE89370400440532013000', bic: 'DEUTDEFF', last4: '3000' },
      payeeVerification: { status: 'MATCH', scheme: 'VOP', suggestedName: null },
      confirmationExpiresAt: null,
    });
    expect(created.body.id).toMatch(/^ben_/);
    const stored = await database(tenant)
      .select()
      .from(beneficiaries)
      .where(eq(beneficiaries.id, created.body.id))
      .get();
    // Sealed at rest: neither the name nor the IBAN is in the row, only the last four characters.
    expect(JSON.stringify(stored)).not.toContain('Lovelace');
    expect(JSON.stringify(stored)).not.toContain('370400440532013000');
    expect(stored?.last4).toBe('3000');
    const created_ = await eventsOfType(tenant, 'beneficiary.created');
    expect(created_.map((e) => e.data)).toEqual([
      { customerId: customer.customerId, beneficiaryId: created.body.id, network: 'SEPA', status: 'ACTIVE' },
    ]);
    expect((await eventsOfType(tenant, 'beneficiary.payee_verified')).map((e) => e.data.status)).toEqual([
      'MATCH',
    ]);
  });

  it('adds a PENDING_CONFIRMATION beneficiary without a recent authentication, and always for API clients and staff', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const pending = await add(tenant, await stale(tenant, customer), customer.customerId, sepaBody());
    expect(pending.status, pending.text).toBe(201);
    expect(pending.body.status).toBe('PENDING_CONFIRMATION');
    const deadline = new Date(pending.body.confirmationExpiresAt as string).getTime() - Date.now();
    expect(deadline).toBeGreaterThan(23 * 3600 * 1000);
    expect(deadline).toBeLessThanOrEqual(24 * 3600 * 1000);

    const client = await createApiClient(tenant, ['beneficiaries:write']);
    const byClient = await add(
      tenant,
      client.token,
      customer.customerId,
      sepaBody({ account: { iban: 'FR1420041010050500013M02606' }, country: 'FR' }),
    );
    expect(byClient.body.status).toBe('PENDING_CONFIRMATION');
    const staff = await createStaff(tenant);
    const byStaff = await add(
      tenant,
      staff.token,
      customer.customerId,
      sepaBody({ account: { iban: 'NL91ABNA0417164300' }, country: 'NL' }),
    );
    expect(byStaff.body.status).toBe('PENDING_CONFIRMATION');
  });

  it('answers 422 naming each failing field of the matrix', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const cases: [Record<string, unknown>, string[]][] = [
      [sepaBody({ currency: 'GBP' }), ['currency']],
      [sepaBody({ account: { iban: 'DE89370400440532013001' } }), ['account.iban']],
      [sepaBody({ account: { iban: 'DE89370400440532013000', bic: 'NWBKGB2L' } }), ['account.bic']],
      [
        {
          ...sepaBody(),
          network: 'FPS',
          currency: 'GBP',
          country: 'IE',
          account: { sortCode: '08-99-99', accountNumber: '66374958' },
        },
        ['country'],
      ],
      [
        {
          ...sepaBody(),
          network: 'FPS',
          currency: 'GBP',
          country: 'GB',
          account: { sortCode: '089999', accountNumber: '66374959' },
        },
        ['account.accountNumber'],
      ],
      [
        {
          ...sepaBody(),
          network: 'ACH',
          currency: 'USD',
          country: 'US',
          account: { routingNumber: '021000022', accountNumber: '123456789' },
        },
        ['account.routingNumber'],
      ],
    ];
    for (const [body, paths] of cases) {
      const refused = await add(tenant, customer.token, customer.customerId, body);
      expectProblem(refused, 422, 'validation_failed');
      expect((refused.body as unknown as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(
        paths,
      );
    }
  });

  it('stores FPS modulus results: PASSED, and NOT_CHECKABLE for a sort code outside the table', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const fps = (sortCode: string, accountNumber: string) =>
      add(tenant, customer.token, customer.customerId, {
        name: 'Charles Babbage',
        type: 'INDIVIDUAL',
        network: 'FPS',
        currency: 'GBP',
        country: 'GB',
        account: { sortCode, accountNumber },
      });
    const passed = await fps('08-99-99', '6637 4958');
    expect(passed.status, passed.text).toBe(201);
    expect(passed.body).toMatchObject({
      modulusCheck: 'PASSED',
      account: { sortCode: '089999', accountNumber: '66374958' },
      payeeVerification: { scheme: 'COP', status: 'MATCH' },
    });
    expect((await fps('000000', '12345678')).body.modulusCheck).toBe('NOT_CHECKABLE');
  });
});

describe('duplicates', () => {
  it('refuses the same account in another spelling with 409 beneficiary_exists and its id; a deleted one can be added again', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const first = await add(tenant, customer.token, customer.customerId, sepaBody());
    const again = await add(
      tenant,
      customer.token,
      customer.customerId,
      sepaBody({ name: 'Someone Else', account: { iban: 'de89-3704-0044-0532-0130-00' } }),
    );
    expectProblem(again, 409, 'beneficiary_exists');
    expect(again.body).toMatchObject({ existingId: first.body.id });

    const other = await createCustomer(tenant);
    expect((await add(tenant, other.token, other.customerId, sepaBody())).status).toBe(201);

    const as = { tenant: tenant.id, token: customer.token };
    expect((await call('DELETE', `/beneficiaries/${first.body.id}`, as)).status).toBe(200);
    const readded = await add(tenant, customer.token, customer.customerId, sepaBody());
    expect(readded.status, readded.text).toBe(201);
    expect(readded.body.id).not.toBe(first.body.id);
  });

  it('lets exactly one of 20 parallel identical creates through', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => add(tenant, customer.token, customer.customerId, sepaBody())),
    );
    const created = answers.filter((answer) => answer.status === 201);
    expect(created).toHaveLength(1);
    for (const answer of answers.filter((a) => a.status !== 201)) {
      expectProblem(answer, 409, 'beneficiary_exists');
      expect(answer.body).toMatchObject({ existingId: created[0]?.body.id });
    }
    const rows = await database(tenant)
      .select()
      .from(beneficiaries)
      .where(eq(beneficiaries.customerId, customer.customerId));
    expect(rows).toHaveLength(1);
  });
});

describe('POST /beneficiaries/{beneficiaryId}/confirm', () => {
  it('needs a step-up (401 step_up_required), then confirms; confirming again is idempotent', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const staleToken = await stale(tenant, customer);
    const pending = await add(tenant, staleToken, customer.customerId, sepaBody());
    const path = `/beneficiaries/${pending.body.id}/confirm`;
    expectProblem(
      await call('POST', path, { tenant: tenant.id, token: staleToken, body: {} }),
      401,
      'step_up_required',
    );
    const fresh = await stepUp(tenant, staleToken, customer.password);
    const confirmed = await call<Beneficiary>('POST', path, { tenant: tenant.id, token: fresh, body: {} });
    expect(confirmed.status, confirmed.text).toBe(200);
    expect(confirmed.body).toMatchObject({ status: 'ACTIVE', confirmationExpiresAt: null });
    const twice = await call<Beneficiary>('POST', path, { tenant: tenant.id, token: fresh });
    expect(twice.status).toBe(200);
    expect(twice.body.status).toBe('ACTIVE');
    expect(await eventsOfType(tenant, 'beneficiary.confirmed')).toHaveLength(1);
  });

  it('refuses API clients (403 user_session_required) and staff (403 forbidden)', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const pending = await add(tenant, await stale(tenant, customer), customer.customerId, sepaBody());
    const path = `/beneficiaries/${pending.body.id}/confirm`;
    const client = await createApiClient(tenant, ['beneficiaries:write']);
    expectProblem(
      await call('POST', path, { tenant: tenant.id, token: client.token, body: {} }),
      403,
      'user_session_required',
    );
    const staff = await createStaff(tenant);
    expectProblem(
      await call('POST', path, { tenant: tenant.id, token: staff.token, body: {} }),
      403,
      'forbidden',
    );
  });

  it('answers 409 confirmation_expired after the deadline', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const pending = await add(tenant, await stale(tenant, customer), customer.customerId, sepaBody());
    await database(tenant)
      .update(beneficiaries)
      .set({ confirmationExpiresAt: new Date(Date.now() - 1000).toISOString() })
      .where(eq(beneficiaries.id, pending.body.id));
    const fresh = await stepUp(tenant, await stale(tenant, customer), customer.password);
    expectProblem(
      await call('POST', `/beneficiaries/${pending.body.id}/confirm`, {
        tenant: tenant.id,
        token: fresh,
        body: {},
      }),
      409,
      'confirmation_expired',
    );
  });

  it.each([
    ['Ada Lovelace', 'MATCH', null, false],
    ['Ada Close Lovelace', 'CLOSE_MATCH', 'Ada Lovelace', true],
    ['Mismatch Holder', 'NO_MATCH', null, true],
    ['Unknown Holder', 'NOT_POSSIBLE', null, false],
  ])(
    'payee check of %s: %s (suggested %s); acknowledgement needed: %s',
    async (name, status, suggested, warns) => {
      const tenant = await createTenant();
      const customer = await createCustomer(tenant);
      const pending = await add(
        tenant,
        await stale(tenant, customer),
        customer.customerId,
        sepaBody({ name }),
      );
      expect(pending.body.payeeVerification).toMatchObject({
        status,
        suggestedName: suggested,
        scheme: 'VOP',
      });
      const fresh = await stepUp(tenant, await stale(tenant, customer), customer.password);
      const path = `/beneficiaries/${pending.body.id}/confirm`;
      if (warns) {
        expectProblem(
          await call('POST', path, { tenant: tenant.id, token: fresh, body: {} }),
          422,
          'payee_warning_not_acknowledged',
        );
      }
      const confirmed = await call<Beneficiary>('POST', path, {
        tenant: tenant.id,
        token: fresh,
        body: warns ? { acknowledgePayeeWarning: true } : {},
      });
      expect(confirmed.status, confirmed.text).toBe(200);
      expect(confirmed.body.payeeWarningAcknowledgedAt !== null).toBe(warns);
      const audit = await database(tenant)
        .select()
        .from(auditEvents)
        .where(and(eq(auditEvents.tenantId, tenant.id), eq(auditEvents.action, 'beneficiary.confirmed')));
      expect(audit.map((row) => row.data)).toEqual([
        expect.objectContaining({
          beneficiaryId: pending.body.id,
          payeeStatus: status,
          payeeWarningAcknowledged: warns,
        }),
      ]);
    },
  );

  it('SWIFT and ACH payees are NOT_CHECKED: no scheme answers for them', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const ach = await add(tenant, customer.token, customer.customerId, {
      ...sepaBody(),
      network: 'ACH',
      currency: 'USD',
      country: 'US',
      account: { routingNumber: '021000021', accountNumber: '000123456789', accountType: 'CHECKING' },
    });
    expect(ach.status, ach.text).toBe(201);
    expect(ach.body.payeeVerification).toMatchObject({ status: 'NOT_CHECKED', scheme: null });
  });
});

describe('GET, PATCH, DELETE /beneficiaries/{beneficiaryId} and the list', () => {
  it('changes only nickname and email; the account is refused with 422', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const created = await add(tenant, customer.token, customer.customerId, sepaBody());
    const path = `/beneficiaries/${created.body.id}`;
    const as = { tenant: tenant.id, token: customer.token };
    const changed = await call<Beneficiary>('PATCH', path, {
      ...as,
      body: { nickname: 'Rent', email: 'Ada@Example.com' },
    });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.body).toMatchObject({ nickname: 'Rent', email: 'ada@example.com', name: 'Ada Lovelace' });
    expectProblem(
      await call('PATCH', path, { ...as, body: { account: { iban: 'NL91ABNA0417164300' } } }),
      422,
      'validation_failed',
    );
    expectProblem(await call('PATCH', path, { ...as, body: { name: 'Eve' } }), 422, 'validation_failed');
    expect((await call<Beneficiary>('GET', path, as)).body.nickname).toBe('Rent');
    expect((await eventsOfType(tenant, 'beneficiary.updated')).map((e) => e.data.changedFields)).toEqual([
      ['nickname', 'email'],
    ]);
  });

  it('lists with filters and cursor pages, hiding deleted ones unless asked for', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const as = { tenant: tenant.id, token: customer.token };
    const rent = await add(tenant, customer.token, customer.customerId, sepaBody({ nickname: 'Rent' }));
    await add(
      tenant,
      customer.token,
      customer.customerId,
      sepaBody({ name: 'Grace Hopper', account: { iban: 'NL91ABNA0417164300' }, country: 'NL' }),
    );
    await add(tenant, customer.token, customer.customerId, {
      ...sepaBody({ name: 'Charles Babbage' }),
      network: 'ACH',
      currency: 'USD',
      country: 'US',
      account: { routingNumber: '021000021', accountNumber: '123456789' },
    });
    const list = (query: string) =>
      call<{ data: Beneficiary[]; nextCursor: string | null }>(
        'GET',
        `${listPath(customer.customerId)}${query}`,
        as,
      );
    expect((await list('')).body.data.map((b) => b.name)).toEqual([
      'Charles Babbage',
      'Grace Hopper',
      'Ada Lovelace',
    ]);
    expect((await list('?network=ACH')).body.data.map((b) => b.name)).toEqual(['Charles Babbage']);
    expect((await list('?currency=EUR')).body.data).toHaveLength(2);
    expect((await list('?q=rent')).body.data.map((b) => b.id)).toEqual([rent.body.id]);
    expect((await list('?q=GRACE%20hopper')).body.data.map((b) => b.name)).toEqual(['Grace Hopper']);
    const first = await list('?limit=2');
    expect(first.body.data).toHaveLength(2);
    const second = await list(`?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.data.map((b) => b.name)).toEqual(['Ada Lovelace']);
    expect(second.body.nextCursor).toBeNull();

    const deleted = await call<Beneficiary>('DELETE', `/beneficiaries/${rent.body.id}`, as);
    expect(deleted.body.status).toBe('DELETED');
    expect((await list('')).body.data.map((b) => b.id)).not.toContain(rent.body.id);
    expect((await list('?status=DELETED')).body.data.map((b) => b.id)).toEqual([rent.body.id]);
    expectProblem(
      await call('PATCH', `/beneficiaries/${rent.body.id}`, { ...as, body: { nickname: 'x' } }),
      409,
      'beneficiary_deleted',
    );
    expect(await eventsOfType(tenant, 'beneficiary.deleted')).toHaveLength(1);
  });

  it("answers 404 for another customer's beneficiary and another tenant's", async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const created = await add(tenant, customer.token, customer.customerId, sepaBody());
    const other = await createCustomer(tenant);
    expectProblem(
      await call('GET', `/beneficiaries/${created.body.id}`, { tenant: tenant.id, token: other.token }),
      404,
      'not_found',
    );
    expectProblem(
      await call('GET', listPath(customer.customerId), { tenant: tenant.id, token: other.token }),
      404,
      'not_found',
    );
    expectProblem(await add(tenant, other.token, customer.customerId, sepaBody()), 404, 'not_found');
    const elsewhere = await createTenant();
    const staff = await createStaff(elsewhere);
    expectProblem(
      await call('GET', `/beneficiaries/${created.body.id}`, { tenant: elsewhere.id, token: staff.token }),
      404,
      'not_found',
    );
  });
});

describe('organizations', () => {
  it('lets an EMPLOYEE read but not add; a TRANSACTION_APPROVER adds and confirms', async () => {
    const tenant = await createTenant();
    const organization = await createOrganization(tenant);
    const created = await add(
      tenant,
      organization.token,
      organization.customerId,
      sepaBody({ type: 'BUSINESS' }),
    );
    expect(created.status, created.text).toBe(201);
    const employeeToken = await createEmployee(tenant, organization.customerId, 'EMPLOYEE');
    const refused = await add(
      tenant,
      employeeToken,
      organization.customerId,
      sepaBody({ account: { iban: 'NL91ABNA0417164300' }, country: 'NL' }),
    );
    expectProblem(refused, 403, 'forbidden');
    expect(refused.body).toMatchObject({ organizationRoles: ['ADMIN_USER', 'TRANSACTION_APPROVER'] });
    const listed = await call<{ data: Beneficiary[] }>('GET', listPath(organization.customerId), {
      tenant: tenant.id,
      token: employeeToken,
    });
    expect(listed.body.data.map((b) => b.id)).toEqual([created.body.id]);

    const approver = await createEmployee(tenant, organization.customerId, 'TRANSACTION_APPROVER');
    const added = await add(
      tenant,
      approver,
      organization.customerId,
      sepaBody({ account: { iban: 'NL91ABNA0417164300' }, country: 'NL' }),
    );
    expect(added.status, added.text).toBe(201);
    expect(added.body.status).toBe('ACTIVE');
  });
});

describe('privacy', () => {
  it('exports the beneficiaries and leaves nothing readable after erasure', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const created = await add(
      tenant,
      customer.token,
      customer.customerId,
      sepaBody({ email: 'payee@example.com' }),
    );
    const exported = await call<{ beneficiaries: Beneficiary[] }>(
      'GET',
      `/customers/${customer.customerId}/export`,
      {
        tenant: tenant.id,
        token: customer.token,
      },
    );
    expect(exported.status, exported.text).toBe(200);
    expect(exported.body.beneficiaries).toEqual([
      expect.objectContaining({ id: created.body.id, name: 'Ada Lovelace', email: 'payee@example.com' }),
    ]);
    const staff = await createStaff(tenant);
    const erased = await call('POST', `/customers/${customer.customerId}/erasure`, {
      tenant: tenant.id,
      token: staff.token,
      body: { reference: 'DSR-BEN-1' },
    });
    expect(erased.status, erased.text).toBe(200);
    expect(
      await database(tenant)
        .select()
        .from(beneficiaries)
        .where(eq(beneficiaries.customerId, customer.customerId)),
    ).toEqual([]);
    expectProblem(
      await call('GET', `/beneficiaries/${created.body.id}`, { tenant: tenant.id, token: staff.token }),
      404,
      'not_found',
    );
  });
});
