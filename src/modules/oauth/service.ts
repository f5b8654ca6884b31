import type { Env } from '../../env';
import type { Permission } from '../../platform/auth/permissions';
import { ACCESS_TOKEN_TTL_SECONDS, issueAccessToken } from '../../platform/auth/tokens';
import { ApiError } from '../../platform/errors';
import type { AuthenticatedClient } from './clients';

function grantedScope(requested: string | undefined, allowed: Permission[]): Permission[] {
  if (!requested?.trim()) return allowed;
  const scopes = requested.trim().split(/\s+/);
  const refused = scopes.filter((scope) => !allowed.includes(scope as Permission));
  if (refused.length > 0) {
    throw new ApiError('invalid_scope', { detail: `The client may not be granted: ${refused.join(', ')}.` });
  }
  return scopes as Permission[];
}

export async function clientCredentialsGrant(
  env: Env,
  client: AuthenticatedClient,
  requestedScope: string | undefined,
  issuer: string,
  now = new Date(),
) {
  const scope = grantedScope(requestedScope, client.permissions).join(' ');
  const accessToken = await issueAccessToken(env, {
    issuer,
    now,
    claims: {
      sub: client.clientId,
      tid: client.tenant.id,
      scope,
      amr: ['client_secret'],
      auth_time: Math.floor(now.getTime() / 1000),
      ptype: 'client',
    },
  });
  return {
    access_token: accessToken,
    token_type: 'Bearer' as const,
    expires_in: ACCESS_TOKEN_TTL_SECONDS,
    scope,
  };
}
