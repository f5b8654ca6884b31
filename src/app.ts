import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { type Env, readConfig } from './env';
import { accessRoutes } from './modules/access/routes';
import { staffUserRoutes } from './modules/access/users/routes';
import { auditRoutes } from './modules/audit-events/routes';
import { authRoutes } from './modules/auth/routes';
import { beneficiaryRoutes } from './modules/beneficiaries/routes';
import { consentRoutes } from './modules/consents/routes';
import { customerRoutes } from './modules/customers/routes';
import { devRoutes } from './modules/dev/routes';
import { docsRoutes } from './modules/docs/routes';
import { documentRoutes } from './modules/documents/routes';
import { uploadRoute } from './modules/documents/upload';
import { erasureRoutes } from './modules/erasure/routes';
import { eventRoutes } from './modules/events/routes';
import { exportRoutes } from './modules/export/routes';
import { groupRoutes } from './modules/groups/routes';
import { legalHoldRoutes } from './modules/legal-hold/routes';
import { mfaRoutes } from './modules/mfa/routes';
import { oauthMetadataRoutes, oauthRoutes } from './modules/oauth/routes';
import { organizationRoutes } from './modules/organizations/routes';
import { problemRoutes } from './modules/problems/routes';
import { registrationRoutes } from './modules/registration/routes';
import { openApiDocument, systemRoutes } from './modules/system/routes';
import { platformTenantRoutes } from './modules/tenants/routes';
import { tppConsentRoutes } from './modules/tpp-consents/routes';
import { tppRoutes } from './modules/tpps/routes';
import { verificationRoutes } from './modules/verifications/routes';
import { passkeyRoutes } from './modules/webauthn/routes';
import { registerEventWebhooks, webhookRoutes } from './modules/webhooks/routes';
import type { AppEnv } from './platform/context';
import { addCorsHeaders, answerPreflight, isPreflight } from './platform/cors';
import { ApiError } from './platform/errors';
import { handleError } from './platform/http';
import { requestIdFor } from './platform/ids';
import { createLogger, type LogLevel, logRequest } from './platform/logger';
import { createRouter, registerComponents } from './platform/openapi';
import { allowedMethods } from './platform/routing';

export const BASE_PATH = '/v2/customer';
/** JSON bodies are small; the documents route declares its own, larger limit. */
const JSON_BODY_LIMIT_BYTES = 1024 * 1024;

export function createApp(): OpenAPIHono<AppEnv> {
  const app = createRouter();

  const jsonBodyLimit = bodyLimit({
    maxSize: JSON_BODY_LIMIT_BYTES,
    onError: () => {
      throw new ApiError('payload_too_large', {
        detail: `Request bodies are limited to ${JSON_BODY_LIMIT_BYTES} bytes.`,
      });
    },
  });
  // The upload route stream-parses its body within its own limits: this one would buffer it.
  const limitsItsOwnBody = (c: Context<AppEnv>) =>
    c.req.method === uploadRoute.method && uploadRoute.path.test(c.req.path);
  const methodsOf = (path: string) => allowedMethods(app, path);

  // What every request needs, in one middleware rather than one each: every layer is a dispatch
  // and a promise more per request, a fifth of a health check's time when these were three.
  app.use('*', async (c, next) => {
    const started = Date.now();
    const requestId = requestIdFor(c.req.header('X-Request-Id'));
    c.set('requestId', requestId);
    const logger = createLogger(readConfig(c.env).logLevel as LogLevel, { requestId });
    c.set('logger', logger);
    try {
      if (isPreflight(c)) c.res = await answerPreflight(c, methodsOf);
      else if (c.req.raw.body !== null && !limitsItsOwnBody(c)) await jsonBodyLimit(c, next);
      else await next();
    } catch (error) {
      // Refused here rather than in a route (a preflight's 429, a body's 413): answered as
      // onError answers, so that the headers below are added all the same.
      c.res = await handleError(error, c);
    }
    const headers = c.res.headers;
    headers.set('X-Request-Id', requestId);
    // A 429 already names the bucket that refused, which may not be the quota the request took first.
    const rateLimitHeaders = c.get('rateLimitHeaders');
    for (const name in rateLimitHeaders)
      if (!headers.has(name)) headers.set(name, rateLimitHeaders[name] as string);
    addCorsHeaders(c);
    // The route and path are worked out from the URL and the router's match only for a line
    // that is written; the logger the route may have narrowed (a tenant's) logs it.
    if (logger.writes('info')) {
      logRequest(c.get('logger'), {
        method: c.req.method,
        route: c.req.routePath,
        path: c.req.path,
        status: c.res.status,
        durationMs: Date.now() - started,
      });
    }
  });

  registerComponents(app);
  app.route(BASE_PATH, systemRoutes());
  app.route(BASE_PATH, problemRoutes());
  app.route(BASE_PATH, docsRoutes());
  app.route(BASE_PATH, platformTenantRoutes());
  app.route(BASE_PATH, oauthRoutes());
  app.route('/', oauthMetadataRoutes());
  app.route(BASE_PATH, registrationRoutes());
  app.route(BASE_PATH, authRoutes());
  app.route(BASE_PATH, mfaRoutes());
  app.route(BASE_PATH, passkeyRoutes());
  app.route(BASE_PATH, customerRoutes());
  app.route(BASE_PATH, organizationRoutes());
  app.route(BASE_PATH, consentRoutes());
  app.route(BASE_PATH, beneficiaryRoutes());
  app.route(BASE_PATH, exportRoutes());
  app.route(BASE_PATH, erasureRoutes());
  app.route(BASE_PATH, legalHoldRoutes());
  app.route(BASE_PATH, documentRoutes());
  app.route(BASE_PATH, verificationRoutes());
  app.route(BASE_PATH, eventRoutes());
  app.route(BASE_PATH, auditRoutes());
  app.route(BASE_PATH, accessRoutes());
  app.route(BASE_PATH, staffUserRoutes());
  app.route(BASE_PATH, groupRoutes());
  app.route(BASE_PATH, webhookRoutes());
  app.route(BASE_PATH, tppRoutes());
  app.route(BASE_PATH, tppConsentRoutes());
  app.route(BASE_PATH, devRoutes());
  registerEventWebhooks(app);
  openApiDocument(app);

  app.notFound((c) => {
    const allow = allowedMethods(app, c.req.path);
    if (allow.length > 0) {
      throw new ApiError('method_not_allowed', {
        detail: `${c.req.method} is not allowed here; use ${allow.join(', ')}.`,
        headers: { Allow: allow.join(', ') },
      });
    }
    throw new ApiError('not_found', { detail: `No route matches ${c.req.method} ${c.req.path}.` });
  });
  app.onError(handleError);
  return app;
}

export type { Env };
