import { describe, expect, it } from 'vitest';
import type { Permission } from '../../src/platform/auth/permissions';
import { requireRecentAuth } from '../../src/platform/auth/recent-auth';
import { ApiError } from '../../src/platform/errors';

const now = new Date('2026-11-25T10:00:00Z');
const user = (authTime: number) =>
  ({
    type: 'user',
    id: 'usr_x',
    userKind: 'CUSTOMER',
    customerId: 'cus_x',
    sessionId: 'ses_x',
    permissions: new Set<Permission>(),
    amr: ['pwd'],
    authTime,
    delegatedTo: null,
  }) as const;

function codeOf(run: () => void): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof ApiError ? error.code : 'unexpected';
  }
}

describe('requireRecentAuth', () => {
  const seconds = now.getTime() / 1000;
  it('lets an authentication exactly max-age old through and refuses one a second older', () => {
    expect(codeOf(() => requireRecentAuth(user(seconds - 300), 300, now))).toBeUndefined();
    expect(codeOf(() => requireRecentAuth(user(seconds - 301), 300, now))).toBe('step_up_required');
  });

  it('refuses API clients and anonymous callers, which have no session to step up', () => {
    const client = {
      type: 'client',
      id: 'cli_x',
      permissions: new Set<Permission>(),
      amr: ['client_secret'],
      authTime: 0,
    } as const;
    expect(codeOf(() => requireRecentAuth(client, 300, now))).toBe('user_session_required');
    expect(codeOf(() => requireRecentAuth({ type: 'anonymous', ip: '1.2.3.4' }, 300, now))).toBe(
      'user_session_required',
    );
  });
});
