import { ApiError } from '../errors';
import { type Principal, requireUserPrincipal } from './principal';

/**
 * The step-up window of docs/api.md (Authentication): changing the password, adding or removing a
 * second factor, the GDPR export and erasure (and, once built, beneficiaries and TPP consents) need
 * a login or step-up this recent.
 */
export const STEP_UP_MAX_AGE_SECONDS = 300;

/**
 * Whether a request carries the proof `requireRecentAuth` demands, for operations that do
 * something lesser without it (a beneficiary added without it waits for confirmation): a user's
 * own session (not a third party's, not an API client) whose `auth_time` is at most
 * `maxAgeSeconds` old. `amr` is not consulted: step-up already demands the strongest factor the
 * user has enrolled, so its `auth_time` is as strong as the user's login can be.
 */
export function recentlyAuthenticated(principal: Principal, maxAgeSeconds: number, now: Date): boolean {
  return (
    principal.type === 'user' &&
    principal.delegatedTo === null &&
    Math.floor(now.getTime() / 1000) - principal.authTime <= maxAgeSeconds
  );
}

/**
 * Sensitive operations need proof that the person is still at the keyboard, not only a valid
 * token: the token's `auth_time` must be recent, else the client steps up and retries.
 */
export function requireRecentAuth(principal: Principal, maxAgeSeconds: number, now: Date): void {
  const user = requireUserPrincipal(principal);
  const ageSeconds = Math.floor(now.getTime() / 1000) - user.authTime;
  if (ageSeconds > maxAgeSeconds) {
    throw new ApiError('step_up_required', {
      detail: `This operation needs an authentication at most ${maxAgeSeconds} s old; the last one was ${ageSeconds} s ago.`,
      extensions: { maxAgeSeconds },
    });
  }
}
