import { and, eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { auditEvents, users } from '../../src/db/tenant';
import { ACCOUNT_LOCKOUT } from '../../src/platform/auth/lockout';
import { database, type TestTenant } from './factories';
import type { ApiResponse } from './http';
import { eventsOfType } from './outbox';
import { expectProblem } from './problems';

export const BURST = 20;

async function attemptsCounted(tenant: TestTenant, userId: string): Promise<number> {
  const row = await database(tenant)
    .select({ count: users.failedLoginCount })
    .from(users)
    .where(and(eq(users.tenantId, tenant.id), eq(users.id, userId)))
    .get();
  return row?.count ?? 0;
}

/**
 * Sends `BURST` wrong attempts at once and the right one while they are still in flight. The
 * right one leaves once the account has counted the limit, so it is the last attempt whatever
 * order the runtime runs the burst in.
 */
export async function burstThenRight(
  tenant: TestTenant,
  userId: string,
  wrong: () => Promise<ApiResponse<unknown>>,
  right: () => Promise<ApiResponse<unknown>>,
): Promise<{ burst: ApiResponse<unknown>[]; right: ApiResponse<unknown> }> {
  const pending = Array.from({ length: BURST }, wrong);
  let settled = false;
  const all = Promise.all(pending).finally(() => {
    settled = true;
  });
  while (!settled && (await attemptsCounted(tenant, userId)) < ACCOUNT_LOCKOUT.limit) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const last = await right();
  return { burst: await all, right: last };
}

/**
 * What a burst against one account must come to: exactly the limit's worth of attempts checked
 * (the last of them locks and says so once), every other one refused unchecked with 423, the
 * right secret included.
 */
export async function expectExactLockout(
  tenant: TestTenant,
  userId: string,
  outcome: { burst: ApiResponse<unknown>[]; right: ApiResponse<unknown> },
  wrongAnswer: { status: number; code: string },
): Promise<void> {
  expectProblem(outcome.right as ApiResponse, 423, 'account_locked');
  const checkedAndWrong = outcome.burst.filter((response) => response.status !== 423);
  expect(checkedAndWrong).toHaveLength(ACCOUNT_LOCKOUT.limit - 1);
  for (const response of checkedAndWrong) {
    expectProblem(response as ApiResponse, wrongAnswer.status, wrongAnswer.code);
  }
  for (const response of outcome.burst.filter((each) => each.status === 423)) {
    expectProblem(response as ApiResponse, 423, 'account_locked');
  }
  expect(await attemptsCounted(tenant, userId)).toBe(ACCOUNT_LOCKOUT.limit);
  const locked = await eventsOfType(tenant, 'user.locked');
  expect(locked.filter((each) => each.data.userId === userId)).toHaveLength(1);
  const audit = await database(tenant)
    .select({ id: auditEvents.id })
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.tenantId, tenant.id),
        eq(auditEvents.targetId, userId),
        eq(auditEvents.action, 'user.locked'),
      ),
    );
  expect(audit).toHaveLength(1);
}

/** What fifteen minutes do to a lock. */
export async function expireLock(tenant: TestTenant, userId: string): Promise<void> {
  await database(tenant)
    .update(users)
    .set({ lockedUntil: new Date(Date.now() - 1000).toISOString() })
    .where(and(eq(users.tenantId, tenant.id), eq(users.id, userId)));
}
