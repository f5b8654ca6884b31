import type { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { type Env, readConfig } from './env';
import { accessRoutes } from './modules/access/routes';
import { auditRoutes } from './modules/audit/routes';
import { authRoutes } from './modules/auth/routes';
import { consentRoutes } from './modules/consents/routes';
import { customerRoutes } from './modules/customers/routes';
import { devRoutes } from './modules/dev/routes';
import { docsRoutes } from './modules/docs/routes';
import { eventRoutes } from './modules/events/routes';
import { groupRoutes } from './modules/groups/routes';
import { mfaRoutes } from './modules/mfa/routes';
import { oauthMetadataRoutes, oauthRoutes } from './modules/oauth/routes';
import { organizationRoutes } from './modules/organizations/routes';
import { passkeyRoutes } from './modules/passkeys/routes';
import { platformTenantRoutes } from './modules/platform-admin/routes';
import { privacyRoutes } from './modules/privacy/routes';
import { registrationRoutes } from './modules/registration/routes';
import { staffUserRoutes } from './modules/staff/routes';
import { openApiDocument, systemRoutes } from './modules/system/routes';
import { registerEventWebhooks, webhookRoutes } from './modules/webhooks/routes';
import type { AppEnv } from './platform/context';
import { ApiError } from './platform/errors';
import { handleError } from './platform/http';
import { newId } from './platform/ids';
import { createLogger, type LogLevel } from './platform/logger';
import { createRouter, registerComponents } from './platform/openapi';
import { allowedMethods } from './platform/routing';

export const BASE_PATH = '/v2/customer';
/** JSON bodies are small; the documents route declares its own, larger limit. */
const JSON_BODY_LIMIT_BYTES = 1024 * 1024;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export function createApp(): OpenAPIHono<AppEnv> {
  const app = createRouter();

  app.use('*', async (c, next) => {
    const started = Date.now();
    const incoming = c.req.header('X-Request-Id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : newId('request');
    const logger = createLogger(readConfig(c.env).logLevel as LogLevel, { requestId });
    c.set('requestId', requestId);
    c.set('logger', logger);
    await next();
    c.res.headers.set('X-Request-Id', requestId);
    // A 429 already names the bucket that refused, which may not be the quota the request took first.
    for (const [name, value] of Object.entries(c.get('rateLimitHeaders') ?? {}))
      if (!c.res.headers.has(name)) c.res.headers.set(name, value);
    c.get('logger').info('request', {
      method: c.req.method,
      route: c.req.routePath,
      path: c.req.path,
      status: c.res.status,
      durationMs: Date.now() - started,
    });
  });

  app.use(
    `${BASE_PATH}/*`,
    bodyLimit({
      maxSize: JSON_BODY_LIMIT_BYTES,
      onError: () => {
        throw new ApiError('payload_too_large', {
          detail: `Request bodies are limited to ${JSON_BODY_LIMIT_BYTES} bytes.`,
        });
      },
    }),
  );

  registerComponents(app);
  app.route(BASE_PATH, systemRoutes());
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
  app.route(BASE_PATH, privacyRoutes());
  app.route(BASE_PATH, eventRoutes());
  app.route(BASE_PATH, auditRoutes());
  app.route(BASE_PATH, accessRoutes());
  app.route(BASE_PATH, staffUserRoutes());
  app.route(BASE_PATH, groupRoutes());
  app.route(BASE_PATH, webhookRoutes());
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
