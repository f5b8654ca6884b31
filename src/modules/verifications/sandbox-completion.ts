import type { ServiceContext } from '../../platform/context';
import { ApiError } from '../../platform/errors';
import type { ProviderDecision } from './lifecycle';
import { sandboxOutcome } from './providers/sandbox';
import type { VerificationQueueMessage } from './queue';
import { getVerification, requireVerification, startJob } from './service';

/**
 * What a sandbox user does where a real provider's analyst would: completes an IN_PROGRESS
 * sandbox verification (last name `Pending` keeps it there) with a decision. The outcome is
 * the one the matching magic name gives, and it travels as the sandbox's signed callback
 * through the queue, so the completion exercises the callback path like any outcome.
 */
export async function completeSandboxVerification(
  ctx: ServiceContext,
  verificationId: string,
  decision: ProviderDecision,
) {
  const row = await requireVerification(ctx, verificationId);
  if (row.provider !== 'sandbox' || row.status !== 'IN_PROGRESS') {
    throw new ApiError('invalid_transition', {
      detail:
        row.provider !== 'sandbox'
          ? `Only sandbox verifications are completed here; this one is at '${row.provider}'.`
          : `A ${row.status} verification is not waiting for the provider; only IN_PROGRESS ones are completed.`,
      extensions: { allowed: [] },
    });
  }
  const outcome = sandboxOutcome(await startJob(ctx, row, 1), decision);
  await ctx.env.VERIFICATION_QUEUE.send({
    kind: 'verification.sandbox_callback',
    tenantId: ctx.tenant.id,
    verificationId: row.id,
    attempt: row.attempt,
    outcome,
  } satisfies VerificationQueueMessage);
  return getVerification(ctx, verificationId);
}
