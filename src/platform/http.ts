import type { Context } from 'hono';
import type { AppEnv, ServiceContext } from './context';
import { problemResponse, toApiError } from './errors';
import { clientIp, issuerFor } from './pipeline';

/**
 * For answers that carry tokens or secrets: no cache may keep them. Such routes are not declared
 * `idempotent` either, so no replay copy of the answer is stored.
 */
export const noStore = { 'Cache-Control': 'no-store' };

/** The bridge from a request to the plain context services take. */
export function serviceContext(c: Context<AppEnv>): ServiceContext {
  return {
    env: c.env,
    tenant: c.get('tenant'),
    db: c.get('db'),
    actor: c.get('principal'),
    now: new Date(),
    requestId: c.get('requestId'),
    issuer: issuerFor(c.env, c.req.url),
    ip: clientIp(c.env, c.req),
    userAgent: c.req.header('User-Agent'),
    logger: c.get('logger'),
    committedAbout: (customerIds) => c.get('committedAbout')?.push(...customerIds),
    waitUntil: (promise) => c.executionCtx.waitUntil(promise),
  };
}

/** The app's single `onError`: logs unexpected failures, never echoes their internals. */
export function handleError(error: unknown, c: Context<AppEnv>): Response {
  const apiError = toApiError(error);
  const requestId = c.get('requestId') ?? 'req_unknown';
  if (apiError.status >= 500) {
    c.get('logger')?.error('request_failed', {
      error:
        error instanceof Error
          ? { name: error.name, message: error.message, stack: error.stack }
          : String(error),
    });
  }
  return problemResponse(apiError, new URL(c.req.url).pathname, requestId);
}
