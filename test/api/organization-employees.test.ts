import { and, eq } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { auditEvents, users } from '../../src/db/tenant';
import { newId } from '../../src/platform/ids';
import {
  createOrganization,
  createStaff,
  createTenant,
  database,
  logIn,
  loginIdentity,
  mintToken,
  organizationInput,
  randomIp,
  type TestOrganization,
  type TestSession,
  type TestTenant,
  unique,
} from '../helpers/factories';
import { call } from '../helpers/http';
import { awaitNotification, eventsOfType } from '../helpers/outbox';
import { expectProblem } from '../helpers/problems';

const PASSWORD = 'a-brand-new-passphrase';

interface Employee {
  id: string;
  userId: string;
  role: string;
  email: string;
  firstName: string;
  lastName: string;
  phone?: string;
  position?: string;
  passwordSetupPending: boolean;
}

function employeeInput(overrides: Record<string, unknown> = {}) {
  return {
    email: `${unique('ada')}@example.com`,
    firstName: 'Ada',
    lastName: 'King',
    position: 'Head of Compliance',
    role: 'EMPLOYEE',
    ...overrides,
  };
}

function employeesPath(organization: TestOrganization) {
  return `/organizations/${organization.customerId}/employees`;
}

function invite(tenant: TestTenant, token: string, organization: TestOrganization, body: unknown) {
  return call<Employee>('POST', employeesPath(organization), { tenant: tenant.id, token, body });
}

function login(tenant: TestTenant, email: string, password = PASSWORD) {
  return call<TestSession>('POST', '/auth/login', {
    tenant: tenant.id,
    body: { email, password },
    headers: { 'CF-Connecting-IP': randomIp() },
  });
}

function setPassword(tenant: TestTenant, token: string) {
  return call('POST', '/auth/password/reset', {
    tenant: tenant.id,
    body: { token, newPassword: PASSWORD },
    headers: { 'CF-Connecting-IP': randomIp() },
  });
}

async function listEmployees(tenant: TestTenant, token: string, organization: TestOrganization) {
  const response = await call<{ data: Employee[]; nextCursor: string | null }>(
    'GET',
    employeesPath(organization),
    { tenant: tenant.id, token },
  );
  expect(response.status, response.text).toBe(200);
  return response.body.data;
}

/** The organization's administrator, as the employees listing shows it. */
async function adminOf(tenant: TestTenant, organization: TestOrganization): Promise<Employee> {
  const admin = (await listEmployees(tenant, organization.token, organization)).find(
    (employee) => employee.userId === organization.id,
  );
  if (!admin) throw new Error('the administrator is not listed');
  return admin;
}

/** Invites an employee through the API, accepts the invitation and logs the employee in. */
async function onboard(
  tenant: TestTenant,
  organization: TestOrganization,
  role: string,
): Promise<{ employee: Employee; session: TestSession }> {
  const invited = await invite(tenant, organization.token, organization, employeeInput({ role }));
  expect(invited.status, invited.text).toBe(201);
  const { token } = await awaitNotification(tenant, invited.body.userId);
  expect((await setPassword(tenant, token)).status).toBe(204);
  const session = await login(tenant, invited.body.email);
  expect(session.status, session.text).toBe(200);
  return { employee: invited.body, session: session.body };
}

describe('GET, POST /organizations/{organizationId}/employees', () => {
  it('invites an employee, who chooses a password with the emailed token and logs in as the organization', async () => {
    const tenant = await createTenant();
    const organization = await createOrganization(tenant);
    const email = `${unique('Ada.King')}@Example.com`;
    const invited = await invite(
      tenant,
      organization.token,
      organization,
      employeeInput({ email, role: 'COMPLIANCE_OFFICER', phone: '+447911123457' }),
    );
    expect(invited.status, invited.text).toBe(201);
    expect(invited.body).toMatchObject({
      email: email.toLowerCase(),
      firstName: 'Ada',
      lastName: 'King',
      phone: '+447911123457',
      position: 'Head of Compliance',
      role: 'COMPLIANCE_OFFICER',
      passwordSetupPending: true,
    });
    expect(invited.body.id).toMatch(/^per_/);
    expect(invited.body.userId).toMatch(/^usr_/);
    expect(
      await database(tenant).select().from(users).where(eq(users.id, invited.body.userId)).get(),
    ).toMatchObject({
      kind: 'CUSTOMER',
      customerId: organization.customerId,
      status: 'ACTIVE',
    });
    expect(await loginIdentity(tenant, invited.body.userId)).toEqual({
      email: email.toLowerCase(),
      displayName: 'Ada King',
    });
    expectProblem(await login(tenant, email, 'any-password-at-all'), 401, 'invalid_credentials');

    const notification = await awaitNotification(tenant, invited.body.userId);
    expect(notification).toMatchObject({
      template: 'ORGANIZATION_INVITATION',
      recipient: email.toLowerCase(),
    });
    expect(Date.parse(notification.expiresAt) - Date.now()).toBeGreaterThan(6.9 * 24 * 3600 * 1000);
    expect((await setPassword(tenant, notification.token)).status).toBe(204);
    expectProblem(await setPassword(tenant, notification.token), 400, 'invalid_password_token');

    const session = await login(tenant, email);
    expect(session.status, session.text).toBe(200);
    expect(decodeJwt(session.body.accessToken)).toMatchObject({
      ptype: 'customer',
      cus: organization.customerId,
    });
    const own = await call('GET', `/organizations/${organization.customerId}`, {
      tenant: tenant.id,
      token: session.body.accessToken,
    });
    expect(own.status, own.text).toBe(200);

    const listed = await listEmployees(tenant, session.body.accessToken, organization);
    expect(listed).toEqual([
      { ...invited.body, passwordSetupPending: false },
      expect.objectContaining({
        userId: organization.id,
        role: 'ADMIN_USER',
        firstName: 'Grace',
        position: 'Chief Financial Officer',
        passwordSetupPending: false,
      }),
    ]);
    expect((await eventsOfType(tenant, 'organization.member_added')).map((row) => row.data)).toEqual([
      { customerId: organization.customerId, personId: invited.body.id, kind: 'EMPLOYEE' },
    ]);
    expect(
      await database(tenant)
        .select({ action: auditEvents.action, data: auditEvents.data })
        .from(auditEvents)
        .where(
          and(
            eq(auditEvents.targetId, organization.customerId),
            eq(auditEvents.action, 'organization.member_added'),
          ),
        ),
    ).toEqual([
      {
        action: 'organization.member_added',
        data: { personId: invited.body.id, kind: 'EMPLOYEE', role: 'COMPLIANCE_OFFICER' },
      },
    ]);
  });

  it('pages through employees with a cursor', async () => {
    const tenant = await createTenant();
    const organization = await createOrganization(tenant);
    for (const role of ['EMPLOYEE', 'TRANSACTION_APPROVER'])
      expect((await invite(tenant, organization.token, organization, employeeInput({ role }))).status).toBe(
        201,
      );
    const first = await call<{ data: Employee[]; nextCursor: string }>(
      'GET',
      `${employeesPath(organization)}?limit=2`,
      { tenant: tenant.id, token: organization.token },
    );
    expect(first.body.data.map((employee) => employee.role)).toEqual(['TRANSACTION_APPROVER', 'EMPLOYEE']);
    const second = await call<{ data: Employee[]; nextCursor: null }>(
      'GET',
      `${employeesPath(organization)}?limit=2&cursor=${first.body.nextCursor}`,
      { tenant: tenant.id, token: organization.token },
    );
    expect(second.body).toEqual({
      data: [expect.objectContaining({ role: 'ADMIN_USER' })],
      nextCursor: null,
    });
  });

  it('lets staff invite; refuses an email a customer login uses (409), not a staff one, and an unknown role (422)', async () => {
    const tenant = await createTenant();
    const organization = await createOrganization(tenant);
    const staff = await createStaff(tenant, 'SUPPORT_AGENT');
    const byStaff = await invite(tenant, staff.token, organization, employeeInput({ role: 'ADMIN_USER' }));
    expect(byStaff.status, byStaff.text).toBe(201);

    expectProblem(
      await invite(
        tenant,
        organization.token,
        organization,
        employeeInput({ email: byStaff.body.email.toUpperCase() }),
      ),
      409,
      'email_taken',
    );
    // Staff logins are another namespace: a fintech's employee may work for one of its customers too.
    const staffMember = await invite(
      tenant,
      organization.token,
      organization,
      employeeInput({ email: staff.email }),
    );
    expect(staffMember.status, staffMember.text).toBe(201);
    expectProblem(
      await invite(tenant, organization.token, organization, employeeInput({ role: 'OWNER' })),
      422,
      'validation_failed',
    );
    expectProblem(
      await invite(tenant, organization.token, organization, {
        ...employeeInput(),
        password: 'chosen-by-admin',
      }),
      422,
      'validation_failed',
    );
    expect(await eventsOfType(tenant, 'organization.member_added')).toHaveLength(2);
  });

  it('answers 404 for another organization, to its users as to staff', async () => {
    const tenant = await createTenant();
    const organization = await createOrganization(tenant);
    const other = await createOrganization(tenant);
    expectProblem(
      await call('GET', employeesPath(other), { tenant: tenant.id, token: organization.token }),
      404,
      'not_found',
    );
    expectProblem(await invite(tenant, organization.token, other, employeeInput()), 404, 'not_found');
  });
});

describe('PATCH, DELETE /organizations/{organizationId}/employees/{personId}', () => {
  it('lets employees without ADMIN_USER read but not write (403); a new role applies at once', async () => {
    const tenant = await createTenant();
    const organization = await createOrganization(tenant);
    const { employee, session } = await onboard(tenant, organization, 'TRANSACTION_APPROVER');
    const as = session.accessToken;
    const path = `${employeesPath(organization)}/${employee.id}`;
    expect(await listEmployees(tenant, as, organization)).toHaveLength(2);
    const admin = await adminOf(tenant, organization);
    for (const refused of [
      await invite(tenant, as, organization, employeeInput()),
      await call('PATCH', path, { tenant: tenant.id, token: as, body: { role: 'ADMIN_USER' } }),
      await call('DELETE', `${employeesPath(organization)}/${admin.id}`, { tenant: tenant.id, token: as }),
    ]) {
      expectProblem(refused, 403, 'forbidden');
    }

    const promoted = await call<Employee>('PATCH', path, {
      tenant: tenant.id,
      token: organization.token,
      body: { role: 'ADMIN_USER', position: 'Treasurer' },
    });
    expect(promoted.status, promoted.text).toBe(200);
    expect(promoted.body).toMatchObject({ role: 'ADMIN_USER', position: 'Treasurer', firstName: 'Ada' });
    expect((await eventsOfType(tenant, 'organization.member_updated')).map((row) => row.data)).toEqual([
      {
        customerId: organization.customerId,
        personId: employee.id,
        kind: 'EMPLOYEE',
        changedFields: ['role', 'position'],
        role: 'ADMIN_USER',
      },
    ]);
    const audit = await database(tenant)
      .select({ data: auditEvents.data })
      .from(auditEvents)
      .where(eq(auditEvents.action, 'organization.member_updated'));
    expect(audit.filter((row) => (row.data as { personId?: string }).personId === employee.id)).toEqual([
      {
        data: {
          personId: employee.id,
          kind: 'EMPLOYEE',
          changedFields: ['role', 'position'],
          role: { from: 'TRANSACTION_APPROVER', to: 'ADMIN_USER' },
        },
      },
    ]);
    // The same access token: the role is read from the database, not from the token.
    expect((await invite(tenant, as, organization, employeeInput())).status).toBe(201);
  });

  it('renames the login with the person, ignores a change to nothing and refuses an empty or email change (422)', async () => {
    const tenant = await createTenant();
    const organization = await createOrganization(tenant);
    const invited = await invite(tenant, organization.token, organization, employeeInput());
    const path = `${employeesPath(organization)}/${invited.body.id}`;
    const patch = (body: unknown) =>
      call<Employee>('PATCH', path, { tenant: tenant.id, token: organization.token, body });

    const renamed = await patch({ lastName: 'Lovelace' });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body).toMatchObject({ firstName: 'Ada', lastName: 'Lovelace', role: 'EMPLOYEE' });
    expect(await loginIdentity(tenant, invited.body.userId)).toMatchObject({ displayName: 'Ada Lovelace' });
    const same = await patch({ lastName: 'Lovelace', role: 'EMPLOYEE' });
    expect(same.body).toEqual(renamed.body);
    expect((await eventsOfType(tenant, 'organization.member_updated')).map((row) => row.data)).toEqual([
      expect.objectContaining({ changedFields: ['lastName'], role: 'EMPLOYEE' }),
    ]);
    expectProblem(await patch({}), 422, 'validation_failed');
    expectProblem(await patch({ email: 'someone.else@example.com' }), 422, 'validation_failed');
    expectProblem(
      await call('PATCH', `${employeesPath(organization)}/${newId('person')}`, {
        tenant: tenant.id,
        token: organization.token,
        body: { role: 'EMPLOYEE' },
      }),
      404,
      'not_found',
    );
  });

  it('keeps the last ADMIN_USER: it can be neither removed nor demoted (409), by its peers or by staff', async () => {
    const tenant = await createTenant();
    const organization = await createOrganization(tenant);
    const staff = await createStaff(tenant, 'SUPPORT_AGENT');
    const admin = await adminOf(tenant, organization);
    const path = `${employeesPath(organization)}/${admin.id}`;
    for (const token of [organization.token, staff.token]) {
      expectProblem(await call('DELETE', path, { tenant: tenant.id, token }), 409, 'last_admin_user');
      expectProblem(
        await call('PATCH', path, { tenant: tenant.id, token, body: { role: 'EMPLOYEE', position: 'CEO' } }),
        409,
        'last_admin_user',
      );
    }
    // The refused batches left nothing behind: no change, no audit row, no event, a working login.
    expect(await adminOf(tenant, organization)).toEqual(admin);
    expect(await eventsOfType(tenant, 'organization.member_removed')).toEqual([]);
    expect(await eventsOfType(tenant, 'organization.member_updated')).toEqual([]);
    expect(
      await database(tenant)
        .select()
        .from(auditEvents)
        .where(eq(auditEvents.targetId, organization.customerId))
        .then((rows) => rows.filter((row) => row.action.startsWith('organization.member'))),
    ).toEqual([]);
    expect(
      (await login(tenant, (await adminOf(tenant, organization)).email, 'correct-horse-battery-staple'))
        .status,
    ).toBe(200);

    // With a second administrator the first may step down, and then leave.
    await onboard(tenant, organization, 'ADMIN_USER');
    const demoted = await call<Employee>('PATCH', path, {
      tenant: tenant.id,
      token: organization.token,
      body: { role: 'COMPLIANCE_OFFICER' },
    });
    expect(demoted.status, demoted.text).toBe(200);
    expect(demoted.body.role).toBe('COMPLIANCE_OFFICER');
    const removed = await call('DELETE', path, { tenant: tenant.id, token: staff.token });
    expect(removed.status, removed.text).toBe(204);
  });

  it('lets one of two racing removals or demotions of the last two administrators through, never both', async () => {
    const tenant = await createTenant();
    for (const change of ['DELETE', 'PATCH'] as const) {
      const organization = await createOrganization(tenant);
      const staff = await createStaff(tenant, 'SUPPORT_AGENT');
      await onboard(tenant, organization, 'ADMIN_USER');
      const admins = await listEmployees(tenant, staff.token, organization);
      const responses = await Promise.all(
        admins.map((admin) =>
          call(change, `${employeesPath(organization)}/${admin.id}`, {
            tenant: tenant.id,
            token: staff.token,
            ...(change === 'PATCH' ? { body: { role: 'EMPLOYEE' } } : {}),
          }),
        ),
      );
      expect(responses.map((response) => response.status).sort(), change).toEqual(
        change === 'DELETE' ? [204, 409] : [200, 409],
      );
      const left = await listEmployees(tenant, staff.token, organization);
      expect(
        left.filter((employee) => employee.role === 'ADMIN_USER'),
        change,
      ).toHaveLength(1);
    }
  });

  it('removing an employee disables its login and ends its sessions; a pending invitation dies with it', async () => {
    const tenant = await createTenant();
    const organization = await createOrganization(tenant);
    const { employee, session } = await onboard(tenant, organization, 'EMPLOYEE');
    const path = `${employeesPath(organization)}/${employee.id}`;
    const removed = await call('DELETE', path, { tenant: tenant.id, token: organization.token });
    expect(removed.status, removed.text).toBe(204);
    expect((await eventsOfType(tenant, 'organization.member_removed')).map((row) => row.data)).toEqual([
      { customerId: organization.customerId, personId: employee.id, kind: 'EMPLOYEE' },
    ]);
    expect((await eventsOfType(tenant, 'session.revoked')).map((row) => row.data)).toContainEqual({
      sessionId: session.sessionId,
      userId: employee.userId,
      reason: 'USER_DISABLED',
    });
    expect(
      await database(tenant).select().from(users).where(eq(users.id, employee.userId)).get(),
    ).toMatchObject({ status: 'DISABLED' });

    expectProblem(await login(tenant, employee.email), 403, 'account_disabled');
    expectProblem(
      await call('POST', '/auth/refresh', {
        tenant: tenant.id,
        body: { refreshToken: session.refreshToken },
      }),
      401,
      'invalid_refresh_token',
    );
    expectProblem(
      await call('GET', `/organizations/${organization.customerId}`, {
        tenant: tenant.id,
        token: session.accessToken,
      }),
      401,
      'invalid_token',
    );
    expect(
      (await listEmployees(tenant, organization.token, organization)).map((row) => row.id),
    ).not.toContain(employee.id);
    expectProblem(
      await call('DELETE', path, { tenant: tenant.id, token: organization.token }),
      404,
      'not_found',
    );

    const pending = await invite(tenant, organization.token, organization, employeeInput());
    const { token } = await awaitNotification(tenant, pending.body.userId);
    expect(
      (
        await call('DELETE', `${employeesPath(organization)}/${pending.body.id}`, {
          tenant: tenant.id,
          token: organization.token,
        })
      ).status,
    ).toBe(204);
    expectProblem(await setPassword(tenant, token), 400, 'invalid_password_token');
  });

  it('addresses employees only: a director’s id under /employees is 404', async () => {
    const tenant = await createTenant();
    const organization = await createOrganization(tenant);
    const director = await call<{ id: string }>(
      'POST',
      `/organizations/${organization.customerId}/directors`,
      {
        tenant: tenant.id,
        token: organization.token,
        body: { firstName: 'Charles', lastName: 'Babbage', role: 'MANAGING_DIRECTOR', isPep: false },
      },
    );
    expect(director.status, director.text).toBe(201);
    const path = `${employeesPath(organization)}/${director.body.id}`;
    expectProblem(
      await call('DELETE', path, { tenant: tenant.id, token: organization.token }),
      404,
      'not_found',
    );
    expectProblem(
      await call('PATCH', path, { tenant: tenant.id, token: organization.token, body: { role: 'EMPLOYEE' } }),
      404,
      'not_found',
    );
  });
});

describe('organization roles on the organization’s customer routes', () => {
  it('takes ADMIN_USER to change consents and contacts, ADMIN_USER or COMPLIANCE_OFFICER to export', async () => {
    const tenant = await createTenant();
    const organization = await createOrganization(tenant);
    const { session: employee } = await onboard(tenant, organization, 'EMPLOYEE');
    const { session: officer } = await onboard(tenant, organization, 'COMPLIANCE_OFFICER');
    const id = organization.customerId;
    const as = (session: TestSession) => ({ tenant: tenant.id, token: session.accessToken });

    const refusals = [
      ['POST', `/customers/${id}/consents`, { type: 'MARKETING', version: '1.0' }],
      ['POST', '/registration/phone-verification', { customerId: id }],
      ['GET', `/customers/${id}/export`, undefined],
    ] as const;
    for (const [method, path, body] of refusals) {
      const response = await call(method, path, { ...as(employee), body });
      expectProblem(response, 403, 'forbidden');
      expect(response.body).toMatchObject({ organizationRoles: expect.arrayContaining(['ADMIN_USER']) });
    }
    // Every employee reads the consents; the compliance officer also takes the export.
    expect((await call('GET', `/customers/${id}/consents`, as(employee))).status).toBe(200);
    const exported = await call('GET', `/customers/${id}/export`, as(officer));
    expect(exported.status, exported.text).toBe(200);
    expectProblem(
      await call('POST', `/customers/${id}/consents`, {
        ...as(officer),
        body: { type: 'MARKETING', version: '1.0' },
      }),
      403,
      'forbidden',
    );
    const granted = await call('POST', `/customers/${id}/consents`, {
      tenant: tenant.id,
      token: organization.token,
      body: { type: 'MARKETING', version: '1.0' },
    });
    expect(granted.status, granted.text).toBe(201);
  });
});

describe('third parties acting for an organization', () => {
  it('cannot manage its employees, even for an ADMIN_USER: a login would outlive the grant', async () => {
    const tenant = await createTenant();
    const organization = await createOrganization(tenant);
    const admin = await adminOf(tenant, organization);
    const token = await mintToken(tenant, {
      sub: organization.id,
      ptype: 'customer',
      scope: 'customers:read customers:write',
      cus: organization.customerId,
      client_id: 'cli_01jd7w3v8m9k2q4r6t8v0x2z4b',
    });
    const as = { tenant: tenant.id, token };
    expect((await call('GET', employeesPath(organization), as)).status).toBe(200);
    for (const [method, path, body] of [
      ['POST', employeesPath(organization), employeeInput({ role: 'ADMIN_USER' })],
      ['PATCH', `${employeesPath(organization)}/${admin.id}`, { position: 'Owner' }],
      ['DELETE', `${employeesPath(organization)}/${admin.id}`, undefined],
    ] as const) {
      expectProblem(await call(method, path, { ...as, body }), 403, 'forbidden');
    }
  });
});

describe('the B2B journey', () => {
  it('registers an organization, whose admin adds an employee, a director and shareholders; totals and the last admin hold', async () => {
    const tenant = await createTenant();
    const input = organizationInput();
    const registered = await call<{ id: string; userId: string }>('POST', '/organizations', {
      tenant: tenant.id,
      body: input,
    });
    expect(registered.status, registered.text).toBe(201);
    const organizationId = registered.body.id;
    const adminSession = await logIn(tenant, input.admin.email, input.admin.password);
    const organization: TestOrganization = {
      id: registered.body.userId,
      customerId: organizationId,
      token: adminSession.accessToken,
      ...adminSession,
    };
    const asAdmin = { tenant: tenant.id, token: organization.token };

    const { employee, session } = await onboard(tenant, organization, 'TRANSACTION_APPROVER');
    const mine = await call('GET', `/organizations/${organizationId}`, {
      tenant: tenant.id,
      token: session.accessToken,
    });
    expect(mine.body).toMatchObject({ id: organizationId, type: 'BUSINESS' });

    const director = await call('POST', `/organizations/${organizationId}/directors`, {
      ...asAdmin,
      body: { firstName: 'Charles', lastName: 'Babbage', role: 'MANAGING_DIRECTOR', isPep: true },
    });
    expect(director.status, director.text).toBe(201);
    const shareholder = (ownershipPercentage: number) =>
      call('POST', `/organizations/${organizationId}/shareholders`, {
        ...asAdmin,
        body: { type: 'INDIVIDUAL', firstName: 'Ada', lastName: 'King', isPep: false, ownershipPercentage },
      });
    expect((await shareholder(60)).body).toMatchObject({ ownershipPercentage: 60, isUbo: true });
    expect((await shareholder(40)).body).toMatchObject({ ownershipPercentage: 40, isUbo: true });
    expectProblem(await shareholder(0.01), 422, 'validation_failed');

    const admin = (await listEmployees(tenant, asAdmin.token, organization)).find(
      (person) => person.role === 'ADMIN_USER',
    );
    if (!admin) throw new Error('no ADMIN_USER listed');
    expectProblem(
      await call('DELETE', `/organizations/${organizationId}/employees/${admin.id}`, asAdmin),
      409,
      'last_admin_user',
    );
    expect(
      (await call('DELETE', `/organizations/${organizationId}/employees/${employee.id}`, asAdmin)).status,
    ).toBe(204);
  });
});

describe('sealed identities', () => {
  it('binds a login’s sealed email to its row: copied onto a colleague’s login it does not open', async () => {
    const tenant = await createTenant();
    const organization = await createOrganization(tenant);
    const { employee } = await onboard(tenant, organization, 'EMPLOYEE');
    const db = database(tenant);
    const admin = await db.select().from(users).where(eq(users.id, organization.id)).get();
    await db.update(users).set({ email: admin?.email }).where(eq(users.id, employee.userId));
    await expect(loginIdentity(tenant, employee.userId)).rejects.toThrow(/does not decrypt/);
    expect((await loginIdentity(tenant, organization.id)).displayName).toBe('Grace Hopper');
  });
});
