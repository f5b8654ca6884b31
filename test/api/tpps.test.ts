import {
  createExecutionContext,
  createScheduledController,
  env,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { createTestCa, createTppCertificate } from '../../scripts/lib/tpp-certificates';
import worker from '../../src/index';
import { sweepTppCertificates } from '../../src/modules/tpps/expiry';
import { base64UrlEncode } from '../../src/platform/crypto';
import { DAILY_CRON } from '../../src/queues/sweep';
import { pemForms } from '../helpers/certificates';
import {
  adminHeaders,
  createApiClient,
  createStaff,
  createTenant,
  serviceContextOf,
  type TestTenant,
} from '../helpers/factories';
import { call } from '../helpers/http';
import { eventsOfType } from '../helpers/outbox';
import { expectOAuthError, expectProblem } from '../helpers/problems';
import { createTppClient, mtls, registerTpp, TPP_REDIRECT_URI } from '../helpers/tpps';

const DAY_MS = 86_400_000;

async function enterprise() {
  const tenant = await createTenant({ tier: 'ENTERPRISE' });
  const admin = await createStaff(tenant);
  return { tenant, admin };
}

function tppBody(
  certificate: { pem: string; organizationIdentifier: string },
  overrides: Record<string, unknown> = {},
) {
  return {
    name: 'Example Money',
    legalName: 'Example TPP Ltd',
    authorizationNumber: certificate.organizationIdentifier,
    roles: ['AISP'],
    certificate: certificate.pem,
    redirectUris: [TPP_REDIRECT_URI],
    ...overrides,
  };
}

async function setTrustAnchors(tenant: TestTenant, anchors: string[], requireCertificateBoundTokens = false) {
  const response = await call('PATCH', `/platform/tenants/${tenant.id}`, {
    headers: adminHeaders(),
    body: { tpp: { trustAnchors: anchors, requireCertificateBoundTokens } },
  });
  expect(response.status, response.text).toBe(200);
}

describe('TPP registry', () => {
  it('registers a TPP and shows the facts its certificate was accepted on', async () => {
    const { tenant, admin } = await enterprise();
    const certificate = await createTppCertificate({ roles: ['PSP_AI', 'PSP_PI'] });
    const created = await call<Record<string, unknown>>('POST', '/tpps', {
      tenant: tenant.id,
      token: admin.token,
      body: tppBody(certificate, { roles: ['AISP', 'PISP'] }),
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      status: 'ACTIVE',
      roles: ['AISP', 'PISP'],
      scopes: ['beneficiaries:read', 'beneficiaries:write', 'customers:read', 'documents:read'],
      ncaId: 'GB-FCA',
      ncaName: 'Financial Conduct Authority',
      authorizationNumber: certificate.organizationIdentifier,
      certificates: [{ qcType: 'QWAC', psd2Roles: ['PSP_AI', 'PSP_PI'], trust: 'UNVERIFIED', warnings: [] }],
    });
    const id = String(created.body.id);
    expect(id).toMatch(/^tpp_/);
    const read = await call('GET', `/tpps/${id}`, { tenant: tenant.id, token: admin.token });
    expect(read.body).toEqual(created.body);
    const listed = await call<{ data: { id: string }[] }>('GET', '/tpps', {
      tenant: tenant.id,
      token: admin.token,
    });
    expect(listed.body.data.map((tpp) => tpp.id)).toContain(id);
  });

  it('refuses a certificate registered already, in any of its forms', async () => {
    const { tenant, admin } = await enterprise();
    const tpp = await registerTpp(tenant, admin.token);
    const again = await call('POST', '/tpps', {
      tenant: tenant.id,
      token: admin.token,
      body: tppBody(
        { ...tpp.certificate, pem: pemForms(tpp.certificate.pem).oneLine },
        { authorizationNumber: tpp.authorizationNumber },
      ),
    });
    expectProblem(again, 409, 'tpp_already_registered');
    const renewal = await call('POST', `/tpps/${tpp.id}/certificates`, {
      tenant: tenant.id,
      token: admin.token,
      body: { certificate: pemForms(tpp.certificate.pem).bare },
    });
    expectProblem(renewal, 409, 'certificate_in_use');
  });

  it('answers each certificate rule with its own code', async () => {
    const { tenant, admin } = await enterprise();
    const cases = [
      [{ withoutQcStatements: true }, 'certificate_not_qualified'],
      [{ roles: ['PSP_PI'] as const }, 'role_not_in_certificate'],
      [{ ncaId: 'DE-BAFIN' }, 'nca_mismatch'],
      [
        { notAfter: new Date(Date.now() - 1000), notBefore: new Date(Date.now() - 86_400_000) },
        'certificate_expired',
      ],
    ] as const;
    for (const [options, code] of cases) {
      const certificate = await createTppCertificate({
        ...options,
        roles: 'roles' in options ? [...options.roles] : undefined,
      });
      const response = await call('POST', '/tpps', {
        tenant: tenant.id,
        token: admin.token,
        body: tppBody(certificate),
      });
      expectProblem(response, 422, code);
    }
    const garbage = await call('POST', '/tpps', {
      tenant: tenant.id,
      token: admin.token,
      body: tppBody({ pem: 'AAAA', organizationIdentifier: 'PSDGB-FCA-1' }),
    });
    expectProblem(garbage, 422, 'certificate_unparseable');
  });

  it('checks certificates against the tenant’s trust anchors when it has any', async () => {
    const { tenant, admin } = await enterprise();
    const ca = await createTestCa();
    await setTrustAnchors(tenant, [ca.pem]);
    const untrusted = await createTppCertificate();
    expectProblem(
      await call('POST', '/tpps', { tenant: tenant.id, token: admin.token, body: tppBody(untrusted) }),
      422,
      'certificate_untrusted',
    );
    const trusted = await createTppCertificate({ ca });
    const created = await call<{ certificates: { trust: string }[] }>('POST', '/tpps', {
      tenant: tenant.id,
      token: admin.token,
      body: tppBody(trusted),
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body.certificates[0]?.trust).toBe('VERIFIED');
  });

  it('adds a renewal carrying the same authorisation number, and refuses another one', async () => {
    const { tenant, admin } = await enterprise();
    const tpp = await registerTpp(tenant, admin.token);
    const renewal = await createTppCertificate({
      organizationIdentifier: tpp.authorizationNumber,
      roles: ['PSP_AI'],
    });
    const added = await call('POST', `/tpps/${tpp.id}/certificates`, {
      tenant: tenant.id,
      token: admin.token,
      body: { certificate: renewal.pem },
    });
    expect(added.status, added.text).toBe(201);
    const read = await call<{ certificates: unknown[] }>('GET', `/tpps/${tpp.id}`, {
      tenant: tenant.id,
      token: admin.token,
    });
    expect(read.body.certificates).toHaveLength(2);
    const foreign = await createTppCertificate();
    expectProblem(
      await call('POST', `/tpps/${tpp.id}/certificates`, {
        tenant: tenant.id,
        token: admin.token,
        body: { certificate: foreign.pem },
      }),
      422,
      'organization_identifier_mismatch',
    );
  });

  it('is not served below ENTERPRISE', async () => {
    const tenant = await createTenant({ tier: 'PROFESSIONAL' });
    const admin = await createStaff(tenant);
    expectProblem(
      await call('GET', '/tpps', { tenant: tenant.id, token: admin.token }),
      403,
      'capability_not_enabled',
    );
  });

  it('creates TPP clients whose own tokens carry no customer scope', async () => {
    const { tenant, admin } = await enterprise();
    const tpp = await registerTpp(tenant, admin.token);
    const client = await createTppClient(tenant, admin.token, tpp.id);
    expect(client.clientSecret).toMatch(/^fcs_/);
    const listed = await call<{ data: { id: string; permissions: string[] }[] }>(
      'GET',
      `/tpps/${tpp.id}/clients`,
      {
        tenant: tenant.id,
        token: admin.token,
      },
    );
    expect(listed.body.data).toEqual([
      expect.objectContaining({
        id: client.id,
        permissions: ['beneficiaries:read', 'customers:read', 'documents:read'],
      }),
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(client.clientSecret);
    const me = await call<{ permissions: string[] }>('GET', '/me', {
      tenant: tenant.id,
      token: client.token,
    });
    expect(me.body.permissions).toEqual([]);
    expectProblem(
      await call('GET', '/customers', { tenant: tenant.id, token: client.token }),
      403,
      'forbidden',
    );
  });

  it('stops a suspended TPP’s clients at once and lets a reactivated one in again', async () => {
    const { tenant, admin } = await enterprise();
    const tpp = await registerTpp(tenant, admin.token);
    const client = await createTppClient(tenant, admin.token, tpp.id);
    const noReason = await call('PATCH', `/tpps/${tpp.id}`, {
      tenant: tenant.id,
      token: admin.token,
      body: { status: 'SUSPENDED' },
    });
    expectProblem(noReason, 422, 'validation_failed');
    const suspended = await call('PATCH', `/tpps/${tpp.id}`, {
      tenant: tenant.id,
      token: admin.token,
      body: { status: 'SUSPENDED', statusReason: 'NCA inquiry' },
    });
    expect(suspended.status, suspended.text).toBe(200);
    expect(suspended.body).toMatchObject({ status: 'SUSPENDED', statusReason: 'NCA inquiry' });
    expectProblem(await call('GET', '/me', { tenant: tenant.id, token: client.token }), 401, 'invalid_token');
    const token = await call<Record<string, unknown>>('POST', '/oauth/token', {
      form: { grant_type: 'client_credentials', client_id: client.id, client_secret: client.clientSecret },
    });
    expectOAuthError(token, 401, 'invalid_client');
    const reactivated = await call('PATCH', `/tpps/${tpp.id}`, {
      tenant: tenant.id,
      token: admin.token,
      body: { status: 'ACTIVE' },
    });
    expect(reactivated.body).toMatchObject({ status: 'ACTIVE', statusReason: null });
    const again = await call<{ access_token: string }>('POST', '/oauth/token', {
      form: { grant_type: 'client_credentials', client_id: client.id, client_secret: client.clientSecret },
    });
    expect(again.status, again.text).toBe(200);
    // The fresh token works at once; the one of before the suspension stays refused.
    const fresh = await call('GET', '/me', { tenant: tenant.id, token: again.body.access_token });
    expect(fresh.status, fresh.text).toBe(200);
    expectProblem(await call('GET', '/me', { tenant: tenant.id, token: client.token }), 401, 'invalid_token');
    // A second suspension stops the fresh one too.
    await call('PATCH', `/tpps/${tpp.id}`, {
      tenant: tenant.id,
      token: admin.token,
      body: { status: 'SUSPENDED', statusReason: 'NCA inquiry, again' },
    });
    expectProblem(
      await call('GET', '/me', { tenant: tenant.id, token: again.body.access_token }),
      401,
      'invalid_token',
    );
  });

  it('revokes a TPP for good, with its clients', async () => {
    const { tenant, admin } = await enterprise();
    const tpp = await registerTpp(tenant, admin.token);
    const client = await createTppClient(tenant, admin.token, tpp.id);
    const revoked = await call('PATCH', `/tpps/${tpp.id}`, {
      tenant: tenant.id,
      token: admin.token,
      body: { status: 'REVOKED', statusReason: 'Authorisation withdrawn' },
    });
    expect(revoked.body).toMatchObject({ status: 'REVOKED' });
    const listed = await call<{ data: { status: string }[] }>('GET', `/tpps/${tpp.id}/clients`, {
      tenant: tenant.id,
      token: admin.token,
    });
    expect(listed.body.data.map((row) => row.status)).toEqual(['REVOKED']);
    expect(client.id).toMatch(/^cli_/);
    expectProblem(
      await call('PATCH', `/tpps/${tpp.id}`, {
        tenant: tenant.id,
        token: admin.token,
        body: { status: 'ACTIVE' },
      }),
      409,
      'tpp_revoked',
    );
  });
});

describe('Certificate-bound tokens (RFC 8705)', () => {
  async function clientCredentials(
    client: { id: string; clientSecret: string },
    cf?: Record<string, unknown>,
  ) {
    return call<{ access_token: string }>('POST', '/oauth/token', {
      form: { grant_type: 'client_credentials', client_id: client.id, client_secret: client.clientSecret },
      cf,
    });
  }

  it('binds a token issued over mTLS with a registered certificate, and refuses it without', async () => {
    const { tenant, admin } = await enterprise();
    const tpp = await registerTpp(tenant, admin.token);
    const client = await createTppClient(tenant, admin.token, tpp.id);
    const issued = await clientCredentials(client, mtls(tpp.certificate.sha256));
    expect(issued.status, issued.text).toBe(200);
    // RFC 8705 §3.1: base64url of the DER's SHA-256.
    const digest = await crypto.subtle.digest('SHA-256', tpp.certificate.der);
    const thumbprint = base64UrlEncode(new Uint8Array(digest));
    expect(decodeJwt(issued.body.access_token).cnf).toEqual({ 'x5t#S256': thumbprint });

    const token = issued.body.access_token;
    const withCertificate = await call('GET', '/me', {
      tenant: tenant.id,
      token,
      cf: mtls(tpp.certificate.sha256),
    });
    expect(withCertificate.status, withCertificate.text).toBe(200);
    expectProblem(await call('GET', '/me', { tenant: tenant.id, token }), 401, 'invalid_token');
    const other = await createTppCertificate();
    expectProblem(
      await call('GET', '/me', { tenant: tenant.id, token, cf: mtls(other.sha256) }),
      401,
      'invalid_token',
    );
    expectProblem(
      await call('GET', '/me', {
        tenant: tenant.id,
        token,
        cf: mtls(tpp.certificate.sha256, { certVerified: 'FAILED:certificate has expired' }),
      }),
      401,
      'invalid_token',
    );
    const introspected = await call<{ active: boolean; cnf?: unknown }>('POST', '/oauth/introspect', {
      form: { token, client_id: client.id, client_secret: client.clientSecret },
    });
    expect(introspected.body).toMatchObject({ active: true, cnf: { 'x5t#S256': thumbprint } });
  });

  it('issues unbound tokens without mTLS, or with a certificate the TPP never registered', async () => {
    const { tenant, admin } = await enterprise();
    const tpp = await registerTpp(tenant, admin.token);
    const client = await createTppClient(tenant, admin.token, tpp.id);
    const other = await createTppCertificate();
    for (const cf of [undefined, mtls(other.sha256), mtls(tpp.certificate.sha256, { certRevoked: '1' })]) {
      const issued = await clientCredentials(client, cf);
      expect(issued.status, issued.text).toBe(200);
      expect(decodeJwt(issued.body.access_token).cnf).toBeUndefined();
      expect((await call('GET', '/me', { tenant: tenant.id, token: issued.body.access_token })).status).toBe(
        200,
      );
    }
  });

  it('refuses a TPP client without its certificate where the tenant makes binding mandatory', async () => {
    const { tenant, admin } = await enterprise();
    const tpp = await registerTpp(tenant, admin.token);
    const client = await createTppClient(tenant, admin.token, tpp.id);
    await setTrustAnchors(tenant, [], true);
    const refused = await clientCredentials(client);
    expectOAuthError(refused, 401, 'invalid_client');
    expect(refused.body).toMatchObject({ code: 'certificate_binding_required' });
    const other = await createTppCertificate();
    expect((await clientCredentials(client, mtls(other.sha256))).body).toMatchObject({
      code: 'certificate_binding_required',
    });
    const bound = await clientCredentials(client, mtls(tpp.certificate.sha256));
    expect(bound.status, bound.text).toBe(200);
    expect(decodeJwt(bound.body.access_token).cnf).toBeDefined();
    // Staff's own API clients are no TPP's: the setting does not touch them.
    const apiClient = await createApiClient(tenant, ['customers:read']);
    expect((await clientCredentials({ id: apiClient.id, clientSecret: apiClient.clientSecret })).status).toBe(
      200,
    );
  });
});

describe('The daily certificate-expiry cron', () => {
  it('sends each expiry notice once, then suspends a TPP left without a valid certificate', async () => {
    const { tenant, admin } = await enterprise();
    const tpp = await registerTpp(tenant, admin.token, {
      certificate: { notAfter: new Date(Date.now() + 20 * DAY_MS) },
    });
    const client = await createTppClient(tenant, admin.token, tpp.id);
    const notices = async () =>
      (await eventsOfType(tenant, 'tpp.certificate_expiring')).map((row) => row.data.noticeDays);

    // The cron as deployed, twice: one notice, 30 days ahead.
    for (let run = 0; run < 2; run++) {
      const context = createExecutionContext();
      await worker.scheduled(
        createScheduledController({ cron: DAILY_CRON, scheduledTime: Date.now() }),
        env,
        context,
      );
      await waitOnExecutionContext(context);
    }
    expect(await notices()).toEqual([30]);

    // Its verb on this tenant, run later: the 7-day notice once; past expiry, the suspension.
    const runAt = async (daysAhead: number) => {
      const ctx = await serviceContextOf(tenant, new Date(Date.now() + daysAhead * DAY_MS));
      await sweepTppCertificates(ctx);
      await ctx.settle();
    };
    await runAt(14);
    await runAt(14);
    expect(await notices()).toEqual([30, 7]);
    await runAt(21);
    const read = await call('GET', `/tpps/${tpp.id}`, { tenant: tenant.id, token: admin.token });
    expect(read.body).toMatchObject({ status: 'SUSPENDED', statusReason: 'certificate_expired' });
    expect((await eventsOfType(tenant, 'tpp.status_changed')).map((row) => row.data)).toMatchObject([
      { tppId: tpp.id, from: 'ACTIVE', to: 'SUSPENDED', reason: 'certificate_expired' },
    ]);
    expectProblem(await call('GET', '/me', { tenant: tenant.id, token: client.token }), 401, 'invalid_token');
  });

  it('leaves a TPP with a valid renewal active', async () => {
    const { tenant, admin } = await enterprise();
    const tpp = await registerTpp(tenant, admin.token, {
      certificate: { notAfter: new Date(Date.now() + 20 * DAY_MS) },
    });
    const renewal = await createTppCertificate({
      organizationIdentifier: tpp.authorizationNumber,
      notAfter: new Date(Date.now() + 400 * DAY_MS),
    });
    const added = await call('POST', `/tpps/${tpp.id}/certificates`, {
      tenant: tenant.id,
      token: admin.token,
      body: { certificate: renewal.pem },
    });
    expect(added.status, added.text).toBe(201);
    const ctx = await serviceContextOf(tenant, new Date(Date.now() + 21 * DAY_MS));
    await sweepTppCertificates(ctx);
    await ctx.settle();
    const read = await call('GET', `/tpps/${tpp.id}`, { tenant: tenant.id, token: admin.token });
    expect(read.body).toMatchObject({ status: 'ACTIVE' });
  });
});
