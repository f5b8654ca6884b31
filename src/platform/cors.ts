import type { Context } from 'hono';
import type { AppEnv } from './context';
import { isWebOrigin } from './origins';
import { chargeQuota, clientIp } from './pipeline';
import { isCorsOriginOfSomeTenant } from './tenancy';

/**
 * CORS per tenant (docs/architecture.md, "CORS"). A tenant lists the web origins of its front
 * ends (`corsOrigins`, set by the operator); only those may read the tenant's answers.
 *
 * A preflight names no tenant: browsers send `Origin`, the method and the *names* of the headers
 * the call will carry, never `X-Tenant-ID`'s value. So the two halves decide on what each knows:
 * - the preflight is allowed when some tenant lists the origin (one registry read, cached);
 * - every actual answer carries `Access-Control-Allow-Origin` only when the tenant the request
 *   resolved to (X-Tenant-ID, or an OAuth client's tenant) lists the origin, else the browser
 *   withholds the answer from the page.
 * What an origin listed by tenant A gains towards tenant B is only that B's answers are sent and
 * not shown: every call still needs B's own token, no credentials are ever implied (cookies play
 * no part here, so `Access-Control-Allow-Credentials` is never sent), and `*` never answers.
 */

/** The request headers the API reads (a preflight lists what the call will carry). */
const ALLOWED_HEADERS = 'Authorization, Content-Type, Idempotency-Key, X-Request-Id, X-Tenant-ID';
/** The response headers a page may read beyond the CORS-safelisted ones. */
const EXPOSED_HEADERS =
  'Idempotent-Replayed, Location, RateLimit, RateLimit-Policy, Retry-After, X-Request-Id';
/** Browsers cap it anyway (Chromium at 2 h); a removed origin is refused on the answer meanwhile. */
export const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** The CORS headers of an answer for a tenant whose origins are `allowed`: a pure decision. */
export function corsResponseHeaders(
  origin: string | undefined,
  allowed: readonly string[],
): Record<string, string> {
  if (origin === undefined || !allowed.includes(origin)) return {};
  return { 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': EXPOSED_HEADERS };
}

/** The headers that allow a preflight: the origin itself, the path's methods, the headers read. */
export function preflightHeaders(origin: string, methods: readonly string[]): Record<string, string> {
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Methods': methods.join(', '),
    'Access-Control-Allow-Headers': ALLOWED_HEADERS,
    'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE_SECONDS),
  };
}

/**
 * A CORS preflight: browsers send it before a call a page may not make unasked. It reaches no
 * route: the request middleware (src/app.ts) answers it with `answerPreflight`.
 */
export function isPreflight(c: Context<AppEnv>): boolean {
  return (
    c.req.method === 'OPTIONS' &&
    c.req.header('Origin') !== undefined &&
    c.req.header('Access-Control-Request-Method') !== undefined
  );
}

/** The answer to a preflight; `methodsOf` gives the methods a path serves. */
export async function answerPreflight(
  c: Context<AppEnv>,
  methodsOf: (path: string) => string[],
): Promise<Response> {
  const origin = c.req.header('Origin') ?? '';
  const requestedMethod = c.req.header('Access-Control-Request-Method') ?? '';
  // Whatever the origin, a preflight costs the address a public token: unknown origins
  // would otherwise make the registry be read at the sender's pace.
  await chargeQuota(c, { ip: clientIp(c.env, c.req) }, 1);
  const methods = methodsOf(c.req.path);
  const allowed =
    methods.includes(requestedMethod.toUpperCase()) &&
    isWebOrigin(origin) &&
    (await isCorsOriginOfSomeTenant(c.env, origin));
  return c.body(null, 204, { Vary: 'Origin', ...(allowed ? preflightHeaders(origin, methods) : {}) });
}

/**
 * Adds the tenant's CORS headers to whatever answer a request ends with, problems included, so a
 * page can read why it was refused. Requests that resolved no tenant get none.
 */
export function addCorsHeaders(c: Context<AppEnv>): void {
  const tenant = c.get('tenant');
  if (!tenant) return;
  // The answer depends on Origin for every tenant route: a shared cache must key on it.
  c.res.headers.append('Vary', 'Origin');
  for (const [name, value] of Object.entries(
    corsResponseHeaders(c.req.header('Origin'), tenant.corsOrigins),
  )) {
    c.res.headers.set(name, value);
  }
}
