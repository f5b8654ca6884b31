import type { Permission } from '../../platform/auth/permissions';
import { hasPermission, type Principal } from '../../platform/auth/principal';
import type { EventType } from '../../platform/events';
import type { AuditEventView } from '../audit-events/schemas';

/**
 * Records the bank keeps on a customer that the customer must never see: telling someone of a
 * legal hold can tip off the subject of an investigation, an offence under AML law in several
 * jurisdictions. Each entry is an event type and the audit action of the same name, with the
 * permission that reads the record on its own route: an export shows it only to a requester
 * holding that permission, and the data subject (its logins, an organization's employees) holds
 * none. A new internal record is one line here.
 */
export const internalRecords = {
  'customer.legal_hold_placed': 'customers:hold',
  'customer.legal_hold_released': 'customers:hold',
} as const satisfies Partial<Record<EventType, Permission>>;

/** Staff users and API clients act for the bank; customers' logins and anonymous callers do not. */
export function actsForTheBank(actor: Principal): boolean {
  return actor.type === 'client' || (actor.type === 'user' && actor.userKind === 'STAFF');
}

/** What one requester is shown of a customer's records. */
export interface Disclosure {
  /** Event types and audit actions left out. */
  withheld: string[];
  /**
   * Whether actions of staff and API clients name who acted and from where. The data subject
   * sees them by `actorType` alone: a staff member's id and IP are the staff member's data.
   */
  namesTheBanksActors: boolean;
  /**
   * Whether what reviewers wrote for the bank's file shows: a verification's review reason,
   * hit notes, the reasons of decisions. The data subject sees the outcome and the reasons
   * given to it; a reviewer's assessment of a screening match is withheld from it, as AML
   * law's tipping-off rules and the crime-prevention restrictions of GDPR Art. 23 allow.
   */
  showsReviewNotes: boolean;
}

export function disclosureTo(requester: Principal): Disclosure {
  const bank = actsForTheBank(requester);
  return {
    withheld: Object.entries(internalRecords)
      .filter(([, permission]) => !bank || !hasPermission(requester, permission))
      .map(([type]) => type),
    namesTheBanksActors: bank,
    showsReviewNotes: bank,
  };
}

/** An audit entry as the requester may see it; `ownLogins` are the customer's logins, named to it. */
export function disclosedAuditEvent(
  disclosure: Disclosure,
  ownLogins: ReadonlySet<string>,
  entry: AuditEventView,
): AuditEventView {
  const byTheBank = entry.actorType === 'client' || (entry.actorId !== null && !ownLogins.has(entry.actorId));
  if (disclosure.namesTheBanksActors || !byTheBank) return entry;
  return { ...entry, actorId: null, ip: null };
}
