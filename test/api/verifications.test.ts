import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { builtInSandboxSecret, signSandboxCallback } from '../../src/modules/verifications/providers/sandbox';
import { createStaff, createTenant, type TestTenant } from '../helpers/factories';
import { call } from '../helpers/http';
import { eventsOfType } from '../helpers/outbox';
import {
  runVerificationQueue as runQueue,
  settledStatus,
  submitVerification as submit,
  type VerificationView as View,
  verifiableCustomer,
  readVerification as verification,
} from '../helpers/verifications';

describe('KYC through the verification queue with the sandbox provider', () => {
  it('register → requirements → BASIC → APPROVED → activation → ACTIVE, with the events', async () => {
    const tenant = await createTenant();
    const customer = await verifiableCustomer(tenant);
    const requirements = await call<{ status: string; level: string }>(
      'GET',
      `/customers/${customer.customerId}/verification-requirements?level=BASIC`,
      { tenant: tenant.id, token: customer.token },
    );
    expect(requirements.status, requirements.text).toBe(200);
    expect(requirements.body).toMatchObject({ level: 'BASIC', status: 'READY_TO_SUBMIT' });
    const notReady = await call('POST', `/customers/${customer.customerId}/activation`, {
      tenant: tenant.id,
      token: customer.token,
    });
    expect(notReady.status).toBe(409);
    expect(notReady.body).toMatchObject({
      code: 'activation_not_ready',
      missing: [expect.objectContaining({ requirement: 'verification.BASIC' })],
    });

    const submitted = await submit(tenant, customer.token, customer.customerId);
    expect(submitted.status, submitted.text).toBe(202);
    expect(submitted.body).toMatchObject({ status: 'PENDING', attempt: 1 });
    const approved = await settledStatus(tenant, customer.token, submitted.body.id, 'APPROVED');
    expect(approved.checks.map((check) => [check.type, check.status]).sort()).toEqual([
      ['IDENTITY', 'PASSED'],
      ['PEP', 'PASSED'],
      ['SANCTIONS', 'PASSED'],
    ]);
    const profile = await call<{ status: string }>('GET', `/customers/${customer.customerId}`, {
      tenant: tenant.id,
      token: customer.token,
    });
    expect(profile.body.status).toBe('VERIFIED');

    const activated = await call('POST', `/customers/${customer.customerId}/activation`, {
      tenant: tenant.id,
      token: customer.token,
    });
    expect(activated.status, activated.text).toBe(200);
    expect(activated.body).toEqual({ customerId: customer.customerId, status: 'ACTIVE' });
    expect((await eventsOfType(tenant, 'customer.activated')).map((row) => row.data)).toEqual([
      { customerId: customer.customerId },
    ]);
    expect((await eventsOfType(tenant, 'verification.submitted')).length).toBe(1);
    expect((await eventsOfType(tenant, 'verification.approved')).length).toBe(1);
  });

  it('refuses a STANDARD submit without documents with 422 requirements_not_met naming them', async () => {
    const tenant = await createTenant();
    const customer = await verifiableCustomer(tenant);
    const response = await submit(tenant, customer.token, customer.customerId, 'STANDARD');
    expect(response.status, response.text).toBe(422);
    expect(response.body).toMatchObject({
      code: 'requirements_not_met',
      missing: [
        { requirement: 'document.IDENTITY', kind: 'DOCUMENT', subject: customer.customerId },
        { requirement: 'document.PROOF_OF_ADDRESS', kind: 'DOCUMENT', subject: customer.customerId },
      ],
    });
  });

  it('of 20 parallel submits exactly one creates the verification; the others are 409', async () => {
    const tenant = await createTenant();
    const customer = await verifiableCustomer(tenant, { lastName: 'Pending' });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => submit(tenant, customer.token, customer.customerId)),
    );
    expect(answers.filter((answer) => answer.status === 202)).toHaveLength(1);
    expect(
      answers
        .filter((answer) => answer.status === 409)
        .every((answer) => (answer.body as { code?: string }).code === 'verification_in_progress'),
    ).toBe(true);
    expect(answers.filter((answer) => answer.status === 409)).toHaveLength(19);
  });

  it.each([
    ['Reject', 'REJECTED', 'REJECTED'],
    ['Review', 'MANUAL_REVIEW', 'VERIFICATION_PENDING'],
    ['Resubmit', 'ADDITIONAL_INFO_REQUIRED', 'VERIFICATION_PENDING'],
  ])('last name %s → %s (customer %s)', async (lastName, status, customerStatus) => {
    const tenant = await createTenant();
    const customer = await verifiableCustomer(tenant, { lastName });
    const submitted = await submit(tenant, customer.token, customer.customerId);
    await settledStatus(tenant, customer.token, submitted.body.id, status);
    const profile = await call<{ status: string }>('GET', `/customers/${customer.customerId}`, {
      tenant: tenant.id,
      token: customer.token,
    });
    expect(profile.body.status).toBe(customerStatus);
  });

  it('an exact sanctions match is REJECTED with a TRUE_POSITIVE hit; a near one waits in MANUAL_REVIEW with an OPEN hit', async () => {
    const tenant = await createTenant();
    const exact = await verifiableCustomer(tenant, { firstName: 'Ivan', lastName: 'Sanctionov' });
    const near = await verifiableCustomer(tenant, { firstName: 'Ivan', lastName: 'Sanctionow' });
    const exactId = (await submit(tenant, exact.token, exact.customerId)).body.id;
    const nearId = (await submit(tenant, near.token, near.customerId)).body.id;
    const rejected = await settledStatus(tenant, exact.token, exactId, 'REJECTED');
    expect(rejected.hits).toEqual([
      expect.objectContaining({ listEntryId: 'fsl-001', score: 1, disposition: 'TRUE_POSITIVE' }),
    ]);
    const review = await settledStatus(tenant, near.token, nearId, 'MANUAL_REVIEW');
    expect(review.hits).toEqual([
      expect.objectContaining({ listEntryId: 'fsl-001', score: 0.93, disposition: 'OPEN' }),
    ]);
  });

  it('four eyes: hits must be disposed, the customer and API clients cannot decide, a reviewer approves', async () => {
    const tenant = await createTenant();
    const customer = await verifiableCustomer(tenant, { firstName: 'Ivan', lastName: 'Sanctionow' });
    const id = (await submit(tenant, customer.token, customer.customerId)).body.id;
    const review = await settledStatus(tenant, customer.token, id, 'MANUAL_REVIEW');
    const hitId = review.hits[0]?.id as string;
    const decide = (token: string, body: Record<string, unknown>) =>
      call<View & { code?: string }>('POST', `/verifications/${id}/decision`, {
        tenant: tenant.id,
        token,
        body,
      });
    expect((await decide(customer.token, { decision: 'APPROVE', reason: 'me' })).status).toBe(403);
    const reviewer = await createStaff(tenant, 'COMPLIANCE_OFFICER');
    const open = await decide(reviewer.token, { decision: 'APPROVE', reason: 'looks fine' });
    expect(open.status, open.text).toBe(409);
    expect(open.body.code).toBe('hits_open');
    const approved = await decide(reviewer.token, {
      decision: 'APPROVE',
      reason: 'Different person: date of birth differs.',
      hitDispositions: [{ hitId, disposition: 'FALSE_POSITIVE', note: 'DOB differs' }],
    });
    expect(approved.status, approved.text).toBe(200);
    expect(approved.body).toMatchObject({
      status: 'APPROVED',
      hits: [expect.objectContaining({ disposition: 'FALSE_POSITIVE' })],
    });
    const again = await decide(reviewer.token, { decision: 'REJECT', reason: 'changed my mind' });
    expect(again.status).toBe(409);
  });

  it('a staff submitter may not decide what it submitted', async () => {
    const tenant = await createTenant();
    const customer = await verifiableCustomer(tenant, { lastName: 'Review' });
    const officer = await createStaff(tenant, 'TENANT_ADMIN');
    const id = (await submit(tenant, officer.token, customer.customerId)).body.id;
    await settledStatus(tenant, officer.token, id, 'MANUAL_REVIEW');
    const refused = await call<{ code: string }>('POST', `/verifications/${id}/decision`, {
      tenant: tenant.id,
      token: officer.token,
      body: { decision: 'APPROVE', reason: 'self' },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('four_eyes_violation');
  });
});

describe('provider callbacks', () => {
  async function pendingVerification() {
    const tenant = await createTenant();
    const customer = await verifiableCustomer(tenant, { lastName: 'Pending' });
    const id = (await submit(tenant, customer.token, customer.customerId)).body.id;
    await settledStatus(tenant, customer.token, id, 'IN_PROGRESS');
    return { tenant, customer, id };
  }

  async function post(tenant: TestTenant, raw: string, headers: Record<string, string>) {
    return call<{ received: boolean; duplicate: boolean; code?: string }>(
      'POST',
      `/verification-providers/sandbox/callback?account=${tenant.id}`,
      { body: raw, headers: { 'Content-Type': 'application/json', ...headers } },
    );
  }

  async function signed(tenant: TestTenant, raw: string, id: string, secret?: string) {
    const timestamp = Math.floor(Date.now() / 1000);
    secret ??= await builtInSandboxSecret(env, tenant.id);
    const signature = await signSandboxCallback(secret, id, timestamp, new TextEncoder().encode(raw));
    return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
  }

  const outcome = (decision: string) => ({
    decision,
    rejectType: decision === 'FAIL' ? 'FINAL' : undefined,
    checks: [],
    hits: [],
    reasons: [],
  });

  it('verifies the raw bytes: a body whose re-serialisation differs still verifies; unsigned or tampered is 401', async () => {
    const { tenant, customer, id } = await pendingVerification();
    // Key order, spacing, an escaped é and a trailing newline: JSON.stringify(JSON.parse(raw)) differs.
    const raw = `{ "outcome": ${JSON.stringify(outcome('PASS'))}, "attempt": 1, "verificationId": "${id}", "occurredAt": "${new Date().toISOString()}", "note": "caf\\u00e9" }\n`;
    expect((await post(tenant, raw, {})).status).toBe(401);
    const headers = await signed(tenant, raw, 'evt-raw-1');
    expect((await post(tenant, raw.replace('PASS', 'FAIL'), headers)).status).toBe(401);
    const accepted = await post(tenant, raw, headers);
    expect(accepted.status, accepted.text).toBe(200);
    expect(accepted.body).toEqual({ received: true, duplicate: false });
    await settledStatus(tenant, customer.token, id, 'APPROVED');
  });

  it('a duplicate is 200 and changes nothing; an older outcome after a newer one is ignored', async () => {
    const { tenant, customer, id } = await pendingVerification();
    const newer = JSON.stringify({
      verificationId: id,
      attempt: 1,
      occurredAt: new Date().toISOString(),
      outcome: outcome('REVIEW'),
    });
    const older = JSON.stringify({
      verificationId: id,
      attempt: 1,
      occurredAt: new Date(Date.now() - 60_000).toISOString(),
      outcome: outcome('FAIL'),
    });
    const first = await post(tenant, newer, await signed(tenant, newer, 'evt-a'));
    expect(first.body).toEqual({ received: true, duplicate: false });
    const duplicate = await post(tenant, newer, await signed(tenant, newer, 'evt-a'));
    expect(duplicate.status).toBe(200);
    expect(duplicate.body).toEqual({ received: true, duplicate: true });
    await settledStatus(tenant, customer.token, id, 'MANUAL_REVIEW');
    expect((await post(tenant, older, await signed(tenant, older, 'evt-b'))).status).toBe(200);
    // The older outcome is recorded and ignored: still MANUAL_REVIEW, one manual-review event.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect((await verification(tenant, customer.token, id)).status).toBe('MANUAL_REVIEW');
    expect((await eventsOfType(tenant, 'verification.manual_review')).length).toBe(1);
  });

  it('an unknown account or a secret of another tenant is 401', async () => {
    const { tenant, id } = await pendingVerification();
    const other = await createTenant();
    const raw = JSON.stringify({
      verificationId: id,
      attempt: 1,
      occurredAt: new Date().toISOString(),
      outcome: outcome('PASS'),
    });
    expect((await post(other, raw, await signed(tenant, raw, 'evt-x'))).status).toBe(401);
    expect(
      (await post({ ...tenant, id: 'no-such-tenant' }, raw, await signed(tenant, raw, 'evt-y'))).status,
    ).toBe(401);
  });
});

describe('provider failures', () => {
  it('Error fails twice then starts; a start whose retries ran out goes to MANUAL_REVIEW with the reason', async () => {
    const tenant = await createTenant();
    const customer = await verifiableCustomer(tenant, { lastName: 'Error' });
    const id = (await submit(tenant, customer.token, customer.customerId)).body.id;
    const message = {
      kind: 'verification.start' as const,
      tenantId: tenant.id,
      verificationId: id,
      attempt: 1,
    };
    const first = await runQueue('verification-jobs', [{ id: 'm1', attempts: 1, body: message }]);
    expect(first.explicitAcks).toEqual([]);
    expect(first.retryMessages).toEqual([expect.objectContaining({ msgId: 'm1' })]);
    const dead = await runQueue('verification-jobs-dlq', [{ id: 'm2', attempts: 9, body: message }]);
    expect(dead.explicitAcks).toEqual(['m2']);
    // The reason is for reviewers: the customer sees the status alone.
    expect(await verification(tenant, customer.token, id)).toMatchObject({
      status: 'MANUAL_REVIEW',
      reviewReason: null,
    });
    const reviewer = await createStaff(tenant, 'COMPLIANCE_OFFICER');
    expect((await verification(tenant, reviewer.token, id)).reviewReason).toMatch(/^provider_unavailable/);
  });
});
