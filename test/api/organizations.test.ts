import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditEvents, consents, events, organizationPeople, users } from '../../src/db/tenant';
import {
  createApiClient,
  createCustomer,
  createOrganization,
  createStaff,
  createTenant,
  database,
  directorInput,
  logIn,
  organizationInput,
  type TestTenant,
} from '../helpers/factories';
import { call } from '../helpers/http';
import { expectProblem } from '../helpers/problems';

interface Person {
  id: string;
  ownershipPercentage: number;
  isUbo: boolean;
  detail?: string;
}

const director = directorInput();

function individualShareholder(ownershipPercentage: number) {
  return { type: 'INDIVIDUAL', firstName: 'Ada', lastName: 'King', isPep: false, ownershipPercentage };
}

function corporateShareholder(ownershipPercentage: number) {
  return {
    type: 'CORPORATE',
    legalName: 'Babbage Holdings plc',
    incorporationCountry: 'GB',
    lei: '5493001KJTIIGC8Y1R12',
    ownershipPercentage,
  };
}

async function eventsOf(tenant: TestTenant, type: string) {
  return database(tenant)
    .select()
    .from(events)
    .where(and(eq(events.tenantId, tenant.id), eq(events.type, type)));
}

describe('POST /organizations', () => {
  it('self-registers a BUSINESS customer whose administrator logs in as its ADMIN_USER employee', async () => {
    const tenant = await createTenant();
    const input = organizationInput({
      tradingName: 'Analytical Engines',
      lei: '5493001KJTIIGC8Y1R12',
      industryCode: 'K64.19',
      website: 'https://analytical-engines.example',
      consents: { termsAndConditions: true, privacyPolicy: true, marketing: true },
    });
    const response = await call<{ id: string; userId: string; organization: Record<string, unknown> }>(
      'POST',
      '/organizations',
      { tenant: tenant.id, body: input },
    );
    expect(response.status, response.text).toBe(201);
    expect(response.body).toMatchObject({
      type: 'BUSINESS',
      status: 'PENDING_EMAIL_VERIFICATION',
      email: input.email,
      individual: null,
      organization: {
        legalName: 'Analytical Engines Ltd',
        tradingName: 'Analytical Engines',
        lei: '5493001KJTIIGC8Y1R12',
        industryCode: 'K64.19',
        incorporationCountry: 'GB',
        registeredAddress: { city: 'London' },
      },
    });
    expect(response.body.organization).not.toHaveProperty('admin');
    expect(response.text).not.toContain(input.admin.password);
    expect(response.headers.get('Location')).toBe(`/v2/customer/organizations/${response.body.id}`);

    const db = database(tenant);
    expect(await db.select().from(users).where(eq(users.id, response.body.userId)).get()).toMatchObject({
      kind: 'CUSTOMER',
      customerId: response.body.id,
      // The login's identity is the organization's personal data, sealed under its key.
      email: expect.stringMatching(/^v1\./),
      displayName: expect.stringMatching(/^v1\./),
    });
    expect(
      await db.select().from(organizationPeople).where(eq(organizationPeople.customerId, response.body.id)),
    ).toEqual([
      expect.objectContaining({
        kind: 'EMPLOYEE',
        role: 'ADMIN_USER',
        userId: response.body.userId,
        // The person's details are the organization's personal data, sealed under its key.
        details: expect.stringMatching(/^v1\./),
      }),
    ]);
    const granted = await db.select().from(consents).where(eq(consents.customerId, response.body.id));
    expect(granted.map((consent) => consent.type).sort()).toEqual([
      'MARKETING',
      'PRIVACY_POLICY',
      'TERMS_AND_CONDITIONS',
    ]);
    expect(await db.select().from(auditEvents).where(eq(auditEvents.targetId, response.body.id))).toEqual([
      expect.objectContaining({ action: 'customer.registered', actorType: 'anonymous' }),
    ]);
    expect((await eventsOf(tenant, 'customer.created')).map((row) => row.data)).toContainEqual({
      customerId: response.body.id,
      type: 'BUSINESS',
      status: 'PENDING_EMAIL_VERIFICATION',
    });

    // The administrator's login is an ordinary customer session: self-service routes just work.
    const session = await logIn(tenant, input.admin.email, input.admin.password);
    const own = await call('GET', `/customers/${response.body.id}`, {
      tenant: tenant.id,
      token: session.accessToken,
    });
    expect(own.status, own.text).toBe(200);
    expect(own.body).toMatchObject({
      type: 'BUSINESS',
      organization: { legalName: 'Analytical Engines Ltd' },
    });
    const me = await call('GET', '/me', { tenant: tenant.id, token: session.accessToken });
    expect(me.body.principal).toMatchObject({ name: 'Grace Hopper', email: input.admin.email });
    const employees = await call('GET', `/organizations/${response.body.id}/employees`, {
      tenant: tenant.id,
      token: session.accessToken,
    });
    expect(employees.body).toMatchObject({
      data: [{ role: 'ADMIN_USER', email: input.admin.email, position: 'Chief Financial Officer' }],
    });
  });

  it('lets staff and API clients with customers:write register organizations', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant, 'SUPPORT_AGENT');
    const byStaff = await call('POST', '/organizations', {
      tenant: tenant.id,
      token: staff.token,
      body: organizationInput(),
    });
    expect(byStaff.status, byStaff.text).toBe(201);
    const client = await createApiClient(tenant, ['customers:write']);
    const byClient = await call('POST', '/organizations', {
      tenant: tenant.id,
      token: client.token,
      body: organizationInput(),
    });
    expect(byClient.status, byClient.text).toBe(201);
  });

  it('verifies LEI check digits, the NACE format, an https website and a past incorporation date (422)', async () => {
    const tenant = await createTenant();
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    for (const [field, value] of [
      ['lei', '5493001KJTIIGC8Y1R13'],
      ['lei', '5493001kjtiigc8y1r12'],
      ['industryCode', '6419'],
      ['industryCode', 'Z64.19'],
      ['website', 'http://analytical-engines.example'],
      ['incorporationDate', tomorrow],
    ] as const) {
      const response = await call<{ errors: { path: string }[] }>('POST', '/organizations', {
        tenant: tenant.id,
        body: organizationInput({ [field]: value }),
      });
      expectProblem(response, 422, 'validation_failed');
      expect(
        response.body.errors.map((error) => error.path),
        `${field}=${value}`,
      ).toContain(field);
    }
    for (const industryCode of ['64', '64.1', '64.19', 'K64.19']) {
      const response = await call('POST', '/organizations', {
        tenant: tenant.id,
        body: organizationInput({ industryCode }),
      });
      expect(response.status, industryCode).toBe(201);
    }
  });

  it('refuses a weak administrator password and an administrator email already in use', async () => {
    const tenant = await createTenant();
    const input = organizationInput();
    const weak = await call<{ errors: { path: string }[] }>('POST', '/organizations', {
      tenant: tenant.id,
      body: { ...input, admin: { ...input.admin, password: 'password' } },
    });
    expectProblem(weak, 422, 'validation_failed');
    expect(weak.body.errors.map((error) => error.path)).toContain('admin.password');

    const existing = await createCustomer(tenant);
    expectProblem(
      await call('POST', '/organizations', {
        tenant: tenant.id,
        body: { ...input, admin: { ...input.admin, email: existing.email.toUpperCase() } },
      }),
      409,
      'email_taken',
    );
  });

  it('refuses a STARTER tenant, anonymous callers included (403 capability_not_enabled)', async () => {
    const tenant = await createTenant({ tier: 'STARTER' });
    const response = await call('POST', '/organizations', { tenant: tenant.id, body: organizationInput() });
    expectProblem(response, 403, 'capability_not_enabled');
    expect(response.body).toMatchObject({ capability: 'SCT02' });
  });
});

describe('GET /organizations/{organizationId}', () => {
  it('shows the organization to staff and its own users, and an individual’s or another organization’s id as 404', async () => {
    const tenant = await createTenant();
    const organization = await createOrganization(tenant);
    const other = await createOrganization(tenant);
    const staff = await createStaff(tenant, 'SUPPORT_AGENT');
    for (const token of [staff.token, organization.token]) {
      const response = await call('GET', `/organizations/${organization.customerId}`, {
        tenant: tenant.id,
        token,
      });
      expect(response.status, response.text).toBe(200);
      expect(response.body).toMatchObject({ id: organization.customerId, type: 'BUSINESS' });
    }
    expectProblem(
      await call('GET', `/organizations/${other.customerId}`, {
        tenant: tenant.id,
        token: organization.token,
      }),
      404,
      'not_found',
    );
    const individual = await createCustomer(tenant);
    expectProblem(
      await call('GET', `/organizations/${individual.customerId}`, { tenant: tenant.id, token: staff.token }),
      404,
      'not_found',
    );
  });
});

describe('PATCH /organizations/{organizationId}', () => {
  it('lets its administrator change the profile; identity fields after verification need staff', async () => {
    const tenant = await createTenant();
    const organization = await createOrganization(tenant);
    const path = `/organizations/${organization.customerId}`;
    const changed = await call('PATCH', path, {
      tenant: tenant.id,
      token: organization.token,
      body: { tradingName: 'Engines', website: 'https://engines.example' },
    });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.body).toMatchObject({
      organization: {
        tradingName: 'Engines',
        website: 'https://engines.example',
        legalName: 'Analytical Engines Ltd',
      },
    });
    expect((await eventsOf(tenant, 'customer.updated')).map((row) => row.data)).toContainEqual({
      customerId: organization.customerId,
      changedFields: ['tradingName', 'website'],
    });

    const staff = await createStaff(tenant, 'TENANT_ADMIN');
    const status = async (to: string) =>
      call('PUT', `/customers/${organization.customerId}/status`, {
        tenant: tenant.id,
        token: staff.token,
        body: { status: to, reason: 'Verified against Companies House' },
      });
    for (const to of ['REGISTERED', 'VERIFICATION_PENDING', 'VERIFIED'])
      expect((await status(to)).status).toBe(200);
    expectProblem(
      await call('PATCH', path, {
        tenant: tenant.id,
        token: organization.token,
        body: { legalName: 'AE Ltd' },
      }),
      409,
      'reverification_required',
    );
    const corrected = await call('PATCH', path, {
      tenant: tenant.id,
      token: staff.token,
      body: { legalName: 'AE Ltd' },
    });
    expect(corrected.status, corrected.text).toBe(200);
    expect(corrected.body).toMatchObject({ status: 'REGISTERED', organization: { legalName: 'AE Ltd' } });
  });

  it('points PATCH /customers/{customerId} of an organization here (409)', async () => {
    const tenant = await createTenant();
    const organization = await createOrganization(tenant);
    expectProblem(
      await call('PATCH', `/customers/${organization.customerId}`, {
        tenant: tenant.id,
        token: organization.token,
        body: { occupation: 'Engineer' },
      }),
      409,
      'customer_is_organization',
    );
  });
});

describe('Directors: GET, POST /organizations/{organizationId}/directors, DELETE …/{personId}', () => {
  it('adds, lists and removes directors with member events; 404 for an unknown director', async () => {
    const tenant = await createTenant();
    const organization = await createOrganization(tenant);
    const path = `/organizations/${organization.customerId}/directors`;
    const added = await call<Person>('POST', path, {
      tenant: tenant.id,
      token: organization.token,
      body: { ...director, role: 'NON_EXECUTIVE_DIRECTOR', isPep: true },
    });
    expect(added.status, added.text).toBe(201);
    expect(added.body).toMatchObject({ role: 'NON_EXECUTIVE_DIRECTOR', isPep: true, lastName: 'Babbage' });
    expect(added.body.id).toMatch(/^per_/);
    const listed = await call<{ data: Person[]; nextCursor: null }>('GET', path, {
      tenant: tenant.id,
      token: organization.token,
    });
    expect(listed.body).toEqual({ data: [added.body], nextCursor: null });
    expect((await eventsOf(tenant, 'organization.member_added')).map((row) => row.data)).toEqual([
      { customerId: organization.customerId, personId: added.body.id, kind: 'DIRECTOR' },
    ]);

    const removed = await call('DELETE', `${path}/${added.body.id}`, {
      tenant: tenant.id,
      token: organization.token,
    });
    expect(removed.status, removed.text).toBe(204);
    expect((await eventsOf(tenant, 'organization.member_removed')).map((row) => row.data)).toEqual([
      { customerId: organization.customerId, personId: added.body.id, kind: 'DIRECTOR' },
    ]);
    expectProblem(
      await call('DELETE', `${path}/${added.body.id}`, { tenant: tenant.id, token: organization.token }),
      404,
      'not_found',
    );
    expectProblem(
      await call('POST', path, {
        tenant: tenant.id,
        token: organization.token,
        body: { ...director, role: 'CEO' },
      }),
      422,
      'validation_failed',
    );
  });

  it('lets only ADMIN_USER employees of the organization change it (403 for its other users)', async () => {
    const tenant = await createTenant();
    const organization = await createOrganization(tenant);
    await database(tenant)
      .update(organizationPeople)
      .set({ role: 'EMPLOYEE' })
      .where(eq(organizationPeople.userId, organization.id));
    const path = `/organizations/${organization.customerId}/directors`;
    expect((await call('GET', path, { tenant: tenant.id, token: organization.token })).status).toBe(200);
    expectProblem(
      await call('POST', path, { tenant: tenant.id, token: organization.token, body: director }),
      403,
      'forbidden',
    );
  });
});

describe('Shareholders: GET, POST /organizations/{organizationId}/shareholders, DELETE …/{personId}', () => {
  it('flags stakes of 25 % or more as UBOs and keeps the total at or under 100 %', async () => {
    const tenant = await createTenant();
    const organization = await createOrganization(tenant);
    const path = `/organizations/${organization.customerId}/shareholders`;
    const add = (body: unknown) =>
      call<Person>('POST', path, { tenant: tenant.id, token: organization.token, body });

    const holding = await add(corporateShareholder(60));
    expect(holding.status, holding.text).toBe(201);
    expect(holding.body).toMatchObject({ type: 'CORPORATE', ownershipPercentage: 60, isUbo: true });
    const minority = await add(individualShareholder(24.99));
    expect(minority.body).toMatchObject({ type: 'INDIVIDUAL', ownershipPercentage: 24.99, isUbo: false });
    const atThreshold = await add(individualShareholder(15.01));
    expect(atThreshold.body).toMatchObject({ ownershipPercentage: 15.01, isUbo: false });

    const over = await add(individualShareholder(0.01));
    expectProblem(over, 422, 'validation_failed');
    expect(over.body).toMatchObject({ errors: [{ path: 'ownershipPercentage' }] });
    expect(String(over.body.detail)).toMatch(/100\.01 %/);
    expect((await eventsOf(tenant, 'organization.member_added')).length).toBe(3);

    const removed = await call('DELETE', `${path}/${minority.body.id}`, {
      tenant: tenant.id,
      token: organization.token,
    });
    expect(removed.status).toBe(204);
    const ubo = await add(individualShareholder(24.99));
    expect(ubo.status).toBe(201);
    expectProblem(await add(individualShareholder(0.001)), 422, 'validation_failed');
    expectProblem(await add(individualShareholder(0)), 422, 'validation_failed');

    const listed = await call<{ data: Person[] }>('GET', path, {
      tenant: tenant.id,
      token: organization.token,
    });
    expect(listed.body.data.map((person) => person.ownershipPercentage)).toEqual([24.99, 15.01, 60]);
  });

  it('lets at most one of two racing additions pass 100 %, with no audit or event for the loser', async () => {
    const tenant = await createTenant();
    const organization = await createOrganization(tenant);
    const path = `/organizations/${organization.customerId}/shareholders`;
    const responses = await Promise.all(
      [1, 2, 3, 4].map(() =>
        call('POST', path, { tenant: tenant.id, token: organization.token, body: individualShareholder(40) }),
      ),
    );
    expect(responses.map((response) => response.status).sort()).toEqual([201, 201, 422, 422]);
    const stakes = await database(tenant)
      .select()
      .from(organizationPeople)
      .where(
        and(
          eq(organizationPeople.customerId, organization.customerId),
          eq(organizationPeople.kind, 'SHAREHOLDER'),
        ),
      );
    expect(stakes.map((row) => row.ownershipBasisPoints)).toEqual([4000, 4000]);
    expect((await eventsOf(tenant, 'organization.member_added')).length).toBe(2);
  });

  it('refuses a corporate shareholder with a corrupted LEI (422)', async () => {
    const tenant = await createTenant();
    const organization = await createOrganization(tenant);
    const response = await call<{ errors: { path: string }[] }>(
      'POST',
      `/organizations/${organization.customerId}/shareholders`,
      {
        tenant: tenant.id,
        token: organization.token,
        body: { ...corporateShareholder(10), lei: '5493001KJTIIGC8Y1R21' },
      },
    );
    expectProblem(response, 422, 'validation_failed');
    expect(response.body.errors.map((error) => error.path)).toContain('lei');
  });
});
