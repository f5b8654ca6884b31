import { ApiError } from '../errors';
import type { Permission } from './permissions';

export type Principal =
  | {
      type: 'user';
      id: string;
      userKind: 'STAFF' | 'CUSTOMER';
      /** The customer a customer user acts for; null for staff. */
      customerId: string | null;
      sessionId: string;
      permissions: ReadonlySet<Permission>;
      amr: readonly string[];
      authTime: number;
      /** Set when a third party acts for the customer under its consent (an OAuth grant). */
      delegatedTo: string | null;
    }
  | {
      type: 'client';
      id: string;
      permissions: ReadonlySet<Permission>;
      /** `amr` and `auth_time` of the token: how and when the client authenticated at /oauth/token. */
      amr: readonly string[];
      authTime: number;
    }
  | { type: 'anonymous'; ip: string };

export const systemPrincipal: Principal = { type: 'anonymous', ip: 'system' };

/** Identifies the principal for rate limits and idempotency scopes. */
export function principalKey(principal: Principal): string {
  return principal.type === 'anonymous' ? `ip:${principal.ip}` : principal.id;
}

export function actorId(principal: Principal): string | null {
  return principal.type === 'anonymous' ? null : principal.id;
}

export function hasPermission(principal: Principal, permission: Permission): boolean {
  return principal.type !== 'anonymous' && principal.permissions.has(permission);
}

export type UserPrincipal = Extract<Principal, { type: 'user' }>;

/**
 * For operations on the caller's own login: its sessions, password, second factors, step-up.
 * API clients have no login; a third party acting for a customer uses the customer's, but must
 * never manage it (a passkey it enrolled would be a way in of its own).
 */
export function requireUserPrincipal(principal: Principal): UserPrincipal {
  if (principal.type !== 'user') throw new ApiError('user_session_required');
  if (principal.delegatedTo !== null) {
    throw new ApiError('user_session_required', {
      detail: 'A third party acting for the customer cannot act on the customer’s own login.',
    });
  }
  return principal;
}
