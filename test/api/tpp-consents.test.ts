import { SELF } from 'cloudflare:test';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import {
  createCustomer,
  createStaff,
  createTenant,
  staleAccessToken,
  type TestCustomer,
  type TestTenant,
} from '../helpers/factories';
import { call, ISSUER } from '../helpers/http';
import { expectProblem } from '../helpers/problems';
import { createTppClient, registerTpp, type TestTppClient, TPP_REDIRECT_URI } from '../helpers/tpps';

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
  client: TestTppClient;
  customer: TestCustomer;
}

async function setup(roles: ('AISP' | 'PISP')[] = ['AISP']): Promise<Setup> {
  const tenant = await createTenant({ tier: 'ENTERPRISE' });
  const admin = await createStaff(tenant);
  const tpp = await registerTpp(tenant, admin.token, { roles });
  const client = await createTppClient(tenant, admin.token, tpp.id);
  const customer = await createCustomer(tenant);
  return { tenant, adminToken: admin.token, tppId: tpp.id, client, customer };
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
