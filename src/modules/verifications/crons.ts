import { and, eq, gt, inArray, isNull, lte, max, sql } from 'drizzle-orm';
import type { TenantDb } from '../../db/client';
import { customers, verifications } from '../../db/tenant';
import type { Env } from '../../env';
import { systemContext } from '../../platform/context';
import { ApiError } from '../../platform/errors';
import { SWEEP_BATCH } from '../../platform/events';
import type { Tenant } from '../../platform/tenancy';
import { commitUnlessRefused, event } from '../../platform/unit-of-work';
import { requireCustomerRow } from '../customers/service';
import { verificationSettings } from './policy';
import { pollDecision } from './polling';
import type { VerificationQueueMessage } from './queue';
import { sendToManualReview, submitVerification, type VerificationRow } from './service';

const DAY_MS = 86_400_000;
/** `verification.expiring` goes out this long before `expiresAt`. */
export const EXPIRY_NOTICE_DAYS = 30;

const notice = {
  expiring: { column: verifications.expiringNotifiedAt, type: 'verification.expiring' },
  expired: { column: verifications.expiredNotifiedAt, type: 'verification.expired' },
} as const;

/**
 * Emits one notice for one approved verification: the stamp and its event in one batch, the
 * stamp conditional on none being there yet — a second run (or a run alongside) nulls
 * `updated_at`, which NOT NULL refuses, and the batch with its event rolls back. So each
 * notice goes out once however often the cron runs.
 */
async function notify(
  ctx: ReturnType<typeof systemContext>,
  row: VerificationRow,
  kind: keyof typeof notice,
): Promise<boolean> {
  const { column, type } = notice[kind];
  const customer = await requireCustomerRow(ctx, row.customerId);
  try {
    await commitUnlessRefused(
      ctx,
      {
        statements: [
          ctx.db
            .update(verifications)
            .set({
              ...(kind === 'expiring'
                ? { expiringNotifiedAt: ctx.now.toISOString() }
                : { expiredNotifiedAt: ctx.now.toISOString() }),
              updatedAt: sql`CASE WHEN ${column} IS NULL AND ${verifications.status} = 'APPROVED' THEN ${verifications.updatedAt} END`,
            })
            .where(and(eq(verifications.tenantId, ctx.tenant.id), eq(verifications.id, row.id))),
        ],
        audit: [],
        events: [
          event(
            type,
            { customerId: row.customerId, verificationId: row.id, level: row.level, attempt: row.attempt },
            customer.key,
          ),
        ],
      },
      { violates: 'verifications.updated_at', refusal: () => new ApiError('concurrent_update') },
    );
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.code === 'concurrent_update') return false;
    throw error;
  }
}

/**
 * The daily cron's expiry pass: approved verifications within `EXPIRY_NOTICE_DAYS` of
 * `expiresAt` get `verification.expiring`, those past it `verification.expired`. Past it, the
 * requirements engine no longer counts the approval, so requirements and activation readiness
 * show the level due again; the customer's status stays as it is, for the tenant to act on.
 */
export async function expireVerifications(
  env: Env,
  tenant: Tenant,
  db: TenantDb,
  now: Date,
): Promise<number> {
  const ctx = systemContext(env, tenant, db, now);
  const iso = now.toISOString();
  const soon = new Date(now.getTime() + EXPIRY_NOTICE_DAYS * DAY_MS).toISOString();
  const approved = and(eq(verifications.tenantId, tenant.id), eq(verifications.status, 'APPROVED'));
  const [expiring, expired] = await Promise.all([
    db
      .select()
      .from(verifications)
      .where(
        and(
          approved,
          isNull(verifications.expiringNotifiedAt),
          gt(verifications.expiresAt, iso),
          lte(verifications.expiresAt, soon),
        ),
      )
      .limit(SWEEP_BATCH),
    db
      .select()
      .from(verifications)
      .where(and(approved, isNull(verifications.expiredNotifiedAt), lte(verifications.expiresAt, iso)))
      .limit(SWEEP_BATCH),
  ]);
  let sent = 0;
  for (const row of expiring) if (await notify(ctx, row, 'expiring')) sent += 1;
  for (const row of expired) if (await notify(ctx, row, 'expired')) sent += 1;
  await ctx.settle();
  return sent;
}

/**
 * Ongoing monitoring, daily: a verified or active customer whose latest verification is older
 * than the tenant's `monitoringIntervalDays` is re-screened by a new BASIC verification with
 * reason ONGOING_MONITORING, through the same submit as any other (its hits go to review like
 * any). The new row is what makes a second run skip the customer, and the open-verification
 * index what makes a concurrent one fail.
 */
export async function monitorVerifications(
  env: Env,
  tenant: Tenant,
  db: TenantDb,
  now: Date,
): Promise<number> {
  const days = verificationSettings(tenant).monitoringIntervalDays;
  if (!days) return 0;
  const cutoff = new Date(now.getTime() - days * DAY_MS).toISOString();
  const due = await db
    .select({ customerId: verifications.customerId })
    .from(verifications)
    .innerJoin(
      customers,
      and(eq(customers.tenantId, verifications.tenantId), eq(customers.id, verifications.customerId)),
    )
    .where(and(eq(verifications.tenantId, tenant.id), inArray(customers.status, ['VERIFIED', 'ACTIVE'])))
    .groupBy(verifications.customerId)
    .having(
      and(
        sql`max(${verifications.status} = 'APPROVED') = 1`,
        sql`${max(verifications.createdAt)} < ${cutoff}`,
      ),
    )
    .limit(SWEEP_BATCH);
  const ctx = systemContext(env, tenant, db, now);
  let started = 0;
  for (const { customerId } of due) {
    try {
      await submitVerification(ctx, customerId, { level: 'BASIC' }, 'ONGOING_MONITORING');
      started += 1;
    } catch (error) {
      // Something due first (an expired consent), or a verification already open: the requirements show it.
      if (!(error instanceof ApiError)) throw error;
      ctx.logger.info('monitoring_skipped', { customerId, code: error.code });
    }
  }
  await ctx.settle();
  return started;
}

/**
 * The minute sweep's poll of verifications stuck IN_PROGRESS past their `nextPollAt`: each is
 * reserved by one conditional update of its poll count (a second run finds nothing due), then
 * either handed to the queue to poll the provider or, polls used up, sent to MANUAL_REVIEW.
 */
export async function pollStuckVerifications(
  env: Env,
  tenant: Tenant,
  db: TenantDb,
  now: Date,
): Promise<number> {
  const due = await db
    .select()
    .from(verifications)
    .where(
      and(
        eq(verifications.tenantId, tenant.id),
        eq(verifications.status, 'IN_PROGRESS'),
        lte(verifications.nextPollAt, now.toISOString()),
      ),
    )
    .limit(SWEEP_BATCH);
  const ctx = systemContext(env, tenant, db, now);
  const polls: VerificationQueueMessage[] = [];
  for (const row of due) {
    const decision = pollDecision(row.pollCount, now);
    // The reservation leaves `updated_at` alone: it is the lifecycle's guard, and no status moved.
    const reserved = await db
      .update(verifications)
      .set({
        pollCount: row.pollCount + 1,
        nextPollAt: decision.action === 'POLL' ? decision.nextPollAt : null,
      })
      .where(
        and(
          eq(verifications.tenantId, tenant.id),
          eq(verifications.id, row.id),
          eq(verifications.status, 'IN_PROGRESS'),
          eq(verifications.pollCount, row.pollCount),
        ),
      )
      .returning({ id: verifications.id });
    if (reserved.length === 0) continue;
    if (decision.action === 'GIVE_UP') {
      await sendToManualReview(
        ctx,
        row,
        `provider_timeout: no outcome from the provider after ${row.pollCount} polls`,
      ).catch((error) => {
        // Moved meanwhile (its callback arrived): nothing left to give up on.
        if (!(error instanceof ApiError)) throw error;
      });
    } else {
      polls.push({
        kind: 'verification.poll',
        tenantId: tenant.id,
        verificationId: row.id,
        attempt: row.attempt,
      });
    }
  }
  if (polls.length > 0) await env.VERIFICATION_QUEUE.sendBatch(polls.map((body) => ({ body })));
  await ctx.settle();
  return due.length;
}
