import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { builtInSandboxSecret, signSandboxCallback } from '../../src/modules/verifications/providers/sandbox';
import { adminHeaders, createStaff, createTenant, type TestTenant } from '../helpers/factories';
import { call } from '../helpers/http';
import { eventsOfType } from '../helpers/outbox';
import { settledStatus, submitVerification, verifiableCustomer } from '../helpers/verifications';

type Policy = {
  requiredLevel: string;
  approvalsRequired: Record<string, number>;
  reviewIntervalDays: number;
  monitoringIntervalDays: number | null;
  callbackSecrets: { id: string; status: string; createdAt: string }[];
};
type TenantView = { verification: Policy; issuedCallbackSecret?: string };

function setPolicy(tenant: TestTenant, verification: Record<string, unknown>) {
  return call<TenantView & { code?: string }>('PATCH', `/platform/tenants/${tenant.id}`, {
    headers: adminHeaders(),
    body: { verification },
  });
}

describe('the tenant verification policy (PATCH /platform/tenants/{tenantId})', () => {
  it('shows the defaults, changes keys one by one, restores a default with null and refuses bad values', async () => {
    const tenant = await createTenant();
    const initial = await call<TenantView>('GET', `/platform/tenants/${tenant.id}`, {
      headers: adminHeaders(),
    });
    expect(initial.body.verification).toEqual({
      requiredLevel: 'BASIC',
      approvalsRequired: { BASIC: 1, STANDARD: 1, ENHANCED: 2 },
      reviewIntervalDays: 365,
      monitoringIntervalDays: null,
      callbackSecrets: [],
    });
    await setPolicy(tenant, { requiredLevel: 'STANDARD', approvalsRequired: { BASIC: 3 } });
    const changed = await setPolicy(tenant, {
      reviewIntervalDays: 730,
      approvalsRequired: { ENHANCED: null },
    });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.body.verification).toMatchObject({
      requiredLevel: 'STANDARD',
      approvalsRequired: { BASIC: 3, STANDARD: 1, ENHANCED: 2 },
      reviewIntervalDays: 730,
    });
    for (const bad of [
      { approvalsRequired: { BASIC: 0 } },
      { approvalsRequired: { PLATINUM: 2 } },
      { reviewIntervalDays: 7 },
      { requiredLevel: 'GOLD' },
      { callbackSecret: { action: 'SET', secret: 'short' } },
      { callbackSecret: { action: 'GENERATE', secret: 'x'.repeat(40) } },
    ]) {
      const refused = await setPolicy(tenant, bad);
      expect(refused.status, JSON.stringify(bad)).toBe(422);
      expect(refused.body.code).toBe('validation_failed');
    }
  });

  it('N = 2 approvals: the first keeps it in review, the same reviewer again is refused, a second reviewer approves', async () => {
    const tenant = await createTenant();
    expect((await setPolicy(tenant, { approvalsRequired: { BASIC: 2 } })).status).toBe(200);
    const customer = await verifiableCustomer(tenant, { lastName: 'Review' });
    const id = (await submitVerification(tenant, customer.token, customer.customerId)).body.id;
    const [first, second] = [
      await createStaff(tenant, 'COMPLIANCE_OFFICER'),
      await createStaff(tenant, 'COMPLIANCE_OFFICER'),
    ];
    expect((await settledStatus(tenant, first.token, id, 'MANUAL_REVIEW')).status).toBe('MANUAL_REVIEW');
    const approve = (token: string) =>
      call<{ status: string; code?: string; decisions: unknown[] }>('POST', `/verifications/${id}/decision`, {
        tenant: tenant.id,
        token,
        body: { decision: 'APPROVE', reason: 'identity confirmed on a video call' },
      });
    const once = await approve(first.token);
    expect(once.status, once.text).toBe(200);
    expect(once.body).toMatchObject({ status: 'MANUAL_REVIEW', approvalsRequired: 2 });
    const twice = await approve(first.token);
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('approval_already_given');
    const byCustomer = await approve(customer.token);
    expect(byCustomer.status).toBe(403);
    const done = await approve(second.token);
    expect(done.status, done.text).toBe(200);
    expect(done.body.status).toBe('APPROVED');
    expect(done.body.decisions).toHaveLength(2);
    expect((await eventsOfType(tenant, 'verification.approved')).length).toBe(1);
  });
});

describe('provider callback secrets', () => {
  async function post(tenant: TestTenant, verificationId: string, eventId: string, secret: string) {
    const raw = JSON.stringify({
      verificationId,
      attempt: 1,
      occurredAt: new Date().toISOString(),
      outcome: { decision: 'REVIEW', checks: [], hits: [], reasons: [] },
    });
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = await signSandboxCallback(secret, eventId, timestamp, new TextEncoder().encode(raw));
    const response = await call('POST', `/verification-providers/sandbox/callback?account=${tenant.id}`, {
      body: raw,
      headers: {
        'Content-Type': 'application/json',
        'webhook-id': eventId,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signature,
      },
    });
    return response.status;
  }

  it('rotation: shown once, never echoed; the previous secret is accepted until retired, then refused', async () => {
    const tenant = await createTenant();
    const customer = await verifiableCustomer(tenant, { lastName: 'Pending' });
    const id = (await submitVerification(tenant, customer.token, customer.customerId)).body.id;
    await settledStatus(tenant, customer.token, id, 'IN_PROGRESS');
    const builtIn = await builtInSandboxSecret(env, tenant.id);
    expect(await post(tenant, id, 'evt-0', builtIn)).toBe(200);

    const generated = await setPolicy(tenant, { callbackSecret: { action: 'GENERATE' } });
    expect(generated.status, generated.text).toBe(200);
    expect(generated.headers.get('Cache-Control')).toBe('no-store');
    const first = generated.body.issuedCallbackSecret as string;
    expect(first).toMatch(/^vcsec_/);
    expect(generated.body.verification.callbackSecrets.map((secret) => secret.status)).toEqual(['CURRENT']);
    // The built-in secret gives way to the one set; nothing shows a secret again.
    expect(await post(tenant, id, 'evt-1', builtIn)).toBe(401);
    expect(await post(tenant, id, 'evt-2', first)).toBe(200);
    const read = await call('GET', `/platform/tenants/${tenant.id}`, { headers: adminHeaders() });
    expect(read.text).not.toContain(first);
    expect(read.body).not.toHaveProperty('issuedCallbackSecret');

    const providerIssued = 'provider-issued-secret-0123456789abcdef';
    const rotated = await setPolicy(tenant, { callbackSecret: { action: 'SET', secret: providerIssued } });
    expect(rotated.text).not.toContain(providerIssued);
    expect(rotated.body).not.toHaveProperty('issuedCallbackSecret');
    expect(rotated.body.verification.callbackSecrets.map((secret) => secret.status)).toEqual([
      'CURRENT',
      'PREVIOUS',
    ]);
    expect(await post(tenant, id, 'evt-3', first)).toBe(200);
    expect(await post(tenant, id, 'evt-4', providerIssued)).toBe(200);

    const retired = await setPolicy(tenant, { callbackSecret: { action: 'RETIRE_PREVIOUS' } });
    expect(retired.body.verification.callbackSecrets.map((secret) => secret.status)).toEqual(['CURRENT']);
    expect(await post(tenant, id, 'evt-5', first)).toBe(401);
    expect(await post(tenant, id, 'evt-6', providerIssued)).toBe(200);
  });
});
