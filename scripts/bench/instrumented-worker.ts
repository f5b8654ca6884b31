/*
 * Bench-only entry module: the real worker, with its bindings wrapped in counting proxies.
 * `npm run bench` bundles this file instead of src/index.ts; production code is unchanged and
 * never sees the proxies except through `env`.
 *
 * Calls are attributed to the request that made them through AsyncLocalStorage, so work a request
 * leaves to `waitUntil` is counted against it too, and `env` keeps one identity across requests
 * (the worker caches per-env configuration).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { and, eq } from 'drizzle-orm';
import { customers } from '../../src/db/tenant';
import worker from '../../src/index';
import { isRevoked } from '../../src/platform/auth/authenticate';
import { hashPassword, verifyPassword } from '../../src/platform/auth/passwords';
import { issueAccessToken } from '../../src/platform/auth/tokens';
import { newId } from '../../src/platform/ids';
import { issuerFor } from '../../src/platform/pipeline';
import { consumeRateLimit } from '../../src/platform/rate-limit/limiter';
import { requireActiveTenant, tenantDatabase } from '../../src/platform/tenancy';
import {
  type BindingCounts,
  benchRoutes,
  type CountsReport,
  emptyCounts,
  SCENARIO_HEADER,
} from './protocol.ts';

export { RateLimiterDurableObject, SessionDurableObject } from '../../src/index';

type Env = Cloudflare.Env;
type Counter = Exclude<keyof BindingCounts, 'requests'>;

const currentCounts = new AsyncLocalStorage<BindingCounts>();
const countsByScenario = new Map<string, BindingCounts>();
let pendingWaitUntil = 0;

function count(counter: Counter, amount = 1): void {
  const counts = currentCounts.getStore();
  if (counts) counts[counter] += amount;
}

/** Property access on a wrapped binding: `wrap` decides per name, anything else is the target's own. */
function proxy<T extends object>(target: T, wrap: (name: string) => unknown): T {
  return new Proxy(target, {
    get(object, property) {
      const wrapped = typeof property === 'string' ? wrap(property) : undefined;
      if (wrapped !== undefined) return wrapped;
      const value = Reflect.get(object, property, object);
      // Runtime bindings check `this`: their methods must run on the real object, not the proxy.
      return typeof value === 'function' ? value.bind(object) : value;
    },
  });
}

/**
 * Prepared statements are wrapped so running one counts; a batch is given back the real
 * statements, which is what the runtime's D1 binding accepts.
 */
function countD1(database: D1Database): D1Database {
  const realStatement = new WeakMap<object, D1PreparedStatement>();
  const statement = (real: D1PreparedStatement): D1PreparedStatement => {
    const wrapped = proxy(real, (name) => {
      if (name === 'bind') return (...values: unknown[]) => statement(real.bind(...values));
      if (name === 'first' || name === 'all' || name === 'run' || name === 'raw') {
        return (...args: unknown[]) => {
          count('d1Queries');
          count('d1Statements');
          return Reflect.apply(real[name], real, args);
        };
      }
      return undefined;
    });
    realStatement.set(wrapped, real);
    return wrapped;
  };
  return proxy(database, (name) => {
    switch (name) {
      case 'prepare':
        return (query: string) => statement(database.prepare(query));
      case 'batch':
        return (statements: D1PreparedStatement[]) => {
          count('d1Queries');
          count('d1Statements', statements.length);
          return database.batch(statements.map((each) => realStatement.get(each) ?? each));
        };
      case 'exec':
        return (query: string) => {
          count('d1Queries');
          count('d1Statements');
          return database.exec(query);
        };
      case 'withSession':
        return (...args: Parameters<D1Database['withSession']>) =>
          countD1(database.withSession(...args) as unknown as D1Database);
      default:
        return undefined;
    }
  });
}

/** Every method of a stub is a call into the object (RPC or fetch); `id` and `name` are plain values. */
function countStub<T extends object>(stub: T): T {
  return proxy(stub, (name) => {
    if (name === 'id' || name === 'name' || name === 'then') return undefined;
    const method = Reflect.get(stub, name, stub);
    if (typeof method !== 'function') return undefined;
    return (...args: unknown[]) => {
      count('doCalls');
      return Reflect.apply(method, stub, args);
    };
  });
}

function countDurableObjects(namespace: DurableObjectNamespace): DurableObjectNamespace {
  return proxy(namespace, (name) => {
    if (name !== 'get' && name !== 'getByName') return undefined;
    const method = Reflect.get(namespace, name, namespace) as (...args: unknown[]) => object;
    return (...args: unknown[]) => countStub(Reflect.apply(method, namespace, args));
  });
}

const kvCounters: Record<string, Counter> = {
  get: 'kvReads',
  getWithMetadata: 'kvReads',
  list: 'kvReads',
  put: 'kvWrites',
  delete: 'kvWrites',
};

function countCalls<T extends object>(binding: T, counters: Record<string, Counter>): T {
  return proxy(binding, (name) => {
    const counter = counters[name];
    if (!counter) return undefined;
    const method = Reflect.get(binding, name, binding) as (...args: unknown[]) => unknown;
    return (...args: unknown[]) => {
      count(counter);
      return Reflect.apply(method, binding, args);
    };
  });
}

function has(value: unknown, ...methods: string[]): value is object {
  return typeof value === 'object' && value !== null && methods.every((method) => method in value);
}

/** Bindings are recognised by shape, so one added to wrangler.toml is counted without a change here. */
function instrumentBinding(value: unknown): unknown {
  if (has(value, 'prepare', 'batch', 'exec')) return countD1(value as D1Database);
  if (has(value, 'idFromName', 'get')) return countDurableObjects(value as DurableObjectNamespace);
  if (has(value, 'getWithMetadata', 'put', 'list')) return countCalls(value, kvCounters);
  if (has(value, 'send', 'sendBatch'))
    return countCalls(value, { send: 'queueSends', sendBatch: 'queueSends' });
  return value;
}

const instrumentedEnvs = new WeakMap<Env, Env>();

function instrumentEnv(env: Env): Env {
  let instrumented = instrumentedEnvs.get(env);
  if (!instrumented) {
    const bindings = new Map<string | symbol, unknown>();
    instrumented = new Proxy(env, {
      get(target, property) {
        if (!bindings.has(property)) bindings.set(property, instrumentBinding(Reflect.get(target, property)));
        return bindings.get(property);
      },
    });
    instrumentedEnvs.set(env, instrumented);
  }
  return instrumented;
}

/** Collects the promises the worker hands to waitUntil, while passing them on. */
function collectWaitUntil(ctx: ExecutionContext, promises: Promise<unknown>[]): ExecutionContext {
  return proxy(ctx, (name) => {
    if (name !== 'waitUntil') return undefined;
    return (promise: Promise<unknown>) => {
      promises.push(promise);
      ctx.waitUntil(promise);
    };
  });
}

/** Also waits for work that waitUntil work itself hands to waitUntil. */
async function allSettled(promises: Promise<unknown>[]): Promise<void> {
  for (let settled = 0; settled < promises.length; ) {
    const batch = promises.slice(settled);
    settled = promises.length;
    await Promise.allSettled(batch);
  }
}

function addTo(scenario: string, counts: BindingCounts): void {
  const total = countsByScenario.get(scenario) ?? emptyCounts();
  for (const key of Object.keys(total) as (keyof BindingCounts)[]) total[key] += counts[key];
  countsByScenario.set(scenario, total);
}

/**
 * A request's calls are added to its scenario once it has answered and its waitUntil work is
 * done. A request cancelled on the way (the load generator closes its connections at the end of a
 * phase) never answers and is left out, so every counted call belongs to a counted request.
 */
async function countedFetch(
  request: Request,
  env: Env,
  ctx: ExecutionContext,
  handler: NonNullable<ExportedHandler<Env>['fetch']>,
): Promise<Response> {
  const scenario = request.headers.get(SCENARIO_HEADER) ?? 'unlabelled';
  const counts = { ...emptyCounts(), requests: 1 };
  const background: Promise<unknown>[] = [];
  const response = await currentCounts.run(counts, () =>
    handler(request as Parameters<typeof handler>[0], instrumentEnv(env), collectWaitUntil(ctx, background)),
  );
  pendingWaitUntil += 1;
  ctx.waitUntil(
    allSettled(background).then(() => {
      addTo(scenario, counts);
      pendingWaitUntil -= 1;
    }),
  );
  return response;
}

const BENCH_PASSWORD = 'bench-password-verify-only';
let benchPasswordHash: Promise<string> | undefined;

async function passwordVerify(): Promise<Response> {
  benchPasswordHash ??= hashPassword(BENCH_PASSWORD);
  const { valid } = await verifyPassword(BENCH_PASSWORD, await benchPasswordHash);
  return valid ? new Response(null, { status: 204 }) : new Response('verification failed', { status: 500 });
}

/**
 * The binding calls of an authenticated read (`GET /customers/{customerId}`) made through the same
 * functions and nothing else: the revocation check in KV, the rate limit, the D1 read. Locally
 * the bindings are simulated in this workerd, so this is what they cost here.
 */
async function readBindings(request: Request, env: Env): Promise<Response> {
  const query = new URL(request.url).searchParams;
  const [tenantId, customerId, principal] = ['tenant', 'customer', 'principal'].map(
    (name) => query.get(name) ?? '',
  ) as [string, string, string];
  const tenant = await requireActiveTenant(env, tenantId);
  await isRevoked(env, tenantId, [principal, 'jti_bench']);
  await consumeRateLimit(env, {
    name: 'bench',
    key: `bench:${tenantId}:${principal}`,
    policy: { capacity: tenant.rateLimitPerMinute, windowSeconds: 60 },
  });
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
    pendingWaitUntil,
  };
  return Response.json(report);
}

export default {
  async fetch(request, env, ctx) {
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
