import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditEvents, passwordTokens, users } from '../../src/db/tenant';
import { RESET_REQUESTS_PER_HOUR } from '../../src/modules/auth/passwords';
import { ACCOUNT_LOCKOUT } from '../../src/platform/auth/lockout';
import { hashPassword, PBKDF2_ITERATIONS } from '../../src/platform/auth/passwords';
import {
  createCustomer,
  createStaff,
  createTenant,
  database,
  logIn,
  randomIp,
  staleAccessToken,
  type TestSession,
  type TestTenant,
} from '../helpers/factories';
import { call } from '../helpers/http';
import { awaitNotification, eventsOfType, notificationsFor } from '../helpers/outbox';
import { expectProblem } from '../helpers/problems';

const NEW_PASSWORD = 'a-brand-new-passphrase';

function login(tenant: TestTenant, email: string, password: string, accountType?: 'STAFF') {
  return call<TestSession>('POST', '/auth/login', {
    tenant: tenant.id,
    body: { email, password, accountType },
    headers: { 'CF-Connecting-IP': randomIp() },
  });
}

function refresh(tenant: TestTenant, refreshToken: string) {
  return call<TestSession>('POST', '/auth/refresh', { tenant: tenant.id, body: { refreshToken } });
}

function change(tenant: TestTenant, token: string, body: unknown) {
  return call('POST', '/auth/password/change', { tenant: tenant.id, token, body });
}

/** Each from its own address: the per-IP limit of these routes has tests of its own. */
function forgot(tenant: TestTenant, email: string, accountType?: 'STAFF') {
  return call('POST', '/auth/password/forgot', {
    tenant: tenant.id,
    body: { email, accountType },
    headers: { 'CF-Connecting-IP': randomIp() },
  });
}

function reset(tenant: TestTenant, token: string, newPassword = NEW_PASSWORD) {
  return call('POST', '/auth/password/reset', {
    tenant: tenant.id,
    body: { token, newPassword },
    headers: { 'CF-Connecting-IP': randomIp() },
  });
}

/** Signed-in customers' tokens still work, and the session they belong to is live. */
async function expectSignedIn(tenant: TestTenant, customerId: string, session: TestSession) {
  const own = await call('GET', `/customers/${customerId}`, {
    tenant: tenant.id,
    token: session.accessToken,
  });
  expect(own.status).toBe(200);
}

async function expectSignedOut(tenant: TestTenant, customerId: string, session: TestSession) {
  expectProblem(
    await call('GET', `/customers/${customerId}`, { tenant: tenant.id, token: session.accessToken }),
    401,
    'invalid_token',
  );
  expectProblem(await refresh(tenant, session.refreshToken), 401, 'invalid_refresh_token');
}

describe('POST /auth/password/change', () => {
  it('needs an authentication at most 5 minutes old, then works after a step-up', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const stale = await staleAccessToken(tenant, customer);
    const body = { currentPassword: customer.password, newPassword: NEW_PASSWORD };
    const refused = await change(tenant, stale, body);
    expectProblem(refused, 401, 'step_up_required');
    expect(refused.body.maxAgeSeconds).toBe(300);

    const steppedUp = await call<{ accessToken: string }>('POST', '/auth/step-up', {
      tenant: tenant.id,
      token: stale,
      body: { method: 'PASSWORD', password: customer.password },
    });
    expect((await change(tenant, steppedUp.body.accessToken, body)).status).toBe(204);
  });

  it('refuses a wrong current password and counts it towards the lockout', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    expectProblem(
      await change(tenant, customer.accessToken, {
        currentPassword: 'not-the-current-one',
        newPassword: NEW_PASSWORD,
      }),
      401,
      'invalid_credentials',
    );
    const row = await database(tenant).select().from(users).where(eq(users.id, customer.id)).get();
    expect(row?.failedLoginCount).toBe(1);
    expect((await login(tenant, customer.email, customer.password)).status).toBe(200);
  });

  it('refuses common passwords in any letter case, the email, and the current password', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    for (const [newPassword, message] of [
      ['Password1234', /common/],
      ['pAsSwOrD1234', /common/],
      ['QWERTYUIOP123', /common/],
      [customer.email.toUpperCase(), /email/],
      [customer.password, /differ/],
    ] as const) {
      const response = await change(tenant, customer.accessToken, {
        currentPassword: customer.password,
        newPassword,
      });
      expectProblem(response, 422, 'validation_failed');
      expect(response.body.errors, newPassword).toEqual([
        { path: 'newPassword', message: expect.stringMatching(message) },
      ]);
    }
    const short = await change(tenant, customer.accessToken, {
      currentPassword: customer.password,
      newPassword: 'too-short',
    });
    expectProblem(short, 422, 'validation_failed');
    expect((await login(tenant, customer.email, customer.password)).status).toBe(200);
  });

  it('changes the password, ends the other sessions and keeps this one', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const phone = await logIn(tenant, customer.email, customer.password);
    const response = await change(tenant, customer.accessToken, {
      currentPassword: customer.password,
      newPassword: NEW_PASSWORD,
    });
    expect(response.status).toBe(204);

    await expectSignedOut(tenant, customer.customerId, phone);
    await expectSignedIn(tenant, customer.customerId, customer);
    expect((await refresh(tenant, customer.refreshToken)).status).toBe(200);
    expectProblem(await login(tenant, customer.email, customer.password), 401, 'invalid_credentials');
    expect((await login(tenant, customer.email, NEW_PASSWORD)).status).toBe(200);

    expect((await eventsOfType(tenant, 'session.revoked')).map((row) => row.data)).toEqual([
      { sessionId: phone.sessionId, userId: customer.id, reason: 'PASSWORD_CHANGED' },
    ]);
    expect((await eventsOfType(tenant, 'user.password_changed')).map((row) => row.data)).toEqual([
      { userId: customer.id, via: 'CHANGE' },
    ]);
    const row = await database(tenant).select().from(users).where(eq(users.id, customer.id)).get();
    expect(row?.passwordChangedAt).not.toBeNull();
  });

  it('audits the change without the password', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    await change(tenant, customer.accessToken, {
      currentPassword: customer.password,
      newPassword: NEW_PASSWORD,
    });
    const audit = await database(tenant)
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.targetId, customer.id), eq(auditEvents.action, 'user.password_changed')));
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain(NEW_PASSWORD);
  });
});

describe('POST /auth/password/forgot', () => {
  it('answers 202 alike for known and unknown emails, and sends a token to known ones only', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const unknown = await forgot(tenant, `nobody-${customer.email}`);
    const known = await forgot(tenant, customer.email.toUpperCase());
    for (const response of [unknown, known]) {
      expect(response.status).toBe(202);
      expect(response.text).toBe('');
    }

    const notification = await awaitNotification(tenant, customer.id);
    expect(notification).toEqual({
      channel: 'EMAIL',
      template: 'PASSWORD_RESET',
      userId: customer.id,
      customerId: customer.customerId,
      recipient: customer.email,
      token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      expiresAt: expect.any(String),
    });
    const lifetimeMs = Date.parse(notification.expiresAt) - Date.now();
    expect(lifetimeMs).toBeGreaterThan(29 * 60 * 1000);
    expect(lifetimeMs).toBeLessThanOrEqual(30 * 60 * 1000);
    expect(
      (await eventsOfType(tenant, 'notification.requested')).filter(
        (row) => row.data.recipient !== customer.email,
      ),
    ).toEqual([]);

    // Only a hash of the token is stored.
    const stored = await database(tenant)
      .select()
      .from(passwordTokens)
      .where(eq(passwordTokens.userId, customer.id));
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(notification.token);
  });

  it('looks staff up only with accountType STAFF: a staff email alone gets what an unknown one gets', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const bystander = await createStaff(tenant);
    const asCustomer = await forgot(tenant, staff.email);
    const unknown = await forgot(tenant, `nobody-${staff.email}`);
    for (const response of [asCustomer, unknown]) {
      expect(response.status).toBe(202);
      expect(response.text).toBe('');
    }
    // The work runs after the response: once a later request's message is out, the earlier ones are done.
    expect((await forgot(tenant, bystander.email, 'STAFF')).status).toBe(202);
    await awaitNotification(tenant, bystander.id);
    expect(await notificationsFor(tenant, staff.id)).toEqual([]);
  });

  it('sends nothing to a disabled account', async () => {
    const tenant = await createTenant();
    const disabled = await createStaff(tenant);
    const active = await createStaff(tenant);
    await database(tenant).update(users).set({ status: 'DISABLED' }).where(eq(users.id, disabled.id));
    expect((await forgot(tenant, disabled.email, 'STAFF')).status).toBe(202);
    expect((await forgot(tenant, active.email, 'STAFF')).status).toBe(202);
    await awaitNotification(tenant, active.id);
    expect(await notificationsFor(tenant, disabled.id)).toEqual([]);
  });

  it(`sends at most ${RESET_REQUESTS_PER_HOUR} messages per account and hour`, async () => {
    const tenant = await createTenant();
    const target = await createStaff(tenant);
    const bystander = await createStaff(tenant);
    for (let request = 1; request <= RESET_REQUESTS_PER_HOUR + 1; request++) {
      expect((await forgot(tenant, target.email, 'STAFF')).status).toBe(202);
      if (request <= RESET_REQUESTS_PER_HOUR) await awaitNotification(tenant, target.id, request);
    }
    // The work runs after the response: once a later request's message is out, the extra one is done too.
    expect((await forgot(tenant, bystander.email, 'STAFF')).status).toBe(202);
    await awaitNotification(tenant, bystander.id);
    expect(await notificationsFor(tenant, target.id)).toHaveLength(RESET_REQUESTS_PER_HOUR);
  });

  it('limits requests per IP (429)', async () => {
    const tenant = await createTenant();
    const ip = randomIp();
    const send = () =>
      call('POST', '/auth/password/forgot', {
        tenant: tenant.id,
        body: { email: 'someone@example.com' },
        headers: { 'CF-Connecting-IP': ip },
      });
    for (let request = 0; request < 5; request++) expect((await send()).status).toBe(202);
    expectProblem(await send(), 429, 'rate_limited');
  });
});

describe('POST /auth/password/reset', () => {
  it('sets the password with the token, which then works no more', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    await forgot(tenant, customer.email);
    const { token } = await awaitNotification(tenant, customer.id);

    expect((await reset(tenant, token)).status).toBe(204);
    expectProblem(await login(tenant, customer.email, customer.password), 401, 'invalid_credentials');
    expect((await login(tenant, customer.email, NEW_PASSWORD)).status).toBe(200);
    expectProblem(await reset(tenant, token, 'yet-another-passphrase'), 400, 'invalid_password_token');
    expect((await login(tenant, customer.email, NEW_PASSWORD)).status).toBe(200);
    expect((await eventsOfType(tenant, 'user.password_changed')).map((row) => row.data)).toEqual([
      { userId: customer.id, via: 'RESET' },
    ]);
  });

  it('lets exactly one of several concurrent uses of a token through', async () => {
    const tenant = await createTenant({ rateLimitPerMinute: 1000 });
    const customer = await createCustomer(tenant);
    await forgot(tenant, customer.email);
    const { token } = await awaitNotification(tenant, customer.id);
    const answers = await Promise.all(
      ['first-new-passphrase', 'second-new-passphrase', 'third-new-passphrase'].map((password) =>
        reset(tenant, token, password),
      ),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([204, 400, 400]);
  });

  it('refuses an expired token', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    await forgot(tenant, customer.email);
    const { token } = await awaitNotification(tenant, customer.id);
    await database(tenant)
      .update(passwordTokens)
      .set({ expiresAt: new Date(Date.now() - 1000).toISOString() })
      .where(eq(passwordTokens.userId, customer.id));
    expectProblem(await reset(tenant, token), 400, 'invalid_password_token');
    expect((await login(tenant, customer.email, customer.password)).status).toBe(200);
  });

  it('refuses a token replaced by a newer one, and tokens of another tenant', async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    const customer = await createCustomer(tenant);
    await forgot(tenant, customer.email);
    const older = await awaitNotification(tenant, customer.id);
    await forgot(tenant, customer.email);
    const newer = await awaitNotification(tenant, customer.id, 2);
    expectProblem(await reset(tenant, older.token), 400, 'invalid_password_token');
    expectProblem(await reset(other, newer.token), 400, 'invalid_password_token');
    expect((await reset(tenant, newer.token)).status).toBe(204);
  });

  it('refuses a password the policy rejects without spending the token', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    await forgot(tenant, customer.email);
    const { token } = await awaitNotification(tenant, customer.id);
    const common = await reset(tenant, token, 'PASSWORD1234');
    expectProblem(common, 422, 'validation_failed');
    expect(common.body.errors).toEqual([{ path: 'newPassword', message: expect.stringMatching(/common/) }]);
    expectProblem(await reset(tenant, token, customer.email), 422, 'validation_failed');
    expect((await reset(tenant, token)).status).toBe(204);
  });

  it('ends every session of the user and unlocks a locked account', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const laptop = await logIn(tenant, customer.email, customer.password);
    for (let attempt = 1; attempt < ACCOUNT_LOCKOUT.limit; attempt++) {
      await login(tenant, customer.email, 'wrong-password-guess');
    }
    expectProblem(await login(tenant, customer.email, 'wrong-password-guess'), 423, 'account_locked');

    await forgot(tenant, customer.email);
    const { token } = await awaitNotification(tenant, customer.id);
    expect((await reset(tenant, token)).status).toBe(204);

    for (const session of [customer, laptop]) await expectSignedOut(tenant, customer.customerId, session);
    const revoked = (await eventsOfType(tenant, 'session.revoked')).map((row) => row.data);
    expect(revoked).toHaveLength(2);
    expect(revoked.every((data) => data.reason === 'PASSWORD_RESET')).toBe(true);
    const fresh = await login(tenant, customer.email, NEW_PASSWORD);
    expect(fresh.status).toBe(200);
    await expectSignedIn(tenant, customer.customerId, fresh.body);
    const row = await database(tenant).select().from(users).where(eq(users.id, customer.id)).get();
    expect(row).toMatchObject({ failedLoginCount: 0, lockedUntil: null });
  });
});

describe('password hashes', () => {
  it(`are rehashed at ${PBKDF2_ITERATIONS} iterations when a user with an older hash logs in`, async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const db = database(tenant);
    await db
      .update(users)
      .set({ passwordHash: await hashPassword(staff.password, 10_000) })
      .where(eq(users.id, staff.id));
    const hashOf = async () =>
      (await db.select().from(users).where(eq(users.id, staff.id)).get())?.passwordHash;
    expect(await hashOf()).toMatch(/^pbkdf2-sha256\$10000\$/);

    expect((await login(tenant, staff.email, staff.password, 'STAFF')).status).toBe(200);
    expect(await hashOf()).toMatch(new RegExp(`^pbkdf2-sha256\\$${PBKDF2_ITERATIONS}\\$`));
    expect((await login(tenant, staff.email, staff.password, 'STAFF')).status).toBe(200);
    expectProblem(await login(tenant, staff.email, 'not-the-password', 'STAFF'), 401, 'invalid_credentials');
  });
});
