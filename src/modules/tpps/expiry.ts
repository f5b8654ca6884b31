import { and, eq, gt, lt, lte, sql } from 'drizzle-orm';
import { tppCertificates, tpps } from '../../db/tenant';
import type { ServiceContext } from '../../platform/context';
import { ApiError } from '../../platform/errors';
import { commitUnlessRefused, event } from '../../platform/unit-of-work';
import { EXPIRY_NOTICE_DAYS, expiryNoticesDue } from './rules';
import { changeTppStatus } from './service';

const DAY_MS = 86_400_000;
/** Rows one run handles per tenant; the next day's run takes the rest. */
const SWEEP_BATCH = 100;

/** The reason a TPP suspended by the cron shows (`statusReason`, `tpp.status_changed`). */
export const NO_VALID_CERTIFICATE = 'certificate_expired';

/**
 * Emits `tpp.certificate_expiring` for each certificate whose next notice is due. Each notice is
 * a guarded update of `expiry_notices` from the count read, in the batch of its event: a second
 * run, or one racing this, refuses its own batch, so no notice goes out twice.
 */
async function noticeExpiringCertificates(ctx: ServiceContext): Promise<number> {
  const now = ctx.now.toISOString();
  const horizon = new Date(ctx.now.getTime() + EXPIRY_NOTICE_DAYS[0] * DAY_MS).toISOString();
  const expiring = await ctx.db
    .select()
    .from(tppCertificates)
    .where(
      and(
        eq(tppCertificates.tenantId, ctx.tenant.id),
        gt(tppCertificates.notAfter, now),
        lte(tppCertificates.notAfter, horizon),
        lt(tppCertificates.expiryNotices, EXPIRY_NOTICE_DAYS.length),
      ),
    )
    .limit(SWEEP_BATCH);
  let sent = 0;
  for (const row of expiring) {
    const daysLeft = (Date.parse(row.notAfter) - ctx.now.getTime()) / DAY_MS;
    const due = expiryNoticesDue(daysLeft);
    if (due <= row.expiryNotices) continue;
    try {
      await commitUnlessRefused(
        ctx,
        {
          statements: [
            ctx.db
              .update(tppCertificates)
              .set({
                expiryNotices: sql`case when ${tppCertificates.expiryNotices} = ${row.expiryNotices} then ${due} end`,
                expiryNotifiedAt: now,
              })
              .where(and(eq(tppCertificates.tenantId, ctx.tenant.id), eq(tppCertificates.id, row.id))),
          ],
          audit: [],
          events: [
            event('tpp.certificate_expiring', {
              tppId: row.tppId,
              certificateId: row.id,
              notAfter: row.notAfter,
              noticeDays: EXPIRY_NOTICE_DAYS[due - 1] ?? 1,
            }),
          ],
        },
        { violates: 'tpp_certificates.expiry_notices', refusal: () => new ApiError('concurrent_update') },
      );
      sent++;
    } catch (error) {
      // Another run sent it meanwhile.
      if (!(error instanceof ApiError)) throw error;
    }
  }
  return sent;
}

/**
 * Suspends every active TPP left without a certificate valid now: its clients' tokens stop and
 * the grants they hold end, as when staff suspend it. Its consents stay; adding a renewed
 * certificate and reactivating the TPP lets it back in.
 */
async function suspendTppsWithoutCertificate(ctx: ServiceContext): Promise<number> {
  const now = ctx.now.toISOString();
  const stranded = await ctx.db
    .select()
    .from(tpps)
    .where(
      and(
        eq(tpps.tenantId, ctx.tenant.id),
        eq(tpps.status, 'ACTIVE'),
        sql`not exists (select 1 from ${tppCertificates} where ${tppCertificates.tenantId} = ${tpps.tenantId}
          and ${tppCertificates.tppId} = ${tpps.id} and ${tppCertificates.notBefore} <= ${now}
          and ${tppCertificates.notAfter} > ${now})`,
      ),
    )
    .limit(SWEEP_BATCH);
  let suspended = 0;
  for (const tpp of stranded) {
    try {
      await changeTppStatus(ctx, tpp, 'SUSPENDED', NO_VALID_CERTIFICATE);
      suspended++;
    } catch (error) {
      // Staff changed it meanwhile: that change stands.
      if (!(error instanceof ApiError)) throw error;
    }
  }
  return suspended;
}

/** The daily cron of the TPP registry: expiry notices, then suspensions. */
export async function sweepTppCertificates(ctx: ServiceContext): Promise<number> {
  return (await noticeExpiringCertificates(ctx)) + (await suspendTppsWithoutCertificate(ctx));
}
