import { expect } from 'vitest';

/** Asserts an RFC 9457 problem of the API's one shape with the given status and code. */
export function expectProblem(
  response: { status: number; headers: Headers; body: Record<string, unknown> },
  status: number,
  code: string,
): void {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.headers.get('Content-Type')).toBe('application/problem+json');
  expect(response.body).toMatchObject({ type: `/v2/customer/problems/${code}`, status, code });
  expect(typeof response.body.title).toBe('string');
  expect(typeof response.body.detail).toBe('string');
  expect(String(response.body.requestId)).toMatch(/^req_/);
  expect(response.headers.get('X-Request-Id')).toBe(response.body.requestId);
}
