import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyEvent,
  type LifecycleState,
  openHits,
  type VerificationEvent,
  verificationStatuses,
  verificationTransitions,
} from '../../src/modules/verifications/lifecycle';

function state(overrides: Partial<LifecycleState> = {}): LifecycleState {
  return {
    status: 'PENDING',
    hits: {},
    approvals: [],
    approvalsRequired: 1,
    autoApprove: true,
    monitoring: false,
    ...overrides,
  };
}

function run(start: LifecycleState, events: VerificationEvent[]) {
  let current = start;
  for (const event of events) {
    const result = applyEvent(current, event);
    if (!result.ok) return { state: current, refusal: result.refusal };
    current = result.state;
  }
  return { state: current, refusal: null };
}

const clean = { type: 'PROVIDER_OUTCOME', decision: 'PASS', hits: {}, needsReview: false } as const;

describe('the verification lifecycle', () => {
  it('auto-approves a clean outcome and sends a review-worthy one to MANUAL_REVIEW', () => {
    expect(run(state(), [{ type: 'PROVIDER_STARTED' }, clean]).state.status).toBe('APPROVED');
    expect(run(state(), [{ type: 'PROVIDER_STARTED' }, { ...clean, needsReview: true }]).state.status).toBe(
      'MANUAL_REVIEW',
    );
    expect(run(state({ autoApprove: false }), [{ type: 'PROVIDER_STARTED' }, clean]).state.status).toBe(
      'MANUAL_REVIEW',
    );
    expect(
      run(state(), [{ type: 'PROVIDER_STARTED' }, { ...clean, hits: { hit_1: 'OPEN' } }]).state.status,
    ).toBe('MANUAL_REVIEW');
  });

  it('sends what the provider fails in a monitoring re-screen to a reviewer, not to REJECTED', () => {
    const failed = { ...clean, decision: 'FAIL', hits: { hit_1: 'TRUE_POSITIVE' } } as const;
    expect(run(state(), [{ type: 'PROVIDER_STARTED' }, failed]).state.status).toBe('REJECTED');
    const review = run(state({ monitoring: true }), [{ type: 'PROVIDER_STARTED' }, failed]).state;
    expect(review.status).toBe('MANUAL_REVIEW');
    expect(run(review, [{ type: 'REVIEW_REJECT', reviewerId: 'usr_reviewer' }]).state.status).toBe(
      'REJECTED',
    );
  });

  it('maps FAIL, RESUBMIT and a dead letter', () => {
    const started = [{ type: 'PROVIDER_STARTED' } as const];
    expect(run(state(), [...started, { ...clean, decision: 'FAIL' }]).state.status).toBe('REJECTED');
    expect(run(state(), [...started, { ...clean, decision: 'RESUBMIT' }]).state.status).toBe(
      'ADDITIONAL_INFO_REQUIRED',
    );
    expect(run(state(), [{ type: 'PROVIDER_FAILED' }]).state.status).toBe('MANUAL_REVIEW');
  });

  it('refuses what the table does not allow, naming from and to', () => {
    expect(applyEvent(state({ status: 'APPROVED' }), { type: 'PROVIDER_STARTED' })).toEqual({
      ok: false,
      refusal: { code: 'invalid_transition', from: 'APPROVED', to: 'IN_PROGRESS' },
    });
    expect(
      applyEvent(state({ status: 'IN_PROGRESS' }), { type: 'REVIEW_APPROVE', reviewerId: 'usr_1' }),
    ).toMatchObject({
      ok: false,
      refusal: { code: 'invalid_transition', from: 'IN_PROGRESS' },
    });
  });

  it('approval needs every hit disposed and N distinct reviewers; one rejection ends it', () => {
    const review = state({ status: 'MANUAL_REVIEW', hits: { hit_1: 'OPEN' }, approvalsRequired: 2 });
    expect(applyEvent(review, { type: 'REVIEW_APPROVE', reviewerId: 'usr_1' })).toEqual({
      ok: false,
      refusal: { code: 'hits_open', openHits: ['hit_1'] },
    });
    const disposed = run(review, [
      { type: 'HIT_DISPOSED', hitId: 'hit_1', disposition: 'FALSE_POSITIVE' },
      { type: 'REVIEW_APPROVE', reviewerId: 'usr_1' },
    ]);
    expect(disposed.state).toMatchObject({ status: 'MANUAL_REVIEW', approvals: ['usr_1'] });
    expect(applyEvent(disposed.state, { type: 'REVIEW_APPROVE', reviewerId: 'usr_1' })).toEqual({
      ok: false,
      refusal: { code: 'already_approved_by_reviewer' },
    });
    expect(run(disposed.state, [{ type: 'REVIEW_APPROVE', reviewerId: 'usr_2' }]).state.status).toBe(
      'APPROVED',
    );
    expect(run(disposed.state, [{ type: 'REVIEW_REJECT', reviewerId: 'usr_2' }]).state.status).toBe(
      'REJECTED',
    );
    expect(
      applyEvent(review, { type: 'HIT_DISPOSED', hitId: 'hit_9', disposition: 'TRUE_POSITIVE' }),
    ).toEqual({
      ok: false,
      refusal: { code: 'unknown_hit', hitId: 'hit_9' },
    });
  });

  it('a re-submission of ADDITIONAL_INFO_REQUIRED starts a fresh attempt', () => {
    const result = run(state({ status: 'MANUAL_REVIEW', approvals: ['usr_1'], approvalsRequired: 2 }), [
      { type: 'REVIEW_REQUEST_INFO', reviewerId: 'usr_2' },
      { type: 'RESUBMITTED' },
    ]);
    expect(result.state).toMatchObject({ status: 'PENDING', approvals: [], hits: {} });
  });

  it('every status in the table is a status, and the terminal ones lead nowhere', () => {
    for (const [from, targets] of Object.entries(verificationTransitions)) {
      expect(verificationStatuses).toContain(from);
      for (const to of targets) expect(verificationStatuses).toContain(to);
    }
    expect(verificationTransitions.APPROVED).toEqual([]);
    expect(verificationTransitions.REJECTED).toEqual([]);
  });
});

describe('property: no sequence of events reaches APPROVED with an OPEN hit', () => {
  const hitId = fc.constantFrom('hit_1', 'hit_2', 'hit_3');
  const reviewer = fc.constantFrom('usr_1', 'usr_2', 'usr_3');
  const disposition = fc.constantFrom('OPEN', 'TRUE_POSITIVE', 'FALSE_POSITIVE');
  const eventArbitrary: fc.Arbitrary<VerificationEvent> = fc.oneof(
    fc.constant({ type: 'PROVIDER_STARTED' as const }),
    fc.record({
      type: fc.constant('PROVIDER_OUTCOME' as const),
      decision: fc.constantFrom('PASS', 'FAIL', 'REVIEW', 'RESUBMIT'),
      hits: fc.dictionary(hitId, disposition, { maxKeys: 3 }),
      needsReview: fc.boolean(),
    }),
    fc.constant({ type: 'PROVIDER_FAILED' as const }),
    fc.record({
      type: fc.constant('HIT_DISPOSED' as const),
      hitId,
      disposition: fc.constantFrom('TRUE_POSITIVE', 'FALSE_POSITIVE'),
    }),
    fc.record({ type: fc.constant('REVIEW_APPROVE' as const), reviewerId: reviewer }),
    fc.record({ type: fc.constant('REVIEW_REJECT' as const), reviewerId: reviewer }),
    fc.record({ type: fc.constant('REVIEW_REQUEST_INFO' as const), reviewerId: reviewer }),
    fc.constant({ type: 'RESUBMITTED' as const }),
  );

  it('holds for every start state and event sequence, and every move is in the table', () => {
    fc.assert(
      fc.property(
        fc.record({
          approvalsRequired: fc.integer({ min: 1, max: 3 }),
          autoApprove: fc.boolean(),
          monitoring: fc.boolean(),
        }),
        fc.array(eventArbitrary, { maxLength: 30 }),
        (policy, events) => {
          let current = state(policy);
          for (const event of events) {
            const result = applyEvent(current, event);
            if (!result.ok) continue;
            if (result.state.status !== current.status) {
              expect(verificationTransitions[current.status]).toContain(result.state.status);
            }
            current = result.state;
            if (current.status === 'APPROVED') expect(openHits(current)).toEqual([]);
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
