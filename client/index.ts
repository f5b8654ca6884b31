/*
 * A small typed client for the FinCore Customer API: openapi-fetch over the types that
 * openapi-typescript generates from the OpenAPI document (`npm run client:generate` writes
 * client/schema.d.ts; `npm test` fails when that file is stale).
 *
 *   const api = createFinCoreClient({ baseUrl: 'http://localhost:8787', tenantId: 'demo-pro', accessToken });
 *   const { data, error } = await api.GET('/v2/customer/customers/{customerId}', { params: { path: { customerId } } });
 *
 * `data` and `error` are typed from the document: the declared success body, or a problem+json object.
 */
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, operations, paths } from './schema';

export type { components, operations, paths };
export type Schemas = components['schemas'];
export type Problem = Schemas['Problem'];

/** `X-Tenant-ID` is sent by the client's middleware, so callers need not pass it per request. */
type TenantHeaderOptional<Operation> = Operation extends { parameters: infer Parameters }
  ? Omit<Operation, 'parameters'> & {
      parameters: Omit<Parameters, 'header'> &
        (Parameters extends { header?: infer Header }
          ? [Header] extends [never | undefined]
            ? { header?: never }
            : { header?: Omit<NonNullable<Header>, 'X-Tenant-ID'> & { 'X-Tenant-ID'?: string } }
          : unknown);
    }
  : Operation;

export type FinCorePaths = {
  [Path in keyof paths]: {
    [Method in keyof paths[Path]]: TenantHeaderOptional<paths[Path][Method]>;
  };
};

export type FinCoreClient = Client<FinCorePaths>;

type Credential = string | undefined;

export interface FinCoreClientOptions {
  /** The deployment's origin, e.g. `http://localhost:8787`; a trailing `/v2/customer` is ignored. */
  baseUrl: string;
  /** Sent as `X-Tenant-ID` on every request that does not set it. */
  tenantId?: string;
  /** An access token, or a function returning the current one (called per request, e.g. to refresh). */
  accessToken?: Credential | (() => Credential | Promise<Credential>);
  /** Custom fetch (tests, proxies); defaults to the global fetch. */
  fetch?: (request: Request) => Promise<Response>;
}

const BASE_PATH = '/v2/customer';

/** The middleware behind every client: tenant header and bearer token, unless the call sets its own. */
export function credentialsMiddleware(
  options: Pick<FinCoreClientOptions, 'tenantId' | 'accessToken'>,
): Middleware {
  return {
    async onRequest({ request }) {
      if (options.tenantId && !request.headers.has('X-Tenant-ID')) {
        request.headers.set('X-Tenant-ID', options.tenantId);
      }
      const token =
        typeof options.accessToken === 'function' ? await options.accessToken() : options.accessToken;
      if (token && !request.headers.has('Authorization')) {
        request.headers.set('Authorization', `Bearer ${token}`);
      }
      return request;
    },
  };
}

export function createFinCoreClient(options: FinCoreClientOptions): FinCoreClient {
  const url = new URL(options.baseUrl);
  const path = url.pathname.replace(/\/+$/, '');
  const prefix = path.endsWith(BASE_PATH) ? path.slice(0, -BASE_PATH.length) : path;
  const client = createClient<FinCorePaths>({
    baseUrl: `${url.origin}${prefix}`,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  client.use(credentialsMiddleware(options));
  return client;
}

/** Throws a readable error for a failed call; returns the typed body otherwise. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || result.data === undefined) {
    const problem = result.error as Partial<Problem> | undefined;
    const detail = problem?.detail ?? problem?.title ?? JSON.stringify(result.error);
    throw new Error(
      `${result.response.status} ${result.response.url}: ${problem?.code ?? ''} ${detail}`.trim(),
    );
  }
  return result.data;
}
