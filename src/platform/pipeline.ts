import type { Context, MiddlewareHandler } from 'hono';
import { readConfig } from '../env';
import { authenticateToken, bearerToken } from './auth/authenticate';
import type { ActsOnTarget } from './auth/escalation';
import type { Permission } from './auth/permissions';
import { hasPermission, type Principal, principalKey, requireUserPrincipal } from './auth/principal';
import { requireRecentAuth } from './auth/recent-auth';
import type { AppEnv } from './context';
import { timingSafeEqual } from './crypto';
import { ApiError } from './errors';
import { consumeRateLimit, knownRefusal } from './rate-limit/limiter';
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

/** Requests per minute per IP on routes without a tenant (discovery, operator, OAuth token). */
export const PUBLIC_RATE_LIMIT_PER_MINUTE = 600;

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
 * Per-IP limits, stricter than the tenant's, on routes that check a secret (password, code):
 * they bound guessing across accounts, where the account lockout bounds it per account.
 */
export const bruteForcePolicies = {
  login: { capacity: 20, windowSeconds: 60 },
  'password-reset': { capacity: 5, windowSeconds: 60 },
  'code-verification': { capacity: 10, windowSeconds: 60 },
} as const;
export type BruteForcePolicy = keyof typeof bruteForcePolicies;

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
  /** The per-IP limit against guessing secrets (see `bruteForcePolicies`). */
  bruteForce?: BruteForcePolicy;
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
  const candidates = [headers.header('CF-Connecting-IP')];
  if (readConfig(env).environment !== 'production') {
    candidates.push(headers.header('X-Forwarded-For')?.split(',')[0]?.trim());
  }
  return candidates.find((value) => value !== undefined && IP_LITERAL.test(value)) ?? 'unknown';
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
  return async (c, next) => {
    if (!access.tenant) {
      // Routes without a tenant are limited per client IP: they answer with RateLimit headers
      // like every other route, and the operator token cannot be guessed at speed.
      await consumePublicLimit(c);
      if (access.auth === 'platform-admin') {
        const token = bearerToken(c.req.header('Authorization'));
        if (!token) throw new ApiError('authentication_required');
        if (!timingSafeEqual(token, c.env.PLATFORM_ADMIN_TOKEN)) throw new ApiError('invalid_token');
      }
      return next();
    }

    let tenant: Tenant;
    try {
      tenant = await resolveTenant(c);
      c.set('db', tenantDatabase(c.env, tenant));
    } catch (error) {
      // Until a tenant is known there is no tenant bucket to charge: a failed resolution costs
      // the address its public tokens, so guessing tenant ids is throttled like discovery.
      if (error instanceof ApiError) await consumePublicLimit(c);
      throw error;
    }
    c.set('tenant', tenant);
    c.set('logger', c.get('logger').with({ tenant: tenant.id }));

    const anonymous: Principal = { type: 'anonymous', ip: clientIp(c.env, c.req) };
    let principal: Principal = anonymous;
    let authFailure: unknown;
    if (access.auth !== 'none') {
      try {
        const token = bearerToken(c.req.header('Authorization'));
        if (token) principal = await authenticateToken(c.env, token, tenant, issuerFor(c.env, c.req.url));
        else if (access.auth === 'required') throw new ApiError('authentication_required');
      } catch (error) {
        authFailure = error;
      }
    }
    c.set('principal', principal);

    const { headers } = await consumeRateLimit(
      c.env,
      tenant.tier.toLowerCase(),
      `${tenant.id}:${principalKey(principal)}`,
      {
        capacity: tenant.rateLimitPerMinute,
        windowSeconds: 60,
      },
    );
    c.set('rateLimitHeaders', headers);
    if (access.bruteForce) {
      await consumeRateLimit(
        c.env,
        access.bruteForce,
        `${tenant.id}:${access.bruteForce}:${clientIp(c.env, c.req)}`,
        bruteForcePolicies[access.bruteForce],
      );
    }
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

const publicBucket = (c: Context<AppEnv>) => `public:${clientIp(c.env, c.req)}`;

async function consumePublicLimit(c: Context<AppEnv>): Promise<void> {
  const { headers } = await consumeRateLimit(c.env, 'public', publicBucket(c), {
    capacity: PUBLIC_RATE_LIMIT_PER_MINUTE,
    windowSeconds: 60,
  });
  c.set('rateLimitHeaders', headers);
}

/**
 * The tenant `X-Tenant-ID` names. Only a well-formed id is looked up, and an address known to
 * have used up its public tokens cannot make the registry be read: it is refused before the
 * read, without a Durable Object call. Healthy requests pay nothing for either check.
 */
async function resolveTenant(c: Context<AppEnv>): Promise<Tenant> {
  const tenantId = c.req.header('X-Tenant-ID');
  if (!tenantId) throw new ApiError('tenant_required');
  if (!isTenantId(tenantId)) {
    throw new ApiError('tenant_required', {
      detail: `X-Tenant-ID is not a tenant id: at most ${TENANT_ID_MAX_LENGTH} lower-case letters, digits and dashes.`,
    });
  }
  if (cachedTenant(tenantId) === undefined) {
    const refusal = knownRefusal(publicBucket(c));
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
