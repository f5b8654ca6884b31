import type { UserPrincipal } from '../../platform/auth/principal';
import type { ServiceContext } from '../../platform/context';
import { ApiError } from '../../platform/errors';
import { findUser, provePassword, proveSecondFactor } from './login';
import type { AccessTokenView, StepUpInput } from './schemas';
import { enrolledSecondFactors } from './second-factors';
import { reauthenticateSession } from './sessions';

/**
 * Re-proves the user inside an existing session. The password alone suffices only for users
 * without a second factor; otherwise step-up is as strong as their login.
 */
export async function stepUp(
  ctx: ServiceContext,
  principal: UserPrincipal,
  input: StepUpInput,
): Promise<AccessTokenView> {
  const user = await findUser(ctx, principal.id);
  if (user?.status !== 'ACTIVE')
    throw new ApiError('invalid_token', { detail: 'The account is not active.' });
  if (input.method === 'PASSWORD') {
    if ((await enrolledSecondFactors(ctx, user.id)).length > 0)
      throw new ApiError('step_up_method_not_allowed');
    await provePassword(ctx, user, input.password ?? '');
    return reauthenticateSession(ctx, user, principal.sessionId, ['pwd']);
  }
  const amr = await proveSecondFactor(ctx, user, input.method, input);
  return reauthenticateSession(ctx, user, principal.sessionId, [...amr, 'mfa']);
}
