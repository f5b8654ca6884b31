import { and, desc, eq } from 'drizzle-orm';
import { events } from '../../db/tenant';
import type { Env } from '../../env';
import { ApiError } from '../../platform/errors';
import { type EventData, openEvents } from '../../platform/events';
import { findTenant, tenantDatabase } from '../../platform/tenancy';
import type { InboxMessage, InboxQuery } from './schemas';

/** How far back a recipient filter looks: it applies after opening, since recipients are sealed. */
const SCANNED_MESSAGES = 200;

/**
 * The `notification.requested` events of a tenant as its receiver would get them: opened and
 * not redacted. Reads the event log, so it shows exactly what the outbox holds and adds nothing
 * to the request path of the routes that send codes and tokens.
 */
export async function listInbox(env: Env, query: InboxQuery): Promise<{ data: InboxMessage[] }> {
  const tenant = await findTenant(env, query.tenant);
  if (!tenant) throw new ApiError('not_found', { detail: `No tenant '${query.tenant}' is registered.` });
  const db = tenantDatabase(env, tenant);
  const rows = await db
    .select()
    .from(events)
    .where(and(eq(events.tenantId, tenant.id), eq(events.type, 'notification.requested')))
    .orderBy(desc(events.id))
    .limit(query.recipient ? SCANNED_MESSAGES : query.limit);
  const opened = await openEvents(db, env.FIELD_ENCRYPTION_KEY, tenant.id, rows);
  return {
    data: opened
      .map((row) => ({
        eventId: row.id,
        createdAt: row.createdAt,
        message: row.data as EventData<'notification.requested'>,
      }))
      .filter(({ message }) => query.recipient === undefined || message.recipient === query.recipient)
      .slice(0, query.limit),
  };
}
