import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { type BindingCounts, emptyCounts } from '../../scripts/bench/protocol.ts';
import {
  countingInto,
  type DoCallsByBinding,
  instrumentEnv,
} from '../../scripts/lib/instrumented-bindings.ts';
import worker from '../../src/index';
import { BASE } from './http';

export interface Counted {
  status: number;
  body: Record<string, unknown>;
  /** Store operations up to the answer, as scripts/bench/budgets.ts counts them. */
  answered: BindingCounts;
  /** The Durable Object calls among those, per binding (`SESSIONS`, `RATE_LIMITER`). */
  doCallsByBinding: DoCallsByBinding;
}

/**
 * One request through the worker with counting bindings, as the bench entry serves it: for
 * tests of how many store operations a request makes (test/api/operation-budgets.test.ts).
 */
export async function counted(
  method: string,
  path: string,
  options: { ip: string; tenant?: string; token?: string; body?: unknown },
): Promise<Counted> {
  const headers = new Headers({ 'CF-Connecting-IP': options.ip });
  if (options.tenant) headers.set('X-Tenant-ID', options.tenant);
  if (options.token) headers.set('Authorization', `Bearer ${options.token}`);
  if (options.body !== undefined) headers.set('Content-Type', 'application/json');
  const request = new Request(`${BASE}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const ctx = createExecutionContext();
  const counts = emptyCounts();
  const byBinding: DoCallsByBinding = {};
  const response = await countingInto(
    counts,
    () => worker.fetch(request as Parameters<typeof worker.fetch>[0], instrumentEnv(env), ctx),
    byBinding,
  );
  const answered = { ...counts };
  const doCallsByBinding = { ...byBinding };
  const text = await response.text();
  await waitOnExecutionContext(ctx);
  return { status: response.status, body: text ? JSON.parse(text) : {}, answered, doCallsByBinding };
}
