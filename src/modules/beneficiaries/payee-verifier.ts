import type { Network } from './account-rules';

export const payeeStatuses = ['MATCH', 'CLOSE_MATCH', 'NO_MATCH', 'NOT_POSSIBLE', 'NOT_CHECKED'] as const;
export type PayeeStatus = (typeof payeeStatuses)[number];

/** Verification of Payee (EU Instant Payments Regulation, SEPA) and Confirmation of Payee (UK, FPS). */
export const payeeSchemes = ['VOP', 'COP'] as const;
export type PayeeScheme = (typeof payeeSchemes)[number];

export interface PayeeQuery {
  beneficiaryId: string;
  network: Network;
  name: string;
  type: 'INDIVIDUAL' | 'BUSINESS';
  account: { iban?: string; sortCode?: string; accountNumber?: string };
}

export interface PayeeResult {
  status: PayeeStatus;
  /** For CLOSE_MATCH: the holder's name as the bank knows it. Personal data: sealed when stored. */
  suggestedName: string | null;
  scheme: PayeeScheme | null;
  provider: string | null;
  reference: string | null;
}

/**
 * Asks the payee's bank whether the name fits the account. A provider (a VoP/CoP service) plugs
 * in here; the result informs the customer and never blocks the beneficiary.
 */
export interface PayeeVerifier {
  verify(query: PayeeQuery): Promise<PayeeResult>;
}

/** The scheme a network's payees are checked under; SWIFT and ACH have none. */
export function payeeSchemeOf(network: Network): PayeeScheme | null {
  return network === 'SEPA' ? 'VOP' : network === 'FPS' ? 'COP' : null;
}

export const notChecked: PayeeResult = {
  status: 'NOT_CHECKED',
  suggestedName: null,
  scheme: null,
  provider: null,
  reference: null,
};

function words(name: string): string[] {
  return name
    .normalize('NFKC')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 0);
}

/**
 * The sandbox verifier: deterministic, by words of the name (case-insensitive), first rule that
 * applies (docs/api.md, Beneficiaries):
 * - a network without a scheme (SWIFT, ACH): `NOT_CHECKED`;
 * - the word `unknown`: `NOT_POSSIBLE` (the payee's bank does not answer);
 * - the word `mismatch`: `NO_MATCH`;
 * - the word `close`: `CLOSE_MATCH`, the suggested name being the name without that word;
 * - anything else: `MATCH`.
 */
export const sandboxPayeeVerifier: PayeeVerifier = {
  async verify(query) {
    const scheme = payeeSchemeOf(query.network);
    if (scheme === null) return notChecked;
    const given = words(query.name);
    const answer = { scheme, provider: 'sandbox', reference: `sandbox:${query.beneficiaryId}` };
    if (given.includes('unknown')) return { ...answer, status: 'NOT_POSSIBLE', suggestedName: null };
    if (given.includes('mismatch')) return { ...answer, status: 'NO_MATCH', suggestedName: null };
    if (given.includes('close')) {
      const suggestedName = query.name
        .split(/\s+/)
        .filter((word) => word.toLowerCase() !== 'close')
        .join(' ');
      return { ...answer, status: 'CLOSE_MATCH', suggestedName };
    }
    return { ...answer, status: 'MATCH', suggestedName: null };
  },
};

/** Statuses after which confirming needs `acknowledgePayeeWarning: true`. */
export function needsAcknowledgement(status: PayeeStatus): boolean {
  return status === 'NO_MATCH' || status === 'CLOSE_MATCH';
}
