import { and, eq } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { auditEvents, events, users, webauthnChallenges, webauthnCredentials } from '../../src/db/tenant';
import { MAX_PASSKEYS_PER_USER } from '../../src/modules/webauthn/schemas';
import { base64UrlEncode } from '../../src/platform/crypto';
import { type CreationOptions, type RequestOptions, SoftwareAuthenticator } from '../helpers/authenticator';
import {
  adminHeaders,
  createCustomer,
  createTenant,
  database,
  randomIp,
  staleAccessToken,
  type TestSession,
  type TestTenant,
} from '../helpers/factories';
import { call } from '../helpers/http';
import { expectProblem } from '../helpers/problems';

interface Passkey {
  id: string;
  name: string;
  deviceType: string;
  backedUp: boolean;
  lastUsedAt: string | null;
  cloneSuspectedAt: string | null;
}
/** Answers may be problems: their members are read where a test expects one. */
interface ProblemMembers {
  detail?: string;
  errors?: { path: string; message: string }[];
  maxAgeSeconds?: number;
}
type Login = Partial<TestSession> & { mfaRequired?: true; mfaToken?: string; methods?: string[] };

function registrationOptions(tenant: TestTenant, accessToken: string) {
  return call<CreationOptions & { excludeCredentials: { id: string }[] } & ProblemMembers>(
    'POST',
    '/auth/webauthn/registration/options',
    { tenant: tenant.id, token: accessToken },
  );
}

function verifyRegistration(tenant: TestTenant, accessToken: string, body: unknown) {
  return call<Passkey & ProblemMembers>('POST', '/auth/webauthn/registration/verify', {
    tenant: tenant.id,
    token: accessToken,
    body,
  });
}

/** Enrols a passkey for the user through both registration routes. */
async function enrol(
  tenant: TestTenant,
  user: { accessToken: string },
  authenticator: SoftwareAuthenticator,
  name?: string,
): Promise<Passkey> {
  const options = await registrationOptions(tenant, user.accessToken);
  expect(options.status, options.text).toBe(200);
  const response = await verifyRegistration(tenant, user.accessToken, {
    credential: await authenticator.register(options.body),
    ...(name ? { name } : {}),
  });
  expect(response.status, response.text).toBe(201);
  return response.body;
}

function authenticationOptions(tenant: TestTenant, body: Record<string, unknown> = {}, token?: string) {
  return call<RequestOptions & { userVerification: string } & ProblemMembers>(
    'POST',
    '/auth/webauthn/authentication/options',
    {
      tenant: tenant.id,
      body,
      token,
    },
  );
}

function signIn(tenant: TestTenant, credential: unknown) {
  return call<TestSession & ProblemMembers>('POST', '/auth/webauthn/authentication/verify', {
    tenant: tenant.id,
    body: { credential },
    headers: { 'CF-Connecting-IP': randomIp() },
  });
}

/** Passwordless sign-in: options for discoverable passkeys, then the assertion. */
async function signInWith(tenant: TestTenant, authenticator: SoftwareAuthenticator) {
  const options = await authenticationOptions(tenant);
  expect(options.status, options.text).toBe(200);
  return signIn(tenant, await authenticator.assert(options.body));
}

function passwordLogin(tenant: TestTenant, email: string, password: string) {
  return call<Login>('POST', '/auth/login', {
    tenant: tenant.id,
    body: { email, password },
    headers: { 'CF-Connecting-IP': randomIp() },
  });
}

function listPasskeys(tenant: TestTenant, accessToken: string) {
  return call<{ data: Passkey[]; nextCursor: null }>('GET', '/auth/webauthn/credentials', {
    tenant: tenant.id,
    token: accessToken,
  });
}

async function auditOf(tenant: TestTenant, userId: string, action: string) {
  return database(tenant)
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.targetId, userId), eq(auditEvents.action, action)));
}

async function eventsOf(tenant: TestTenant, type: string) {
  return database(tenant)
    .select()
    .from(events)
    .where(and(eq(events.tenantId, tenant.id), eq(events.type, type)));
}

describe('POST /auth/webauthn/registration/options', () => {
  it('offers creation options for the tenant’s relying party, bound to the caller, never cached', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const options = await registrationOptions(tenant, customer.accessToken);
    expect(options.status).toBe(200);
    expect(options.headers.get('Cache-Control')).toBe('no-store');
    expect(options.body).toMatchObject({
      rp: { id: 'api.test', name: `Test tenant ${tenant.id}` },
      user: { name: customer.email, id: base64UrlEncode(new TextEncoder().encode(customer.id)) },
      attestation: 'none',
      timeout: 300_000,
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
      excludeCredentials: [],
    });
    expect(options.body.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await database(tenant)
      .select()
      .from(webauthnChallenges)
      .where(eq(webauthnChallenges.challenge, options.body.challenge))
      .get();
    expect(stored).toMatchObject({ tenantId: tenant.id, purpose: 'REGISTRATION', userId: customer.id });
    expect(Date.parse(stored?.expiresAt ?? '') - Date.parse(stored?.createdAt ?? '')).toBe(300_000);

    const authenticator = await SoftwareAuthenticator.create();
    await enrol(tenant, customer, authenticator);
    const again = await registrationOptions(tenant, customer.accessToken);
    expect(again.body.excludeCredentials).toEqual([
      { id: authenticator.credentialId, type: 'public-key', transports: ['internal'] },
    ]);
  });

  it('needs a recent authentication, since a passkey can sign in on its own', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const stale = await staleAccessToken(tenant, customer);
    const response = await registrationOptions(tenant, stale);
    expectProblem(response, 401, 'step_up_required');
    expect(response.body.maxAgeSeconds).toBe(300);
  });
});

describe('POST /auth/webauthn/registration/verify', () => {
  it('enrols a passkey: listed, audited, announced, and asked for at the next password login', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const authenticator = await SoftwareAuthenticator.create({ synced: true });
    const passkey = await enrol(tenant, customer, authenticator, 'Work laptop');
    expect(passkey).toMatchObject({
      id: authenticator.credentialId,
      name: 'Work laptop',
      deviceType: 'multiDevice',
      backedUp: true,
      transports: ['internal'],
      aaguid: '00000000-0000-0000-0000-000000000000',
      lastUsedAt: null,
      cloneSuspectedAt: null,
    });
    const list = await listPasskeys(tenant, customer.accessToken);
    expect(list.body).toEqual({ data: [passkey], nextCursor: null });

    expect(await auditOf(tenant, customer.id, 'passkey.added')).toEqual([
      expect.objectContaining({
        actorId: customer.id,
        data: expect.objectContaining({ credentialId: passkey.id }),
      }),
    ]);
    expect(await eventsOf(tenant, 'passkey.added')).toEqual([
      expect.objectContaining({ data: { userId: customer.id, credentialId: passkey.id } }),
    ]);

    const login = await passwordLogin(tenant, customer.email, customer.password);
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ mfaRequired: true, methods: ['WEBAUTHN'] });
  });

  it('needs a recent authentication too; the challenge outlives a refusal and works after a step-up', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const authenticator = await SoftwareAuthenticator.create();
    const options = await registrationOptions(tenant, customer.accessToken);
    const credential = await authenticator.register(options.body);

    const stale = await staleAccessToken(tenant, customer);
    const refused = await verifyRegistration(tenant, stale, { credential });
    expectProblem(refused, 401, 'step_up_required');
    expect(refused.body.maxAgeSeconds).toBe(300);
    expect((await listPasskeys(tenant, customer.accessToken)).body.data).toEqual([]);

    const stepped = await call<{ accessToken: string }>('POST', '/auth/step-up', {
      tenant: tenant.id,
      token: stale,
      body: { method: 'PASSWORD', password: customer.password },
      headers: { 'CF-Connecting-IP': randomIp() },
    });
    expect(stepped.status, stepped.text).toBe(200);
    const enrolled = await verifyRegistration(tenant, stepped.body.accessToken, { credential });
    expect(enrolled.status, enrolled.text).toBe(201);
  });

  it('names the passkey after the browser when no name is given', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const authenticator = await SoftwareAuthenticator.create();
    const options = await registrationOptions(tenant, customer.accessToken);
    const response = await call<Passkey>('POST', '/auth/webauthn/registration/verify', {
      tenant: tenant.id,
      token: customer.accessToken,
      body: { credential: await authenticator.register(options.body) },
      headers: {
        'User-Agent':
          'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      },
    });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      name: 'Chrome on Linux',
      deviceType: 'singleDevice',
      backedUp: false,
    });
  });

  it('refuses a spent challenge, another user’s challenge, an expired one and a wrong origin', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const colleague = await createCustomer(tenant);
    const authenticator = await SoftwareAuthenticator.create();

    const options = await registrationOptions(tenant, customer.accessToken);
    const credential = await authenticator.register(options.body);
    expectProblem(
      await verifyRegistration(tenant, colleague.accessToken, { credential }),
      422,
      'invalid_passkey_registration',
    );
    expect((await verifyRegistration(tenant, customer.accessToken, { credential })).status).toBe(201);
    const reused = await verifyRegistration(tenant, customer.accessToken, { credential });
    expectProblem(reused, 422, 'invalid_passkey_registration');
    expect(reused.body.detail).toMatch(/challenge/);

    const expiring = await registrationOptions(tenant, colleague.accessToken);
    await database(tenant)
      .update(webauthnChallenges)
      .set({ expiresAt: new Date(Date.now() - 1000).toISOString() })
      .where(eq(webauthnChallenges.challenge, expiring.body.challenge));
    const late = await SoftwareAuthenticator.create();
    expectProblem(
      await verifyRegistration(tenant, colleague.accessToken, {
        credential: await late.register(expiring.body),
      }),
      422,
      'invalid_passkey_registration',
    );

    const phishing = await registrationOptions(tenant, colleague.accessToken);
    const wrongOrigin = await verifyRegistration(tenant, colleague.accessToken, {
      credential: await late.register(phishing.body, { origin: 'https://api.test.evil.example' }),
    });
    expectProblem(wrongOrigin, 422, 'invalid_passkey_registration');
    expect(wrongOrigin.body.detail).toMatch(/origin/);
    expect((await listPasskeys(tenant, colleague.accessToken)).body.data).toEqual([]);
  });

  it('refuses a passkey already registered in the tenant (409)', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const authenticator = await SoftwareAuthenticator.create();
    await enrol(tenant, customer, authenticator);
    const other = await createCustomer(tenant);
    const options = await registrationOptions(tenant, other.accessToken);
    expectProblem(
      await verifyRegistration(tenant, other.accessToken, {
        credential: await authenticator.register(options.body),
      }),
      409,
      'passkey_already_registered',
    );
  });

  it('holds a user to MAX_PASSKEYS_PER_USER, also when the last registrations race (409)', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    for (let index = 0; index < MAX_PASSKEYS_PER_USER - 2; index += 1) {
      await enrol(tenant, customer, await SoftwareAuthenticator.create());
    }
    // Three challenges issued while there is room for two: all three ceremonies race to verify.
    const racing = await Promise.all(
      [0, 1, 2].map(async () => {
        const options = await registrationOptions(tenant, customer.accessToken);
        expect(options.status, options.text).toBe(200);
        return (await SoftwareAuthenticator.create()).register(options.body);
      }),
    );
    const verified = await Promise.all(
      racing.map((credential) => verifyRegistration(tenant, customer.accessToken, { credential })),
    );
    expect(verified.map((response) => response.status).sort()).toEqual([201, 201, 409]);
    const refused = verified.find((response) => response.status === 409);
    if (!refused) throw new Error('no registration was refused');
    expectProblem(refused, 409, 'passkey_limit_reached');
    expect((await listPasskeys(tenant, customer.accessToken)).body.data).toHaveLength(MAX_PASSKEYS_PER_USER);
    expectProblem(await registrationOptions(tenant, customer.accessToken), 409, 'passkey_limit_reached');
  });

  it('validates the response shape (422)', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const response = await verifyRegistration(tenant, customer.accessToken, {
      credential: { id: 'not base64url!', rawId: 'x', type: 'public-key', response: {} },
    });
    expectProblem(response, 422, 'validation_failed');
    expect(response.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'credential.id' }),
        expect.objectContaining({ path: 'credential.response.clientDataJSON' }),
      ]),
    );
  });
});

describe('POST /auth/webauthn/authentication/options', () => {
  it('asks for user verification for passwordless sign-in, listing the passkeys of a known email only', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const authenticator = await SoftwareAuthenticator.create();
    await enrol(tenant, customer, authenticator);

    const discoverable = await authenticationOptions(tenant);
    expect(discoverable.status).toBe(200);
    expect(discoverable.headers.get('Cache-Control')).toBe('no-store');
    expect(discoverable.body).toMatchObject({
      rpId: 'api.test',
      userVerification: 'required',
      timeout: 300_000,
    });
    expect(discoverable.body.allowCredentials).toBeUndefined();

    const byEmail = await authenticationOptions(tenant, { email: customer.email.toUpperCase() });
    expect(byEmail.body.allowCredentials).toEqual([
      { id: authenticator.credentialId, type: 'public-key', transports: ['internal'] },
    ]);
    const unknown = await authenticationOptions(tenant, { email: 'nobody@example.com' });
    const withoutPasskeys = await authenticationOptions(tenant, {
      email: (await createCustomer(tenant)).email,
    });
    expect(unknown.body.allowCredentials).toEqual([]);
    expect(withoutPasskeys.body.allowCredentials).toEqual([]);
  });

  it('binds a second-factor challenge to the user of an MFA token or access token', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const authenticator = await SoftwareAuthenticator.create();
    await enrol(tenant, customer, authenticator);
    const login = await passwordLogin(tenant, customer.email, customer.password);

    const forLogin = await authenticationOptions(tenant, { mfaToken: login.body.mfaToken });
    const forStepUp = await authenticationOptions(tenant, {}, customer.accessToken);
    for (const options of [forLogin, forStepUp]) {
      expect(options.status).toBe(200);
      expect(options.body).toMatchObject({
        userVerification: 'discouraged',
        allowCredentials: [{ id: authenticator.credentialId, type: 'public-key', transports: ['internal'] }],
      });
      const stored = await database(tenant)
        .select()
        .from(webauthnChallenges)
        .where(eq(webauthnChallenges.challenge, options.body.challenge))
        .get();
      expect(stored).toMatchObject({ purpose: 'SECOND_FACTOR', userId: customer.id });
    }
  });

  it('refuses a bad MFA token, a user without passkeys, and email beside a token', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    expectProblem(await authenticationOptions(tenant, { mfaToken: 'not-a-token' }), 401, 'invalid_mfa_token');
    expectProblem(
      await authenticationOptions(tenant, {}, customer.accessToken),
      422,
      'mfa_method_not_enrolled',
    );
    const both = await authenticationOptions(tenant, { email: customer.email }, customer.accessToken);
    expectProblem(both, 422, 'validation_failed');
    expect(both.body.errors).toEqual([expect.objectContaining({ path: 'email' })]);
  });
});

describe('POST /auth/webauthn/authentication/verify', () => {
  it('signs in without a password: tokens with amr pop+user+mfa, counter and last use recorded', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const authenticator = await SoftwareAuthenticator.create();
    await enrol(tenant, customer, authenticator);

    const response = await signInWith(tenant, authenticator);
    expect(response.status, response.text).toBe(200);
    expect(response.headers.get('Cache-Control')).toBe('no-store');
    const claims = decodeJwt(response.body.accessToken);
    expect(claims).toMatchObject({
      sub: customer.id,
      sid: response.body.sessionId,
      amr: ['pop', 'user', 'mfa'],
    });
    const own = await call('GET', `/customers/${customer.customerId}`, {
      tenant: tenant.id,
      token: response.body.accessToken,
    });
    expect(own.status).toBe(200);

    const [passkey] = (await listPasskeys(tenant, customer.accessToken)).body.data;
    expect(passkey?.lastUsedAt).not.toBeNull();
    const stored = await database(tenant)
      .select()
      .from(webauthnCredentials)
      .where(eq(webauthnCredentials.id, authenticator.credentialId))
      .get();
    expect(stored?.counter).toBe(authenticator.counter);
    // With the email, only that user's passkeys are offered; the assertion works the same.
    const options = await authenticationOptions(tenant, { email: customer.email });
    expect((await signIn(tenant, await authenticator.assert(options.body))).status).toBe(200);
  });

  it('accepts authenticators that keep no counter (always 0)', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const authenticator = await SoftwareAuthenticator.create({ countsSignatures: false });
    await enrol(tenant, customer, authenticator);
    expect((await signInWith(tenant, authenticator)).status).toBe(200);
    expect((await signInWith(tenant, authenticator)).status).toBe(200);
  });

  it('refuses an expired challenge', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const authenticator = await SoftwareAuthenticator.create();
    await enrol(tenant, customer, authenticator);
    const options = await authenticationOptions(tenant);
    await database(tenant)
      .update(webauthnChallenges)
      .set({ expiresAt: new Date(Date.now() - 1000).toISOString() })
      .where(eq(webauthnChallenges.challenge, options.body.challenge));
    const response = await signIn(tenant, await authenticator.assert(options.body));
    expectProblem(response, 401, 'invalid_passkey');
    expect(response.body.detail).toMatch(/expired/);
  });

  it('refuses a challenge used twice, even by concurrent requests', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const authenticator = await SoftwareAuthenticator.create({ countsSignatures: false });
    await enrol(tenant, customer, authenticator);
    const options = await authenticationOptions(tenant);
    const assertion = await authenticator.assert(options.body);
    const answers = await Promise.all(Array.from({ length: 5 }, () => signIn(tenant, assertion)));
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 401, 401, 401, 401]);
    expectProblem(await signIn(tenant, assertion), 401, 'invalid_passkey');
  });

  it('refuses another origin, another RP id, no user verification and a challenge never issued', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const authenticator = await SoftwareAuthenticator.create();
    await enrol(tenant, customer, authenticator);
    const attempt = async (overrides: Parameters<SoftwareAuthenticator['assert']>[1]) => {
      const options = await authenticationOptions(tenant);
      return signIn(tenant, await authenticator.assert(options.body, overrides));
    };
    const phished = await attempt({ origin: 'https://api-test.evil.example' });
    expectProblem(phished, 401, 'invalid_passkey');
    expect(phished.body.detail).toMatch(/origin/);
    expectProblem(await attempt({ rpId: 'evil.example' }), 401, 'invalid_passkey');
    const unverified = await attempt({ userVerified: false });
    expectProblem(unverified, 401, 'invalid_passkey');
    expect(unverified.body.detail).toMatch(/verif/i);
    expectProblem(await attempt({ challenge: 'bm90LWlzc3VlZC1ieS10aGUtYXBp' }), 401, 'invalid_passkey');
    // None of these was a clone: the passkey still works.
    expect((await signInWith(tenant, authenticator)).status).toBe(200);
  });

  it('refuses a passkey registered in another tenant', async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    const customer = await createCustomer(tenant);
    const authenticator = await SoftwareAuthenticator.create();
    await enrol(tenant, customer, authenticator);
    const response = await signInWith(other, authenticator);
    expectProblem(response, 401, 'invalid_passkey');
    expect(response.body.detail).toMatch(/no such passkey/);
  });

  it('blocks a cloned passkey whose counter does not grow: audited, announced, still enrolled', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const genuine = await SoftwareAuthenticator.create();
    await enrol(tenant, customer, genuine);
    const copy = genuine.clone();
    expect((await signInWith(tenant, genuine)).status).toBe(200);
    expect((await signInWith(tenant, genuine)).status).toBe(200);

    // The copy still reports the counter it had when the key was copied.
    const cloned = await signInWith(tenant, copy);
    expectProblem(cloned, 401, 'passkey_clone_suspected');
    // Which of the two is genuine cannot be told: the passkey is refused from now on.
    expectProblem(await signInWith(tenant, genuine), 401, 'passkey_clone_suspected');

    const [passkey] = (await listPasskeys(tenant, customer.accessToken)).body.data;
    expect(passkey?.cloneSuspectedAt).not.toBeNull();
    expect(await auditOf(tenant, customer.id, 'passkey.clone_suspected')).toEqual([
      expect.objectContaining({
        data: { credentialId: genuine.credentialId, storedCounter: 3, presentedCounter: 2 },
      }),
    ]);
    expect(await eventsOf(tenant, 'passkey.clone_suspected')).toEqual([
      expect.objectContaining({ data: { userId: customer.id, credentialId: genuine.credentialId } }),
    ]);
    // A detected clone must not downgrade the login to password only.
    const login = await passwordLogin(tenant, customer.email, customer.password);
    expect(login.body).toMatchObject({ mfaRequired: true, methods: ['WEBAUTHN'] });
    expectProblem(
      await authenticationOptions(tenant, { mfaToken: login.body.mfaToken }),
      422,
      'mfa_method_not_enrolled',
    );
  });

  it('refuses an equal counter as a clone too', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const authenticator = await SoftwareAuthenticator.create();
    await enrol(tenant, customer, authenticator);
    expect((await signInWith(tenant, authenticator)).status).toBe(200);
    const options = await authenticationOptions(tenant);
    const replayed = await signIn(
      tenant,
      await authenticator.assert(options.body, { counter: authenticator.counter }),
    );
    expectProblem(replayed, 401, 'passkey_clone_suspected');
  });

  it('refuses a disabled or locked account', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const authenticator = await SoftwareAuthenticator.create();
    await enrol(tenant, customer, authenticator);
    const db = database(tenant);
    await db
      .update(users)
      .set({ lockedUntil: new Date(Date.now() + 600_000).toISOString() })
      .where(eq(users.id, customer.id));
    expectProblem(await signInWith(tenant, authenticator), 423, 'account_locked');
    await db.update(users).set({ lockedUntil: null, status: 'DISABLED' }).where(eq(users.id, customer.id));
    expectProblem(await signInWith(tenant, authenticator), 403, 'account_disabled');
  });
});

describe('WEBAUTHN as a second factor', () => {
  async function enrolledCustomer() {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const authenticator = await SoftwareAuthenticator.create();
    await enrol(tenant, customer, authenticator);
    return { tenant, customer, authenticator };
  }

  function mfaVerify(tenant: TestTenant, body: unknown) {
    return call<TestSession>('POST', '/auth/mfa/verify', {
      tenant: tenant.id,
      body,
      headers: { 'CF-Connecting-IP': randomIp() },
    });
  }

  it('completes a password login: amr pwd+pop+user+mfa', async () => {
    const { tenant, customer, authenticator } = await enrolledCustomer();
    const login = await passwordLogin(tenant, customer.email, customer.password);
    const options = await authenticationOptions(tenant, { mfaToken: login.body.mfaToken });
    // A second factor needs no PIN or biometrics: the password was the other factor.
    const credential = await authenticator.assert(options.body, { userVerified: false });
    const response = await mfaVerify(tenant, {
      mfaToken: login.body.mfaToken,
      method: 'WEBAUTHN',
      credential,
    });
    expect(response.status, response.text).toBe(200);
    expect(decodeJwt(response.body.accessToken)).toMatchObject({
      sub: customer.id,
      amr: ['pwd', 'pop', 'user', 'mfa'],
    });
  });

  it('refuses a sign-in challenge, another user’s challenge and a spent one, counting failures', async () => {
    const { tenant, customer, authenticator } = await enrolledCustomer();
    const colleague = await createCustomer(tenant);
    await enrol(tenant, colleague, await SoftwareAuthenticator.create());
    const login = await passwordLogin(tenant, customer.email, customer.password);
    const attempt = async (options: RequestOptions) =>
      mfaVerify(tenant, {
        mfaToken: login.body.mfaToken,
        method: 'WEBAUTHN',
        credential: await authenticator.assert(options),
      });

    const signInOptions = await authenticationOptions(tenant);
    expectProblem(await attempt(signInOptions.body), 401, 'invalid_mfa_code');

    const otherLogin = await passwordLogin(tenant, colleague.email, colleague.password);
    const othersOptions = await authenticationOptions(tenant, { mfaToken: otherLogin.body.mfaToken });
    expectProblem(await attempt(othersOptions.body), 401, 'invalid_mfa_code');

    const own = await authenticationOptions(tenant, { mfaToken: login.body.mfaToken });
    expect((await attempt(own.body)).status).toBe(200);
    expectProblem(await attempt(own.body), 401, 'invalid_mfa_code');

    const row = await database(tenant).select().from(users).where(eq(users.id, customer.id)).get();
    expect(row?.failedLoginCount).toBe(1);
  });

  it('refuses a clone as a second factor too, without counting it as a guess', async () => {
    const { tenant, customer, authenticator } = await enrolledCustomer();
    const copy = authenticator.clone();
    expect((await signInWith(tenant, authenticator)).status).toBe(200);
    const login = await passwordLogin(tenant, customer.email, customer.password);
    const options = await authenticationOptions(tenant, { mfaToken: login.body.mfaToken });
    expectProblem(
      await mfaVerify(tenant, {
        mfaToken: login.body.mfaToken,
        method: 'WEBAUTHN',
        credential: await copy.assert(options.body),
      }),
      401,
      'passkey_clone_suspected',
    );
    expect(await eventsOf(tenant, 'passkey.clone_suspected')).toHaveLength(1);
    const row = await database(tenant).select().from(users).where(eq(users.id, customer.id)).get();
    expect(row?.failedLoginCount).toBe(0);
  });

  it('refuses another user’s passkey for the challenge (401)', async () => {
    const { tenant, customer } = await enrolledCustomer();
    const intruder = await createCustomer(tenant);
    const intruderKey = await SoftwareAuthenticator.create();
    await enrol(tenant, intruder, intruderKey);
    const login = await passwordLogin(tenant, customer.email, customer.password);
    const options = await authenticationOptions(tenant, { mfaToken: login.body.mfaToken });
    expectProblem(
      await mfaVerify(tenant, {
        mfaToken: login.body.mfaToken,
        method: 'WEBAUTHN',
        credential: await intruderKey.assert(options.body),
      }),
      401,
      'invalid_mfa_code',
    );
  });

  it('steps up a session: fresh auth_time, amr merged', async () => {
    const { tenant, customer, authenticator } = await enrolledCustomer();
    const stale = await staleAccessToken(tenant, customer);
    const options = await authenticationOptions(tenant, {}, stale);
    const response = await call<{ accessToken: string }>('POST', '/auth/step-up', {
      tenant: tenant.id,
      token: stale,
      body: { method: 'WEBAUTHN', credential: await authenticator.assert(options.body) },
    });
    expect(response.status, response.text).toBe(200);
    const claims = decodeJwt(response.body.accessToken);
    expect(Number(claims.auth_time)).toBeGreaterThan(Math.floor(Date.now() / 1000) - 60);
    expect(claims.amr).toEqual(['pwd', 'pop', 'user', 'mfa']);
    expectProblem(
      await call('POST', '/auth/step-up', {
        tenant: tenant.id,
        token: stale,
        body: { method: 'PASSWORD', password: customer.password },
      }),
      422,
      'step_up_method_not_allowed',
    );
  });
});

describe('GET /auth/webauthn/credentials', () => {
  it('lists only the caller’s passkeys, newest first', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const colleague = await createCustomer(tenant);
    const first = await enrol(tenant, customer, await SoftwareAuthenticator.create(), 'Phone');
    const second = await enrol(tenant, customer, await SoftwareAuthenticator.create(), 'Laptop');
    await enrol(tenant, colleague, await SoftwareAuthenticator.create());
    const list = await listPasskeys(tenant, customer.accessToken);
    expect(list.status).toBe(200);
    expect(list.body.data.map((passkey) => passkey.id)).toEqual([second.id, first.id]);
  });
});

describe('DELETE /auth/webauthn/credentials/{credentialId}', () => {
  it('removes a passkey with a recent authentication: audited, announced, no longer enrolled', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const authenticator = await SoftwareAuthenticator.create();
    const passkey = await enrol(tenant, customer, authenticator);
    const path = `/auth/webauthn/credentials/${passkey.id}`;

    const stale = await staleAccessToken(tenant, customer);
    expectProblem(await call('DELETE', path, { tenant: tenant.id, token: stale }), 401, 'step_up_required');

    const login = await passwordLogin(tenant, customer.email, customer.password);
    const options = await authenticationOptions(tenant, { mfaToken: login.body.mfaToken });
    const fresh = await call<TestSession>('POST', '/auth/mfa/verify', {
      tenant: tenant.id,
      body: {
        mfaToken: login.body.mfaToken,
        method: 'WEBAUTHN',
        credential: await authenticator.assert(options.body),
      },
    });
    expect((await call('DELETE', path, { tenant: tenant.id, token: fresh.body.accessToken })).status).toBe(
      204,
    );

    expect((await listPasskeys(tenant, customer.accessToken)).body.data).toEqual([]);
    expect(await auditOf(tenant, customer.id, 'passkey.removed')).toHaveLength(1);
    expect(await eventsOf(tenant, 'passkey.removed')).toEqual([
      expect.objectContaining({ data: { userId: customer.id, credentialId: passkey.id } }),
    ]);
    expectProblem(await signInWith(tenant, authenticator), 401, 'invalid_passkey');
    expect((await passwordLogin(tenant, customer.email, customer.password)).body.accessToken).toBeDefined();
    expectProblem(
      await call('DELETE', path, { tenant: tenant.id, token: fresh.body.accessToken }),
      404,
      'not_found',
    );
  });

  it('answers 404 for another user’s passkey', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const colleague = await createCustomer(tenant);
    const passkey = await enrol(tenant, colleague, await SoftwareAuthenticator.create());
    expectProblem(
      await call('DELETE', `/auth/webauthn/credentials/${passkey.id}`, {
        tenant: tenant.id,
        token: customer.accessToken,
      }),
      404,
      'not_found',
    );
    expect((await listPasskeys(tenant, colleague.accessToken)).body.data).toHaveLength(1);
  });
});

describe('relying party per tenant (operator settings)', () => {
  const webauthn = {
    rpId: 'acme-bank.example',
    rpName: 'Acme Bank',
    origins: ['https://app.acme-bank.example', 'https://acme-bank.example:8443'],
  };

  function configure(tenant: TestTenant, value: unknown) {
    return call('PATCH', `/platform/tenants/${tenant.id}`, {
      headers: adminHeaders(),
      body: { webauthn: value },
    });
  }

  it('binds passkeys to the configured RP id and origins, and can go back to the default', async () => {
    const tenant = await createTenant();
    const configured = await configure(tenant, webauthn);
    expect(configured.status, configured.text).toBe(200);
    expect(configured.body.webauthn).toEqual(webauthn);

    const customer = await createCustomer(tenant);
    const options = await registrationOptions(tenant, customer.accessToken);
    expect(options.body.rp).toEqual({ id: 'acme-bank.example', name: 'Acme Bank' });
    const authenticator = await SoftwareAuthenticator.create();
    const onTheApiOrigin = await verifyRegistration(tenant, customer.accessToken, {
      credential: await authenticator.register(options.body),
    });
    expectProblem(onTheApiOrigin, 422, 'invalid_passkey_registration');

    const retry = await registrationOptions(tenant, customer.accessToken);
    const registered = await verifyRegistration(tenant, customer.accessToken, {
      credential: await authenticator.register(retry.body, { origin: 'https://app.acme-bank.example' }),
    });
    expect(registered.status, registered.text).toBe(201);
    const signInOptions = await authenticationOptions(tenant);
    expect(signInOptions.body.rpId).toBe('acme-bank.example');
    const signedIn = await signIn(
      tenant,
      await authenticator.assert(signInOptions.body, { origin: 'https://acme-bank.example:8443' }),
    );
    expect(signedIn.status, signedIn.text).toBe(200);

    const reset = await configure(tenant, null);
    expect(reset.body.webauthn).toBeNull();
    expect((await authenticationOptions(tenant)).body.rpId).toBe('api.test');
  });

  it('validates the setting: domain RP id, exact https origins on that domain', async () => {
    const tenant = await createTenant();
    const cases: [unknown, string][] = [
      [{ ...webauthn, rpId: 'https://acme-bank.example' }, 'webauthn.rpId'],
      [{ ...webauthn, origins: ['https://evil.example'] }, 'webauthn.origins.0'],
      [{ ...webauthn, origins: ['http://app.acme-bank.example'] }, 'webauthn.origins.0'],
      [{ ...webauthn, origins: ['https://app.acme-bank.example/login'] }, 'webauthn.origins.0'],
      [{ ...webauthn, origins: [] }, 'webauthn.origins'],
      [{ ...webauthn, extra: true }, 'webauthn'],
    ];
    for (const [value, path] of cases) {
      const response = await configure(tenant, value);
      expectProblem(response, 422, 'validation_failed');
      expect(response.body.errors, JSON.stringify(value)).toEqual(
        expect.arrayContaining([expect.objectContaining({ path })]),
      );
    }
    const local = await configure(tenant, { rpId: 'localhost', origins: ['http://localhost:5173'] });
    expect(local.status).toBe(200);
  });
});
