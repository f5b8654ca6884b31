import { controlDb } from '../db/client';
import { tenants } from '../db/control';
import type { Env } from '../env';
import { sweepUnenqueuedEvents } from '../platform/events';
import { tenantDatabase, tenantFromRow } from '../platform/tenancy';

/** The cron's safety net: enqueues outbox rows whose push after the response failed. */
export async function sweepOutboxes(env: Env, now = new Date()): Promise<Record<string, number>> {
  const rows = await controlDb(env.CONTROL_DB).select().from(tenants);
  const swept: Record<string, number> = {};
  for (const row of rows) {
    const tenant = tenantFromRow(row);
    try {
      swept[tenant.id] = await sweepUnenqueuedEvents(env, tenantDatabase(env, tenant), tenant.id, now);
    } catch {
      swept[tenant.id] = -1;
    }
  }
  return swept;
}
