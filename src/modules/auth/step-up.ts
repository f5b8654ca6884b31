import type { UserPrincipal } from '../../platform/auth/principal';
import type { ServiceContext } from '../../platform/context';
import { ApiError } from '../../platform/errors';
import { releaseAttempt, reserveAttempt } from './attempts';
import { enrolledFactor, provePassword, proveSecondFactor } from './login';
import type { AccessTokenView, StepUpInput } from './schemas';
import { enrolledSecondFactors } from './second-factors';
import { reauthenticateSession } from './sessions';

/**
 * Re-proves the user inside an existing session. The password alone suffices only for users
 * without a second factor; otherwise step-up is as strong as their login. Which proofs the user
 * may give is settled first; the proof itself is checked inside a reserved attempt, whose slot
 * a good proof gives back.
 */
export async function stepUp(
  ctx: ServiceContext,
  principal: UserPrincipal,
  input: StepUpInput,
): Promise<AccessTokenView> {
  const factor =
    input.method === 'PASSWORD' ? undefined : await enrolledFactor(ctx, principal.id, input.method);
  if (!factor && (await enrolledSecondFactors(ctx, principal.id)).length > 0)
    throw new ApiError('step_up_method_not_allowed');
  const attempt = await reserveAttempt(ctx, principal.id);
  if (attempt?.user.status !== 'ACTIVE')
    throw new ApiError('invalid_token', { detail: 'The account is not active.' });
  let amr: string[];
  if (factor) amr = [...(await proveSecondFactor(ctx, attempt, factor, input)), 'mfa'];
  else {
    await provePassword(ctx, attempt, input.password ?? '');
    amr = ['pwd'];
  }
  return reauthenticateSession(ctx, attempt.user, principal.sessionId, amr, [releaseAttempt(ctx, attempt)]);
}
