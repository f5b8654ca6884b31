/**
 * The verification lifecycle as one pure state machine: every move of a verification — the
 * queue consumer starting it, a provider's outcome, the dead-letter queue, a reviewer's
 * decision or hit disposition, a re-submission — is an `VerificationEvent` applied here, and
 * the service writes what this returns. Nothing else decides a status, so the property test
 * over this function (test/unit/verification-lifecycle.test.ts) holds for the API too.
 */

export const verificationLevels = ['BASIC', 'STANDARD', 'ENHANCED'] as const;
export type VerificationLevel = (typeof verificationLevels)[number];

export const verificationStatuses = [
  'PENDING',
  'IN_PROGRESS',
  'APPROVED',
  'REJECTED',
  'ADDITIONAL_INFO_REQUIRED',
  'MANUAL_REVIEW',
] as const;
export type VerificationStatus = (typeof verificationStatuses)[number];

/** Statuses in which a verification is still open: one per customer and level. */
export const openStatuses: readonly VerificationStatus[] = ['PENDING', 'IN_PROGRESS', 'MANUAL_REVIEW'];

/** The only moves there are; anything else is 409 `invalid_transition`. */
export const verificationTransitions: Record<VerificationStatus, readonly VerificationStatus[]> = {
  PENDING: ['IN_PROGRESS', 'MANUAL_REVIEW'],
  IN_PROGRESS: ['APPROVED', 'REJECTED', 'ADDITIONAL_INFO_REQUIRED', 'MANUAL_REVIEW'],
  MANUAL_REVIEW: ['APPROVED', 'REJECTED', 'ADDITIONAL_INFO_REQUIRED'],
  ADDITIONAL_INFO_REQUIRED: ['PENDING'],
  APPROVED: [],
  REJECTED: [],
};

export const hitDispositions = ['OPEN', 'TRUE_POSITIVE', 'FALSE_POSITIVE'] as const;
export type HitDisposition = (typeof hitDispositions)[number];

/** What a provider concluded: Onfido's clear/consider, Sumsub's GREEN/RED with RETRY/FINAL. */
export type ProviderDecision = 'PASS' | 'FAIL' | 'REVIEW' | 'RESUBMIT';

export interface LifecycleState {
  status: VerificationStatus;
  /** Dispositions of the screening hits, by hit id. */
  hits: Readonly<Record<string, HitDisposition>>;
  /** Reviewers who approved, in order; the verification is APPROVED at `approvalsRequired`. */
  approvals: readonly string[];
  approvalsRequired: number;
  /** Whether the tenant lets a clean provider outcome approve without a reviewer. */
  autoApprove: boolean;
  /**
   * A re-screen of a customer already approved (ongoing monitoring): the relationship exists, so
   * what the provider fails goes to a reviewer to decide, never straight to REJECTED.
   */
  monitoring: boolean;
}

export type VerificationEvent =
  | { type: 'PROVIDER_STARTED' }
  | {
      type: 'PROVIDER_OUTCOME';
      decision: ProviderDecision;
      /** New hits with the disposition the provider or list gave them (an exact sanctions match is TRUE_POSITIVE). */
      hits: Readonly<Record<string, HitDisposition>>;
      /** A check asks for a person's judgement (PEP, a near match). */
      needsReview: boolean;
    }
  | { type: 'PROVIDER_FAILED' }
  | { type: 'HIT_DISPOSED'; hitId: string; disposition: Exclude<HitDisposition, 'OPEN'> }
  | { type: 'REVIEW_APPROVE'; reviewerId: string }
  | { type: 'REVIEW_REJECT'; reviewerId: string }
  | { type: 'REVIEW_REQUEST_INFO'; reviewerId: string }
  | { type: 'RESUBMITTED' };

export type LifecycleRefusal =
  | { code: 'invalid_transition'; from: VerificationStatus; to: VerificationStatus | null }
  | { code: 'hits_open'; openHits: string[] }
  | { code: 'already_approved_by_reviewer' }
  | { code: 'unknown_hit'; hitId: string };

export type LifecycleResult = { ok: true; state: LifecycleState } | { ok: false; refusal: LifecycleRefusal };

export function openHits(state: Pick<LifecycleState, 'hits'>): string[] {
  return Object.entries(state.hits)
    .filter(([, disposition]) => disposition === 'OPEN')
    .map(([id]) => id);
}

function moveTo(state: LifecycleState, to: VerificationStatus, changes: Partial<LifecycleState> = {}) {
  if (!verificationTransitions[state.status].includes(to)) {
    return { ok: false as const, refusal: { code: 'invalid_transition' as const, from: state.status, to } };
  }
  const next = { ...state, ...changes, status: to };
  // The invariant the whole machine exists for: nothing is approved past an undisposed hit.
  if (to === 'APPROVED' && openHits(next).length > 0) {
    return { ok: false as const, refusal: { code: 'hits_open' as const, openHits: openHits(next) } };
  }
  return { ok: true as const, state: next };
}

/** Where a provider's outcome takes a verification, before any reviewer. */
function outcomeStatus(
  state: LifecycleState,
  event: Extract<VerificationEvent, { type: 'PROVIDER_OUTCOME' }>,
) {
  const hits = { ...state.hits, ...event.hits };
  const anyOpen = Object.values(hits).includes('OPEN');
  switch (event.decision) {
    case 'FAIL':
      return state.monitoring ? 'MANUAL_REVIEW' : 'REJECTED';
    case 'RESUBMIT':
      return 'ADDITIONAL_INFO_REQUIRED';
    case 'REVIEW':
      return 'MANUAL_REVIEW';
    case 'PASS':
      return anyOpen || event.needsReview || !state.autoApprove ? 'MANUAL_REVIEW' : 'APPROVED';
  }
}

/** Reviewers act only on verifications waiting for them, whatever the table allows the provider. */
function notUnderReview(state: LifecycleState, to: VerificationStatus | null): LifecycleResult {
  return { ok: false, refusal: { code: 'invalid_transition', from: state.status, to } };
}

export function applyEvent(state: LifecycleState, event: VerificationEvent): LifecycleResult {
  switch (event.type) {
    case 'PROVIDER_STARTED':
      return moveTo(state, 'IN_PROGRESS');
    case 'PROVIDER_OUTCOME': {
      const hits = { ...state.hits, ...event.hits };
      return moveTo(state, outcomeStatus(state, event), { hits });
    }
    case 'PROVIDER_FAILED':
      return moveTo(state, 'MANUAL_REVIEW');
    case 'HIT_DISPOSED': {
      if (state.status !== 'MANUAL_REVIEW') return notUnderReview(state, null);
      if (!(event.hitId in state.hits))
        return { ok: false, refusal: { code: 'unknown_hit', hitId: event.hitId } };
      return { ok: true, state: { ...state, hits: { ...state.hits, [event.hitId]: event.disposition } } };
    }
    case 'REVIEW_APPROVE': {
      if (state.status !== 'MANUAL_REVIEW') return notUnderReview(state, 'APPROVED');
      if (state.approvals.includes(event.reviewerId)) {
        return { ok: false, refusal: { code: 'already_approved_by_reviewer' } };
      }
      const open = openHits(state);
      if (open.length > 0) return { ok: false, refusal: { code: 'hits_open', openHits: open } };
      const approvals = [...state.approvals, event.reviewerId];
      if (approvals.length < Math.max(1, state.approvalsRequired)) {
        return { ok: true, state: { ...state, approvals } };
      }
      return moveTo(state, 'APPROVED', { approvals });
    }
    case 'REVIEW_REJECT':
      return state.status === 'MANUAL_REVIEW' ? moveTo(state, 'REJECTED') : notUnderReview(state, 'REJECTED');
    case 'REVIEW_REQUEST_INFO':
      return state.status === 'MANUAL_REVIEW'
        ? moveTo(state, 'ADDITIONAL_INFO_REQUIRED')
        : notUnderReview(state, 'ADDITIONAL_INFO_REQUIRED');
    case 'RESUBMITTED':
      // A new attempt starts from nothing: earlier approvals and hits belong to the old attempt.
      return moveTo(state, 'PENDING', { approvals: [], hits: {} });
  }
}

/** Approvals a tenant requires per level (setting `verification.approvalsRequired`), four eyes by default on ENHANCED. */
export const defaultApprovalsRequired: Record<VerificationLevel, number> = {
  BASIC: 1,
  STANDARD: 1,
  ENHANCED: 2,
};

export function levelRank(level: VerificationLevel): number {
  return verificationLevels.indexOf(level);
}
