import { env } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { TOTP, URI } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { auditEvents, events, recoveryCodes, totpCredentials, totpEnrolments } from '../../src/db/tenant';
import { ACCOUNT_LOCKOUT } from '../../src/platform/auth/lockout';
import { issueMfaToken } from '../../src/platform/auth/tokens';
import { decryptField } from '../../src/platform/field-encryption';
import {
  createCustomer,
  createStaff,
  createTenant,
  database,
  randomIp,
  staleAccessToken,
  type TestCustomer,
  type TestSession,
  type TestTenant,
} from '../helpers/factories';
import { call, ISSUER } from '../helpers/http';
import { BURST, burstThenRight, expectExactLockout, expireLock } from '../helpers/lockout';
import { expectProblem } from '../helpers/problems';

const STEP_MS = 30_000;
const RECOVERY_CODE = /^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/;

interface MfaChallenge {
  mfaRequired: true;
  mfaToken: string;
  methods: string[];
}

interface Enrolment {
  /** The user's authenticator app, set up from the URI the API returned. */
  app: TOTP;
  secret: string;
  recoveryCodes: string[];
}

/** The app's code `steps` time steps from now (negative: earlier). */
function codeAt(app: TOTP, steps: number): string {
  return app.generate({ timestamp: Date.now() + steps * STEP_MS });
}

/** A well-formed code that is not the app's code for any step the server would accept now. */
function wrongCode(app: TOTP): string {
  const accepted = new Set([-1, 0, 1].map((steps) => codeAt(app, steps)));
  let candidate = 0;
  while (accepted.has(String(candidate).padStart(6, '0'))) candidate += 1;
  return String(candidate).padStart(6, '0');
}

/**
 * The test computes a code and the worker checks it a moment later; near the end of a time step
 * that moment can fall in the next step and shift the code's offset by one. Assertions about
 * exact offsets wait for a fresh step instead.
 */
async function awayFromStepBoundary(): Promise<void> {
  const left = TOTP.remaining({ period: 30 });
  if (left < 3_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

function startEnrolment(tenant: TestTenant, token: string) {
  return call<{ secret: string; otpauthUri: string }>('POST', '/auth/mfa/totp', { tenant: tenant.id, token });
}

function confirmEnrolment(tenant: TestTenant, token: string, code: string) {
  return call<{ recoveryCodes: string[] } & Record<string, unknown>>('POST', '/auth/mfa/totp/confirm', {
    tenant: tenant.id,
    token,
    body: { code },
  });
}

/**
 * Enrols TOTP through the API with otpauth as the authenticator app. It confirms with the code
 * of the previous step (an app clock slightly behind), which leaves the current and the next
 * step unused for the test.
 */
async function enrolTotp(tenant: TestTenant, user: { accessToken: string }): Promise<Enrolment> {
  const started = await startEnrolment(tenant, user.accessToken);
  expect(started.status, started.text).toBe(200);
  const app = URI.parse(started.body.otpauthUri) as TOTP;
  await awayFromStepBoundary();
  const confirmed = await confirmEnrolment(tenant, user.accessToken, codeAt(app, -1));
  expect(confirmed.status, confirmed.text).toBe(200);
  return { app, secret: started.body.secret, recoveryCodes: confirmed.body.recoveryCodes };
}

/** Login step one; each attempt from its own address, like the factories' logins. */
function attemptLogin(tenant: TestTenant, user: { email: string; password: string }) {
  return call<MfaChallenge & TestSession>('POST', '/auth/login', {
    tenant: tenant.id,
    body: { email: user.email, password: user.password },
    headers: { 'CF-Connecting-IP': randomIp() },
  });
}

async function challenge(tenant: TestTenant, user: { email: string; password: string }): Promise<string> {
  const response = await attemptLogin(tenant, user);
  expect(response.status, response.text).toBe(200);
  expect(response.body.mfaRequired).toBe(true);
  return response.body.mfaToken;
}

/** Each from its own address: this file checks many codes, more than one IP may per minute. */
function verifyMfa(tenant: TestTenant, body: Record<string, unknown>) {
  return call<TestSession>('POST', '/auth/mfa/verify', {
    tenant: tenant.id,
    body,
    headers: { 'CF-Connecting-IP': randomIp() },
  });
}

function stepUp(tenant: TestTenant, token: string, body: Record<string, unknown>) {
  return call<{ accessToken: string }>('POST', '/auth/step-up', {
    tenant: tenant.id,
    token,
    body,
    headers: { 'CF-Connecting-IP': randomIp() },
  });
}

async function eventsOfType(tenant: TestTenant, type: string) {
  return database(tenant)
    .select()
    .from(events)
    .where(and(eq(events.tenantId, tenant.id), eq(events.type, type)));
}

async function auditActions(tenant: TestTenant, userId: string): Promise<string[]> {
  const rows = await database(tenant)
    .select({ action: auditEvents.action })
    .from(auditEvents)
    .where(and(eq(auditEvents.tenantId, tenant.id), eq(auditEvents.targetId, userId)));
  return rows.map((row) => row.action);
}

async function enrolledCustomer(tenant: TestTenant): Promise<TestCustomer & Enrolment> {
  const customer = await createCustomer(tenant);
  return { ...customer, ...(await enrolTotp(tenant, customer)) };
}

describe('POST /auth/mfa/totp and /auth/mfa/totp/confirm', () => {
  it('enrols an authenticator app from the otpauth URI and turns 2FA on for logins', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const started = await startEnrolment(tenant, customer.accessToken);
    expect(started.status).toBe(200);
    expect(started.headers.get('Cache-Control')).toBe('no-store');
    const app = URI.parse(started.body.otpauthUri) as TOTP;
    expect(app).toBeInstanceOf(TOTP);
    expect(app).toMatchObject({
      issuer: `Test tenant ${tenant.id}`,
      label: customer.email,
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
    });
    expect(app.secret.base32).toBe(started.body.secret);
    expect(app.secret.bytes.length).toBe(20);

    // Pending, a login still answers with tokens.
    expect((await attemptLogin(tenant, customer)).body.accessToken).toEqual(expect.any(String));

    const confirmed = await confirmEnrolment(tenant, customer.accessToken, app.generate());
    expect(confirmed.status).toBe(200);
    expect(confirmed.headers.get('Cache-Control')).toBe('no-store');
    expect(confirmed.body.recoveryCodes).toHaveLength(10);
    expect(new Set(confirmed.body.recoveryCodes).size).toBe(10);
    for (const code of confirmed.body.recoveryCodes) expect(code).toMatch(RECOVERY_CODE);

    const login = await attemptLogin(tenant, customer);
    expect(login.status).toBe(200);
    expect(login.body).toEqual({
      mfaRequired: true,
      mfaToken: expect.any(String),
      methods: ['TOTP', 'RECOVERY_CODE'],
    });
    expect(login.body).not.toHaveProperty('accessToken');
    expect(await eventsOfType(tenant, 'mfa.enrolled')).toEqual([
      expect.objectContaining({ data: { userId: customer.id, method: 'TOTP' } }),
    ]);
    expect(await auditActions(tenant, customer.id)).toEqual(
      expect.arrayContaining(['mfa.totp_enrolment_started', 'mfa.enrolled']),
    );
  });

  it('needs a recent authentication to start and to confirm; a fresh login is recent enough', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    // Right after the login, no step-up: the login itself is the recent authentication.
    const started = await startEnrolment(tenant, customer.accessToken);
    expect(started.status, started.text).toBe(200);
    const app = URI.parse(started.body.otpauthUri) as TOTP;

    const stale = await staleAccessToken(tenant, customer);
    const refusedStart = await startEnrolment(tenant, stale);
    expectProblem(refusedStart, 401, 'step_up_required');
    expect(refusedStart.body).toMatchObject({ maxAgeSeconds: 300 });
    expectProblem(await confirmEnrolment(tenant, stale, app.generate()), 401, 'step_up_required');
    expect((await attemptLogin(tenant, customer)).body.accessToken).toEqual(expect.any(String));

    // Without a second factor yet, the password steps up; the pending secret survived the refusals.
    const stepped = await stepUp(tenant, stale, { method: 'PASSWORD', password: customer.password });
    expect(stepped.status, JSON.stringify(stepped.body)).toBe(200);
    const confirmed = await confirmEnrolment(tenant, stepped.body.accessToken, app.generate());
    expect(confirmed.status, confirmed.text).toBe(200);
    expect((await attemptLogin(tenant, customer)).body.mfaRequired).toBe(true);
  });

  it('stores the secret encrypted and the recovery codes as digests only', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const db = database(tenant);
    const started = await startEnrolment(tenant, customer.accessToken);
    const pending = await db
      .select()
      .from(totpEnrolments)
      .where(eq(totpEnrolments.userId, customer.id))
      .get();
    expect(pending?.secret).toMatch(/^v1\.[\w-]{16}\.[\w-]+$/);
    expect(pending?.secret).not.toContain(started.body.secret);

    const app = URI.parse(started.body.otpauthUri) as TOTP;
    const confirmed = await confirmEnrolment(tenant, customer.accessToken, app.generate());
    const credential = await db
      .select()
      .from(totpCredentials)
      .where(eq(totpCredentials.userId, customer.id))
      .get();
    const stored = credential?.secret ?? '';
    expect(stored).toMatch(/^v1\./);
    expect(stored).not.toContain(started.body.secret);
    expect(stored.toLowerCase()).not.toContain(started.body.secret.toLowerCase());
    const context = {
      rootKey: env.FIELD_ENCRYPTION_KEY,
      tenantId: tenant.id,
      purpose: 'totp-secret',
      recordId: customer.id,
    };
    expect(await decryptField(context, stored)).toBe(started.body.secret);
    // Bound to its user: the same ciphertext in another user's row does not decrypt.
    await expect(decryptField({ ...context, recordId: 'usr_someone_else' }, stored)).rejects.toThrow();
    expect(await db.select().from(totpEnrolments).where(eq(totpEnrolments.userId, customer.id))).toEqual([]);

    const rows = await db.select().from(recoveryCodes).where(eq(recoveryCodes.userId, customer.id));
    expect(rows).toHaveLength(10);
    const storedText = JSON.stringify(rows);
    for (const code of confirmed.body.recoveryCodes) {
      expect(storedText).not.toContain(code);
      expect(storedText).not.toContain(code.replace('-', ''));
    }
  });

  it('replaces a pending secret when enrolment starts again', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const first = URI.parse((await startEnrolment(tenant, customer.accessToken)).body.otpauthUri) as TOTP;
    const second = URI.parse((await startEnrolment(tenant, customer.accessToken)).body.otpauthUri) as TOTP;
    expect(second.secret.base32).not.toBe(first.secret.base32);
    const stale = await confirmEnrolment(tenant, customer.accessToken, first.generate());
    expectProblem(stale, 422, 'validation_failed');
    expect(stale.body.errors).toEqual([expect.objectContaining({ path: 'code' })]);
    expect((await confirmEnrolment(tenant, customer.accessToken, second.generate())).status).toBe(200);
  });

  it('refuses to confirm without a pending enrolment, and to enrol twice (409)', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    expectProblem(
      await confirmEnrolment(tenant, customer.accessToken, '123456'),
      409,
      'totp_enrolment_not_started',
    );
    const { app } = await enrolTotp(tenant, customer);
    expectProblem(await startEnrolment(tenant, customer.accessToken), 409, 'totp_already_enrolled');
    expectProblem(
      await confirmEnrolment(tenant, customer.accessToken, app.generate()),
      409,
      'totp_already_enrolled',
    );
  });

  it('refuses a malformed code (422)', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    await startEnrolment(tenant, staff.accessToken);
    for (const code of ['12345', '1234567', 'abcdef']) {
      const response = await confirmEnrolment(tenant, staff.accessToken, code);
      expectProblem(response, 422, 'validation_failed');
      const paths = (response.body.errors as { path: string }[]).map((error) => error.path);
      expect(new Set(paths)).toEqual(new Set(['code']));
    }
  });

  it('lets one of two racing confirmations win; the other gets 409', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const started = await startEnrolment(tenant, customer.accessToken);
    const app = URI.parse(started.body.otpauthUri) as TOTP;
    const code = app.generate();
    const answers = await Promise.all([
      confirmEnrolment(tenant, customer.accessToken, code),
      confirmEnrolment(tenant, customer.accessToken, code),
    ]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
    const winner = answers.find((answer) => answer.status === 200);
    const rows = await database(tenant)
      .select()
      .from(recoveryCodes)
      .where(eq(recoveryCodes.userId, customer.id));
    expect(rows).toHaveLength(10);
    const mfaToken = await challenge(tenant, customer);
    const [recoveryCode] = winner?.body.recoveryCodes ?? [];
    expect((await verifyMfa(tenant, { mfaToken, method: 'RECOVERY_CODE', code: recoveryCode })).status).toBe(
      200,
    );
  });
});

describe('POST /auth/mfa/verify with TOTP and recovery codes', () => {
  it('completes the login with a TOTP code: amr records otp and mfa', async () => {
    const tenant = await createTenant();
    const customer = await enrolledCustomer(tenant);
    const mfaToken = await challenge(tenant, customer);
    const response = await verifyMfa(tenant, { mfaToken, method: 'TOTP', code: codeAt(customer.app, 0) });
    expect(response.status, response.text).toBe(200);
    expect(response.headers.get('Cache-Control')).toBe('no-store');
    const claims = decodeJwt(response.body.accessToken);
    expect(claims.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(claims.sub).toBe(customer.id);
    const own = await call('GET', `/customers/${customer.customerId}`, {
      tenant: tenant.id,
      token: response.body.accessToken,
    });
    expect(own.status).toBe(200);
  });

  it('refuses a wrong code (401 invalid_mfa_code)', async () => {
    const tenant = await createTenant();
    const customer = await enrolledCustomer(tenant);
    const mfaToken = await challenge(tenant, customer);
    expectProblem(
      await verifyMfa(tenant, { mfaToken, method: 'TOTP', code: wrongCode(customer.app) }),
      401,
      'invalid_mfa_code',
    );
    expectProblem(
      await verifyMfa(tenant, { mfaToken, method: 'TOTP', code: 'not-a-code' }),
      401,
      'invalid_mfa_code',
    );
  });

  it('refuses a code that has already been used, and the enrolment code itself', async () => {
    const tenant = await createTenant();
    const customer = await enrolledCustomer(tenant);
    const mfaToken = await challenge(tenant, customer);
    expectProblem(
      await verifyMfa(tenant, { mfaToken, method: 'TOTP', code: codeAt(customer.app, -1) }),
      401,
      'invalid_mfa_code',
    );
    const code = codeAt(customer.app, 0);
    expect((await verifyMfa(tenant, { mfaToken, method: 'TOTP', code })).status).toBe(200);
    const replay = await verifyMfa(tenant, { mfaToken, method: 'TOTP', code });
    expectProblem(replay, 401, 'invalid_mfa_code');
  });

  it('lets only one of several concurrent submissions of the same code through', async () => {
    const tenant = await createTenant();
    const customer = await enrolledCustomer(tenant);
    const mfaToken = await challenge(tenant, customer);
    const code = codeAt(customer.app, 0);
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => verifyMfa(tenant, { mfaToken, method: 'TOTP', code })),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 401, 401, 401]);
  });

  it('accepts the codes of the previous and next time steps, not two steps away', async () => {
    const tenant = await createTenant();
    const customer = await enrolledCustomer(tenant);
    // As if the enrolment's code had been used long ago, so every step is still unused.
    await database(tenant)
      .update(totpCredentials)
      .set({ lastUsedStep: 0 })
      .where(eq(totpCredentials.userId, customer.id));
    const mfaToken = await challenge(tenant, customer);
    const verifyAt = (steps: number) =>
      verifyMfa(tenant, { mfaToken, method: 'TOTP', code: codeAt(customer.app, steps) });
    await awayFromStepBoundary();
    expectProblem(await verifyAt(-2), 401, 'invalid_mfa_code');
    expectProblem(await verifyAt(2), 401, 'invalid_mfa_code');
    expect((await verifyAt(-1)).status).toBe(200);
    expect((await verifyAt(1)).status).toBe(200);
    // Once a later step has been used, an earlier one is refused even though it never was.
    expectProblem(await verifyAt(0), 401, 'invalid_mfa_code');
  });

  it('accepts each recovery code once, however it is typed', async () => {
    const tenant = await createTenant();
    const customer = await enrolledCustomer(tenant);
    const [first, second] = customer.recoveryCodes as [string, string];
    const mfaToken = await challenge(tenant, customer);
    const used = await verifyMfa(tenant, { mfaToken, method: 'RECOVERY_CODE', code: first });
    expect(used.status, used.text).toBe(200);
    expect(decodeJwt(used.body.accessToken).amr).toEqual(['pwd', 'otp', 'mfa']);
    expectProblem(
      await verifyMfa(tenant, { mfaToken, method: 'RECOVERY_CODE', code: first }),
      401,
      'invalid_mfa_code',
    );
    const typed = ` ${second.replace('-', '').toUpperCase()} `;
    expect((await verifyMfa(tenant, { mfaToken, method: 'RECOVERY_CODE', code: typed })).status).toBe(200);
    const announced = await eventsOfType(tenant, 'mfa.recovery_code_used');
    expect(announced.map((row) => row.data)).toEqual([
      { userId: customer.id, remaining: 9 },
      { userId: customer.id, remaining: 8 },
    ]);
  });

  it('lets only one of several concurrent uses of a recovery code through', async () => {
    const tenant = await createTenant();
    const customer = await enrolledCustomer(tenant);
    const mfaToken = await challenge(tenant, customer);
    const code = customer.recoveryCodes[0];
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => verifyMfa(tenant, { mfaToken, method: 'RECOVERY_CODE', code })),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 401, 401, 401]);
  });

  it('does not accept one user’s recovery code for another user', async () => {
    const tenant = await createTenant();
    const alice = await enrolledCustomer(tenant);
    const bob = await enrolledCustomer(tenant);
    const mfaToken = await challenge(tenant, bob);
    expectProblem(
      await verifyMfa(tenant, { mfaToken, method: 'RECOVERY_CODE', code: alice.recoveryCodes[0] }),
      401,
      'invalid_mfa_code',
    );
  });

  it('refuses an expired, forged or other tenant’s MFA token (401 invalid_mfa_token)', async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    const customer = await enrolledCustomer(tenant);
    const expired = await issueMfaToken(env, {
      issuer: ISSUER,
      userId: customer.id,
      tenantId: tenant.id,
      now: new Date(Date.now() - 10 * 60 * 1000),
    });
    const foreign = await issueMfaToken(env, {
      issuer: ISSUER,
      userId: customer.id,
      tenantId: other.id,
      now: new Date(),
    });
    const genuine = await challenge(tenant, customer);
    for (const mfaToken of [expired, foreign, 'garbage', `${genuine.slice(0, -4)}AAAA`]) {
      expectProblem(
        await verifyMfa(tenant, { mfaToken, method: 'TOTP', code: codeAt(customer.app, 0) }),
        401,
        'invalid_mfa_token',
      );
    }
    // None of those spent the code.
    expect(
      (await verifyMfa(tenant, { mfaToken: genuine, method: 'TOTP', code: codeAt(customer.app, 0) })).status,
    ).toBe(200);
  });

  it(`counts wrong codes towards the lockout: the ${ACCOUNT_LOCKOUT.limit}th locks the account`, async () => {
    const tenant = await createTenant();
    const customer = await enrolledCustomer(tenant);
    const mfaToken = await challenge(tenant, customer);
    const code = wrongCode(customer.app);
    for (let attempt = 1; attempt < ACCOUNT_LOCKOUT.limit; attempt++) {
      expectProblem(await verifyMfa(tenant, { mfaToken, method: 'TOTP', code }), 401, 'invalid_mfa_code');
    }
    expectProblem(await verifyMfa(tenant, { mfaToken, method: 'TOTP', code }), 423, 'account_locked');
    expectProblem(
      await verifyMfa(tenant, { mfaToken, method: 'TOTP', code: codeAt(customer.app, 0) }),
      423,
      'account_locked',
    );
    expectProblem(
      await verifyMfa(tenant, { mfaToken, method: 'RECOVERY_CODE', code: customer.recoveryCodes[0] }),
      423,
      'account_locked',
    );
  });

  it(`checks only ${ACCOUNT_LOCKOUT.limit} of ${BURST} parallel wrong codes; the right code then gets 423 until the lock ends`, async () => {
    const tenant = await createTenant({ rateLimitPerMinute: 1000 });
    const customer = await enrolledCustomer(tenant);
    const mfaToken = await challenge(tenant, customer);
    const code = wrongCode(customer.app);
    await awayFromStepBoundary();
    const outcome = await burstThenRight(
      tenant,
      customer.id,
      () => verifyMfa(tenant, { mfaToken, method: 'TOTP', code }),
      () => verifyMfa(tenant, { mfaToken, method: 'TOTP', code: codeAt(customer.app, 0) }),
    );
    await expectExactLockout(tenant, customer.id, outcome, { status: 401, code: 'invalid_mfa_code' });
    expectProblem(
      await verifyMfa(tenant, { mfaToken, method: 'RECOVERY_CODE', code: customer.recoveryCodes[0] }),
      423,
      'account_locked',
    );
    await expireLock(tenant, customer.id);
    expect(
      (await verifyMfa(tenant, { mfaToken, method: 'RECOVERY_CODE', code: customer.recoveryCodes[0] }))
        .status,
    ).toBe(200);
  });
});

describe('POST /auth/step-up with TOTP', () => {
  it('steps up with a TOTP code; the password alone is no longer enough', async () => {
    const tenant = await createTenant();
    const customer = await enrolledCustomer(tenant);
    const stale = await staleAccessToken(tenant, customer);
    expectProblem(
      await stepUp(tenant, stale, { method: 'PASSWORD', password: customer.password }),
      422,
      'step_up_method_not_allowed',
    );
    const response = await stepUp(tenant, stale, { method: 'TOTP', code: codeAt(customer.app, 0) });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const claims = decodeJwt(response.body.accessToken);
    expect(claims.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(Number(claims.auth_time)).toBeGreaterThan(Date.now() / 1000 - 60);
  });
});

describe('DELETE /auth/mfa/totp', () => {
  it('needs a step-up, then removes TOTP with its recovery codes: logins give tokens again', async () => {
    const tenant = await createTenant();
    const customer = await enrolledCustomer(tenant);
    const stale = await staleAccessToken(tenant, customer);
    const refused = await call('DELETE', '/auth/mfa/totp', { tenant: tenant.id, token: stale });
    expectProblem(refused, 401, 'step_up_required');
    expect(refused.body.maxAgeSeconds).toBe(300);

    const stepped = await stepUp(tenant, stale, { method: 'TOTP', code: codeAt(customer.app, 0) });
    const removed = await call('DELETE', '/auth/mfa/totp', {
      tenant: tenant.id,
      token: stepped.body.accessToken,
    });
    expect(removed.status, removed.text).toBe(204);

    const login = await attemptLogin(tenant, customer);
    expect(login.status).toBe(200);
    expect(login.body.accessToken).toEqual(expect.any(String));
    expect(decodeJwt(login.body.accessToken).amr).toEqual(['pwd']);
    const db = database(tenant);
    expect(await db.select().from(totpCredentials).where(eq(totpCredentials.userId, customer.id))).toEqual(
      [],
    );
    expect(await db.select().from(recoveryCodes).where(eq(recoveryCodes.userId, customer.id))).toEqual([]);
    expect(await eventsOfType(tenant, 'mfa.removed')).toEqual([
      expect.objectContaining({ data: { userId: customer.id, method: 'TOTP' } }),
    ]);
    expect(await auditActions(tenant, customer.id)).toContain('mfa.removed');

    // Enrolling again starts from scratch.
    await enrolTotp(tenant, { accessToken: login.body.accessToken });
    expect((await attemptLogin(tenant, customer)).body.mfaRequired).toBe(true);
  });

  it('answers 422 mfa_method_not_enrolled without TOTP', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    expectProblem(
      await call('DELETE', '/auth/mfa/totp', { tenant: tenant.id, token: staff.accessToken }),
      422,
      'mfa_method_not_enrolled',
    );
  });
});

describe('POST /auth/mfa/recovery-codes', () => {
  it('needs a step-up, then replaces every earlier code', async () => {
    const tenant = await createTenant();
    const customer = await enrolledCustomer(tenant);
    const stale = await staleAccessToken(tenant, customer);
    expectProblem(
      await call('POST', '/auth/mfa/recovery-codes', { tenant: tenant.id, token: stale }),
      401,
      'step_up_required',
    );
    const [spent, unused] = customer.recoveryCodes as [string, string];
    const stepped = await stepUp(tenant, stale, { method: 'RECOVERY_CODE', code: spent });
    expect(stepped.status, JSON.stringify(stepped.body)).toBe(200);
    const regenerated = await call<{ recoveryCodes: string[] }>('POST', '/auth/mfa/recovery-codes', {
      tenant: tenant.id,
      token: stepped.body.accessToken,
    });
    expect(regenerated.status, regenerated.text).toBe(200);
    expect(regenerated.headers.get('Cache-Control')).toBe('no-store');
    expect(regenerated.body.recoveryCodes).toHaveLength(10);
    expect(regenerated.body.recoveryCodes).not.toContain(unused);

    const mfaToken = await challenge(tenant, customer);
    expectProblem(
      await verifyMfa(tenant, { mfaToken, method: 'RECOVERY_CODE', code: unused }),
      401,
      'invalid_mfa_code',
    );
    const fresh = regenerated.body.recoveryCodes[0];
    expect((await verifyMfa(tenant, { mfaToken, method: 'RECOVERY_CODE', code: fresh })).status).toBe(200);
    expect(await eventsOfType(tenant, 'mfa.recovery_codes_regenerated')).toEqual([
      expect.objectContaining({ data: { userId: customer.id, count: 10 } }),
    ]);
    expect(await auditActions(tenant, customer.id)).toContain('mfa.recovery_codes_regenerated');
  });

  it('answers 422 mfa_method_not_enrolled without TOTP', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    expectProblem(
      await call('POST', '/auth/mfa/recovery-codes', { tenant: tenant.id, token: staff.accessToken }),
      422,
      'mfa_method_not_enrolled',
    );
  });
});
