import { and, eq, inArray, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import type { TenantDb } from '../../db/client';
import { documents } from '../../db/tenant';
import type { Env } from '../../env';
import { systemContext } from '../../platform/context';
import { ApiError } from '../../platform/errors';
import { documentContentKey, loadCustomerKeys } from '../../platform/personal-data';
import type { DocumentQueueMessage } from '../../platform/queues';
import { requireActiveTenant, type Tenant, tenantDatabase } from '../../platform/tenancy';
import { commitUnlessRefused, event } from '../../platform/unit-of-work';
import { decryptRange, UnreadableContent } from './content-crypto';
import { scannerFor } from './scanner';
import { type DocumentRow, objectKey, removeObject } from './service';

/** A scan still PENDING after this long lost its queue message: the sweep sends another. */
const SCAN_RESEND_AFTER_MS = 10 * 60 * 1000;
/** Rows one sweep or expiry pass handles per tenant; the next run takes the rest. */
const SWEEP_BATCH = 50;

/** The update that records a scan, refused if the document left PENDING meanwhile (a redelivery). */
function stillPending(now: string) {
  return sql`CASE WHEN ${documents.scanStatus} = 'PENDING' AND ${documents.deletionReason} IS NULL THEN ${now} END`;
}

/** Refuses the batch of a document that changed meanwhile (a redelivered scan, a deletion). */
const unchangedGuard = {
  violates: 'documents.updated_at',
  refusal: () => new ApiError('concurrent_update', { detail: 'The document changed meanwhile.' }),
};

async function recordScan(
  env: Env,
  tenant: Tenant,
  db: TenantDb,
  row: DocumentRow,
  outcome: {
    scanStatus: 'CLEAN' | 'SKIPPED' | 'FAILED' | 'INFECTED';
    scanner: string | null;
    /** Why a FAILED scan could not run, for the audit trail. */
    failure?: 'integrity_check_failed' | 'content_missing' | 'retries_exhausted';
  },
): Promise<void> {
  const ctx = systemContext(env, tenant, db);
  const now = ctx.now.toISOString();
  const infected = outcome.scanStatus === 'INFECTED';
  try {
    await commitUnlessRefused(
      ctx,
      {
        statements: [
          db
            .update(documents)
            .set({
              scanStatus: outcome.scanStatus,
              scanner: outcome.scanner,
              scannedAt: now,
              ...(infected ? { status: 'REJECTED' as const, rejectionReason: 'malware_detected' } : {}),
              updatedAt: stillPending(now),
            })
            .where(and(eq(documents.tenantId, tenant.id), eq(documents.id, row.id))),
        ],
        audit: [
          {
            action: 'document.scanned',
            targetType: 'customer',
            targetId: row.customerId,
            data: {
              documentId: row.id,
              scanStatus: outcome.scanStatus,
              scanner: outcome.scanner,
              ...(outcome.failure ? { failure: outcome.failure } : {}),
            },
          },
        ],
        events: infected
          ? [
              event('document.rejected', {
                customerId: row.customerId,
                documentId: row.id,
                documentType: row.documentType,
                reason: 'malware_detected',
              }),
            ]
          : [],
      },
      unchangedGuard,
    );
  } catch (error) {
    // A redelivered message found the scan recorded, or the document was deleted: nothing to do.
    if (error instanceof ApiError && error.code === 'concurrent_update') return;
    throw error;
  }
  await ctx.settle();
  // An infected file is not kept: the object goes, the REJECTED row stays as the record.
  if (infected) await removeObject({ env, db }, row, ctx.now);
}

async function pendingDocument(env: Env, message: DocumentQueueMessage) {
  const tenant = await requireActiveTenant(env, message.tenantId);
  const db = tenantDatabase(env, tenant);
  const row = await db
    .select()
    .from(documents)
    .where(and(eq(documents.tenantId, tenant.id), eq(documents.id, message.documentId)))
    .get();
  return { tenant, db, row: row?.scanStatus === 'PENDING' && row.deletionReason === null ? row : undefined };
}

/**
 * Scans an uploaded document with the tenant's scanner (./scanner.ts), from the queue: the
 * plaintext is decrypted as it streams into the scanner. A tenant without a scanner gets
 * SKIPPED. A scanner that throws is retried by the queue; the dead-letter queue records FAILED.
 */
export async function scanDocument(env: Env, message: DocumentQueueMessage): Promise<void> {
  const { tenant, db, row } = await pendingDocument(env, message);
  if (!row) return;
  const scanner = scannerFor(tenant.settings);
  if (!scanner) return recordScan(env, tenant, db, row, { scanStatus: 'SKIPPED', scanner: null });
  const keys = await loadCustomerKeys(db, env.FIELD_ENCRYPTION_KEY, tenant.id, [row.customerId]);
  const key = keys.get(row.customerId);
  const stored = key ? await env.DOCUMENTS.get(objectKey(row)) : null;
  // Erased meanwhile, or the object is gone: nothing is left to scan.
  if (!key || !stored)
    return recordScan(env, tenant, db, row, {
      scanStatus: 'FAILED',
      scanner: scanner.name,
      failure: 'content_missing',
    });
  const plaintext = decryptRange(
    await documentContentKey(key, tenant.id, row.id),
    { tenantId: tenant.id, documentId: row.id },
    stored.body,
    { start: 0, end: row.size - 1, size: row.size },
  );
  let unreadable = false;
  const content = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await plaintext.next();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        unreadable ||= error instanceof UnreadableContent;
        throw error;
      }
    },
  });
  const result = await scanner
    .scan(content, { mimeType: row.mimeType, size: row.size })
    .catch((error: unknown) => {
      if (unreadable) return undefined;
      throw error;
    });
  // Bytes failing their integrity check fail it on every retry, whatever the scanner made of
  // them: FAILED at once, not after the queue's retries.
  if (unreadable || !result)
    return recordScan(env, tenant, db, row, {
      scanStatus: 'FAILED',
      scanner: scanner.name,
      failure: 'integrity_check_failed',
    });
  await recordScan(env, tenant, db, row, {
    scanStatus: result.verdict === 'INFECTED' ? 'INFECTED' : 'CLEAN',
    scanner: scanner.name,
  });
}

/** The scan's retries ran out: the document is recorded FAILED, so nobody waits for it. */
export async function failScan(env: Env, message: DocumentQueueMessage): Promise<void> {
  const { tenant, db, row } = await pendingDocument(env, message);
  if (row)
    await recordScan(env, tenant, db, row, {
      scanStatus: 'FAILED',
      scanner: scannerFor(tenant.settings)?.name ?? null,
      failure: 'retries_exhausted',
    });
}

/**
 * The minute cron's part for documents: objects of deleted, erased or infected documents that
 * could not be removed at the time, and scans whose queue message was lost.
 */
export async function sweepDocuments(env: Env, tenant: Tenant, db: TenantDb, now: Date): Promise<number> {
  const leftOver = await db
    .select()
    .from(documents)
    .where(
      and(
        eq(documents.tenantId, tenant.id),
        isNull(documents.objectRemovedAt),
        or(isNotNull(documents.deletionReason), eq(documents.rejectionReason, 'malware_detected')),
      ),
    )
    .limit(SWEEP_BATCH);
  for (const row of leftOver) await removeObject({ env, db }, row, now);
  const stale = await db
    .select({ id: documents.id })
    .from(documents)
    .where(
      and(
        eq(documents.scanStatus, 'PENDING'),
        lt(documents.createdAt, new Date(now.getTime() - SCAN_RESEND_AFTER_MS).toISOString()),
        eq(documents.tenantId, tenant.id),
        isNull(documents.deletionReason),
      ),
    )
    .limit(SWEEP_BATCH);
  if (stale.length > 0) {
    await env.DOCUMENT_QUEUE.sendBatch(
      stale.map(({ id }) => ({ body: { kind: 'document.scan', tenantId: tenant.id, documentId: id } })),
    );
  }
  return leftOver.length + stale.length;
}

/**
 * The daily cron: documents whose `expiresAt` date has passed become EXPIRED, each with its
 * `document.expired` event, in one batch per pass. The update refuses its batch if one of them
 * changed meanwhile (deleted, rejected); the next day's run takes them again.
 */
export async function expireDocuments(env: Env, tenant: Tenant, db: TenantDb, now: Date): Promise<number> {
  const today = now.toISOString().slice(0, 10);
  const due = await db
    .select()
    .from(documents)
    .where(
      and(
        eq(documents.tenantId, tenant.id),
        inArray(documents.status, ['UPLOADED', 'VERIFIED']),
        lt(documents.expiresAt, today),
        isNull(documents.deletionReason),
      ),
    )
    .limit(SWEEP_BATCH);
  if (due.length === 0) return 0;
  const ctx = systemContext(env, tenant, db, now);
  const iso = now.toISOString();
  await commitUnlessRefused(
    ctx,
    {
      statements: due.map((row) =>
        db
          .update(documents)
          .set({
            status: 'EXPIRED',
            updatedAt: sql`CASE WHEN ${documents.status} IN ('UPLOADED', 'VERIFIED') AND ${documents.deletionReason} IS NULL THEN ${iso} END`,
          })
          .where(and(eq(documents.tenantId, tenant.id), eq(documents.id, row.id))),
      ),
      audit: [],
      events: due.map((row) =>
        event('document.expired', {
          customerId: row.customerId,
          documentId: row.id,
          documentType: row.documentType,
          expiresAt: row.expiresAt ?? today,
        }),
      ),
    },
    unchangedGuard,
  );
  await ctx.settle();
  return due.length;
}
