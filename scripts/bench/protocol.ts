/*
 * What the bench runner (Node) and the instrumented worker entry (workerd) agree on. No imports:
 * both sides load this file, one through Node's type stripping, the other through the bundler.
 */

/** `BASE_PATH` of src/app.ts, which Node cannot import (its imports are extensionless). */
export const BASE_PATH = '/v2/customer';

/** Requests carrying this header are counted under its value; the worker never reads it. */
export const SCENARIO_HEADER = 'X-Bench-Scenario';

/** Routes only the instrumented entry serves, outside the API's base path. */
export const benchRoutes = {
  /** GET: the binding counts of every scenario so far, and the waitUntil work still running. */
  counts: '/__bench/counts',
  /** POST {tenantId, userId, permissions}: an access token, issued as the tests' `mintToken` does. */
  token: '/__bench/token',
  /** POST: one password verification (PBKDF2) and nothing else, to compare login against. */
  passwordVerify: '/__bench/password-verify',
  /** GET ?tenant&customer&principal: only the binding calls of `GET /customers/{customerId}`. */
  readBindings: '/__bench/read-bindings',
} as const;

/** Binding calls made while serving one scenario's requests, waitUntil work included. */
export interface BindingCounts {
  requests: number;
  /** D1 round trips: a statement run on its own, a batch or an exec is one each. */
  d1Queries: number;
  /** SQL statements inside those round trips (a batch of five counts five). */
  d1Statements: number;
  /** Method calls (RPC or fetch) on Durable Object stubs. */
  doCalls: number;
  kvReads: number;
  kvWrites: number;
  queueSends: number;
}

export interface CountsReport {
  scenarios: Record<string, BindingCounts>;
  /** The same, counted up to each answer only: waitUntil work left out. */
  answered?: Record<string, BindingCounts>;
  /** waitUntil promises not settled yet: counts are final only when this is 0. */
  pendingWaitUntil: number;
}

export function emptyCounts(): BindingCounts {
  return { requests: 0, d1Queries: 0, d1Statements: 0, doCalls: 0, kvReads: 0, kvWrites: 0, queueSends: 0 };
}
