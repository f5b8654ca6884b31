import { env, SELF } from 'cloudflare:test';

declare global {
  namespace Cloudflare {
    interface Env {
      /** Another isolate of the worker, sharing every store (vitest.config.ts, `secondIsolate`). */
      SECOND_ISOLATE: Fetcher;
    }
  }
}

export const ORIGIN = 'http://api.test';
export const BASE = `${ORIGIN}/v2/customer`;
export const ISSUER = BASE;

/** One address per test file, so per-IP limits of one file never throttle another. */
const CLIENT_IP = `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250) + 1}`;

export interface CallOptions {
  tenant?: string;
  token?: string;
  body?: unknown;
  form?: Record<string, string>;
  /** A multipart body; fetch writes its boundary into `Content-Type`. */
  multipart?: FormData;
  headers?: Record<string, string>;
  /** `request.cf` as Cloudflare's edge would set it (its mTLS facts, `tlsClientAuth`). */
  cf?: Record<string, unknown>;
  /** The isolate that serves it: the tests' own, or the second one (test/api/two-isolates.test.ts). */
  via?: 'first' | 'second';
}

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** One request through the worker's real fetch handler, as a client would send it. */
export async function call<T = Record<string, unknown>>(
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<ApiResponse<T>> {
  const headers = new Headers(options.headers);
  if (!headers.has('CF-Connecting-IP')) headers.set('CF-Connecting-IP', CLIENT_IP);
  if (options.tenant) headers.set('X-Tenant-ID', options.tenant);
  if (options.token) headers.set('Authorization', `Bearer ${options.token}`);
  let body: BodyInit | undefined;
  if (options.multipart) {
    body = options.multipart;
  } else if (options.form) {
    body = new URLSearchParams(options.form).toString();
    headers.set('Content-Type', 'application/x-www-form-urlencoded');
  } else if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    if (!headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
  }
  const worker = options.via === 'second' ? env.SECOND_ISOLATE : SELF;
  const response = await worker.fetch(`${BASE}${path}`, {
    method,
    headers,
    body,
    ...(options.cf ? { cf: options.cf as RequestInitCfProperties } : {}),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: the raw text stays in `body`
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined and base64-encoded. */
export function clientSecretBasic(clientId: string, clientSecret: string): string {
  const encode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);
  return `Basic ${btoa(`${encode(clientId)}:${encode(clientSecret)}`)}`;
}
