import { and, eq } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { auditEvents, recoveryCodes, roles, totpCredentials, webauthnCredentials } from '../../src/db/tenant';
import type { Permission } from '../../src/platform/auth/permissions';
import { newId } from '../../src/platform/ids';
import {
  createCustomer,
  createStaff,
  createTenant,
  database,
  randomIp,
  type TestSession,
  type TestTenant,
  unique,
} from '../helpers/factories';
import { call } from '../helpers/http';
import { awaitNotification, eventsOfType } from '../helpers/outbox';
import { expectProblem } from '../helpers/problems';
import { enrolPasskey, enrolTotp } from '../helpers/second-factors';

interface StaffUser {
  id: string;
  email: string;
  displayName: string;
  status: 'ACTIVE' | 'DISABLED';
  roles: { id: string; name: string }[];
  passwordSetupPending: boolean;
}

const NEW_PASSWORD = 'a-brand-new-passphrase';

function inviteBody(overrides: Record<string, unknown> = {}) {
  return {
    email: `${unique('invitee')}@example.com`,
    displayName: 'Grace Hopper',
    roleIds: ['rol_support_agent'],
    ...overrides,
  };
}

function invite<T = StaffUser>(tenant: TestTenant, token: string, body: unknown) {
  return call<T>('POST', '/access/users', { tenant: tenant.id, token, body });
}

function update(tenant: TestTenant, token: string, userId: string, body: unknown) {
  return call<StaffUser>('PATCH', `/access/users/${userId}`, { tenant: tenant.id, token, body });
}

function login(tenant: TestTenant, email: string, password: string, accountType = 'STAFF') {
  return call<TestSession>('POST', '/auth/login', {
    tenant: tenant.id,
    body: { email, password, accountType },
    headers: { 'CF-Connecting-IP': randomIp() },
  });
}

function refresh(tenant: TestTenant, refreshToken: string) {
  return call<TestSession>('POST', '/auth/refresh', { tenant: tenant.id, body: { refreshToken } });
}

function setPassword(tenant: TestTenant, token: string) {
  return call('POST', '/auth/password/reset', {
    tenant: tenant.id,
    body: { token, newPassword: NEW_PASSWORD },
    headers: { 'CF-Connecting-IP': randomIp() },
  });
}

/** A custom role written straight to the table, as the roles API would. */
async function customRole(tenant: TestTenant, permissions: Permission[]): Promise<string> {
  const id = newId('role');
  const now = new Date().toISOString();
  await database(tenant)
    .insert(roles)
    .values({
      id,
      tenantId: tenant.id,
      name: unique('role'),
      description: 'Test role',
      permissions,
      createdAt: now,
      updatedAt: now,
    });
  return id;
}

async function expectLockedOut(tenant: TestTenant, session: TestSession) {
  expectProblem(
    await call('GET', '/customers', { tenant: tenant.id, token: session.accessToken }),
    401,
    'invalid_token',
  );
  expectProblem(await refresh(tenant, session.refreshToken), 401, 'invalid_refresh_token');
}

describe('GET /access/users', () => {
  it('lists staff users, not customers, newest first, with filters and pages', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const officer = await createStaff(tenant, 'COMPLIANCE_OFFICER');
    const agent = await createStaff(tenant, 'SUPPORT_AGENT');
    await createCustomer(tenant);
    expect((await update(tenant, admin.token, agent.id, { status: 'DISABLED' })).status).toBe(200);
    const list = (query: string) =>
      call<{ data: StaffUser[]; nextCursor: string | null }>('GET', `/access/users${query}`, {
        tenant: tenant.id,
        token: admin.token,
      });
    const ids = (response: { body: { data: StaffUser[] } }) => response.body.data.map((user) => user.id);

    const all = await list('');
    expect(all.status).toBe(200);
    expect(ids(all)).toEqual([agent.id, officer.id, admin.id]);
    expect(all.body.data[1]).toMatchObject({
      email: officer.email,
      status: 'ACTIVE',
      roles: [{ id: 'rol_compliance_officer', name: 'COMPLIANCE_OFFICER' }],
      passwordSetupPending: false,
    });
    expect(ids(await list('?roleId=rol_compliance_officer'))).toEqual([officer.id]);
    expect(ids(await list('?status=DISABLED'))).toEqual([agent.id]);
    expect(ids(await list(`?q=${encodeURIComponent(officer.email.split('@')[0] ?? '')}`))).toEqual([
      officer.id,
    ]);
    expect(ids(await list('?q=100%25'))).toEqual([]);

    const first = await list('?limit=2');
    expect(ids(first)).toEqual([agent.id, officer.id]);
    const second = await list(`?limit=2&cursor=${first.body.nextCursor}`);
    expect(ids(second)).toEqual([admin.id]);
    expect(second.body.nextCursor).toBeNull();
    expectProblem(await list('?status=LOCKED'), 422, 'validation_failed');
  });
});

describe('POST /access/users', () => {
  it('invites a staff user, who chooses a password with the emailed token and logs in', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const body = inviteBody();
    const invited = await invite(tenant, admin.token, body);
    expect(invited.status).toBe(201);
    expect(invited.headers.get('Location')).toBe(`/v2/customer/access/users/${invited.body.id}`);
    expect(invited.body).toMatchObject({
      email: body.email,
      displayName: 'Grace Hopper',
      status: 'ACTIVE',
      roles: [{ id: 'rol_support_agent', name: 'SUPPORT_AGENT' }],
      passwordSetupPending: true,
    });
    expect(invited.body.id).toMatch(/^usr_/);
    expectProblem(await login(tenant, body.email, 'any-password-at-all'), 401, 'invalid_credentials');

    const notification = await awaitNotification(tenant, invited.body.id);
    expect(notification).toMatchObject({ template: 'STAFF_INVITATION', recipient: body.email });
    expect(Date.parse(notification.expiresAt) - Date.now()).toBeGreaterThan(6.9 * 24 * 3600 * 1000);
    expect((await setPassword(tenant, notification.token)).status).toBe(204);

    const session = await login(tenant, body.email, NEW_PASSWORD);
    expect(session.status).toBe(200);
    expect(String(decodeJwt(session.body.accessToken).scope).split(' ')).toContain('customers:write');
    const shown = await call<StaffUser>('GET', `/access/users/${invited.body.id}`, {
      tenant: tenant.id,
      token: admin.token,
    });
    expect(shown.body.passwordSetupPending).toBe(false);
    expect((await eventsOfType(tenant, 'user.invited')).map((row) => row.data)).toEqual([
      { userId: invited.body.id, roleIds: ['rol_support_agent'] },
    ]);
  });

  it("grants the tenant's custom roles; refuses unknown ids, the customer role and other tenants' roles", async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    const admin = await createStaff(tenant);
    const reviewer = await customRole(tenant, ['kyc:review', 'customers:read']);
    const foreign = await customRole(other, ['customers:read']);

    const granted = await invite(tenant, admin.token, inviteBody({ roleIds: [reviewer, reviewer] }));
    expect(granted.status).toBe(201);
    expect(granted.body.roles.map((role) => role.id)).toEqual([reviewer]);

    const refused = await invite(
      tenant,
      admin.token,
      inviteBody({ roleIds: ['rol_support_agent', 'rol_nonexistent', 'rol_customer', foreign] }),
    );
    expectProblem(refused, 422, 'validation_failed');
    expect(refused.body).toMatchObject({
      errors: [
        { path: 'roleIds.1', message: 'names no role of this tenant' },
        { path: 'roleIds.2', message: 'is the role of customers, not of staff' },
        { path: 'roleIds.3', message: 'names no role of this tenant' },
      ],
    });
    expectProblem(await invite(tenant, admin.token, inviteBody({ roleIds: [] })), 422, 'validation_failed');
  });

  it('refuses an email another staff member uses (409); a customer with that email is another account', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const customer = await createCustomer(tenant);
    expectProblem(
      await invite(tenant, admin.token, inviteBody({ email: admin.email.toUpperCase() })),
      409,
      'email_taken',
    );
    const employee = await invite(tenant, admin.token, inviteBody({ email: customer.email.toUpperCase() }));
    expect(employee.status, employee.text).toBe(201);
    expect(employee.body.id).not.toBe(customer.id);
    expectProblem(
      await invite(tenant, admin.token, inviteBody({ email: customer.email })),
      409,
      'email_taken',
    );
  });

  it('lets an administrator grant only permissions it holds itself (403)', async () => {
    const tenant = await createTenant();
    const limited = await createStaff(tenant, {
      permissions: ['access:admin', 'access:read', 'customers:read'],
    });
    const escalation = await invite<{ permissions: string[] }>(
      tenant,
      limited.token,
      inviteBody({ roleIds: ['rol_tenant_admin'] }),
    );
    expectProblem(escalation, 403, 'permission_not_held');
    expect(escalation.body.permissions).toContain('customers:erase');
    const agent = await invite<{ permissions: string[] }>(
      tenant,
      limited.token,
      inviteBody({ roleIds: ['rol_support_agent'] }),
    );
    expectProblem(agent, 403, 'permission_not_held');
    expect(agent.body.permissions).toEqual(['beneficiaries:read', 'customers:write', 'documents:read']);
    const reader = await customRole(tenant, ['customers:read']);
    expect((await invite(tenant, limited.token, inviteBody({ roleIds: [reader] }))).status).toBe(201);
    expectProblem(
      await update(tenant, limited.token, limited.id, { roleIds: ['rol_tenant_admin'] }),
      403,
      'permission_not_held',
    );
  });
});

describe('GET /access/users/{userId}', () => {
  it("shows a staff user; a customer's user is not staff (404)", async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const officer = await createStaff(tenant, 'COMPLIANCE_OFFICER');
    const customer = await createCustomer(tenant);
    const shown = await call<StaffUser>('GET', `/access/users/${officer.id}`, {
      tenant: tenant.id,
      token: admin.token,
    });
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ id: officer.id, email: officer.email, status: 'ACTIVE' });
    expectProblem(
      await call('GET', `/access/users/${customer.id}`, { tenant: tenant.id, token: admin.token }),
      404,
      'not_found',
    );
  });
});

describe('PATCH /access/users/{userId}', () => {
  it('disables a user: their tokens stop working at once and logins are refused; enabling lets them in', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const agent = await createStaff(tenant, 'SUPPORT_AGENT');
    const disabled = await update(tenant, admin.token, agent.id, { status: 'DISABLED' });
    expect(disabled.status).toBe(200);
    expect(disabled.body.status).toBe('DISABLED');

    await expectLockedOut(tenant, agent);
    expectProblem(await login(tenant, agent.email, agent.password), 403, 'account_disabled');
    expect((await eventsOfType(tenant, 'session.revoked')).map((row) => row.data)).toEqual([
      { sessionId: agent.sessionId, userId: agent.id, reason: 'USER_DISABLED' },
    ]);
    expect((await eventsOfType(tenant, 'user.updated')).map((row) => row.data)).toEqual([
      { userId: agent.id, changedFields: ['status'], status: 'DISABLED' },
    ]);

    expect((await update(tenant, admin.token, agent.id, { status: 'ACTIVE' })).body.status).toBe('ACTIVE');
    expect((await login(tenant, agent.email, agent.password)).status).toBe(200);
  });

  it("replaces the roles, which reach the user's token at its next refresh", async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const agent = await createStaff(tenant, 'SUPPORT_AGENT');
    const updated = await update(tenant, admin.token, agent.id, {
      roleIds: ['rol_compliance_officer'],
      displayName: 'Ada Reviewer',
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      displayName: 'Ada Reviewer',
      roles: [{ id: 'rol_compliance_officer', name: 'COMPLIANCE_OFFICER' }],
    });
    const scope = String(decodeJwt((await refresh(tenant, agent.refreshToken)).body.accessToken).scope);
    expect(scope.split(' ')).toContain('kyc:review');
    expect(scope.split(' ')).not.toContain('customers:write');

    const audit = await database(tenant).select().from(auditEvents).where(eq(auditEvents.targetId, agent.id));
    expect(audit.find((row) => row.action === 'user.updated')?.data).toEqual({
      before: { roleIds: ['rol_support_agent'], displayName: 'Test Staff' },
      after: { roleIds: ['rol_compliance_officer'], displayName: 'Ada Reviewer' },
    });
    // Nothing to change: no event.
    expect((await update(tenant, admin.token, agent.id, { displayName: 'Ada Reviewer' })).status).toBe(200);
    expect(await eventsOfType(tenant, 'user.updated')).toHaveLength(1);
  });

  it('does not let administrators lock themselves out (409 self_lockout)', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    expectProblem(await update(tenant, admin.token, admin.id, { status: 'DISABLED' }), 409, 'self_lockout');
    expectProblem(
      await update(tenant, admin.token, admin.id, { roleIds: ['rol_support_agent'] }),
      409,
      'self_lockout',
    );
    const renamed = await update(tenant, admin.token, admin.id, { displayName: 'Still In Charge' });
    expect(renamed.status).toBe(200);
    expect((await call('GET', '/access/users', { tenant: tenant.id, token: admin.token })).status).toBe(200);
  });

  it("refuses an empty change and a customer's user", async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const customer = await createCustomer(tenant);
    expectProblem(await update(tenant, admin.token, admin.id, {}), 422, 'validation_failed');
    expectProblem(await update(tenant, admin.token, customer.id, { status: 'DISABLED' }), 404, 'not_found');
    expect((await login(tenant, customer.email, customer.password, 'CUSTOMER')).status).toBe(200);
  });
});

describe('POST /access/users/{userId}/credentials/reset', () => {
  it('ends every session, makes the password unusable and sends a token for a new one', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const agent = await createStaff(tenant, 'SUPPORT_AGENT');
    const response = await call<StaffUser>('POST', `/access/users/${agent.id}/credentials/reset`, {
      tenant: tenant.id,
      token: admin.token,
    });
    expect(response.status).toBe(200);
    expect(response.body.passwordSetupPending).toBe(true);

    await expectLockedOut(tenant, agent);
    expectProblem(await login(tenant, agent.email, agent.password), 401, 'invalid_credentials');
    expect((await eventsOfType(tenant, 'session.revoked')).map((row) => row.data.reason)).toEqual([
      'CREDENTIALS_RESET',
    ]);
    const notification = await awaitNotification(tenant, agent.id);
    expect(notification.template).toBe('CREDENTIALS_RESET');
    expect((await setPassword(tenant, notification.token)).status).toBe(204);
    expect((await login(tenant, agent.email, NEW_PASSWORD)).status).toBe(200);
  });

  it('with resetSecondFactors also removes TOTP, recovery codes and passkeys: the new password logs in alone', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const agent = await createStaff(tenant, 'SUPPORT_AGENT');
    await enrolTotp(tenant, agent);
    const passkey = await enrolPasskey(tenant, agent);
    const response = await call<StaffUser>('POST', `/access/users/${agent.id}/credentials/reset`, {
      tenant: tenant.id,
      token: admin.token,
      body: { resetSecondFactors: true },
    });
    expect(response.status, response.text).toBe(200);

    const db = database(tenant);
    for (const table of [totpCredentials, recoveryCodes, webauthnCredentials]) {
      expect(await db.select().from(table).where(eq(table.userId, agent.id))).toEqual([]);
    }
    expect((await eventsOfType(tenant, 'mfa.removed')).map((row) => row.data)).toEqual([
      { userId: agent.id, method: 'TOTP' },
    ]);
    expect((await eventsOfType(tenant, 'passkey.removed')).map((row) => row.data)).toEqual([
      { userId: agent.id, credentialId: passkey.id },
    ]);
    const audit = await db
      .select({ action: auditEvents.action, actorId: auditEvents.actorId, data: auditEvents.data })
      .from(auditEvents)
      .where(
        and(
          eq(auditEvents.targetId, agent.id),
          eq(auditEvents.requestId, String(response.headers.get('X-Request-Id'))),
        ),
      );
    expect(audit).toEqual(
      expect.arrayContaining([
        { action: 'user.credentials_reset', actorId: admin.id, data: { resetSecondFactors: true } },
        { action: 'mfa.removed', actorId: admin.id, data: { method: 'TOTP' } },
        {
          action: 'passkey.removed',
          actorId: admin.id,
          data: { credentialId: passkey.id, name: expect.any(String) },
        },
      ]),
    );

    const notification = await awaitNotification(tenant, agent.id);
    expect((await setPassword(tenant, notification.token)).status).toBe(204);
    const loggedIn = await login(tenant, agent.email, NEW_PASSWORD);
    expect(loggedIn.status, loggedIn.text).toBe(200);
    expect(loggedIn.body).not.toHaveProperty('mfaRequired');
    expect(decodeJwt(loggedIn.body.accessToken).amr).toEqual(['pwd']);
  });

  it('keeps the second factors without the flag: the new password leads to the MFA step', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    for (const body of [undefined, {}, { resetSecondFactors: false }]) {
      const agent = await createStaff(tenant, 'SUPPORT_AGENT');
      await enrolTotp(tenant, agent);
      const response = await call('POST', `/access/users/${agent.id}/credentials/reset`, {
        tenant: tenant.id,
        token: admin.token,
        body,
      });
      expect(response.status, response.text).toBe(200);
      const notification = await awaitNotification(tenant, agent.id);
      expect((await setPassword(tenant, notification.token)).status).toBe(204);
      const loggedIn = await login(tenant, agent.email, NEW_PASSWORD);
      expect(loggedIn.status, loggedIn.text).toBe(200);
      expect(loggedIn.body).toMatchObject({ mfaRequired: true, methods: ['TOTP', 'RECOVERY_CODE'] });
    }
    expect(await eventsOfType(tenant, 'mfa.removed')).toEqual([]);
  });

  it('validates the optional body (422)', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const agent = await createStaff(tenant, 'SUPPORT_AGENT');
    for (const body of [{ resetSecondFactors: 'yes' }, { resetSecondFactors: true, extra: 1 }]) {
      const response = await call('POST', `/access/users/${agent.id}/credentials/reset`, {
        tenant: tenant.id,
        token: admin.token,
        body,
      });
      expectProblem(response, 422, 'validation_failed');
    }
    // Refused before anything changed: the agent still logs in.
    expect((await login(tenant, agent.email, agent.password)).status).toBe(200);
  });

  it('refuses the caller’s own account and a disabled user (409)', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const agent = await createStaff(tenant, 'SUPPORT_AGENT');
    const resetOf = (userId: string) =>
      call('POST', `/access/users/${userId}/credentials/reset`, { tenant: tenant.id, token: admin.token });
    expectProblem(await resetOf(admin.id), 409, 'self_lockout');
    await update(tenant, admin.token, agent.id, { status: 'DISABLED' });
    expectProblem(await resetOf(agent.id), 409, 'user_disabled');
    expect((await login(tenant, admin.email, admin.password)).status).toBe(200);
  });
});
