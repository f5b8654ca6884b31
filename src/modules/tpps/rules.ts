import type { Permission } from '../../platform/auth/permissions';
import { EXPIRY_WARNING_DAYS, type TppRole } from './certificates';

/*
 * The decision rules of the TPP section as data and pure functions: which scopes each PSD2 role
 * may ask a customer for, and the TPP and consent state machines. docs/api.md publishes these
 * tables, with the consent states' counterparts in UK Open Banking and the Berlin Group.
 */

/**
 * Customer self-service scopes a TPP may ask for, per PSD2 role. An AISP reads; a PISP also
 * manages payees (beneficiaries) to pay them; a CBPII confirms funds, for which the customer's
 * record is enough. Nothing here reaches a staff route: staff permissions are never delegable.
 */
export const scopesByRole: Record<TppRole, readonly Permission[]> = {
  AISP: ['customers:read', 'beneficiaries:read', 'documents:read'],
  PISP: ['customers:read', 'beneficiaries:read', 'beneficiaries:write'],
  CBPII: ['customers:read'],
};

/** Every scope the roles allow, sorted: what a TPP's OAuth clients may be granted. */
export function scopesOfRoles(roles: readonly TppRole[]): Permission[] {
  return [...new Set(roles.flatMap((role) => scopesByRole[role]))].sort();
}

export const tppStatuses = ['ACTIVE', 'SUSPENDED', 'REVOKED'] as const;
export type TppStatus = (typeof tppStatuses)[number];

/** `REVOKED` is final: its clients are revoked and its consents with them. */
export const tppTransitions: Record<TppStatus, readonly TppStatus[]> = {
  ACTIVE: ['SUSPENDED', 'REVOKED'],
  SUSPENDED: ['ACTIVE', 'REVOKED'],
  REVOKED: [],
};

export const consentStatuses = [
  'AWAITING_AUTHORISATION',
  'AUTHORISED',
  'REJECTED',
  'REVOKED',
  'EXPIRED',
] as const;
export type ConsentStatus = (typeof consentStatuses)[number];

export const consentRevokers = ['CUSTOMER', 'TPP', 'STAFF', 'SYSTEM'] as const;
export type ConsentRevoker = (typeof consentRevokers)[number];

/** Where each consent status may go; the statements that change a consent repeat this in SQL. */
export const consentTransitions: Record<ConsentStatus, readonly ConsentStatus[]> = {
  AWAITING_AUTHORISATION: ['AUTHORISED', 'REJECTED', 'REVOKED'],
  AUTHORISED: ['REVOKED', 'EXPIRED'],
  REJECTED: [],
  REVOKED: [],
  EXPIRED: [],
};

/** A consent lasts at most this long (the contract's 180 days). */
export const MAX_CONSENT_DAYS = 180;
/** The customer has this long to authorise or reject before the consent lapses to `REJECTED`. */
export const DEFAULT_AUTHORISATION_WINDOW_MINUTES = 15;

export type TokenBinding = 'BIND' | 'UNBOUND' | 'REFUSE';

/**
 * What /oauth/token does for a TPP's client (RFC 8705 §3): it binds the token to the client
 * certificate of the connection when that is one of the TPP's registered, currently valid
 * certificates. Without one it refuses where the tenant makes binding mandatory, else it issues
 * an unbound token (a certificate the TPP never registered binds nothing).
 */
export function tokenBinding(facts: {
  registeredCertificatePresented: boolean;
  required: boolean;
}): TokenBinding {
  if (facts.registeredCertificatePresented) return 'BIND';
  return facts.required ? 'REFUSE' : 'UNBOUND';
}

/** Days before a certificate's `notAfter` at which `tpp.certificate_expiring` goes out, once each. */
export const EXPIRY_NOTICE_DAYS = [EXPIRY_WARNING_DAYS, 7, 1] as const;

/**
 * How many expiry notices are due with `daysLeft` to go: those whose day has come. A certificate
 * registered with 5 days left is due two at once, and gets one notice, for the nearest.
 */
export function expiryNoticesDue(daysLeft: number): number {
  return EXPIRY_NOTICE_DAYS.filter((days) => daysLeft <= days).length;
}
