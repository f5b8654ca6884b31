import type { TenantDb } from '../db/client';
import { controlDb } from '../db/client';
import { tenants } from '../db/control';
import { type Env, readConfig } from '../env';
import { expireDocuments, sweepDocuments } from '../modules/documents/lifecycle';
import { sweepConsents } from '../modules/tpp-consents/service';
import { sweepTppCertificates } from '../modules/tpps/expiry';
import {
  expireVerifications,
  monitorVerifications,
  pollStuckVerifications,
} from '../modules/verifications/crons';
import { sweepVerificationJobs } from '../modules/verifications/jobs';
import { sweepUnenqueuedDeliveries } from '../modules/webhooks/delivery';
import { type ServiceContext, systemContext } from '../platform/context';
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

/** A service verb run as the system, its deferred outbox pushes awaited before the task ends. */
async function asSystem(
  env: Env,
  tenant: Tenant,
  db: TenantDb,
  now: Date,
  verb: (ctx: ServiceContext) => Promise<number>,
): Promise<number> {
  const ctx = systemContext(env, tenant, db, now);
  const handled = await verb(ctx);
  await ctx.settle();
  return handled;
}

/**
 * The cron's safety net: enqueues outbox events, webhook deliveries, document scans and
 * verification jobs whose push after the response failed, removes objects of deleted
 * documents left behind, and polls providers for verifications stuck IN_PROGRESS. It also
 * writes the lapses of TPP consents (enforced at use anyway), so their events go out and the
 * grants of expired ones end within a minute.
 */
export function sweepOutboxes(env: Env, now = new Date()): Promise<Record<string, number>> {
  return forEveryTenant(env, 'outbox_sweep', now, async (env, tenant, db, now) => {
    return (
      (await sweepUnenqueuedEvents(env, db, tenant.id, now)) +
      (await sweepUnenqueuedDeliveries(env, db, tenant.id, now)) +
      (await sweepDocuments(env, tenant, db, now)) +
      (await sweepVerificationJobs(env, db, tenant.id, now)) +
      (await pollStuckVerifications(env, tenant, db, now)) +
      (await asSystem(env, tenant, db, now, sweepConsents))
    );
  });
}

/**
 * The daily cron: documents past their expiry date become EXPIRED; approved verifications get
 * their expiry notices and ongoing monitoring re-screens the customers due; TPP certificates get
 * their expiry notices, and TPPs left without a valid one are suspended.
 */
export async function runDailyTasks(env: Env, now = new Date()): Promise<Record<string, number>> {
  // One pass per section, so a failure of one leaves the others done.
  const passes = [
    await forEveryTenant(env, 'document_expiry', now, expireDocuments),
    await forEveryTenant(
      env,
      'verification_expiry_and_monitoring',
      now,
      async (env, tenant, db, now) =>
        (await expireVerifications(env, tenant, db, now)) +
        (await monitorVerifications(env, tenant, db, now)),
    ),
    await forEveryTenant(env, 'tpp_certificate_expiry', now, (env, tenant, db, now) =>
      asSystem(env, tenant, db, now, sweepTppCertificates),
    ),
  ];
  const handled: Record<string, number> = {};
  for (const pass of passes) {
    for (const [tenant, count] of Object.entries(pass)) handled[tenant] = (handled[tenant] ?? 0) + count;
  }
  return handled;
}
