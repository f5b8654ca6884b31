import { env, SELF } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import { auditEvents, clients, oauthGrants, users } from '../../src/db/tenant';
import { type AuthorizationCodeRequest, issueAuthorizationCode } from '../../src/modules/oauth/service';
import { revocationKey } from '../../src/platform/auth/authenticate';
import type { Permission } from '../../src/platform/auth/permissions';
import { systemPrincipal } from '../../src/platform/auth/principal';
import type { ServiceContext } from '../../src/platform/context';
import { newId } from '../../src/platform/ids';
import { createLogger } from '../../src/platform/logger';
import { requireActiveTenant, tenantDatabase } from '../../src/platform/tenancy';
import {
  createApiClient,
  createCustomer,
  createTenant,
  database,
  mintToken,
  type TestCustomer,
  type TestTenant,
} from '../helpers/factories';
import { call, ISSUER, ORIGIN } from '../helpers/http';
import { expectProblem } from '../helpers/problems';

/*
 * The authorization server as a standard library sees it: openid-client v6 discovers the server
 * and runs every grant, introspection and revocation through the worker's fetch handler.
 */

const CLIENT_IP = `10.77.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250) + 1}`;
const REDIRECT_URI = 'https://tpp.example.com/callback';
const OTHER_REDIRECT_URI = 'https://tpp.example.com/other';
const TPP_GRANTS = ['client_credentials', 'authorization_code', 'refresh_token'];

interface TestClient {
  id: string;
  clientSecret: string;
  token: string;
}

/** Every request of the library goes to the worker; `headers` are added to each. */
function throughWorker(headers: Record<string, string> = {}): oidc.CustomFetch {
  return (url, options) =>
    SELF.fetch(url, {
      method: options.method,
      body: options.body,
      redirect: 'manual',
      headers: { ...options.headers, 'CF-Connecting-IP': CLIENT_IP, ...headers },
    });
}

function discover(
  client: TestClient,
  options: {
    method?: 'basic' | 'post';
    algorithm?: 'oidc' | 'oauth2';
    headers?: Record<string, string>;
  } = {},
): Promise<oidc.Configuration> {
  const auth =
    options.method === 'post'
      ? oidc.ClientSecretPost(client.clientSecret)
      : oidc.ClientSecretBasic(client.clientSecret);
  return oidc.discovery(new URL(ISSUER), client.id, undefined, auth, {
    algorithm: options.algorithm,
    execute: [oidc.allowInsecureRequests],
    [oidc.customFetch]: throughWorker(options.headers),
  });
}

interface Tpp {
  tenant: TestTenant;
  tpp: TestClient;
  customer: TestCustomer;
  config: oidc.Configuration;
}

/** A tenant with a TPP-like client (all three grants, two redirect URIs) and a customer who consents. */
async function tppSetup(permissions: Permission[] = ['customers:read', 'documents:read']): Promise<Tpp> {
  const tenant = await createTenant();
  const tpp = await createApiClient(tenant, permissions, {
    grantTypes: TPP_GRANTS,
    redirectUris: [REDIRECT_URI, OTHER_REDIRECT_URI],
  });
  const customer = await createCustomer(tenant);
  return { tenant, tpp, customer, config: await discover(tpp) };
}

async function serviceContext(tenant: TestTenant, now = new Date()): Promise<ServiceContext> {
  const resolved = await requireActiveTenant(env, tenant.id);
  return {
    env,
    tenant: resolved,
    db: tenantDatabase(env, resolved),
    actor: systemPrincipal,
    issuer: ISSUER,
    now,
    requestId: newId('request'),
    logger: createLogger('silent'),
    waitUntil: () => {},
  };
}

/** What the TPP consent flow will do once the customer authorises: mint a code for the client. */
async function authorize(
  { tenant, tpp, customer }: Tpp,
  overrides: Partial<AuthorizationCodeRequest> & { now?: Date } = {},
): Promise<{ code: string; verifier: string; scope: string }> {
  const { now, ...request } = overrides;
  const verifier = oidc.randomPKCECodeVerifier();
  const issued = await issueAuthorizationCode(await serviceContext(tenant, now), {
    clientId: tpp.id,
    userId: customer.id,
    customerId: customer.customerId,
    redirectUri: REDIRECT_URI,
    codeChallenge: await oidc.calculatePKCECodeChallenge(verifier),
    scope: ['customers:read'],
    amr: ['pwd', 'otp'],
    authTime: Math.floor(Date.now() / 1000) - 30,
    ...request,
  });
  return { code: issued.code, verifier, scope: issued.scope };
}

function exchange(config: oidc.Configuration, code: string, verifier: string, redirectUri = REDIRECT_URI) {
  return oidc.authorizationCodeGrant(config, new URL(`${redirectUri}?code=${encodeURIComponent(code)}`), {
    pkceCodeVerifier: verifier,
  });
}

/** Authorises and exchanges: the tokens a TPP holds after a customer's consent. */
async function grant(setup: Tpp) {
  const { code, verifier } = await authorize(setup);
  const tokens = await exchange(setup.config, code, verifier);
  if (!tokens.refresh_token) throw new Error('no refresh token');
  return { access: tokens.access_token, refresh: tokens.refresh_token };
}

/** Whether the API itself accepts the access token, reading the customer it acts for. */
async function apiStatus({ tenant, customer }: Tpp, accessToken: string): Promise<number> {
  return (await call('GET', `/customers/${customer.customerId}`, { tenant: tenant.id, token: accessToken }))
    .status;
}

/**
 * Asserts the library call fails with the RFC 6749 `error`. openid-client reports a 401 with a
 * `WWW-Authenticate` challenge (RFC 6749 §5.2) as a challenge error, other errors as body errors.
 */
async function expectRefused(promise: Promise<unknown>, error: string, status = 400): Promise<void> {
  const failure = await promise.then(
    () => expect.fail(`expected ${error}`),
    (reason: unknown) => reason,
  );
  if (failure instanceof oidc.WWWAuthenticateChallengeError) {
    const body = (await failure.response.json()) as { error: string };
    expect({ error: body.error, status: failure.status }).toEqual({ error, status });
    return;
  }
  expect(failure).toBeInstanceOf(oidc.ResponseBodyError);
  expect({
    error: (failure as oidc.ResponseBodyError).error,
    status: (failure as oidc.ResponseBodyError).status,
  }).toEqual({ error, status });
}

describe('discovery', () => {
  it('serves RFC 8414 metadata at both well-known locations, issuer <origin>/v2/customer', async () => {
    const tenant = await createTenant();
    const client = await createApiClient(tenant, ['customers:read']);
    const rfc8414 = await discover(client, { algorithm: 'oauth2' });
    const openid = await discover(client, { algorithm: 'oidc' });
    expect(rfc8414.serverMetadata()).toEqual(openid.serverMetadata());
    expect(rfc8414.serverMetadata()).toMatchObject({
      issuer: ISSUER,
      token_endpoint: `${ISSUER}/oauth/token`,
      introspection_endpoint: `${ISSUER}/oauth/introspect`,
      revocation_endpoint: `${ISSUER}/oauth/revoke`,
      jwks_uri: `${ISSUER}/.well-known/jwks.json`,
      grant_types_supported: TPP_GRANTS,
      response_types_supported: ['code'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      code_challenge_methods_supported: ['S256'],
    });
    expect(rfc8414.serverMetadata().scopes_supported).toContain('customers:read');

    const raw = await SELF.fetch(`${ORIGIN}/.well-known/oauth-authorization-server/v2/customer`, {
      headers: { 'CF-Connecting-IP': CLIENT_IP },
    });
    expect(raw.status).toBe(200);
    expect(raw.headers.get('Cache-Control')).toBe('public, max-age=300');
    expect(raw.headers.get('RateLimit')).toBeTruthy();
    const jwks = await SELF.fetch(rfc8414.serverMetadata().jwks_uri ?? '', {
      headers: { 'CF-Connecting-IP': CLIENT_IP },
    });
    expect(jwks.status).toBe(200);
  });

  it('is described by the OpenAPI document, the RFC 8414 path with its full path', async () => {
    const doc = await call<{ paths: Record<string, Record<string, { operationId: string }>> }>(
      'GET',
      '/openapi.json',
    );
    expect(doc.body.paths['/.well-known/oauth-authorization-server/v2/customer']?.get?.operationId).toBe(
      'getAuthorizationServerMetadata',
    );
    expect(doc.body.paths['/v2/customer/.well-known/openid-configuration']?.get?.operationId).toBe(
      'getOpenIdConfiguration',
    );
    for (const path of ['token', 'introspect', 'revoke']) {
      expect(doc.body.paths[`/v2/customer/oauth/${path}`]?.post).toBeDefined();
    }
  });
});

describe('POST /oauth/token', () => {
  describe('client_credentials', () => {
    it('issues a client token with either authentication method, which the API accepts', async () => {
      const tenant = await createTenant();
      const client = await createApiClient(tenant, ['customers:read', 'customers:write']);
      for (const method of ['basic', 'post'] as const) {
        const config = await discover(client, { method });
        const tokens = await oidc.clientCredentialsGrant(config, { scope: 'customers:read' });
        expect(tokens).toMatchObject({ token_type: 'bearer', expires_in: 600, scope: 'customers:read' });
        expect(tokens.refresh_token).toBeUndefined();
        expect(decodeJwt(tokens.access_token)).toMatchObject({
          sub: client.id,
          tid: tenant.id,
          ptype: 'client',
        });
        expect(
          (await call('GET', '/customers', { tenant: tenant.id, token: tokens.access_token })).status,
        ).toBe(200);
      }
    });

    it('handles secrets with reserved characters, stores only their hash and refuses near misses', async () => {
      const tenant = await createTenant();
      const clientSecret = 'fcs_with:colon+plus%percent space&amp=equals/slash';
      const client = await createApiClient(tenant, ['customers:read'], { clientSecret });
      for (const method of ['basic', 'post'] as const) {
        const tokens = await oidc.clientCredentialsGrant(await discover(client, { method }));
        expect(tokens.scope).toBe('customers:read');
      }
      const row = await database(tenant).select().from(clients).where(eq(clients.id, client.id)).get();
      expect(JSON.stringify(row)).not.toContain(clientSecret);
      for (const wrong of [clientSecret.toUpperCase(), clientSecret.slice(0, -1), `${clientSecret} `]) {
        await expectRefused(
          oidc.clientCredentialsGrant(await discover({ ...client, clientSecret: wrong })),
          'invalid_client',
          401,
        );
      }
    });

    it('refuses a revoked client, and its tokens stay bound to their tenant', async () => {
      const tenant = await createTenant();
      const other = await createTenant();
      const client = await createApiClient(tenant, ['customers:read']);
      const config = await discover(client);
      const { access_token: token } = await oidc.clientCredentialsGrant(config);
      // Another tenant's header is refused at the token endpoint and at the API.
      const crossTenant = await discover(client, { headers: { 'X-Tenant-ID': other.id } });
      await expectRefused(oidc.clientCredentialsGrant(crossTenant), 'invalid_client', 401);
      const misuse = await call('GET', '/customers', { tenant: other.id, token });
      expect(misuse.status).toBe(403);
      expect(misuse.body.code).toBe('tenant_mismatch');

      await database(tenant).update(clients).set({ status: 'REVOKED' }).where(eq(clients.id, client.id));
      await expectRefused(oidc.clientCredentialsGrant(config), 'invalid_client', 401);
    });

    it('refuses grants the client is not registered for (unauthorized_client)', async () => {
      const tenant = await createTenant();
      const backEnd = await createApiClient(tenant, ['customers:read']);
      const config = await discover(backEnd);
      await expectRefused(
        oidc.authorizationCodeGrant(config, new URL(`${REDIRECT_URI}?code=anything`), {
          pkceCodeVerifier: oidc.randomPKCECodeVerifier(),
        }),
        'unauthorized_client',
      );
      await expectRefused(oidc.refreshTokenGrant(config, 'ses_x.y'), 'unauthorized_client');
    });
  });

  describe('authorization_code with PKCE', () => {
    it('confines a delegated token to its customer and its granted scope', async () => {
      const setup = await tppSetup(['customers:read', 'customers:write']);
      const { code, verifier } = await authorize(setup, { scope: ['customers:read'] });
      const { access_token: token } = await exchange(setup.config, code, verifier);
      const as = { tenant: setup.tenant.id, token };
      expect(await apiStatus(setup, token)).toBe(200);
      const everyone = await call('GET', '/customers', as);
      expect(everyone.status).toBe(403);
      const neighbour = await createCustomer(setup.tenant);
      expect((await call('GET', `/customers/${neighbour.customerId}`, as)).status).toBe(404);
      const outsideScope = await call('PATCH', `/customers/${setup.customer.customerId}`, {
        ...as,
        body: { occupation: 'Changed by a third party' },
      });
      expect(outsideScope.status).toBe(403);
      expect(outsideScope.body.permission).toBe('customers:write');
    });

    it("never lets a delegated token manage the customer's own login (second factors, sessions, step-up)", async () => {
      const setup = await tppSetup(['customers:read']);
      const { code, verifier } = await authorize(setup, { scope: ['customers:read'] });
      const { access_token: token } = await exchange(setup.config, code, verifier);
      const as = { tenant: setup.tenant.id, token };
      // A passkey or TOTP secret enrolled by the third party would be a login of its own.
      for (const [method, path, body] of [
        ['POST', '/auth/mfa/totp', undefined],
        ['POST', '/auth/webauthn/registration/options', undefined],
        ['GET', '/auth/sessions', undefined],
        ['POST', '/auth/logout-all', undefined],
        ['POST', '/auth/step-up', { method: 'PASSWORD', password: setup.customer.password }],
        [
          'POST',
          '/auth/password/change',
          { currentPassword: setup.customer.password, newPassword: 'another-long-password-42' },
        ],
      ] as const) {
        expectProblem(await call(method, path, { ...as, body }), 403, 'user_session_required');
      }
    });

    it('issues tokens acting for the consenting customer on behalf of the client', async () => {
      const setup = await tppSetup(['customers:read', 'documents:read']);
      const { code, verifier, scope } = await authorize(setup, {
        scope: ['customers:read', 'customers:write', 'documents:read'],
      });
      expect(scope).toBe('customers:read documents:read');
      const tokens = await exchange(setup.config, code, verifier);
      expect(tokens).toMatchObject({
        token_type: 'bearer',
        expires_in: 600,
        scope: 'customers:read documents:read',
      });
      expect(tokens.refresh_token).toMatch(/^ses_[0-9a-z]{26}\.0\.[A-Za-z0-9_-]{43}$/);
      const claims = decodeJwt(tokens.access_token);
      expect(claims).toMatchObject({
        iss: ISSUER,
        sub: setup.customer.id,
        tid: setup.tenant.id,
        ptype: 'customer',
        cus: setup.customer.customerId,
        sid: tokens.refresh_token?.split('.')[0],
        client_id: setup.tpp.id,
        azp: setup.tpp.id,
        amr: ['pwd', 'otp'],
        scope: 'customers:read documents:read',
      });
      expect(await apiStatus(setup, tokens.access_token)).toBe(200);
      const row = await database(setup.tenant)
        .select()
        .from(oauthGrants)
        .where(eq(oauthGrants.sessionId, String(claims.sid)))
        .get();
      expect(row).toMatchObject({
        clientId: setup.tpp.id,
        customerId: setup.customer.customerId,
        revokedAt: null,
      });
    });

    it('works with client_secret_post too', async () => {
      const setup = await tppSetup();
      const { code, verifier } = await authorize(setup);
      const tokens = await exchange(await discover(setup.tpp, { method: 'post' }), code, verifier);
      expect(tokens.scope).toBe('customers:read');
    });

    it('accepts a code once; a replay by its client is refused and revokes what the code gave', async () => {
      const setup = await tppSetup();
      const { code, verifier } = await authorize(setup);
      const first = await exchange(setup.config, code, verifier);
      await expectRefused(exchange(setup.config, code, verifier), 'invalid_grant');
      expect(await apiStatus(setup, first.access_token)).toBe(401);
      await expectRefused(oidc.refreshTokenGrant(setup.config, first.refresh_token ?? ''), 'invalid_grant');
      const audit = await database(setup.tenant)
        .select()
        .from(auditEvents)
        .where(
          and(
            eq(auditEvents.action, 'oauth.grant.revoked'),
            eq(auditEvents.targetId, String(decodeJwt(first.access_token).sid)),
          ),
        )
        .get();
      expect(audit?.data).toMatchObject({ reason: 'authorization_code_reused', clientId: setup.tpp.id });
    });

    it('refuses an expired code (60 s)', async () => {
      const setup = await tppSetup();
      const { code, verifier } = await authorize(setup, { now: new Date(Date.now() - 61_000) });
      await expectRefused(exchange(setup.config, code, verifier), 'invalid_grant');
    });

    it('refuses a wrong verifier, a wrong redirect URI and another client, without spending the code', async () => {
      const setup = await tppSetup();
      const { code, verifier } = await authorize(setup);
      await expectRefused(exchange(setup.config, code, oidc.randomPKCECodeVerifier()), 'invalid_grant');
      // Registered for the client, but not the URI this code was issued for.
      await expectRefused(exchange(setup.config, code, verifier, OTHER_REDIRECT_URI), 'invalid_grant');
      const otherTpp = await createApiClient(setup.tenant, ['customers:read'], {
        grantTypes: TPP_GRANTS,
        redirectUris: [REDIRECT_URI],
      });
      await expectRefused(exchange(await discover(otherTpp), code, verifier), 'invalid_grant');
      // Another tenant's client with the same redirect URI cannot reach the code at all.
      const elsewhere = await tppSetup(['customers:read']);
      await expectRefused(exchange(elsewhere.config, code, verifier), 'invalid_grant');

      const tokens = await exchange(setup.config, code, verifier);
      expect(await apiStatus(setup, tokens.access_token)).toBe(200);
    });

    it('refuses a request missing the PKCE verifier or carrying a malformed one (invalid_request)', async () => {
      const setup = await tppSetup();
      const { code } = await authorize(setup);
      const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI };
      const credentials = { client_id: setup.tpp.id, client_secret: setup.tpp.clientSecret };
      const missing = await call('POST', '/oauth/token', { form: { ...form, ...credentials } });
      expect(missing.status).toBe(400);
      expect(missing.body.error).toBe('invalid_request');
      const short = await call('POST', '/oauth/token', {
        form: { ...form, ...credentials, code_verifier: 'short' },
      });
      expect(short.status).toBe(400);
      expect(short.body.error).toBe('invalid_request');
    });

    it('mints codes only for registered redirect URIs, S256 challenges and scope the client may have', async () => {
      const setup = await tppSetup(['customers:read']);
      await expect(
        authorize(setup, { redirectUri: 'https://tpp.example.com/callback/' }),
      ).rejects.toMatchObject({
        code: 'invalid_request',
      });
      await expect(authorize(setup, { codeChallenge: 'plain-text-challenge' })).rejects.toMatchObject({
        code: 'invalid_request',
      });
      await expect(authorize(setup, { scope: ['customers:write'] })).rejects.toMatchObject({
        code: 'invalid_scope',
      });
      await expect(authorize(setup, { customerId: newId('customer') })).rejects.toMatchObject({
        code: 'not_found',
      });
      const backEnd = await createApiClient(setup.tenant, ['customers:read'], {
        redirectUris: [REDIRECT_URI],
      });
      await expect(authorize(setup, { clientId: backEnd.id })).rejects.toMatchObject({
        code: 'unauthorized_client',
      });
    });
  });

  describe('refresh_token', () => {
    it('rotates the refresh token and gives concurrent refreshes of one token the same successor', async () => {
      const setup = await tppSetup();
      const { access, refresh } = await grant(setup);
      const [a, b] = await Promise.all([
        oidc.refreshTokenGrant(setup.config, refresh),
        oidc.refreshTokenGrant(setup.config, refresh),
      ]);
      expect(a.refresh_token).toBeDefined();
      expect(a.refresh_token).not.toBe(refresh);
      expect(b.refresh_token).toBe(a.refresh_token);
      expect(decodeJwt(a.access_token)).toMatchObject({
        sid: decodeJwt(access).sid,
        sub: setup.customer.id,
        client_id: setup.tpp.id,
        scope: 'customers:read',
      });
      expect(await apiStatus(setup, a.access_token)).toBe(200);
    });

    it('detects reuse of a spent refresh token and revokes the whole grant', async () => {
      const setup = await tppSetup();
      const { refresh: first } = await grant(setup);
      const second = await oidc.refreshTokenGrant(setup.config, first);
      const third = await oidc.refreshTokenGrant(setup.config, second.refresh_token ?? '');
      await expectRefused(oidc.refreshTokenGrant(setup.config, first), 'invalid_grant');
      await expectRefused(oidc.refreshTokenGrant(setup.config, third.refresh_token ?? ''), 'invalid_grant');
      expect(await apiStatus(setup, third.access_token)).toBe(401);
      expect((await oidc.tokenIntrospection(setup.config, third.access_token)).active).toBe(false);
    });

    it('refuses another client’s refresh token without disturbing its family', async () => {
      const setup = await tppSetup();
      const { refresh } = await grant(setup);
      const otherTpp = await createApiClient(setup.tenant, ['customers:read'], { grantTypes: TPP_GRANTS });
      await expectRefused(oidc.refreshTokenGrant(await discover(otherTpp), refresh), 'invalid_grant');
      const rotated = await oidc.refreshTokenGrant(setup.config, refresh);
      expect(await apiStatus(setup, rotated.access_token)).toBe(200);
    });

    it('narrows the scope on request, never widens it, and follows the client’s current permissions', async () => {
      const setup = await tppSetup(['customers:read', 'documents:read']);
      const { code, verifier } = await authorize(setup, { scope: ['customers:read', 'documents:read'] });
      const tokens = await exchange(setup.config, code, verifier);
      const narrowed = await oidc.refreshTokenGrant(setup.config, tokens.refresh_token ?? '', {
        scope: 'documents:read',
      });
      expect(narrowed.scope).toBe('documents:read');
      await expectRefused(
        oidc.refreshTokenGrant(setup.config, narrowed.refresh_token ?? '', { scope: 'customers:write' }),
        'invalid_scope',
      );
      await database(setup.tenant)
        .update(clients)
        .set({ permissions: ['customers:read'] })
        .where(eq(clients.id, setup.tpp.id));
      const reduced = await oidc.refreshTokenGrant(setup.config, narrowed.refresh_token ?? '');
      expect(reduced.scope).toBe('customers:read');
    });

    it('refuses to refresh for a disabled customer user or a revoked client', async () => {
      const setup = await tppSetup();
      const { refresh } = await grant(setup);
      await database(setup.tenant)
        .update(users)
        .set({ status: 'DISABLED' })
        .where(eq(users.id, setup.customer.id));
      await expectRefused(oidc.refreshTokenGrant(setup.config, refresh), 'invalid_grant');
      await database(setup.tenant)
        .update(users)
        .set({ status: 'ACTIVE' })
        .where(eq(users.id, setup.customer.id));
      await database(setup.tenant)
        .update(clients)
        .set({ status: 'REVOKED' })
        .where(eq(clients.id, setup.tpp.id));
      await expectRefused(oidc.refreshTokenGrant(setup.config, refresh), 'invalid_client', 401);
    });

    it('refuses malformed and unknown refresh tokens', async () => {
      const setup = await tppSetup();
      for (const token of ['not-a-refresh-token', `${newId('session')}.0.${'A'.repeat(43)}`]) {
        await expectRefused(oidc.refreshTokenGrant(setup.config, token), 'invalid_grant');
      }
    });
  });
});

describe('POST /oauth/introspect', () => {
  it('describes the client’s live access and refresh tokens', async () => {
    const setup = await tppSetup();
    const { access, refresh } = await grant(setup);
    const claims = decodeJwt(access);
    expect(await oidc.tokenIntrospection(setup.config, access)).toMatchObject({
      active: true,
      token_type: 'Bearer',
      client_id: setup.tpp.id,
      sub: setup.customer.id,
      scope: 'customers:read',
      exp: claims.exp,
      iat: claims.iat,
      iss: ISSUER,
      aud: ISSUER,
      jti: claims.jti,
      tid: setup.tenant.id,
      sid: claims.sid,
      cus: setup.customer.customerId,
    });
    const described = await oidc.tokenIntrospection(setup.config, refresh, {
      token_type_hint: 'refresh_token',
    });
    expect(described).toMatchObject({
      active: true,
      client_id: setup.tpp.id,
      sub: setup.customer.id,
      scope: 'customers:read',
      sid: claims.sid,
    });
    expect(described.token_type).toBeUndefined();
    expect(Number(described.exp)).toBeGreaterThan(Date.now() / 1000 + 29 * 86_400);
    expect(await oidc.tokenIntrospection(setup.config, setup.tpp.token)).toMatchObject({
      active: true,
      client_id: setup.tpp.id,
      sub: setup.tpp.id,
    });
  });

  it('answers {active:false} for spent, expired, foreign, forged and unknown tokens alike', async () => {
    const setup = await tppSetup();
    const { access, refresh } = await grant(setup);
    await oidc.refreshTokenGrant(setup.config, refresh);
    const otherTpp = await createApiClient(setup.tenant, ['customers:read']);
    const elsewhere = await tppSetup(['customers:read']);
    const expired = await mintToken(
      setup.tenant,
      { sub: setup.tpp.id, ptype: 'client', scope: 'customers:read' },
      { now: new Date(Date.now() - 3_600_000) },
    );
    const inactive = [
      refresh, // spent by the rotation above
      expired,
      otherTpp.token,
      elsewhere.tpp.token,
      `${access.slice(0, -4)}AAAA`,
      'not-a-token',
      `${newId('session')}.0.${'A'.repeat(43)}`,
    ];
    for (const token of inactive) {
      expect(await oidc.tokenIntrospection(setup.config, token), token).toEqual({ active: false });
    }
    // The owner of a token still sees it, the others do not.
    expect((await oidc.tokenIntrospection(await discover(otherTpp), access)).active).toBe(false);
    expect((await oidc.tokenIntrospection(setup.config, access)).active).toBe(true);
  });
});

describe('POST /oauth/revoke', () => {
  it('revoking the refresh token ends the grant: refresh, access token and introspection', async () => {
    const setup = await tppSetup();
    const { access, refresh } = await grant(setup);
    await oidc.tokenRevocation(setup.config, refresh, { token_type_hint: 'refresh_token' });
    await expectRefused(oidc.refreshTokenGrant(setup.config, refresh), 'invalid_grant');
    expect(await apiStatus(setup, access)).toBe(401);
    expect(await oidc.tokenIntrospection(setup.config, access)).toEqual({ active: false });
    expect(await oidc.tokenIntrospection(setup.config, refresh)).toEqual({ active: false });
    const row = await database(setup.tenant)
      .select()
      .from(oauthGrants)
      .where(eq(oauthGrants.sessionId, String(decodeJwt(access).sid)))
      .get();
    expect(row).toMatchObject({ revokedReason: 'revoked_by_client' });
    expect(row?.revokedAt).toEqual(expect.any(String));
    // Revoking again is a success with nothing left to do.
    await oidc.tokenRevocation(setup.config, refresh);
  });

  it('revoking an access token of a grant ends the grant too', async () => {
    const setup = await tppSetup();
    const { access, refresh } = await grant(setup);
    await oidc.tokenRevocation(setup.config, access, { token_type_hint: 'access_token' });
    expect(await apiStatus(setup, access)).toBe(401);
    await expectRefused(oidc.refreshTokenGrant(setup.config, refresh), 'invalid_grant');
  });

  it('answers 200 for unknown, spent and expired tokens', async () => {
    const setup = await tppSetup();
    const { refresh } = await grant(setup);
    const rotated = await oidc.refreshTokenGrant(setup.config, refresh);
    for (const token of ['unknown', refresh, `${newId('session')}.0.${'A'.repeat(43)}`]) {
      await oidc.tokenRevocation(setup.config, token);
    }
    // The spent token revoked nothing: the live one still works.
    expect(await apiStatus(setup, rotated.access_token)).toBe(200);
  });

  it('refuses to revoke another client’s token, which stays live', async () => {
    const setup = await tppSetup();
    const { access, refresh } = await grant(setup);
    const otherTpp = await discover(await createApiClient(setup.tenant, ['customers:read']));
    for (const token of [access, refresh]) {
      await expectRefused(oidc.tokenRevocation(otherTpp, token), 'unauthorized_client');
    }
    expect(await apiStatus(setup, access)).toBe(200);
  });

  it('revokes a client_credentials access token on its own: introspection at once, then the API', async () => {
    const tenant = await createTenant();
    const client = await createApiClient(tenant, ['customers:read']);
    const config = await discover(client);
    const { access_token: sibling } = await oidc.clientCredentialsGrant(config);
    // The hint is only a hint (RFC 7009 §2.1): a wrong one changes nothing.
    await oidc.tokenRevocation(config, client.token, { token_type_hint: 'refresh_token' });
    expect(await oidc.tokenIntrospection(config, client.token)).toEqual({ active: false });
    expectProblem(
      await call('GET', '/customers', { tenant: tenant.id, token: client.token }),
      401,
      'invalid_token',
    );
    // Only that token: the client and its other tokens are untouched.
    expect((await call('GET', '/customers', { tenant: tenant.id, token: sibling })).status).toBe(200);
    expect((await oidc.tokenIntrospection(config, sibling)).active).toBe(true);
    // The mark lasts as long as the token could still verify somewhere, and no longer than needed.
    const { jti, exp } = decodeJwt(client.token);
    const { keys } = await env.CACHE.list({ prefix: revocationKey(tenant.id, String(jti)) });
    expect(keys).toHaveLength(1);
    expect(keys[0]?.expiration).toBeGreaterThanOrEqual(Number(exp));
    expect(keys[0]?.expiration).toBeLessThanOrEqual(Number(exp) + 120);
    const audit = await database(tenant)
      .select()
      .from(auditEvents)
      .where(
        and(eq(auditEvents.action, 'oauth.access_token.revoked'), eq(auditEvents.targetId, String(jti))),
      );
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorType: 'client', actorId: client.id, targetType: 'access_token' });
    // Revoking again is a success with nothing left to do.
    await oidc.tokenRevocation(config, client.token);
  });

  it('answers introspection from D1 at once, where the KV revocation mark has not arrived yet', async () => {
    const setup = await tppSetup();
    const { access } = await grant(setup);
    const { access_token: clientToken } = await oidc.clientCredentialsGrant(setup.config);
    for (const token of [access, clientToken]) await oidc.tokenRevocation(setup.config, token);
    // Another location's KV cache may lack the marks for up to 60 s (the API's stated bound);
    // introspection reads the revocation's record in D1 instead.
    const { keys } = await env.CACHE.list({ prefix: revocationKey(setup.tenant.id, '') });
    await Promise.all(keys.map(({ name }) => env.CACHE.delete(name)));
    for (const token of [access, clientToken]) {
      expect(await oidc.tokenIntrospection(setup.config, token)).toEqual({ active: false });
    }
  });
});
