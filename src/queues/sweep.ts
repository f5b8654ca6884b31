import type { TenantDb } from '../db/client';
import { controlDb } from '../db/client';
import { tenants } from '../db/control';
import { type Env, readConfig } from '../env';
import { expireDocuments, sweepDocuments } from '../modules/documents/lifecycle';
import {
  expireVerifications,
  monitorVerifications,
  pollStuckVerifications,
} from '../modules/verifications/crons';
import { sweepVerificationJobs } from '../modules/verifications/jobs';
import { sweepUnenqueuedDeliveries } from '../modules/webhooks/delivery';
import { sweepUnenqueuedEvents } from '../platform/events';
import { createLogger, type LogLevel } from '../platform/logger';
import { type Tenant, tenantDatabase, tenantFromRow } from '../platform/tenancy';

/** The daily cron of wrangler.toml; every other schedule is the minute sweep. */
export const DAILY_CRON = '0 3 * * *';

type TenantTask = (env: Env, tenant: Tenant, db: TenantDb, now: Date) => Promise<number>;

/** Runs `task` for every registered tenant; what it handled, per tenant. */
async function forEveryTenant(env: Env, name: string, now: Date, task: TenantTask) {
  const logger = createLogger(readConfig(env).logLevel as LogLevel, { task: name });
  const rows = await controlDb(env.CONTROL_DB).select().from(tenants);
  const handled: Record<string, number> = {};
  for (const row of rows) {
    const tenant = tenantFromRow(row);
    try {
      handled[tenant.id] = await task(env, tenant, tenantDatabase(env, tenant), now);
    } catch (error) {
      // One tenant without a bound database must not stop the sweep of the others.
      logger.warn(`${name}_failed`, {
        tenant: tenant.id,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return handled;
}

/**
 * The cron's safety net: enqueues outbox events, webhook deliveries, document scans and
 * verification jobs whose push after the response failed, removes objects of deleted
 * documents left behind, and polls providers for verifications stuck IN_PROGRESS.
 */
export function sweepOutboxes(env: Env, now = new Date()): Promise<Record<string, number>> {
  return forEveryTenant(env, 'outbox_sweep', now, async (env, tenant, db, now) => {
    return (
      (await sweepUnenqueuedEvents(env, db, tenant.id, now)) +
      (await sweepUnenqueuedDeliveries(env, db, tenant.id, now)) +
      (await sweepDocuments(env, tenant, db, now)) +
      (await sweepVerificationJobs(env, db, tenant.id, now)) +
      (await pollStuckVerifications(env, tenant, db, now))
    );
  });
}

/**
 * The daily cron: documents past their expiry date become EXPIRED, approved verifications get
 * their expiry notices, and ongoing monitoring re-screens the customers due.
 */
export function runDailyTasks(env: Env, now = new Date()): Promise<Record<string, number>> {
  return forEveryTenant(env, 'daily_tasks', now, async (env, tenant, db, now) => {
    return (
      (await expireDocuments(env, tenant, db, now)) +
      (await expireVerifications(env, tenant, db, now)) +
      (await monitorVerifications(env, tenant, db, now))
    );
  });
}
