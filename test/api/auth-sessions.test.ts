import { env, runInDurableObject } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { auditEvents, sessions, users } from '../../src/db/tenant';
import { revocationKey, UNMARKED_REMEMBERED_MS } from '../../src/platform/auth/authenticate';
import { ACCOUNT_LOCKOUT } from '../../src/platform/auth/lockout';
import { randomToken } from '../../src/platform/crypto';
import { rateLimitPolicies } from '../../src/platform/rate-limit/policies';
import { familyFacts, refreshTokenFor, sessionStub } from '../../src/platform/sessions/refresh-tokens';
import {
  createCustomer,
  createStaff,
  createTenant,
  database,
  logIn,
  randomIp,
  type TestSession,
  type TestTenant,
} from '../helpers/factories';
import { call } from '../helpers/http';
import { BURST, burstThenRight, expectExactLockout, expireLock } from '../helpers/lockout';
import { eventsOfType } from '../helpers/outbox';
import { expectProblem } from '../helpers/problems';

/** The per-address login limit, as declared: the tests follow the policy rather than copy it. */
const LOGIN_ATTEMPTS = rateLimitPolicies.login.capacity;
const LOGIN_POLICY = `"login";q=${LOGIN_ATTEMPTS};w=${rateLimitPolicies.login.windowSeconds}`;

/** Staff logins unless told otherwise: most tests here log staff in. */
function attemptLogin(
  tenant: TestTenant,
  email: string,
  password: string,
  ip = randomIp(),
  accountType: 'CUSTOMER' | 'STAFF' = 'STAFF',
) {
  return call<TestSession>('POST', '/auth/login', {
    tenant: tenant.id,
    body: { email, password, accountType },
    headers: { 'CF-Connecting-IP': ip },
  });
}

function refresh(tenant: TestTenant, refreshToken: string) {
  return call<TestSession>('POST', '/auth/refresh', { tenant: tenant.id, body: { refreshToken } });
}

describe('POST /auth/login', () => {
  it('gives a staff user ES256 tokens whose claims carry the session, roles and method', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant, 'COMPLIANCE_OFFICER');
    const response = await attemptLogin(tenant, staff.email, staff.password);
    expect(response.status).toBe(200);
    expect(response.headers.get('Cache-Control')).toBe('no-store');
    expect(response.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 600 });
    expect(response.body.sessionId).toMatch(/^ses_/);
    expect(response.body.refreshToken.startsWith(`${response.body.sessionId}.`)).toBe(true);
    const claims = decodeJwt(response.body.accessToken);
    expect(claims).toMatchObject({
      sub: staff.id,
      tid: tenant.id,
      sid: response.body.sessionId,
      ptype: 'staff',
      amr: ['pwd'],
    });
    expect(String(claims.scope).split(' ')).toContain('kyc:review');
    expect(Number(claims.exp) - Number(claims.iat)).toBe(600);
    const me = await call('GET', '/customers', { tenant: tenant.id, token: response.body.accessToken });
    expect(me.status).toBe(200);
    expect(await eventsOfType(tenant, 'session.created')).toContainEqual(
      expect.objectContaining({
        data: { sessionId: response.body.sessionId, userId: staff.id, amr: ['pwd'] },
      }),
    );
  });

  it('gives a customer a token for its own record only', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const claims = decodeJwt(customer.accessToken);
    expect(claims).toMatchObject({ ptype: 'customer', cus: customer.customerId, scope: '' });
    const own = await call('GET', `/customers/${customer.customerId}`, {
      tenant: tenant.id,
      token: customer.accessToken,
    });
    expect(own.status).toBe(200);
  });

  it('answers an unknown email exactly like a wrong password', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const wrong = await attemptLogin(tenant, staff.email, 'not-the-password-at-all');
    const unknown = await attemptLogin(tenant, `nobody-${staff.email}`, 'not-the-password-at-all');
    expectProblem(wrong, 401, 'invalid_credentials');
    expectProblem(unknown, 401, 'invalid_credentials');
    const { requestId: _a, ...wrongBody } = wrong.body as unknown as Record<string, unknown>;
    const { requestId: _b, ...unknownBody } = unknown.body as unknown as Record<string, unknown>;
    expect(unknownBody).toEqual(wrongBody);
  });

  it('does not log in another tenant’s user', async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    const staff = await createStaff(tenant);
    expectProblem(await attemptLogin(other, staff.email, staff.password), 401, 'invalid_credentials');
  });

  it(`locks the account after ${ACCOUNT_LOCKOUT.limit} failures, even for the right password, then unlocks`, async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    for (let attempt = 1; attempt < ACCOUNT_LOCKOUT.limit; attempt++) {
      expectProblem(
        await attemptLogin(tenant, staff.email, 'wrong-password-guess'),
        401,
        'invalid_credentials',
      );
    }
    const locking = await attemptLogin(tenant, staff.email, 'wrong-password-guess');
    expectProblem(locking, 423, 'account_locked');
    expect(Number(locking.headers.get('Retry-After'))).toBeGreaterThan(14 * 60);
    expectProblem(await attemptLogin(tenant, staff.email, staff.password), 423, 'account_locked');

    expect(await eventsOfType(tenant, 'user.locked')).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ userId: staff.id }) }),
    ]);
    const db = database(tenant);
    const audit = await db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.targetId, staff.id), eq(auditEvents.action, 'user.locked')));
    expect(audit).toHaveLength(1);

    // Fifteen minutes later: the lock has run out.
    await db
      .update(users)
      .set({ lockedUntil: new Date(Date.now() - 1000).toISOString() })
      .where(eq(users.id, staff.id));
    expect((await attemptLogin(tenant, staff.email, staff.password)).status).toBe(200);
  });

  it(`checks only ${ACCOUNT_LOCKOUT.limit} of ${BURST} parallel wrong passwords; the right one then gets 423 until the lock ends`, async () => {
    const tenant = await createTenant({ rateLimitPerMinute: 1000 });
    const staff = await createStaff(tenant);
    const outcome = await burstThenRight(
      tenant,
      staff.id,
      () => attemptLogin(tenant, staff.email, 'wrong-password-guess'),
      () => attemptLogin(tenant, staff.email, staff.password),
    );
    await expectExactLockout(tenant, staff.id, outcome, { status: 401, code: 'invalid_credentials' });
    const later = await attemptLogin(tenant, staff.email, staff.password);
    expectProblem(later, 423, 'account_locked');
    expect(Number(later.headers.get('Retry-After'))).toBeGreaterThan(14 * 60);
    await expireLock(tenant, staff.id);
    expect((await attemptLogin(tenant, staff.email, staff.password)).status).toBe(200);
  });

  it('does not lock for failures spread beyond the 15-minute window', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const db = database(tenant);
    for (let attempt = 1; attempt < ACCOUNT_LOCKOUT.limit; attempt++) {
      await attemptLogin(tenant, staff.email, 'wrong-password-guess');
    }
    await db
      .update(users)
      .set({ failedLoginWindowStartedAt: new Date(Date.now() - 16 * 60 * 1000).toISOString() })
      .where(eq(users.id, staff.id));
    expectProblem(
      await attemptLogin(tenant, staff.email, 'wrong-password-guess'),
      401,
      'invalid_credentials',
    );
    expect((await attemptLogin(tenant, staff.email, staff.password)).status).toBe(200);
  });

  it('limits login attempts per IP across accounts (429)', async () => {
    const tenant = await createTenant({ rateLimitPerMinute: 1000 });
    const ip = randomIp();
    const statuses: number[] = [];
    for (let attempt = 0; attempt < LOGIN_ATTEMPTS; attempt++) {
      statuses.push(
        (await attemptLogin(tenant, `guess-${attempt}@example.com`, 'password-guess-1', ip)).status,
      );
    }
    expect(statuses.every((status) => status === 401)).toBe(true);
    const limited = await attemptLogin(tenant, 'guess-final@example.com', 'password-guess-1', ip);
    expectProblem(limited, 429, 'rate_limited');
    expect(limited.headers.get('Retry-After')).not.toBeNull();
    // The refusing bucket, not the tenant's quota it was charged first: that one is far from empty.
    expect(limited.headers.get('RateLimit-Policy')).toBe(LOGIN_POLICY);
    expect(limited.headers.get('RateLimit')).toMatch(/^"login";r=0;t=\d+$/);
  });

  it('lets exactly the login limit of one more parallel attempts from one address through to the password check', async () => {
    const tenant = await createTenant({ rateLimitPerMinute: 1000 });
    const ip = randomIp();
    const answers = await Promise.all(
      Array.from({ length: LOGIN_ATTEMPTS + 1 }, (_, attempt) =>
        attemptLogin(tenant, `guess-${attempt}@example.com`, 'password-guess-1', ip),
      ),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(LOGIN_ATTEMPTS);
    const limited = answers.filter((answer) => answer.status === 429);
    expect(limited).toHaveLength(1);
    expect(limited[0]?.headers.get('RateLimit-Policy')).toBe(LOGIN_POLICY);
  });

  it('refuses a disabled account', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    await database(tenant).update(users).set({ status: 'DISABLED' }).where(eq(users.id, staff.id));
    expectProblem(await attemptLogin(tenant, staff.email, staff.password), 403, 'account_disabled');
  });
});

describe('POST /auth/refresh', () => {
  it('rotates the pair: the new tokens work, the spent refresh token is spent', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const rotated = await refresh(tenant, staff.refreshToken);
    expect(rotated.status).toBe(200);
    expect(rotated.body.refreshToken).not.toBe(staff.refreshToken);
    expect(rotated.body.sessionId).toBe(staff.sessionId);
    expect(decodeJwt(rotated.body.accessToken).sid).toBe(staff.sessionId);
    expect((await refresh(tenant, rotated.body.refreshToken)).status).toBe(200);
  });

  it('revokes the whole session when a spent refresh token comes back', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const first = await refresh(tenant, staff.refreshToken);
    const second = await refresh(tenant, first.body.refreshToken);
    expect(second.status).toBe(200);
    // An attacker replays the token spent first, outside the grace window of its successor's use.
    expectProblem(await refresh(tenant, staff.refreshToken), 401, 'refresh_token_reused');
    expectProblem(await refresh(tenant, second.body.refreshToken), 401, 'invalid_refresh_token');
    expectProblem(
      await call('GET', '/customers', { tenant: tenant.id, token: second.body.accessToken }),
      401,
      'invalid_token',
    );
    expect(await eventsOfType(tenant, 'session.revoked')).toEqual([
      expect.objectContaining({
        data: { sessionId: staff.sessionId, userId: staff.id, reason: 'REFRESH_TOKEN_REUSED' },
      }),
    ]);
  });

  it('gives twenty concurrent refreshes of one token the same successor', async () => {
    const tenant = await createTenant({ rateLimitPerMinute: 1000 });
    const staff = await createStaff(tenant);
    const answers = await Promise.all(Array.from({ length: 20 }, () => refresh(tenant, staff.refreshToken)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200));
    const successors = new Set(answers.map((answer) => answer.body.refreshToken));
    expect(successors.size).toBe(1);
    const [successor] = [...successors];
    expect((await refresh(tenant, successor as string)).status).toBe(200);
  });

  it('refuses malformed, unknown and cross-tenant refresh tokens without revoking anything', async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    const staff = await createStaff(tenant);
    expectProblem(await refresh(tenant, 'garbage'), 401, 'invalid_refresh_token');
    // Knowing a session id is not enough to end the session: a forged token changes nothing.
    for (const generation of [0, 1, 7]) {
      expectProblem(
        await refresh(tenant, `${staff.sessionId}.${generation}.${'A'.repeat(43)}`),
        401,
        'invalid_refresh_token',
      );
    }
    expect((await refresh(tenant, staff.refreshToken)).status).toBe(200);
    const victim = await createStaff(tenant);
    expectProblem(await refresh(other, victim.refreshToken), 401, 'invalid_refresh_token');
    expect((await refresh(tenant, victim.refreshToken)).status).toBe(200);
  });
});

/** The session's object's stored state (its storage key), or undefined before the family's first use. */
function storedFamily(sessionId: string) {
  return runInDurableObject(sessionStub(env, sessionId), (_, state) => state.storage.kv.get('session'));
}

/** What D1 holds of a session, as the refresh passes it to the session's object. */
async function factsInD1(tenant: TestTenant, sessionId: string) {
  const row = await database(tenant).select().from(sessions).where(eq(sessions.id, sessionId)).get();
  if (!row) throw new Error(`No session ${sessionId}`);
  return familyFacts({ ...row, sessionId: row.id });
}

describe('refresh-token families started on first use', () => {
  it('a login leaves the object untouched; its first refresh starts the family, which detects reuse', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    expect(await storedFamily(staff.sessionId)).toBeUndefined();
    const first = await refresh(tenant, staff.refreshToken);
    expect(first.status).toBe(200);
    expect(await storedFamily(staff.sessionId)).toMatchObject({ generation: 1, revokedAt: null });
    // Within the grace a second use of the login's token is a concurrent refresh: the same successor.
    const concurrent = await refresh(tenant, staff.refreshToken);
    expect(concurrent.body.refreshToken).toBe(first.body.refreshToken);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 11_000 });
    try {
      expectProblem(await refresh(tenant, staff.refreshToken), 401, 'refresh_token_reused');
      expectProblem(await refresh(tenant, first.body.refreshToken), 401, 'invalid_refresh_token');
    } finally {
      vi.useRealTimers();
    }
    expect(await eventsOfType(tenant, 'session.revoked')).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ reason: 'REFRESH_TOKEN_REUSED' }) }),
    ]);
  });

  it('a logout before the first refresh leaves a revoked family that a racing refresh cannot start', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    // What a refresh read from D1 just before the logout committed.
    const factsBeforeLogout = await factsInD1(tenant, customer.sessionId);
    const logout = await call('POST', '/auth/logout', { tenant: tenant.id, token: customer.accessToken });
    expect(logout.status).toBe(204);
    expectProblem(await refresh(tenant, customer.refreshToken), 401, 'invalid_refresh_token');
    const racing = await sessionStub(env, customer.sessionId).rotate(
      customer.refreshToken,
      Date.now(),
      factsBeforeLogout,
    );
    expect(racing).toEqual({ outcome: 'revoked' });
  });

  it('expires a never-refreshed family from its login, whatever step-ups did to lastUsedAt', async () => {
    const tenant = await createTenant();
    const idle = await createStaff(tenant);
    const old = await createStaff(tenant);
    const daysAgo = (days: number) => new Date(Date.now() - days * 24 * 60 * 60 * 1000).toISOString();
    const db = database(tenant);
    await db
      .update(sessions)
      .set({ createdAt: daysAgo(31), lastUsedAt: daysAgo(1) })
      .where(eq(sessions.id, idle.sessionId));
    await db
      .update(sessions)
      .set({ createdAt: daysAgo(91), lastUsedAt: daysAgo(1) })
      .where(eq(sessions.id, old.sessionId));
    expectProblem(await refresh(tenant, idle.refreshToken), 401, 'invalid_refresh_token');
    expectProblem(await refresh(tenant, old.refreshToken), 401, 'invalid_refresh_token');
  });

  it('keeps the stored random key of a family started before the key was derived', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const familyKey = randomToken(32);
    const now = Date.now();
    // The state the former `start` stored at login.
    await runInDurableObject(sessionStub(env, staff.sessionId), (_, state) =>
      state.storage.kv.put('session', {
        sessionId: staff.sessionId,
        tenantId: tenant.id,
        userId: staff.id,
        createdAt: now,
        lastUsedAt: now,
        absoluteExpiresAt: now + 90 * 24 * 60 * 60 * 1000,
        idleExpiresAt: now + 30 * 24 * 60 * 60 * 1000,
        familyKey,
        generation: 0,
        rotatedAt: null,
        revokedAt: null,
        revokedReason: null,
      }),
    );
    const rotated = await refresh(tenant, await refreshTokenFor(staff.sessionId, familyKey, 0));
    expect(rotated.status).toBe(200);
    expect(rotated.body.refreshToken).toBe(await refreshTokenFor(staff.sessionId, familyKey, 1));
    // The derived key is not this family's: its token is a guess, which revokes nothing.
    expectProblem(await refresh(tenant, staff.refreshToken), 401, 'invalid_refresh_token');
    expect((await refresh(tenant, rotated.body.refreshToken)).status).toBe(200);
  });
});

describe('POST /auth/logout and /auth/logout-all', () => {
  it('ends the session: its access and refresh tokens stop working, other sessions live on', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const laptop = await logIn(tenant, customer.email, customer.password);
    const logout = await call('POST', '/auth/logout', { tenant: tenant.id, token: customer.accessToken });
    expect(logout.status).toBe(204);
    expectProblem(
      await call('GET', `/customers/${customer.customerId}`, {
        tenant: tenant.id,
        token: customer.accessToken,
      }),
      401,
      'invalid_token',
    );
    expectProblem(await refresh(tenant, customer.refreshToken), 401, 'invalid_refresh_token');
    const stillIn = await call('GET', `/customers/${customer.customerId}`, {
      tenant: tenant.id,
      token: laptop.accessToken,
    });
    expect(stillIn.status).toBe(200);
    expect(await eventsOfType(tenant, 'session.revoked')).toEqual([
      expect.objectContaining({
        data: expect.objectContaining({ sessionId: customer.sessionId, reason: 'LOGOUT' }),
      }),
    ]);
  });

  it('refuses a session revoked in another location within the bound, with this isolate’s memory on', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const read = () =>
      call('GET', `/customers/${customer.customerId}`, { tenant: tenant.id, token: customer.accessToken });
    expect((await read()).status).toBe(200);
    // The mark another location wrote, once KV has it here; this isolate remembers it was unmarked.
    await env.CACHE.put(revocationKey(tenant.id, customer.sessionId), 'LOGOUT', { expirationTtl: 660 });
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + UNMARKED_REMEMBERED_MS });
    try {
      expectProblem(await read(), 401, 'invalid_token');
    } finally {
      vi.useRealTimers();
    }
  });

  it('ends every session of the user with logout-all', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const phone = await logIn(tenant, staff.email, staff.password, 'STAFF');
    const bystander = await createStaff(tenant);
    expect(
      (await call('POST', '/auth/logout-all', { tenant: tenant.id, token: staff.accessToken })).status,
    ).toBe(204);
    for (const session of [staff, phone]) {
      expectProblem(await refresh(tenant, session.refreshToken), 401, 'invalid_refresh_token');
      expectProblem(
        await call('GET', '/customers', { tenant: tenant.id, token: session.accessToken }),
        401,
        'invalid_token',
      );
    }
    expect(
      (await call('GET', '/customers', { tenant: tenant.id, token: bystander.accessToken })).status,
    ).toBe(200);
  });
});

describe('GET /auth/sessions and DELETE /auth/sessions/{sessionId}', () => {
  it('lists the live sessions with device and marks the current one', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const firefox = await call<TestSession>('POST', '/auth/login', {
      tenant: tenant.id,
      body: { email: staff.email, password: staff.password, accountType: 'STAFF' },
      headers: {
        'User-Agent': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:133.0) Gecko/20100101 Firefox/133.0',
        'CF-Connecting-IP': '203.0.113.7',
      },
    });
    const list = await call<{ data: { id: string; device: string; ip: string; current: boolean }[] }>(
      'GET',
      '/auth/sessions',
      { tenant: tenant.id, token: staff.accessToken },
    );
    expect(list.status).toBe(200);
    expect(list.body.data.map((session) => session.id).sort()).toEqual(
      [staff.sessionId, firefox.body.sessionId].sort(),
    );
    const other = list.body.data.find((session) => session.id === firefox.body.sessionId);
    expect(other).toMatchObject({ device: 'Firefox on macOS', ip: '203.0.113.7', current: false });
    expect(list.body.data.find((session) => session.id === staff.sessionId)?.current).toBe(true);
  });

  it('revokes one of the caller’s sessions, but not another user’s (404)', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const phone = await logIn(tenant, staff.email, staff.password, 'STAFF');
    const colleague = await createStaff(tenant);
    const path = (id: string) => `/auth/sessions/${id}`;
    expectProblem(
      await call('DELETE', path(colleague.sessionId), { tenant: tenant.id, token: staff.accessToken }),
      404,
      'not_found',
    );
    expect(
      (await call('DELETE', path(phone.sessionId), { tenant: tenant.id, token: staff.accessToken })).status,
    ).toBe(204);
    expectProblem(await refresh(tenant, phone.refreshToken), 401, 'invalid_refresh_token');
    expect((await refresh(tenant, colleague.refreshToken)).status).toBe(200);
    expectProblem(
      await call('DELETE', path(phone.sessionId), { tenant: tenant.id, token: staff.accessToken }),
      404,
      'not_found',
    );
  });
});

describe('POST /auth/step-up', () => {
  it('gives a token with a fresh auth_time for the right password, kept by later refreshes', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    // The login was an hour ago: refreshed tokens still carry that authentication time.
    const anHourAgo = Math.floor(Date.now() / 1000) - 3600;
    await database(tenant)
      .update(sessions)
      .set({ authTime: anHourAgo })
      .where(eq(sessions.id, customer.sessionId));
    const stale = await refresh(tenant, customer.refreshToken);
    expect(decodeJwt(stale.body.accessToken).auth_time).toBe(anHourAgo);
    const response = await call<{ accessToken: string; authTime: string }>('POST', '/auth/step-up', {
      tenant: tenant.id,
      token: stale.body.accessToken,
      body: { method: 'PASSWORD', password: customer.password },
    });
    expect(response.status).toBe(200);
    const claims = decodeJwt(response.body.accessToken);
    expect(Number(claims.auth_time)).toBeGreaterThan(anHourAgo + 3000);
    expect(claims.sid).toBe(customer.sessionId);
    expect(new Date(response.body.authTime).getTime() / 1000).toBe(claims.auth_time);
    const refreshed = await refresh(tenant, stale.body.refreshToken);
    expect(decodeJwt(refreshed.body.accessToken).auth_time).toBe(claims.auth_time);
  });

  it(`checks only ${ACCOUNT_LOCKOUT.limit} of ${BURST} parallel wrong passwords, and the lock shuts login too`, async () => {
    const tenant = await createTenant({ rateLimitPerMinute: 1000 });
    const customer = await createCustomer(tenant);
    const stepUp = (password: string) =>
      call('POST', '/auth/step-up', {
        tenant: tenant.id,
        token: customer.accessToken,
        body: { method: 'PASSWORD', password },
        headers: { 'CF-Connecting-IP': randomIp() },
      });
    const outcome = await burstThenRight(
      tenant,
      customer.id,
      () => stepUp('wrong-password-guess'),
      () => stepUp(customer.password),
    );
    await expectExactLockout(tenant, customer.id, outcome, { status: 401, code: 'invalid_credentials' });
    expectProblem(await stepUp(customer.password), 423, 'account_locked');
    expectProblem(
      await attemptLogin(tenant, customer.email, customer.password, randomIp(), 'CUSTOMER'),
      423,
      'account_locked',
    );
    await expireLock(tenant, customer.id);
    expect((await stepUp(customer.password)).status).toBe(200);
  });

  it('refuses a wrong password, a missing proof and a second factor that is not enrolled', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const stepUp = (body: unknown) =>
      call('POST', '/auth/step-up', { tenant: tenant.id, token: customer.accessToken, body });
    expectProblem(
      await stepUp({ method: 'PASSWORD', password: 'wrong-password-x' }),
      401,
      'invalid_credentials',
    );
    const missing = await stepUp({ method: 'PASSWORD' });
    expectProblem(missing, 422, 'validation_failed');
    expect(missing.body.errors).toEqual([expect.objectContaining({ path: 'password' })]);
    expectProblem(await stepUp({ method: 'TOTP', code: '123456' }), 422, 'mfa_method_not_enrolled');
  });
});
