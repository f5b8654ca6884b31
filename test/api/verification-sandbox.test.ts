import { describe, expect, it } from 'vitest';
import { createStaff, createTenant } from '../helpers/factories';
import { call } from '../helpers/http';
import {
  readVerification,
  runVerificationQueue,
  settledStatus,
  submitVerification,
  verifiableCustomer,
} from '../helpers/verifications';

describe('sandbox provider', () => {
  it('a Pending verification stays IN_PROGRESS until completed; the completion arrives as a signed callback', async () => {
    const tenant = await createTenant();
    const customer = await verifiableCustomer(tenant, { lastName: 'Pending' });
    const reviewer = await createStaff(tenant, 'COMPLIANCE_OFFICER');
    const id = (await submitVerification(tenant, customer.token, customer.customerId)).body.id;
    await settledStatus(tenant, reviewer.token, id, 'IN_PROGRESS');
    const complete = (token: string, decision: string) =>
      call<{ status: string; code?: string }>('POST', `/verifications/${id}/sandbox-completion`, {
        tenant: tenant.id,
        token,
        body: { decision },
      });
    expect((await complete(customer.token, 'PASS')).status).toBe(403);
    expect((await complete(reviewer.token, 'MAYBE')).status).toBe(422);
    const accepted = await complete(reviewer.token, 'REVIEW');
    expect(accepted.status, accepted.text).toBe(202);
    expect(accepted.body.status).toBe('IN_PROGRESS');
    const reviewed = await settledStatus(tenant, reviewer.token, id, 'MANUAL_REVIEW');
    expect(reviewed.checks).toContainEqual(
      expect.objectContaining({ type: 'IDENTITY', status: 'NEEDS_REVIEW' }),
    );
    const again = await complete(reviewer.token, 'PASS');
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('invalid_transition');
  });

  it('Error: the provider fails on the first two tries of the queue and succeeds on the third', async () => {
    const tenant = await createTenant();
    const customer = await verifiableCustomer(tenant, { lastName: 'Error' });
    const id = (await submitVerification(tenant, customer.token, customer.customerId)).body.id;
    const body = { kind: 'verification.start' as const, tenantId: tenant.id, verificationId: id, attempt: 1 };
    for (const attempts of [1, 2]) {
      const failed = await runVerificationQueue('verification-jobs', [
        { id: `m${attempts}`, attempts, body },
      ]);
      expect(failed.retryMessages).toEqual([expect.objectContaining({ msgId: `m${attempts}` })]);
      expect((await readVerification(tenant, customer.token, id)).status).toBe('PENDING');
    }
    const third = await runVerificationQueue('verification-jobs', [{ id: 'm3', attempts: 3, body }]);
    expect(third.explicitAcks).toEqual(['m3']);
    expect(third.retryMessages).toEqual([]);
    expect((await readVerification(tenant, customer.token, id)).status).not.toBe('PENDING');
    await settledStatus(tenant, customer.token, id, 'APPROVED');
  });
});
