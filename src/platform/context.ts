import type { TenantDb } from '../db/client';
import type { Env } from '../env';
import type { Principal } from './auth/principal';
import type { Logger } from './logger';
import type { Tenant } from './tenancy';

/** Hono's type parameters for every router of the app. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    logger: Logger;
    tenant: Tenant;
    db: TenantDb;
    principal: Principal;
    /** Set by the rate limiter; applied to whatever response the request ends with, errors included. */
    rateLimitHeaders?: Record<string, string>;
  };
}

/**
 * What a service needs to do its work. Built by the HTTP layer, a queue consumer or a script:
 * services never see Hono's Context, so all three reuse them.
 */
export interface ServiceContext {
  env: Env;
  tenant: Tenant;
  db: TenantDb;
  actor: Principal;
  now: Date;
  requestId: string;
  /** `iss` and `aud` of the tokens this deployment issues: `<origin>/v2/customer`. */
  issuer: string;
  ip?: string;
  userAgent?: string;
  /** The structured logger of the request (or job), carrying its request id and tenant. */
  logger: Logger;
  /** Work that may finish after the response (publishing outbox rows); the cron sweep is its safety net. */
  waitUntil(promise: Promise<unknown>): void;
}
