import { createExecutionContext, createMessageBatch, env, getQueueResult } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { customers } from '../../src/db/tenant';
import worker from '../../src/index';
import type { VerificationQueueMessage } from '../../src/modules/verifications/queue';
import { createCustomer, database, type TestTenant } from './factories';
import { call } from './http';

export type VerificationView = {
  id: string;
  status: string;
  attempt: number;
  reason: string;
  hits: { id: string; disposition: string; subject: string; listEntryId: string; note: string | null }[];
  checks: { type: string; status: string; subject: string }[];
  decisions: { reviewerId: string | null; decision: string }[];
  reviewReason: string | null;
  expiresAt: string | null;
};

/** Runs the verification queue's consumer on `messages` and answers what it acked and retried. */
export async function runVerificationQueue(
  queue: string,
  messages: { id: string; attempts: number; body: VerificationQueueMessage }[],
) {
  const batch = createMessageBatch<VerificationQueueMessage>(
    queue,
    messages.map((message) => ({ ...message, timestamp: new Date() })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<unknown>, env);
  return getQueueResult(batch, ctx);
}

/** The customer's email counts as confirmed (what BASIC requires of contact data). */
export async function confirmEmail(tenant: TestTenant, customerId: string) {
  await database(tenant)
    .update(customers)
    .set({ status: 'REGISTERED', emailVerifiedAt: new Date().toISOString() })
    .where(eq(customers.id, customerId));
}

/** A registered customer whose email is confirmed. */
export async function verifiableCustomer(tenant: TestTenant, overrides: Record<string, unknown> = {}) {
  const customer = await createCustomer(tenant, overrides);
  await confirmEmail(tenant, customer.customerId);
  return customer;
}

export async function submitVerification(
  tenant: TestTenant,
  token: string,
  customerId: string,
  level = 'BASIC',
) {
  return call<VerificationView>('POST', `/customers/${customerId}/verifications`, {
    tenant: tenant.id,
    token,
    body: { level },
  });
}

export async function readVerification(tenant: TestTenant, token: string, id: string) {
  const response = await call<VerificationView>('GET', `/verifications/${id}`, { tenant: tenant.id, token });
  expect(response.status, response.text).toBe(200);
  return response.body;
}

/** Waits for the real queue consumers (start, then the sandbox's delayed signed callback). */
export async function settledStatus(tenant: TestTenant, token: string, id: string, status: string) {
  await expect
    .poll(async () => (await readVerification(tenant, token, id)).status, { timeout: 20_000, interval: 250 })
    .toBe(status);
  return readVerification(tenant, token, id);
}
