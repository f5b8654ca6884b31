/*
 * The store operations a request may make, per route, until its answer (what is left to
 * `waitUntil` and still running then is not counted). Counts, not
 * times: `npm test` asserts them with the instrumented bindings in steady state
 * (test/api/operation-budgets.test.ts), and `npm run bench` prints them as PASS/FAIL per request
 * over a whole run, where leases, remembered revocation marks and identities are renewed now and then
 * (`RENEWALS_PER_REQUEST`). No imports: Node and workerd both load this file.
 */
export interface OperationBudget {
  d1Queries: number;
  doCalls: number;
  kvReads: number;
}

export const operationBudgets = {
  /** Tenant-less: its per-IP bucket is leased to the isolate. */
  'GET /health': { d1Queries: 0, doCalls: 0, kvReads: 0 },
  /**
   * The caller's name, email and roles are remembered by the isolate for 30 s (one D1 batch
   * otherwise, src/modules/access/service.ts); the token's marks and bucket are in the isolate.
   */
  'GET /me': { d1Queries: 0, doCalls: 0, kvReads: 0 },
  'GET /customers/{customerId}': { d1Queries: 1, doCalls: 0, kvReads: 0 },
  /**
   * Two round trips: the reservation, which reads the user, its factors and roles, and the
   * session's batch, which writes the session.created event already handed over: the handover
   * after it (src/platform/unit-of-work.ts) is a queue send with no D1 write. No session object call: the worker mints the first refresh token, the
   * session's object starts on the first refresh. At most one call to the rate limiter, for the
   * address's buckets in one object, when the isolate holds no lease of them: the bench's 512
   * login addresses each come back after their 10 s quota lease ended; a returning address within
   * it makes none (test/api/operation-budgets.test.ts asserts that too).
   */
  'POST /auth/login': { d1Queries: 2, doCalls: 1, kvReads: 0 },
  /** The session, user and roles in one batch; the rotation in the session's object. */
  'POST /auth/refresh': { d1Queries: 1, doCalls: 1, kvReads: 0 },
  /**
   * The customer with its key; the insert's batch; the payee check's answer, stored in a batch of
   * its own after the insert so a failing verifier never blocks it. The outbox's handover is a
   * queue send.
   */
  'POST /customers/{customerId}/beneficiaries': { d1Queries: 3, doCalls: 0, kvReads: 0 },
  /**
   * Five round trips the answer waits for: the customer with its key; its consents, documents and
   * earlier verifications (in parallel); the batch. A new verification has no checks, hits or
   * decisions to read for its view. The other two are the job's handover left to waitUntil: its
   * read and mark around its queue send (the outbox's handover is a queue send alone). All seven,
   * as they may end before the answer.
   */
  'POST /customers/{customerId}/verifications': { d1Queries: 7, doCalls: 0, kvReads: 0 },
} as const satisfies Record<string, OperationBudget>;

/**
 * Over a run, a bucket's lease is renewed every few hundred requests of one caller and a token's
 * marks and `/me`'s identity are read again every 30 s: what a steady-state count lacks, per
 * request, at most.
 */
export const RENEWALS_PER_REQUEST = 0.05;
