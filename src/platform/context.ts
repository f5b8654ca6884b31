import type { TenantDb } from '../db/client';
import { type Env, readConfig } from '../env';
import { type Principal, systemPrincipal } from './auth/principal';
import { newId } from './ids';
import { createLogger, type Logger, type LogLevel } from './logger';
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
    /** Set by the idempotency middleware: the customers the request's commits were about. */
    committedAbout?: string[];
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
  /**
   * Told, after each commit, which customers its events are about (`events.subject_id`): an
   * idempotent request's stored reply is tied to them, so their erasure deletes it.
   */
  committedAbout?(customerIds: string[]): void;
  /** The structured logger of the request (or job), carrying its request id and tenant. */
  logger: Logger;
  /** Work that may finish after the response (publishing outbox rows); the cron sweep is its safety net. */
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * The context of work no request started (queue consumers, the cron): the system is the actor.
 * `settle()` waits for what it deferred before the work ends; as after a response, a deferred
 * push that fails is left to the cron sweep. Such work issues no tokens, hence no issuer.
 */
export function systemContext(
  env: Env,
  tenant: Tenant,
  db: TenantDb,
  now = new Date(),
): ServiceContext & { settle(): Promise<void> } {
  const deferred: Promise<unknown>[] = [];
  const requestId = newId('request', now.getTime());
  return {
    env,
    tenant,
    db,
    actor: systemPrincipal,
    now,
    requestId,
    issuer: '',
    logger: createLogger(readConfig(env).logLevel as LogLevel, { requestId, tenant: tenant.id }),
    waitUntil: (promise) => deferred.push(promise),
    settle: async () => {
      await Promise.allSettled(deferred);
    },
  };
}
