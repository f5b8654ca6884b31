/*
 * @fincore/customer-api-client: a typed client for the FinCore Customer API, for a tenant's back
 * end (Node 20+, or any runtime with fetch and Web Crypto). openapi-fetch over the types that
 * openapi-typescript generates from the OpenAPI document (`npm run client:generate` writes
 * client/schema.d.ts; `npm test` fails when it is stale).
 *
 *   const api = createClient({ baseUrl: 'http://localhost:8787', tenant: 'demo-pro', clientId, clientSecret });
 *   const page = unwrap(await api.GET('/v2/customer/customers', { params: { query: { limit: 5 } } }));
 *
 * Every request gets `X-Tenant-ID`, a bearer token (client credentials, fetched when first needed
 * and again before it expires or when the server refuses it), an `Idempotency-Key` on POSTs that
 * have none, and is retried after `Retry-After` when answered 429. `unwrap` turns a problem+json
 * answer into a `ProblemError`.
 */
import createOpenApiClient, { type Client } from 'openapi-fetch';
import type { components, operations, paths } from './schema.js';

export type { components, operations, paths };
export type Schemas = components['schemas'];
export type Problem = Schemas['Problem'];

/** `X-Tenant-ID` and `Idempotency-Key` are sent by the client, so calls need not pass them. */
type SdkHeaders<Header> = Omit<Header, 'X-Tenant-ID' | 'Idempotency-Key'> & {
  'X-Tenant-ID'?: string;
  'Idempotency-Key'?: string;
};
type HeadersOptional<Operation> = Operation extends { parameters: infer Parameters }
  ? Omit<Operation, 'parameters'> & {
      parameters: Omit<Parameters, 'header'> &
        (Parameters extends { header?: infer Header }
          ? [Header] extends [never | undefined]
            ? { header?: never }
            : { header?: SdkHeaders<NonNullable<Header>> }
          : unknown);
    }
  : Operation;

export type FinCorePaths = {
  [Path in keyof paths]: { [Method in keyof paths[Path]]: HeadersOptional<paths[Path][Method]> };
};
export type FinCoreClient = Client<FinCorePaths>;

type Token = string | undefined;

export interface ClientOptions {
  /** The deployment's origin, e.g. `http://localhost:8787`; a trailing `/v2/customer` is ignored. */
  baseUrl: string;
  /** Sent as `X-Tenant-ID` on every request that does not set it. */
  tenant?: string;
  /** An API client of the tenant: its tokens are fetched with the client-credentials grant. */
  clientId?: string;
  clientSecret?: string;
  /** Space-separated permissions to ask for; default: every permission the client holds. */
  scope?: string;
  /** Instead of client credentials: a user's access token, or a function giving the current one. */
  accessToken?: Token | (() => Token | Promise<Token>);
  /** How many times a 429 is retried after its `Retry-After` (default 2). */
  maxRetries?: number;
  /** A 429 asking to wait longer than this is returned, not waited for (default 30 s). */
  maxRetryAfterSeconds?: number;
  /** Custom fetch (tests, proxies); defaults to the global fetch. */
  fetch?: (request: Request) => Promise<Response>;
}

/** A problem+json answer (RFC 9457) as an error: `code` is what to branch on. */
export class ProblemError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(
    readonly problem: Problem,
    readonly response: Response,
  ) {
    super(`${response.status} ${problem.code}: ${problem.detail ?? problem.title}`);
    this.name = 'ProblemError';
    this.status = response.status;
    this.code = problem.code;
  }
}

export function isProblemError(error: unknown, code?: string): error is ProblemError {
  return error instanceof ProblemError && (code === undefined || error.code === code);
}

/** The typed body of a successful call; a problem answer throws `ProblemError`. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error === undefined && result.data !== undefined) return result.data;
  throw toProblemError(result.error, result.response);
}

function toProblemError(body: unknown, response: Response): ProblemError {
  const problem = body as Partial<Problem> | undefined;
  if (problem && typeof problem === 'object' && typeof problem.code === 'string') {
    return new ProblemError(problem as Problem, response);
  }
  return new ProblemError(
    {
      type: 'about:blank',
      title: response.statusText || 'Unexpected answer',
      status: response.status,
      code: 'unexpected_response',
      detail: typeof body === 'string' ? body.slice(0, 200) : `HTTP ${response.status}`,
      instance: new URL(response.url || 'http://invalid/').pathname,
      requestId: response.headers.get('X-Request-Id') ?? '',
    },
    response,
  );
}

const BASE_PATH = '/v2/customer';
/** A token is renewed this long before it expires, so no request carries one that lapses in flight. */
const EXPIRY_MARGIN_MS = 30_000;

/** Client-credentials tokens, fetched once at a time and kept until shortly before they expire. */
function clientCredentials(
  origin: string,
  options: ClientOptions & { clientId: string; clientSecret: string },
  send: (request: Request) => Promise<Response>,
) {
  let current: { token: string; renewAt: number } | undefined;
  let pending: Promise<string> | undefined;
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');

  async function fetchToken(): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (options.scope) form.set('scope', options.scope);
    const response = await send(
      new Request(`${origin}${BASE_PATH}/oauth/token`, {
        method: 'POST',
        headers: {
          // RFC 6749 §2.3.1: id and secret are form-encoded before they are joined.
          Authorization: `Basic ${btoa(`${encode(options.clientId)}:${encode(options.clientSecret)}`)}`,
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: form,
      }),
    );
    const body = (await response.json().catch(() => undefined)) as
      | { access_token?: string; expires_in?: number }
      | undefined;
    if (!response.ok || !body?.access_token) throw toProblemError(body, response);
    current = {
      token: body.access_token,
      renewAt: Date.now() + (body.expires_in ?? 0) * 1000 - EXPIRY_MARGIN_MS,
    };
    return body.access_token;
  }

  return {
    async token(): Promise<string> {
      if (current && current.renewAt > Date.now()) return current.token;
      pending ??= fetchToken().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    /** The server refused `token` (revoked, keys rotated): the next call fetches a new one. */
    refused(token: string): void {
      if (current?.token === token) current = undefined;
    },
  };
}

function retryAfterSeconds(response: Response): number {
  const value = response.headers.get('Retry-After');
  const seconds = value === null ? Number.NaN : Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = value === null ? Number.NaN : Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, (date - Date.now()) / 1000) : 1;
}

export function createClient(options: ClientOptions): FinCoreClient {
  const url = new URL(options.baseUrl);
  const path = url.pathname.replace(/\/+$/, '');
  const prefix = path.endsWith(BASE_PATH) ? path.slice(0, -BASE_PATH.length) : path;
  const origin = `${url.origin}${prefix}`;
  const send = options.fetch ?? ((request: Request) => fetch(request));
  const maxRetries = options.maxRetries ?? 2;
  const maxWait = options.maxRetryAfterSeconds ?? 30;
  const { clientId, clientSecret } = options;
  const tokens =
    clientId !== undefined && clientSecret !== undefined
      ? clientCredentials(origin, { ...options, clientId, clientSecret }, send)
      : undefined;

  async function bearer(): Promise<Token> {
    if (tokens) return tokens.token();
    return typeof options.accessToken === 'function' ? options.accessToken() : options.accessToken;
  }

  async function authorizedSend(request: Request, retried401 = false): Promise<Response> {
    const attempt = request.clone();
    const token = attempt.headers.has('Authorization') ? undefined : await bearer();
    if (token) attempt.headers.set('Authorization', `Bearer ${token}`);
    const response = await send(attempt);
    if (response.status === 401 && tokens && token && !retried401) {
      tokens.refused(token);
      return authorizedSend(request, true);
    }
    return response;
  }

  async function sendWithRetries(request: Request): Promise<Response> {
    if (options.tenant && !request.headers.has('X-Tenant-ID'))
      request.headers.set('X-Tenant-ID', options.tenant);
    // One key for every attempt: a retried POST is answered from the first one's stored reply.
    if (request.method === 'POST' && !request.headers.has('Idempotency-Key')) {
      request.headers.set('Idempotency-Key', crypto.randomUUID());
    }
    for (let attempt = 0; ; attempt += 1) {
      const response = await authorizedSend(request);
      if (response.status !== 429 || attempt >= maxRetries) return response;
      const wait = retryAfterSeconds(response);
      if (wait > maxWait) return response;
      await response.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    }
  }

  return createOpenApiClient<FinCorePaths>({ baseUrl: origin, fetch: sendWithRetries });
}
