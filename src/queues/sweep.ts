import { controlDb } from '../db/client';
import { tenants } from '../db/control';
import { type Env, readConfig } from '../env';
import { sweepVerificationJobs } from '../modules/verifications/jobs';
import { sweepUnenqueuedDeliveries } from '../modules/webhooks/delivery';
import { sweepUnenqueuedEvents } from '../platform/events';
import { createLogger, type LogLevel } from '../platform/logger';
import { tenantDatabase, tenantFromRow } from '../platform/tenancy';

/** The cron's safety net: enqueues outbox events and webhook deliveries whose push after the response failed. */
export async function sweepOutboxes(env: Env, now = new Date()): Promise<Record<string, number>> {
  const logger = createLogger(readConfig(env).logLevel as LogLevel, { task: 'outbox_sweep' });
  const rows = await controlDb(env.CONTROL_DB).select().from(tenants);
  const swept: Record<string, number> = {};
  for (const row of rows) {
    const tenant = tenantFromRow(row);
    try {
      const db = tenantDatabase(env, tenant);
      swept[tenant.id] =
        (await sweepUnenqueuedEvents(env, db, tenant.id, now)) +
        (await sweepUnenqueuedDeliveries(env, db, tenant.id, now)) +
        (await sweepVerificationJobs(env, db, tenant.id, now));
    } catch (error) {
      // One tenant without a bound database must not stop the sweep of the others.
      logger.warn('outbox_sweep_failed', {
        tenant: tenant.id,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return swept;
}
