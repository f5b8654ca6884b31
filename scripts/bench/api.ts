import { BASE_PATH } from './protocol.ts';

/** One request of a scenario, or of the seeding, in the API's terms. */
export interface ApiRequest {
  method: 'GET' | 'POST';
  /** Below the base path, e.g. `/customers/cus_…`; absolute (`/__bench/…`) when `raw` is set. */
  path: string;
  tenantId?: string;
  token?: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as they are, with their own type (a multipart upload); instead of `body`. */
  bytes?: { contentType: string; data: Uint8Array };
  /** CF-Connecting-IP: the client address rate limits key anonymous callers by. */
  clientIp?: string;
  /** The path is not below the API's base path. */
  raw?: boolean;
}

/** The index-th address of a private range the bench sends from (up to 65,536 of them). */
export function clientIp(index: number): string {
  return `10.99.${(index >> 8) & 0xff}.${index & 0xff}`;
}

export function requestPath(request: ApiRequest): string {
  return request.raw ? request.path : `${BASE_PATH}${request.path}`;
}

export function requestHeaders(request: ApiRequest): Record<string, string> {
  return {
    ...(request.body === undefined ? {} : { 'Content-Type': 'application/json' }),
    ...(request.bytes ? { 'Content-Type': request.bytes.contentType } : {}),
    ...(request.tenantId ? { 'X-Tenant-ID': request.tenantId } : {}),
    ...(request.token ? { Authorization: `Bearer ${request.token}` } : {}),
    ...(request.clientIp ? { 'CF-Connecting-IP': request.clientIp } : {}),
  };
}

export function requestBody(request: ApiRequest): string | Uint8Array | undefined {
  return request.bytes?.data ?? (request.body === undefined ? undefined : JSON.stringify(request.body));
}

export interface Api {
  origin: string;
  /** Sends the request and fails unless the answer has the expected status; resolves with its JSON. */
  call<T = Record<string, unknown>>(request: ApiRequest, expectedStatus?: number): Promise<T>;
}

export function api(origin: string): Api {
  return {
    origin,
    async call<T>(request: ApiRequest, expectedStatus = 200): Promise<T> {
      const response = await fetch(`${origin}${requestPath(request)}`, {
        method: request.method,
        headers: requestHeaders(request),
        body: requestBody(request),
      });
      const text = await response.text();
      if (response.status !== expectedStatus) {
        throw new Error(
          `${request.method} ${requestPath(request)} answered ${response.status}, expected ${expectedStatus}: ${text}`,
        );
      }
      return (text ? JSON.parse(text) : undefined) as T;
    },
  };
}
