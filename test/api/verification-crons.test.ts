import { env } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { customers, verifications } from '../../src/db/tenant';
import {
  expireVerifications,
  monitorVerifications,
  pollStuckVerifications,
} from '../../src/modules/verifications/crons';
import { newId } from '../../src/platform/ids';
import { requireActiveTenant, tenantDatabase } from '../../src/platform/tenancy';
import { adminHeaders, createStaff, createTenant, database, type TestTenant } from '../helpers/factories';
import { call } from '../helpers/http';
import { eventsOfType } from '../helpers/outbox';
import {
  readVerification,
  runVerificationQueue,
  settledStatus,
  submitVerification,
  verifiableCustomer,
} from '../helpers/verifications';

const DAY_MS = 86_400_000;

/** Runs a cron pass for this tenant only, at a fixed clock: other files' tenants are left alone. */
async function runFor(tenant: TestTenant, task: typeof expireVerifications, now: Date): Promise<number> {
  const registered = await requireActiveTenant(env, tenant.id);
  return task(env, registered, tenantDatabase(env, registered), now);
}

async function approvedCustomer(tenant: TestTenant) {
  const customer = await verifiableCustomer(tenant);
  const id = (await submitVerification(tenant, customer.token, customer.customerId)).body.id;
  const approved = await settledStatus(tenant, customer.token, id, 'APPROVED');
  return { customer, verification: approved };
}

describe('verification crons, driven with a fixed clock', () => {
  it('expiry: verification.expiring 30 days ahead and verification.expired at it, each once however many runs', async () => {
    const tenant = await createTenant();
    const { customer, verification } = await approvedCustomer(tenant);
    const expiresAt = new Date(verification.expiresAt as string);
    const at = (days: number) => new Date(expiresAt.getTime() + days * DAY_MS);
    expect(await runFor(tenant, expireVerifications, at(-31))).toBe(0);
    await Promise.all([
      runFor(tenant, expireVerifications, at(-10)),
      runFor(tenant, expireVerifications, at(-10)),
    ]);
    await runFor(tenant, expireVerifications, at(-9));
    expect(
      (await eventsOfType(tenant, 'verification.expiring')).map((row) => row.data.verificationId),
    ).toEqual([verification.id]);
    expect(await eventsOfType(tenant, 'verification.expired')).toEqual([]);
    await Promise.all([
      runFor(tenant, expireVerifications, at(1)),
      runFor(tenant, expireVerifications, at(1)),
    ]);
    await runFor(tenant, expireVerifications, at(2));
    expect((await eventsOfType(tenant, 'verification.expired')).length).toBe(1);
    expect((await eventsOfType(tenant, 'verification.expiring')).length).toBe(1);

    // Once the date is really past, the approval no longer counts: BASIC is due again.
    await database(tenant)
      .update(verifications)
      .set({ expiresAt: new Date(Date.now() - DAY_MS).toISOString() })
      .where(and(eq(verifications.tenantId, tenant.id), eq(verifications.id, verification.id)));
    const readiness = await call<{ ready: boolean; missing: { requirement: string }[] }>(
      'GET',
      `/customers/${customer.customerId}/activation-readiness`,
      { tenant: tenant.id, token: customer.token },
    );
    expect(readiness.body.ready).toBe(false);
    expect(readiness.body.missing).toContainEqual(
      expect.objectContaining({ requirement: 'verification.BASIC' }),
    );
  });

  it('ongoing monitoring: a customer approved longer ago than the interval is re-screened once (ONGOING_MONITORING)', async () => {
    const tenant = await createTenant();
    const { customer } = await approvedCustomer(tenant);
    const later = new Date(Date.now() + 31 * DAY_MS);
    expect(await runFor(tenant, monitorVerifications, later)).toBe(0); // no interval set: no monitoring
    const policy = await call('PATCH', `/platform/tenants/${tenant.id}`, {
      headers: adminHeaders(),
      body: { verification: { monitoringIntervalDays: 30 } },
    });
    expect(policy.status, policy.text).toBe(200);
    expect(await runFor(tenant, monitorVerifications, new Date(Date.now() + 29 * DAY_MS))).toBe(0);
    const runs = await Promise.all([
      runFor(tenant, monitorVerifications, later),
      runFor(tenant, monitorVerifications, later),
    ]);
    expect(runs.sort()).toEqual([0, 1]);
    expect(await runFor(tenant, monitorVerifications, later)).toBe(0);
    const list = await call<{ data: { id: string; reason: string }[] }>(
      'GET',
      `/customers/${customer.customerId}/verifications`,
      { tenant: tenant.id, token: customer.token },
    );
    expect(list.body.data.map((row) => row.reason)).toEqual(['ONGOING_MONITORING', 'CUSTOMER_REQUEST']);
    await settledStatus(tenant, customer.token, list.body.data[0]?.id as string, 'APPROVED');
    const profile = await call<{ status: string }>('GET', `/customers/${customer.customerId}`, {
      tenant: tenant.id,
      token: customer.token,
    });
    expect(profile.body.status).toBe('VERIFIED');
  });

  it('ongoing monitoring: a re-screen the sanctions list fails goes to a reviewer, not to REJECTED', async () => {
    const tenant = await createTenant();
    const { customer } = await approvedCustomer(tenant);
    const staff = await createStaff(tenant, 'COMPLIANCE_OFFICER');
    // The customer now bears a name on the sandbox's list: an exact match, which a first
    // verification would reject outright.
    const renamed = await call('PATCH', `/customers/${customer.customerId}`, {
      tenant: tenant.id,
      token: (await createStaff(tenant)).token,
      body: { firstName: 'Ivan', lastName: 'Sanctionov' },
    });
    expect(renamed.status, renamed.text).toBe(200);
    // A rename sends the customer back to REGISTERED; the sandbox's list is fixed, so a list that
    // gained the customer's name after the approval is played by restoring the status.
    await database(tenant)
      .update(customers)
      .set({ status: 'VERIFIED' })
      .where(and(eq(customers.tenantId, tenant.id), eq(customers.id, customer.customerId)));
    const policy = await call('PATCH', `/platform/tenants/${tenant.id}`, {
      headers: adminHeaders(),
      body: { verification: { monitoringIntervalDays: 30 } },
    });
    expect(policy.status, policy.text).toBe(200);
    expect(await runFor(tenant, monitorVerifications, new Date(Date.now() + 31 * DAY_MS))).toBe(1);
    const list = await call<{ data: { id: string; reason: string }[] }>(
      'GET',
      `/customers/${customer.customerId}/verifications`,
      { tenant: tenant.id, token: staff.token },
    );
    const rescreen = list.body.data[0];
    expect(rescreen?.reason).toBe('ONGOING_MONITORING');
    const review = await settledStatus(tenant, staff.token, rescreen?.id as string, 'MANUAL_REVIEW');
    expect(review.hits.map((hit) => hit.disposition)).toContain('TRUE_POSITIVE');
  });

  it('polling: a verification stuck IN_PROGRESS is polled once per due time, then handed to a reviewer', async () => {
    const tenant = await createTenant();
    const customer = await verifiableCustomer(tenant, { lastName: 'Pending' });
    const id = (await submitVerification(tenant, customer.token, customer.customerId)).body.id;
    await settledStatus(tenant, customer.token, id, 'IN_PROGRESS');
    const row = async () =>
      (await database(tenant)
        .select()
        .from(verifications)
        .where(and(eq(verifications.tenantId, tenant.id), eq(verifications.id, id)))
        .get()) as typeof verifications.$inferSelect;
    expect(await runFor(tenant, pollStuckVerifications, new Date())).toBe(0); // not past the deadline yet
    const due = new Date((await row()).nextPollAt as string);
    await Promise.all([
      runFor(tenant, pollStuckVerifications, due),
      runFor(tenant, pollStuckVerifications, due),
    ]);
    expect((await row()).pollCount).toBe(1);
    // Pending answers no poll: the cron comes back at each next poll time until it gives up.
    for (let visit = 0; visit < 10 && (await row()).status === 'IN_PROGRESS'; visit++) {
      await runFor(tenant, pollStuckVerifications, new Date((await row()).nextPollAt as string));
    }
    const view = await readVerification(tenant, (await createStaff(tenant, 'COMPLIANCE_OFFICER')).token, id);
    expect(view.status).toBe('MANUAL_REVIEW');
    expect(view.reviewReason).toMatch(/^provider_timeout/);
    expect((await row()).pollCount).toBe(6);
    expect((await eventsOfType(tenant, 'verification.manual_review')).length).toBe(1);
  });

  it('polling: the provider’s answer to a poll is applied like its callback', async () => {
    const tenant = await createTenant();
    const customer = await verifiableCustomer(tenant);
    // A started attempt whose callback never came, written as the start would have left it.
    const id = newId('verification');
    const now = new Date().toISOString();
    await database(tenant)
      .insert(verifications)
      .values({
        id,
        tenantId: tenant.id,
        customerId: customer.customerId,
        level: 'BASIC',
        status: 'IN_PROGRESS',
        reason: 'CUSTOMER_REQUEST',
        attempt: 1,
        provider: 'sandbox',
        providerRef: `sbx_${id}`,
        submittedBy: null,
        approvalsRequired: 1,
        autoApprove: true,
        jobEnqueuedAt: now,
        nextPollAt: now,
        createdAt: now,
        updatedAt: now,
      });
    const body = { kind: 'verification.poll' as const, tenantId: tenant.id, verificationId: id, attempt: 1 };
    const result = await runVerificationQueue('verification-jobs', [{ id: 'p1', attempts: 1, body }]);
    expect(result.explicitAcks).toEqual(['p1']);
    const view = await readVerification(tenant, customer.token, id);
    expect(view.status).toBe('APPROVED');
    expect(view.checks.map((check) => check.status)).toEqual(['PASSED', 'PASSED', 'PASSED']);
  });
});
