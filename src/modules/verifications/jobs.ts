import { and, eq, lt } from 'drizzle-orm';
import { isUniqueViolation, type TenantDb } from '../../db/client';
import { providerEvents, verifications } from '../../db/tenant';
import type { Env } from '../../env';
import { systemContext } from '../../platform/context';
import { ApiError } from '../../platform/errors';
import { SWEEP_BATCH, SWEEP_GRACE_MS, sweepUnenqueued } from '../../platform/events';
import { newId } from '../../platform/ids';
import type { Logger } from '../../platform/logger';
import { requireActiveTenant, type Tenant, tenantDatabase } from '../../platform/tenancy';
import { findProvider } from './providers';
import { signSandboxCallback } from './providers/sandbox';
import type { ProviderEvent, ProviderOutcome } from './providers/types';
import { enqueueVerificationJobs, type VerificationQueueMessage } from './queue';
import { applyOutcome, findVerification, recordStarted, sendToManualReview, startJob } from './service';

/** The cron's share: verification starts and received callbacks the request path failed to enqueue. */
export async function sweepVerificationJobs(
  env: Env,
  db: TenantDb,
  tenantId: string,
  now: Date,
): Promise<number> {
  const { id, jobEnqueuedAt, updatedAt } = verifications;
  const starts = await sweepUnenqueued(
    db,
    verifications,
    { id, tenantId: verifications.tenantId, settledAt: jobEnqueuedAt, dueSince: updatedAt },
    { tenantId, now, also: eq(verifications.status, 'PENDING') },
    (ids) => enqueueVerificationJobs(env, db, tenantId, ids),
  );
  const cutoff = new Date(now.getTime() - SWEEP_GRACE_MS).toISOString();
  const received = await db
    .select({ id: providerEvents.id })
    .from(providerEvents)
    .where(
      and(
        eq(providerEvents.tenantId, tenantId),
        eq(providerEvents.disposition, 'RECEIVED'),
        lt(providerEvents.receivedAt, cutoff),
      ),
    )
    .limit(SWEEP_BATCH);
  if (received.length > 0) {
    await env.VERIFICATION_QUEUE.sendBatch(
      received.map((row) => ({
        body: {
          kind: 'verification.provider_event',
          tenantId,
          providerEventId: row.id,
        } as VerificationQueueMessage,
      })),
    );
  }
  return starts + received.length;
}

async function tenantContext(env: Env, tenantId: string, now = new Date()) {
  const tenant = await requireActiveTenant(env, tenantId);
  return systemContext(env, tenant, tenantDatabase(env, tenant), now);
}

/** Starts the current attempt at the provider; a failure is retried by the queue with backoff. */
export async function startVerification(
  env: Env,
  message: Extract<VerificationQueueMessage, { kind: 'verification.start' }>,
  deliveryAttempt: number,
): Promise<void> {
  const ctx = await tenantContext(env, message.tenantId);
  const row = await findVerification(ctx, message.verificationId);
  if (row?.status !== 'PENDING' || row.attempt !== message.attempt) return;
  const provider = findProvider(row.provider);
  if (!provider) throw new Error(`unknown provider '${row.provider}'`);
  const started = await provider.start(await startJob(ctx, row, deliveryAttempt));
  await recordStarted(ctx, row, started.providerRef, started.checks);
  if (started.selfDelivery) {
    await env.VERIFICATION_QUEUE.send(
      {
        kind: 'verification.sandbox_callback',
        tenantId: ctx.tenant.id,
        verificationId: row.id,
        attempt: row.attempt,
        outcome: started.selfDelivery.outcome,
      } satisfies VerificationQueueMessage,
      { delaySeconds: started.selfDelivery.delaySeconds },
    );
  }
  await ctx.settle();
}

/**
 * The cron's poll of an attempt stuck IN_PROGRESS: the provider's outcome, if it has one, is
 * applied as a callback's would be (an older or illegal one changes nothing); none, and the
 * next poll comes at the row's `nextPollAt`.
 */
export async function pollVerification(
  env: Env,
  message: Extract<VerificationQueueMessage, { kind: 'verification.poll' }>,
): Promise<void> {
  const ctx = await tenantContext(env, message.tenantId);
  const row = await findVerification(ctx, message.verificationId);
  if (row?.status !== 'IN_PROGRESS' || row.attempt !== message.attempt || !row.providerRef) return;
  const provider = findProvider(row.provider);
  const outcome = await provider?.poll?.(await startJob(ctx, row, 1), row.providerRef);
  if (!outcome) return;
  await applyOutcome(ctx, row, outcome, ctx.now.toISOString());
  await ctx.settle();
}

/** What the dead-letter queue does with a start whose retries ran out: MANUAL_REVIEW, with the reason. */
export async function startFailedForGood(
  env: Env,
  message: Extract<VerificationQueueMessage, { kind: 'verification.start' }>,
  attempts: number,
): Promise<void> {
  const ctx = await tenantContext(env, message.tenantId);
  const row = await findVerification(ctx, message.verificationId);
  if (!row || row.attempt !== message.attempt) return;
  await sendToManualReview(
    ctx,
    row,
    `provider_unavailable: the provider could not be reached after ${attempts} tries`,
  );
  await ctx.settle();
}

/**
 * The sandbox's callback: signed with the tenant's current sandbox secret and handed to the
 * same `receiveCallback` the HTTP route uses, so the sandbox exercises every step a real
 * provider's callback takes (raw bytes, signature, dedupe, queue, ordering).
 */
export async function deliverSandboxCallback(
  env: Env,
  message: Extract<VerificationQueueMessage, { kind: 'verification.sandbox_callback' }>,
  logger: Logger,
): Promise<void> {
  const tenant = await requireActiveTenant(env, message.tenantId);
  const provider = findProvider('sandbox');
  if (!provider) return;
  const [secret] = await provider.callbackSecrets(env, tenant);
  const body = new TextEncoder().encode(
    JSON.stringify({
      verificationId: message.verificationId,
      attempt: message.attempt,
      occurredAt: new Date().toISOString(),
      outcome: message.outcome,
    }),
  );
  const id = `msg_${newId('providerEvent').slice(4)}`;
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = new Headers({
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': await signSandboxCallback(secret as string, id, timestamp, body),
  });
  const answer = await receiveCallback(env, 'sandbox', tenant.id, body, headers);
  logger.info('sandbox_callback_delivered', { verificationId: message.verificationId, answer });
}

/**
 * The callback route's work, before anything is parsed: the tenant from the account the URL
 * names, the signature over the raw bytes against every active secret, then one insert
 * deduplicated on (provider, event id) and a queue message. Answers in milliseconds; the
 * consumer applies the outcome.
 */
export async function receiveCallback(
  env: Env,
  providerName: string,
  account: string | undefined,
  rawBody: Uint8Array,
  headers: Headers,
): Promise<'ACCEPTED' | 'DUPLICATE'> {
  const provider = findProvider(providerName);
  if (!provider) throw new ApiError('not_found', { detail: `No verification provider '${providerName}'.` });
  let tenant: Tenant;
  try {
    tenant = await requireActiveTenant(env, account ?? '');
  } catch {
    // An unknown account is answered as a bad signature: nothing tells a prober which accounts exist.
    throw new ApiError('callback_signature_invalid');
  }
  const now = new Date();
  const secrets = await provider.callbackSecrets(env, tenant);
  if (!(await provider.verifyCallback({ rawBody, headers, secrets, now }))) {
    throw new ApiError('callback_signature_invalid');
  }
  let parsed: ProviderEvent;
  try {
    parsed = provider.parseCallback(rawBody, headers);
  } catch (error) {
    throw new ApiError('malformed_request', {
      detail: `Not a ${providerName} callback: ${error instanceof Error ? error.message : 'unreadable'}.`,
    });
  }
  const db = tenantDatabase(env, tenant);
  const ctx = systemContext(env, tenant, db, now);
  const row = await findVerification(ctx, parsed.verificationId);
  if (!row)
    throw new ApiError('not_found', { detail: 'The callback names no verification of this account.' });
  const id = newId('providerEvent', now.getTime());
  try {
    await db.insert(providerEvents).values({
      id,
      tenantId: tenant.id,
      provider: providerName,
      eventId: parsed.eventId,
      verificationId: row.id,
      customerId: row.customerId,
      occurredAt: parsed.occurredAt,
      outcome: { attempt: parsed.attempt, ...parsed.outcome },
      disposition: 'RECEIVED',
      receivedAt: now.toISOString(),
    });
  } catch (error) {
    if (isUniqueViolation(error)) return 'DUPLICATE';
    throw error;
  }
  // A failed send leaves the row RECEIVED, which the cron sends again.
  await env.VERIFICATION_QUEUE.send({
    kind: 'verification.provider_event',
    tenantId: tenant.id,
    providerEventId: id,
  });
  return 'ACCEPTED';
}

/** Applies a received callback once: the row's disposition moves off RECEIVED only here. */
export async function applyProviderEvent(
  env: Env,
  message: Extract<VerificationQueueMessage, { kind: 'verification.provider_event' }>,
): Promise<void> {
  const ctx = await tenantContext(env, message.tenantId);
  const received = await ctx.db
    .select()
    .from(providerEvents)
    .where(and(eq(providerEvents.tenantId, ctx.tenant.id), eq(providerEvents.id, message.providerEventId)))
    .get();
  if (received?.disposition !== 'RECEIVED') return;
  const row = await findVerification(ctx, received.verificationId);
  const { attempt, ...outcome } = received.outcome as unknown as ProviderOutcome & { attempt: number };
  const settle = (disposition: 'STALE' | 'IGNORED' | 'APPLIED') =>
    ctx.db
      .update(providerEvents)
      .set({ disposition, appliedAt: ctx.now.toISOString() })
      .where(
        and(
          eq(providerEvents.tenantId, ctx.tenant.id),
          eq(providerEvents.id, received.id),
          eq(providerEvents.disposition, 'RECEIVED'),
        ),
      );
  if (!row || row.attempt !== attempt) {
    await settle('IGNORED');
    return;
  }
  const applied = await applyOutcome(ctx, row, outcome, received.occurredAt, {
    statements: [settle('APPLIED')],
    audit: [],
    events: [],
  });
  if (applied !== 'APPLIED') await settle(applied);
  await ctx.settle();
}
