import { and, eq, inArray } from 'drizzle-orm';
import { type TenantDb, withinParameterLimit } from '../../db/client';
import { verifications } from '../../db/tenant';
import type { Env } from '../../env';
import type { ProviderOutcome } from './providers/types';

/** Bodies of the `verification-jobs` queue's messages; src/queues/consumer.ts dispatches on `kind`. */
export type VerificationQueueMessage =
  /** Start the verification's current attempt at its provider. */
  | { kind: 'verification.start'; tenantId: string; verificationId: string; attempt: number }
  /** Ask the provider for the outcome of an attempt stuck IN_PROGRESS (the cron's poll). */
  | { kind: 'verification.poll'; tenantId: string; verificationId: string; attempt: number }
  /** Apply a received, verified provider callback (`provider_events` row). */
  | { kind: 'verification.provider_event'; tenantId: string; providerEventId: string }
  /** The sandbox provider delivering its signed callback, as an external provider would. */
  | {
      kind: 'verification.sandbox_callback';
      tenantId: string;
      verificationId: string;
      attempt: number;
      outcome: ProviderOutcome;
    };

/**
 * Hands the verifications' start messages to the queue, then marks them handed over: the row
 * is its own outbox, and the cron sends what a failed push left unmarked (at least once; a
 * redelivered start is harmless, the provider's idempotency key is the verification id).
 */
export async function enqueueVerificationJobs(env: Env, db: TenantDb, tenantId: string, ids: string[]) {
  if (ids.length === 0) return;
  const rows = await db
    .select({ id: verifications.id, attempt: verifications.attempt })
    .from(verifications)
    .where(and(eq(verifications.tenantId, tenantId), inArray(verifications.id, ids)));
  await env.VERIFICATION_QUEUE.sendBatch(
    rows.map((row) => ({
      body: {
        kind: 'verification.start',
        tenantId,
        verificationId: row.id,
        attempt: row.attempt,
      } as VerificationQueueMessage,
    })),
  );
  const enqueuedAt = new Date().toISOString();
  const [first, ...rest] = withinParameterLimit(ids, (part) =>
    db
      .update(verifications)
      .set({ jobEnqueuedAt: enqueuedAt })
      .where(and(eq(verifications.tenantId, tenantId), inArray(verifications.id, part))),
  );
  if (first) await db.batch([first, ...rest]);
}
