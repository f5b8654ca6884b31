import { expect } from 'vitest';

/** Asserts an RFC 9457 problem of the API's one shape with the given status and code. */
export function expectProblem(
  response: { status: number; headers: Headers; body: unknown },
  status: number,
  code: string,
): void {
  const body = response.body as Record<string, unknown>;
  expect(response.status, JSON.stringify(body)).toBe(status);
  expect(response.headers.get('Content-Type')).toBe('application/problem+json');
  expect(body).toMatchObject({ type: `/v2/customer/problems/${code}`, status, code });
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  expect(String(body.requestId)).toMatch(/^req_/);
  expect(response.headers.get('X-Request-Id')).toBe(body.requestId);
}

/** On /oauth/* the problem also carries RFC 6749's `error` and `error_description`, as plain JSON. */
export function expectOAuthError(
  response: { status: number; headers: Headers; body: Record<string, unknown> },
  status: number,
  error: string,
): void {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.headers.get('Content-Type')).toBe('application/json');
  expect(response.body).toMatchObject({ error, status });
  expect(typeof response.body.error_description).toBe('string');
  expect(String(response.body.requestId)).toMatch(/^req_/);
}
