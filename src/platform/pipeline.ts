import type { Context, MiddlewareHandler } from 'hono';
import type { TenantDb } from '../db/client';
import { readConfig } from '../env';
import { authenticateToken, bearerToken } from './auth/authenticate';
import { presentedCertificate } from './auth/certificate-binding';
import type { ActsOnTarget } from './auth/escalation';
import type { Permission } from './auth/permissions';
import { hasPermission, type Principal, requireUserPrincipal } from './auth/principal';
import { requireRecentAuth } from './auth/recent-auth';
import type { AppEnv } from './context';
import { timingSafeEqual } from './crypto';
import { ApiError } from './errors';
import { consumeRateLimits, knownRefusal, type RateLimitOutcome } from './rate-limit/limiter';
import {
  bucketOf,
  type RequestSubject,
  type RouteRateLimit,
  rateLimitPolicies,
  routePolicies,
} from './rate-limit/policies';
import {
  type Capability,
  cachedTenant,
  isTenantId,
  requireActiveTenant,
  requireCapability,
  TENANT_ID_MAX_LENGTH,
  type Tenant,
  tenantDatabase,
} from './tenancy';

export type AuthMode =
  /** A Bearer access token of the tenant is required. */
  | 'required'
  /** Anonymous callers are served too (public self-registration); a token, if sent, must be valid. */
  | 'optional'
  /** No tenant principal: the operator's platform admin token. */
  | 'platform-admin'
  /** No authentication at all (discovery). */
  | 'none';

/**
 * The principal an operation acts on, and where the request names it: a path parameter, or the
 * body for a principal the request creates (a webhook endpoint subscribing to codes and tokens).
 */
export type ActsOn = { target: ActsOnTarget } & ({ in: 'path'; name: string } | { in: 'body' });

export interface RouteAccess {
  auth: AuthMode;
  /** Tenant routes need `X-Tenant-ID`; discovery and operator routes do not. */
  tenant: boolean;
  capability?: Capability;
  permission?: Permission;
  /** A customer user may call the route for its own record without the permission. */
  selfService?: boolean;
  /**
   * The buckets the route charges and its cost (src/platform/rate-limit/policies.ts): by default
   * one token from the tenant's bucket, or from the per-IP `public` one on a route without a
   * tenant. Routes that check a secret add a guessing policy (`login`, …). Shown as `x-rate-limit`.
   */
  rateLimit?: RouteRateLimit;
  /** The user must have authenticated (login or step-up) at most this many seconds ago. */
  recentAuthSeconds?: number;
  /**
   * With `recentAuthSeconds`, API clients (client_credentials) pass instead of getting 403
   * `user_session_required`: a tenant's back end has no person at the keyboard to step up.
   */
  apiClientsSkipRecentAuth?: boolean;
  /**
   * The operation acts on a principal: its service refuses with 403 `permission_not_held` unless
   * the caller holds every permission the target holds (src/platform/auth/escalation.ts). Shown
   * as `x-acts-on`; the escalation gate (test/contract/escalation.test.ts) holds every route
   * that declares it to the rule, and fails on a route that acts on a principal without it.
   */
  actsOn?: ActsOn;
  /**
   * The route acts on the caller's own login (its sessions, passkeys, step-up): API clients and
   * third parties acting for a customer get 403 `user_session_required`. Anonymous callers are
   * still served where `auth` is 'optional'.
   */
  userSession?: boolean;
}

/** Whether an API client's token is refused (403 `user_session_required`), as the document says. */
export function refusesApiClients(access: RouteAccess): boolean {
  return (
    Boolean(access.userSession) ||
    (access.recentAuthSeconds !== undefined && !access.apiClientsSkipRecentAuth)
  );
}

/** An IPv4 or IPv6 literal, as Cloudflare's edge writes it; anything else names no client. */
const IP_LITERAL = /^[0-9A-Fa-f:.]{2,45}$/;

/**
 * The address per-IP limits and audit rows use. In production only `CF-Connecting-IP` counts:
 * Cloudflare's edge sets it and replaces any value the client sent, while `X-Forwarded-For` is
 * whatever the client wrote. Without the edge (`wrangler dev`, tests) both headers come from
 * the client, and `X-Forwarded-For` stands in for a proxy in front of the local worker.
 */
export function clientIp(
  env: AppEnv['Bindings'],
  headers: { header(name: string): string | undefined },
): string {
  const edge = headers.header('CF-Connecting-IP');
  if (edge !== undefined && IP_LITERAL.test(edge)) return edge;
  if (readConfig(env).environment === 'production') return 'unknown';
  const forwarded = headers.header('X-Forwarded-For')?.split(',')[0]?.trim();
  return forwarded !== undefined && IP_LITERAL.test(forwarded) ? forwarded : 'unknown';
}

export function issuerFor(env: AppEnv['Bindings'], requestUrl: string): string {
  const base = readConfig(env).publicBaseUrl ?? new URL(requestUrl).origin;
  return `${base.replace(/\/$/, '')}/v2/customer`;
}

/**
 * Step 2 of a request's path in docs/architecture.md, as one route-level middleware: tenant,
 * authentication, rate limit, capability, permission. The rate limit runs before an
 * authentication failure is reported, so failed attempts are throttled per IP as well.
 */
export function guard(access: RouteAccess): MiddlewareHandler<AppEnv> {
  const { cost } = routePolicies(access.tenant, access.rateLimit);
  if (!access.tenant) {
    // Routes without a tenant are limited per client IP: they answer with RateLimit headers
    // like every other route, and the operator token cannot be guessed at speed. Not an async
    // function: served from the address's lease, a discovery request awaits nothing here.
    const admit = (c: Context<AppEnv>) => {
      if (access.auth !== 'platform-admin') return;
      const token = bearerToken(c.req.header('Authorization'));
      if (!token) throw new ApiError('authentication_required');
      if (!timingSafeEqual(token, c.env.PLATFORM_ADMIN_TOKEN)) throw new ApiError('invalid_token');
    };
    return (c, next) => {
      const charging = chargeQuota(c, { ip: clientIp(c.env, c.req) }, cost);
      if (charging) return charging.then(() => admit(c)).then(next);
      admit(c);
      return next();
    };
  }
  return async (c, next) => {
    const ip = clientIp(c.env, c.req);
    let tenant: Tenant;
    let db: TenantDb;
    try {
      tenant = await resolveTenant(c, ip);
      db = tenantDatabase(c.env, tenant);
    } catch (error) {
      // Until a tenant is known there is no tenant bucket to charge: a failed resolution costs
      // the address one public token, so guessing tenant ids is throttled like discovery.
      if (error instanceof ApiError) await chargeQuota(c, { ip }, 1);
      throw error;
    }

    let principal: Principal = { type: 'anonymous', ip };
    let authFailure: unknown;
    if (access.auth !== 'none') {
      try {
        const token = bearerToken(c.req.header('Authorization'));
        if (token) {
          principal = await authenticateToken(
            c.env,
            token,
            tenant,
            issuerFor(c.env, c.req.url),
            presentedCertificate(c.req.raw.cf),
          );
        } else if (access.auth === 'required') throw new ApiError('authentication_required');
      } catch (error) {
        authFailure = error;
      }
    }
    await enterTenant(c, { tenant, db, principal }, access);
    if (authFailure) throw authFailure;

    if (access.capability) requireCapability(tenant, access.capability);
    if (access.permission) authorize(principal, access.permission, access);
    if (access.userSession && principal.type !== 'anonymous') requireUserPrincipal(principal);
    if (
      access.recentAuthSeconds !== undefined &&
      !(access.apiClientsSkipRecentAuth && principal.type === 'client')
    ) {
      requireRecentAuth(principal, access.recentAuthSeconds, new Date());
    }
    return next();
  };
}

/**
 * Makes `tenant` and `principal` the request's and charges the route's buckets that count per
 * tenant. The guard calls it once the caller is authenticated (or known to fail); /oauth/*,
 * whose tenant is the authenticating client's and not `X-Tenant-ID`, calls it from the handler.
 */
export async function enterTenant(
  c: Context<AppEnv>,
  { tenant, db, principal }: { tenant: Tenant; db: TenantDb; principal: Principal },
  access: Pick<RouteAccess, 'tenant' | 'rateLimit'>,
): Promise<void> {
  c.set('tenant', tenant);
  c.set('db', db);
  c.set('principal', principal);
  c.set('logger', c.get('logger').with({ tenant: tenant.id }));
  const { policies, cost } = routePolicies(access.tenant, access.rateLimit);
  const subject: RequestSubject = { ip: clientIp(c.env, c.req), tenant, principal };
  const charged = policies.filter((name) => rateLimitPolicies[name].per !== 'ip');
  const outcomes = await consumeRateLimits(
    c.env,
    charged.map((name) => bucketOf(name, subject)),
    cost,
  );
  charged.forEach((name, index) => {
    if (rateLimitPolicies[name].kind === 'quota') c.set('rateLimitHeaders', outcomes[index]?.headers);
  });
}

/** Synchronous when the address's lease serves the request: no promise for a steady caller. */
export function chargeQuota(c: Context<AppEnv>, subject: RequestSubject, cost: number): void | Promise<void> {
  const keep = ([outcome]: RateLimitOutcome[]) => c.set('rateLimitHeaders', outcome?.headers);
  const outcomes = consumeRateLimits(c.env, [bucketOf('public', subject)], cost);
  return outcomes instanceof Promise ? outcomes.then(keep) : keep(outcomes);
}

/**
 * The tenant `X-Tenant-ID` names. Only a well-formed id is looked up, and an address known to
 * have used up its public tokens cannot make the registry be read: it is refused before the
 * read, without a Durable Object call. Healthy requests pay nothing for either check.
 */
async function resolveTenant(c: Context<AppEnv>, ip: string): Promise<Tenant> {
  const tenantId = c.req.header('X-Tenant-ID');
  if (!tenantId) throw new ApiError('tenant_required');
  if (!isTenantId(tenantId)) {
    throw new ApiError('tenant_required', {
      detail: `X-Tenant-ID is not a tenant id: at most ${TENANT_ID_MAX_LENGTH} lower-case letters, digits and dashes.`,
    });
  }
  if (cachedTenant(tenantId) === undefined) {
    const refusal = knownRefusal(bucketOf('public', { ip }).key);
    if (refusal) throw refusal;
  }
  return requireActiveTenant(c.env, tenantId);
}

/**
 * Staff and API clients need the permission. Customers act only on self-service routes, where
 * services confine them to their own records; a third party acting for a customer (OAuth grant)
 * needs the permission in its granted scope as well.
 */
function authorize(principal: Principal, permission: Permission, access: RouteAccess): void {
  if (principal.type === 'user' && principal.userKind === 'CUSTOMER') {
    if (access.selfService && (principal.delegatedTo === null || principal.permissions.has(permission)))
      return;
  } else if (hasPermission(principal, permission)) {
    return;
  } else if (principal.type === 'anonymous' && access.auth === 'optional') {
    return;
  }
  throw new ApiError('forbidden', {
    detail: `This operation needs the permission '${permission}'.`,
    extensions: { permission },
  });
}
