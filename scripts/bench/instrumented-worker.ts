/*
 * Bench-only entry module: the real worker, with its bindings wrapped in counting proxies.
 * `npm run bench` bundles this file instead of src/index.ts; production code is unchanged and
 * never sees the proxies except through `env`.
 *
 * Calls are attributed to the request that made them through AsyncLocalStorage, so work a request
 * leaves to `waitUntil` is counted against it too, and `env` keeps one identity across requests
 * (the worker caches per-env configuration).
 */
import { and, eq } from 'drizzle-orm';
import { customers } from '../../src/db/tenant';
import worker from '../../src/index';
import { isRevoked } from '../../src/platform/auth/authenticate';
import { hashPassword, verifyPassword } from '../../src/platform/auth/passwords';
import { issueAccessToken } from '../../src/platform/auth/tokens';
import { newId } from '../../src/platform/ids';
import { issuerFor } from '../../src/platform/pipeline';
import { consumeRateLimits } from '../../src/platform/rate-limit/limiter';
import { rateLimitPolicies } from '../../src/platform/rate-limit/policies';
import { requireActiveTenant, tenantDatabase } from '../../src/platform/tenancy';
import { countingInto, instrumentEnv } from '../lib/instrumented-bindings.ts';
import {
  type BindingCounts,
  benchRoutes,
  type CountsReport,
  emptyCounts,
  SCENARIO_HEADER,
} from './protocol.ts';

export { RateLimiterDurableObject, SessionDurableObject } from '../../src/index';

type Env = Cloudflare.Env;

const countsByScenario = new Map<string, BindingCounts>();
const answeredByScenario = new Map<string, BindingCounts>();
let pendingWaitUntil = 0;

/**
 * Collects the promises the worker hands to waitUntil, while passing them on. A class rather than
 * a Proxy of `ctx` or an object of closures: made for every measured request, it is the bench's
 * cost, and its methods then cost nothing to create.
 */
class WaitUntilCollector {
  constructor(
    private readonly ctx: ExecutionContext,
    private readonly promises: Promise<unknown>[],
  ) {}

  waitUntil(promise: Promise<unknown>): void {
    this.promises.push(promise);
    this.ctx.waitUntil(promise);
  }

  passThroughOnException(): void {
    this.ctx.passThroughOnException();
  }

  get props(): unknown {
    return this.ctx.props;
  }
}

/** Also waits for work that waitUntil work itself hands to waitUntil. */
async function allSettled(promises: Promise<unknown>[]): Promise<void> {
  for (let settled = 0; settled < promises.length; ) {
    const batch = promises.slice(settled);
    settled = promises.length;
    await Promise.allSettled(batch);
  }
}

const COUNTERS = Object.keys(emptyCounts()) as (keyof BindingCounts)[];

function addTo(totals: Map<string, BindingCounts>, scenario: string, counts: BindingCounts): void {
  let total = totals.get(scenario);
  if (!total) {
    total = emptyCounts();
    totals.set(scenario, total);
  }
  for (const key of COUNTERS) total[key] += counts[key];
}

/**
 * A request's calls are added to its scenario once it has answered and its waitUntil work is
 * done. A request cancelled on the way (the load generator closes its connections at the end of a
 * phase) never answers and is left out, so every counted call belongs to a counted request.
 */
function countedFetch(
  request: Request,
  env: Env,
  ctx: ExecutionContext,
  handler: NonNullable<ExportedHandler<Env>['fetch']>,
): Response | Promise<Response> {
  const scenario = request.headers.get(SCENARIO_HEADER) ?? 'unlabelled';
  const counts = emptyCounts();
  counts.requests = 1;
  const background: Promise<unknown>[] = [];
  const collector = new WaitUntilCollector(ctx, background) as unknown as ExecutionContext;
  const answer = countingInto(counts, () =>
    handler(request as Parameters<typeof handler>[0], instrumentEnv(env), collector),
  );
  // A worker that answers at once is counted at once: awaiting it would add the bench's promise.
  return answer instanceof Promise
    ? answer.then((response) => counted(scenario, counts, background, ctx, response))
    : counted(scenario, counts, background, ctx, answer);
}

function counted(
  scenario: string,
  counts: BindingCounts,
  background: Promise<unknown>[],
  ctx: ExecutionContext,
  response: Response,
): Response {
  // Most requests leave nothing behind: counting them at once spares the measured worker a
  // waitUntil of its own per request (the bench's cost, not the API's).
  if (background.length === 0) {
    addTo(countsByScenario, scenario, counts);
    addTo(answeredByScenario, scenario, counts);
    return response;
  }
  const answered = { ...counts };
  pendingWaitUntil += 1;
  ctx.waitUntil(
    allSettled(background).then(() => {
      addTo(countsByScenario, scenario, counts);
      addTo(answeredByScenario, scenario, answered);
      pendingWaitUntil -= 1;
    }),
  );
  return response;
}

const BENCH_PREFIX = '/__bench/';

const BENCH_PASSWORD = 'bench-password-verify-only';
let benchPasswordHash: Promise<string> | undefined;

async function passwordVerify(): Promise<Response> {
  benchPasswordHash ??= hashPassword(BENCH_PASSWORD);
  const { valid } = await verifyPassword(BENCH_PASSWORD, await benchPasswordHash);
  return valid ? new Response(null, { status: 204 }) : new Response('verification failed', { status: 500 });
}

/**
 * The binding calls of an authenticated read (`GET /customers/{customerId}`) made through the same
 * functions and nothing else: the revocation check (KV, remembered in the isolate), the rate
 * limit (its object, leased to the isolate), the D1 read. Locally
 * the bindings are simulated in this workerd, so this is what they cost here.
 */
async function readBindings(request: Request, env: Env): Promise<Response> {
  const query = new URL(request.url).searchParams;
  const [tenantId, customerId, principal] = ['tenant', 'customer', 'principal'].map(
    (name) => query.get(name) ?? '',
  ) as [string, string, string];
  const tenant = await requireActiveTenant(env, tenantId);
  await isRevoked(env, tenantId, [principal, 'jti_bench']);
  const key = `bench:${tenantId}:${principal}`;
  await consumeRateLimits(env, [
    {
      name: 'bench',
      key,
      object: key,
      policy: { capacity: tenant.rateLimitPerMinute, windowSeconds: 60 },
      lease: rateLimitPolicies.tenant.lease,
    },
  ]);
  const row = await tenantDatabase(env, tenant)
    .select()
    .from(customers)
    .where(and(eq(customers.tenantId, tenantId), eq(customers.id, customerId)))
    .get();
  return row ? Response.json(row) : new Response(null, { status: 404 });
}

interface TokenRequest {
  tenantId: string;
  userId: string;
  permissions: string[];
}

/** Long enough for any run, whatever `--duration`: production tokens live ten minutes. */
const BENCH_TOKEN_TTL_SECONDS = 24 * 60 * 60;

/** The claims test/helpers/factories.ts `mintToken` gives a staff user. */
async function mintStaffToken(request: Request, env: Env): Promise<Response> {
  const { tenantId, userId, permissions } = (await request.json()) as TokenRequest;
  const now = new Date();
  const token = await issueAccessToken(env, {
    issuer: issuerFor(env, request.url),
    now,
    ttlSeconds: BENCH_TOKEN_TTL_SECONDS,
    claims: {
      sub: userId,
      tid: tenantId,
      ptype: 'staff',
      scope: permissions.join(' '),
      amr: ['pwd'],
      auth_time: Math.floor(now.getTime() / 1000),
      sid: newId('session'),
    },
  });
  return Response.json({ token });
}

function countsReport(): Response {
  const report: CountsReport = {
    scenarios: Object.fromEntries(countsByScenario),
    answered: Object.fromEntries(answeredByScenario),
    pendingWaitUntil,
  };
  return Response.json(report);
}

export default {
  // Not async: a promise around every answer would be the bench's cost too.
  fetch(request, env, ctx) {
    // Parsing every request's URL would be the bench's cost on every measured request.
    if (!request.url.includes(BENCH_PREFIX)) return countedFetch(request, env, ctx, worker.fetch);
    switch (new URL(request.url).pathname) {
      case benchRoutes.counts:
        return countsReport();
      case benchRoutes.token:
        return mintStaffToken(request, env);
      case benchRoutes.passwordVerify:
        return countedFetch(request, env, ctx, passwordVerify);
      case benchRoutes.readBindings:
        return countedFetch(request, env, ctx, readBindings);
      default:
        return countedFetch(request, env, ctx, worker.fetch);
    }
  },
} satisfies ExportedHandler<Env>;
