import { describe, expect, it } from 'vitest';
import type { AuditEventView } from '../../src/modules/audit-events/schemas';
import { disclosedAuditEvent, disclosureTo, internalRecords } from '../../src/modules/export/disclosure';
import type { Permission } from '../../src/platform/auth/permissions';
import type { Principal } from '../../src/platform/auth/principal';

const holds = Object.keys(internalRecords);

function user(userKind: 'STAFF' | 'CUSTOMER', permissions: Permission[]): Principal {
  return {
    type: 'user',
    id: 'usr_x',
    userKind,
    customerId: userKind === 'CUSTOMER' ? 'cus_x' : null,
    sessionId: 'ses_x',
    permissions: new Set(permissions),
    amr: ['pwd'],
    authTime: 0,
    delegatedTo: null,
  };
}

function entry(actorType: AuditEventView['actorType'], actorId: string | null): AuditEventView {
  return {
    id: 'aud_x',
    actorType,
    actorId,
    action: 'customer.updated',
    targetType: 'customer',
    targetId: 'cus_x',
    requestId: 'req_x',
    ip: '198.51.100.23',
    data: {},
    createdAt: '2026-11-25T10:00:00.000Z',
  };
}

describe('disclosureTo', () => {
  it('withholds internal records and review notes from a customer whatever permissions it carries', () => {
    expect(disclosureTo(user('CUSTOMER', ['customers:read', 'customers:hold', 'kyc:review']))).toEqual({
      withheld: holds,
      namesTheBanksActors: false,
      showsReviewNotes: false,
    });
  });

  it('shows staff and API clients a record only with the permission that reads it', () => {
    expect(disclosureTo(user('STAFF', ['customers:read'])).withheld).toEqual(holds);
    expect(disclosureTo(user('STAFF', ['customers:read', 'customers:hold'])).withheld).toEqual([]);
    const client: Principal = {
      type: 'client',
      id: 'cli_x',
      permissions: new Set<Permission>(['customers:read', 'customers:hold']),
      amr: [],
      authTime: 0,
    };
    expect(disclosureTo(client)).toEqual({ withheld: [], namesTheBanksActors: true, showsReviewNotes: true });
  });
});

describe('disclosedAuditEvent', () => {
  const own = new Set(['usr_own']);
  const subject = disclosureTo(user('CUSTOMER', []));

  it('shows the subject staff and client actions by actor type alone', () => {
    for (const row of [entry('user', 'usr_staff'), entry('client', 'cli_x')]) {
      expect(disclosedAuditEvent(subject, own, row)).toEqual({ ...row, actorId: null, ip: null });
    }
  });

  it("keeps the subject's own and anonymous actions, and everything for staff", () => {
    for (const row of [entry('user', 'usr_own'), entry('anonymous', null)]) {
      expect(disclosedAuditEvent(subject, own, row)).toEqual(row);
    }
    const staff = disclosureTo(user('STAFF', ['customers:read']));
    expect(disclosedAuditEvent(staff, own, entry('user', 'usr_staff'))).toEqual(entry('user', 'usr_staff'));
  });
});
