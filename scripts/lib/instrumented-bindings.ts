/*
 * Counting proxies around a worker's bindings: every D1 round trip and statement, Durable
 * Object call, KV read and write and queue send is added to the counts of the request it was
 * made for. Calls are attributed through AsyncLocalStorage, so work a request leaves to
 * `waitUntil` is counted against it too. Used by the bench entry (scripts/bench/instrumented-worker.ts)
 * and by the operation budgets of `npm test` (test/api/operation-budgets.test.ts); production
 * code never sees the proxies except through `env`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { BindingCounts } from '../bench/protocol.ts';

type Env = Cloudflare.Env;
type Counter = Exclude<keyof BindingCounts, 'requests'>;

/** Durable Object calls per binding name (`SESSIONS`, `RATE_LIMITER`), for tests that tell them apart. */
export type DoCallsByBinding = Record<string, number>;

const current = new AsyncLocalStorage<{ counts: BindingCounts; doCallsByBinding?: DoCallsByBinding }>();

/**
 * Runs `work` with every binding call it makes, now or in work it starts, added to `counts`,
 * and its Durable Object calls to `doCallsByBinding` as well when given.
 */
export function countingInto<T>(
  counts: BindingCounts,
  work: () => T,
  doCallsByBinding?: DoCallsByBinding,
): T {
  return current.run({ counts, doCallsByBinding }, work);
}

function count(counter: Counter, amount = 1): void {
  const store = current.getStore();
  if (store) store.counts[counter] += amount;
}

function countDoCall(binding: string): void {
  count('doCalls');
  const byBinding = current.getStore()?.doCallsByBinding;
  if (byBinding) byBinding[binding] = (byBinding[binding] ?? 0) + 1;
}

/** Property access on a wrapped binding: `wrap` decides per name, anything else is the target's own. */
export function proxy<T extends object>(target: T, wrap: (name: string) => unknown): T {
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
function countStub<T extends object>(stub: T, binding: string): T {
  return proxy(stub, (name) => {
    if (name === 'id' || name === 'name' || name === 'then') return undefined;
    const method = Reflect.get(stub, name, stub);
    if (typeof method !== 'function') return undefined;
    return (...args: unknown[]) => {
      countDoCall(binding);
      return Reflect.apply(method, stub, args);
    };
  });
}

function countDurableObjects(namespace: DurableObjectNamespace, binding: string): DurableObjectNamespace {
  return proxy(namespace, (name) => {
    if (name !== 'get' && name !== 'getByName') return undefined;
    const method = Reflect.get(namespace, name, namespace) as (...args: unknown[]) => object;
    return (...args: unknown[]) => countStub(Reflect.apply(method, namespace, args), binding);
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
function instrumentBinding(name: string, value: unknown): unknown {
  if (has(value, 'prepare', 'batch', 'exec')) return countD1(value as D1Database);
  if (has(value, 'idFromName', 'get')) return countDurableObjects(value as DurableObjectNamespace, name);
  if (has(value, 'getWithMetadata', 'put', 'list')) return countCalls(value, kvCounters);
  if (has(value, 'send', 'sendBatch'))
    return countCalls(value, { send: 'queueSends', sendBatch: 'queueSends' });
  return value;
}

const instrumentedEnvs = new WeakMap<Env, Env>();

/** `env` with its bindings counted; one instrumented env per env, so its identity is stable. */
export function instrumentEnv(env: Env): Env {
  let instrumented = instrumentedEnvs.get(env);
  if (!instrumented) {
    const bindings = new Map<string | symbol, unknown>();
    instrumented = new Proxy(env, {
      get(target, property) {
        if (!bindings.has(property))
          bindings.set(property, instrumentBinding(String(property), Reflect.get(target, property)));
        return bindings.get(property);
      },
    });
    instrumentedEnvs.set(env, instrumented);
  }
  return instrumented;
}
