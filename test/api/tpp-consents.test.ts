import { SELF } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import { tppConsents } from '../../src/db/tenant';
import { sweepConsents } from '../../src/modules/tpp-consents/service';
import {
  adminHeaders,
  createCustomer,
  createStaff,
  createTenant,
  database,
  serviceContextOf,
  staleAccessToken,
  type TestCustomer,
  type TestTenant,
} from '../helpers/factories';
import { call, ISSUER } from '../helpers/http';
import { eventsOfType } from '../helpers/outbox';
import { expectOAuthError, expectProblem } from '../helpers/problems';
import { createTppClient, mtls, registerTpp, type TestTppClient, TPP_REDIRECT_URI } from '../helpers/tpps';

/*
 * The TPP flow as a TPP runs it: openid-client v6, unmodified, drives discovery, the code
 * exchange with PKCE, refresh, introspection and revocation through the worker's fetch handler.
 */

const DAY_MS = 86_400_000;

function discover(client: TestTppClient): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(ISSUER), client.id, undefined, oidc.ClientSecretBasic(client.clientSecret), {
    execute: [oidc.allowInsecureRequests],
    [oidc.customFetch]: (url, options) =>
      SELF.fetch(url, {
        method: options.method,
        body: options.body,
        headers: options.headers,
        redirect: 'manual',
      }),
  });
}

interface Setup {
  tenant: TestTenant;
  adminToken: string;
  tppId: string;
  certificateSha256: string;
  client: TestTppClient;
  customer: TestCustomer;
}

async function setup(roles: ('AISP' | 'PISP')[] = ['AISP']): Promise<Setup> {
  const tenant = await createTenant({ tier: 'ENTERPRISE' });
  const admin = await createStaff(tenant);
  const tpp = await registerTpp(tenant, admin.token, { roles });
  const client = await createTppClient(tenant, admin.token, tpp.id);
  const customer = await createCustomer(tenant);
  return {
    tenant,
    adminToken: admin.token,
    tppId: tpp.id,
    certificateSha256: tpp.certificate.sha256,
    client,
    customer,
  };
}

async function askForConsent(
  { tenant, client, customer }: Setup,
  overrides: Record<string, unknown> = {},
): Promise<{ id: string; verifier: string; response: Awaited<ReturnType<typeof call>> }> {
  const verifier = oidc.randomPKCECodeVerifier();
  const response = await call<{ id: string }>('POST', '/tpp-consents', {
    tenant: tenant.id,
    token: client.token,
    body: {
      customerId: customer.customerId,
      scopes: ['customers:read'],
      expiresAt: new Date(Date.now() + 90 * DAY_MS).toISOString(),
      redirectUri: TPP_REDIRECT_URI,
      codeChallenge: await oidc.calculatePKCECodeChallenge(verifier),
      state: 'af0ifjsldkj',
      ...overrides,
    },
  });
  return { id: (response.body as { id: string }).id, verifier, response };
}

async function authorise({ tenant, customer }: Setup, consentId: string) {
  return call<{ code: string; redirectUri: string; state: string; consent: { status: string } }>(
    'POST',
    `/tpp-consents/${consentId}/authorize`,
    { tenant: tenant.id, token: customer.accessToken },
  );
}

describe('TPP consents and the code flow', () => {
  it('runs the whole flow with openid-client and stops at revocation', async () => {
    const s = await setup();
    const consent = await askForConsent(s);
    expect(consent.response.status, consent.response.text).toBe(201);
    expect(consent.response.body).toMatchObject({
      status: 'AWAITING_AUTHORISATION',
      scopes: ['customers:read'],
    });

    const authorised = await authorise(s, consent.id);
    expect(authorised.status, authorised.text).toBe(200);
    expect(authorised.body).toMatchObject({
      redirectUri: TPP_REDIRECT_URI,
      state: 'af0ifjsldkj',
      consent: { status: 'AUTHORISED' },
    });

    const config = await discover(s.client);
    const callback = new URL(
      `${TPP_REDIRECT_URI}?code=${encodeURIComponent(authorised.body.code)}&state=af0ifjsldkj`,
    );
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: consent.verifier,
      expectedState: 'af0ifjsldkj',
    });
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({
      cns: consent.id,
      cus: s.customer.customerId,
      client_id: s.client.id,
      scope: 'customers:read',
    });

    // The delegated read works; a write beyond the scope and a staff route do not.
    const read = await call('GET', `/customers/${s.customer.customerId}`, {
      tenant: s.tenant.id,
      token: tokens.access_token,
    });
    expect(read.status, read.text).toBe(200);
    expectProblem(
      await call('PATCH', `/customers/${s.customer.customerId}`, {
        tenant: s.tenant.id,
        token: tokens.access_token,
        body: { firstName: 'Eve' },
      }),
      403,
      'forbidden',
    );
    expectProblem(
      await call('GET', '/customers', { tenant: s.tenant.id, token: tokens.access_token }),
      403,
      'forbidden',
    );

    // A replayed code is refused and ends what it issued.
    await expect(
      oidc.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: consent.verifier,
        expectedState: 'af0ifjsldkj',
      }),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await oidc.tokenIntrospection(config, tokens.access_token)).active).toBe(false);

    // A fresh consent, revoked by the customer: its tokens and refresh stop.
    const second = await askForConsent(s);
    const code = (await authorise(s, second.id)).body.code;
    const live = await oidc.authorizationCodeGrant(
      config,
      new URL(`${TPP_REDIRECT_URI}?code=${encodeURIComponent(code)}&state=af0ifjsldkj`),
      { pkceCodeVerifier: second.verifier, expectedState: 'af0ifjsldkj' },
    );
    const refreshed = await oidc.refreshTokenGrant(config, live.refresh_token as string);
    expect(refreshed.access_token).toBeTruthy();
    const revoked = await call('DELETE', `/tpp-consents/${second.id}`, {
      tenant: s.tenant.id,
      token: s.customer.accessToken,
    });
    expect(revoked.status, revoked.text).toBe(200);
    expect(revoked.body).toMatchObject({ status: 'REVOKED', revokedBy: 'CUSTOMER' });
    expect((await oidc.tokenIntrospection(config, refreshed.access_token)).active).toBe(false);
    expectProblem(
      await call('GET', `/customers/${s.customer.customerId}`, {
        tenant: s.tenant.id,
        token: refreshed.access_token,
      }),
      401,
      'invalid_token',
    );
    await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token as string)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('lets only the TPP’s roles ask, for at most 180 days, at its own redirect URIs', async () => {
    const s = await setup(['AISP']);
    const beyondRole = await askForConsent(s, { scopes: ['beneficiaries:write'] });
    expectProblem(beyondRole.response, 403, 'role_not_permitted');
    const tooLong = await askForConsent(s, { expiresAt: new Date(Date.now() + 181 * DAY_MS).toISOString() });
    expectProblem(tooLong.response, 422, 'validation_failed');
    const elsewhere = await askForConsent(s, { redirectUri: 'https://evil.example.com/callback' });
    expectProblem(elsewhere.response, 422, 'validation_failed');
    const notTpp = await askForConsent({ ...s, client: { ...s.client, token: s.adminToken } });
    expectProblem(notTpp.response, 403, 'tpp_client_required');
  });

  it('refuses a staff user or another customer to authorise, and a second authorisation', async () => {
    const s = await setup();
    const consent = await askForConsent(s);
    const other = await createCustomer(s.tenant);
    expectProblem(
      await call('POST', `/tpp-consents/${consent.id}/authorize`, {
        tenant: s.tenant.id,
        token: other.accessToken,
      }),
      404,
      'not_found',
    );
    expectProblem(
      await call('POST', `/tpp-consents/${consent.id}/authorize`, {
        tenant: s.tenant.id,
        token: await staleAccessToken(s.tenant, s.customer),
      }),
      401,
      'step_up_required',
    );
    expectProblem(
      await call('POST', `/tpp-consents/${consent.id}/authorize`, {
        tenant: s.tenant.id,
        token: s.adminToken,
      }),
      403,
      'forbidden',
    );
    expect((await authorise(s, consent.id)).status).toBe(200);
    expectProblem(await authorise(s, consent.id), 409, 'consent_not_awaiting_authorisation');
  });

  it('decides a race between authorising and revoking one way', async () => {
    const s = await setup();
    const consent = await askForConsent(s);
    const [authorised, revoked] = await Promise.all([
      authorise(s, consent.id),
      call('DELETE', `/tpp-consents/${consent.id}`, { tenant: s.tenant.id, token: s.client.token }),
    ]);
    expect(revoked.status, revoked.text).toBe(200);
    const final = await call<{ status: string; revokedBy: string }>('GET', `/tpp-consents/${consent.id}`, {
      tenant: s.tenant.id,
      token: s.adminToken,
    });
    expect(final.body).toMatchObject({ status: 'REVOKED', revokedBy: 'TPP' });
    if (authorised.status === 200) {
      const config = await discover(s.client);
      await expect(
        oidc.authorizationCodeGrant(
          config,
          new URL(`${TPP_REDIRECT_URI}?code=${encodeURIComponent(authorised.body.code)}`),
          { pkceCodeVerifier: consent.verifier },
        ),
      ).rejects.toMatchObject({ error: 'invalid_grant' });
    } else {
      expectProblem(authorised, 409, 'consent_not_awaiting_authorisation');
    }
  });

  it('lets the customer reject, and lists consents for the customer and the TPP', async () => {
    const s = await setup();
    const consent = await askForConsent(s);
    const rejected = await call('POST', `/tpp-consents/${consent.id}/reject`, {
      tenant: s.tenant.id,
      token: s.customer.accessToken,
    });
    expect(rejected.body).toMatchObject({ status: 'REJECTED' });
    expectProblem(await authorise(s, consent.id), 409, 'consent_not_awaiting_authorisation');
    const mine = await call<{ data: { id: string }[] }>(
      'GET',
      `/customers/${s.customer.customerId}/tpp-consents`,
      {
        tenant: s.tenant.id,
        token: s.customer.accessToken,
      },
    );
    expect(mine.body.data.map((row) => row.id)).toEqual([consent.id]);
    const ofTpp = await call<{ data: { id: string }[] }>('GET', `/tpps/${s.tppId}/consents`, {
      tenant: s.tenant.id,
      token: s.adminToken,
    });
    expect(ofTpp.body.data.map((row) => row.id)).toEqual([consent.id]);
  });

  it('stops a suspended TPP from exchanging codes', async () => {
    const s = await setup();
    const consent = await askForConsent(s);
    const code = (await authorise(s, consent.id)).body.code;
    const config = await discover(s.client);
    await call('PATCH', `/tpps/${s.tppId}`, {
      tenant: s.tenant.id,
      token: s.adminToken,
      body: { status: 'SUSPENDED', statusReason: 'NCA inquiry' },
    });
    await expect(
      oidc.authorizationCodeGrant(config, new URL(`${TPP_REDIRECT_URI}?code=${encodeURIComponent(code)}`), {
        pkceCodeVerifier: consent.verifier,
      }),
      // invalid_client: openid-client surfaces the 401 as the server's WWW-Authenticate challenge.
    ).rejects.toMatchObject({ status: 401 });
  });
});

/** The code exchange as a TPP's back end sends it, over mTLS when `cf` says so. */
function exchange(s: Setup, code: string, verifier: string, cf?: Record<string, unknown>) {
  return call<{ access_token: string; refresh_token: string }>('POST', '/oauth/token', {
    form: {
      grant_type: 'authorization_code',
      code,
      redirect_uri: TPP_REDIRECT_URI,
      code_verifier: verifier,
      client_id: s.client.id,
      client_secret: s.client.clientSecret,
    },
    cf,
  });
}

/** Moves a consent's deadlines into the past, as time would. */
async function lapse(s: Setup, consentId: string, deadline: 'authorisationExpiresAt' | 'expiresAt') {
  await database(s.tenant)
    .update(tppConsents)
    .set({ [deadline]: new Date(Date.now() - 1000).toISOString() })
    .where(and(eq(tppConsents.tenantId, s.tenant.id), eq(tppConsents.id, consentId)));
}

describe('TPP consents over time and under load', () => {
  it('refuses to authorise once the authorisation window lapsed', async () => {
    const s = await setup();
    const consent = await askForConsent(s);
    await lapse(s, consent.id, 'authorisationExpiresAt');
    expectProblem(await authorise(s, consent.id), 409, 'consent_not_awaiting_authorisation');
    const read = await call('GET', `/tpp-consents/${consent.id}`, {
      tenant: s.tenant.id,
      token: s.adminToken,
    });
    expect(read.body).toMatchObject({ status: 'REJECTED' });
  });

  it('lets exactly one of 20 parallel authorisations through', async () => {
    const s = await setup();
    const consent = await askForConsent(s);
    const answers = await Promise.all(Array.from({ length: 20 }, () => authorise(s, consent.id)));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    for (const answer of answers.filter((answer) => answer.status !== 200)) {
      expectProblem(answer, 409, 'consent_not_awaiting_authorisation');
    }
  });

  it('spends a code once among 20 parallel exchanges, and the replays end what it issued', async () => {
    const s = await setup();
    const consent = await askForConsent(s);
    const code = (await authorise(s, consent.id)).body.code;
    const answers = await Promise.all(Array.from({ length: 20 }, () => exchange(s, code, consent.verifier)));
    const issued = answers.filter((answer) => answer.status === 200);
    expect(issued).toHaveLength(1);
    for (const answer of answers.filter((answer) => answer.status !== 200)) {
      expectOAuthError(answer, 400, 'invalid_grant');
    }
    const introspected = await call('POST', '/oauth/introspect', {
      form: {
        token: issued[0]?.body.access_token ?? '',
        client_id: s.client.id,
        client_secret: s.client.clientSecret,
      },
    });
    expect(introspected.body).toEqual({ active: false });
  });

  it('lapses expired consents in the minute sweep, which stops their tokens', async () => {
    const s = await setup();
    const consent = await askForConsent(s);
    const code = (await authorise(s, consent.id)).body.code;
    const tokens = await exchange(s, code, consent.verifier);
    const read = () =>
      call('GET', `/customers/${s.customer.customerId}`, {
        tenant: s.tenant.id,
        token: tokens.body.access_token,
      });
    expect((await read()).status).toBe(200);
    await lapse(s, consent.id, 'expiresAt');
    // The minute cron's verb, on this tenant only (the cron runs it for every tenant).
    const ctx = await serviceContextOf(s.tenant);
    expect(await sweepConsents(ctx)).toBe(1);
    await ctx.settle();
    expect(await eventsOfType(s.tenant, 'tpp.consent.expired')).toMatchObject([
      { data: { consentId: consent.id, tppId: s.tppId } },
    ]);
    expectProblem(await read(), 401, 'invalid_token');
    const refreshed = await call('POST', '/oauth/token', {
      form: {
        grant_type: 'refresh_token',
        refresh_token: tokens.body.refresh_token,
        client_id: s.client.id,
        client_secret: s.client.clientSecret,
      },
    });
    expectOAuthError(refreshed, 400, 'invalid_grant');
  });

  it('binds the tokens of a code exchanged over mTLS, and refuses one without where binding is mandatory', async () => {
    const s = await setup();
    const consent = await askForConsent(s);
    const code = (await authorise(s, consent.id)).body.code;
    const mandatory = await call('PATCH', `/platform/tenants/${s.tenant.id}`, {
      headers: adminHeaders(),
      body: { tpp: { trustAnchors: [], requireCertificateBoundTokens: true } },
    });
    expect(mandatory.status, mandatory.text).toBe(200);
    const refused = await exchange(s, code, consent.verifier);
    expectOAuthError(refused, 401, 'invalid_client');
    expect(refused.body).toMatchObject({ code: 'certificate_binding_required' });
    // Refused before the code was spent: the same code, over mTLS, is exchanged.
    const bound = await exchange(s, code, consent.verifier, mtls(s.certificateSha256));
    expect(bound.status, bound.text).toBe(200);
    expect(decodeJwt(bound.body.access_token).cnf).toBeDefined();
    const path = `/customers/${s.customer.customerId}`;
    const token = bound.body.access_token;
    expect(
      (await call('GET', path, { tenant: s.tenant.id, token, cf: mtls(s.certificateSha256) })).status,
    ).toBe(200);
    expectProblem(await call('GET', path, { tenant: s.tenant.id, token }), 401, 'invalid_token');
  });
});
