import { env } from 'cloudflare:test';
import { and, asc, eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { events } from '../../src/db/tenant';
import { type EventData, type EventType, openEvents } from '../../src/platform/events';
import { database, type TestTenant } from './factories';

/**
 * The tenant's outbox rows of one event type, oldest first, personal fields opened as webhook
 * deliveries open them.
 */
export async function eventsOfType<T extends EventType>(
  tenant: TestTenant,
  type: T,
): Promise<{ id: string; data: EventData<T> }[]> {
  const db = database(tenant);
  const rows = await db
    .select({ id: events.id, type: events.type, subjectId: events.subjectId, data: events.data })
    .from(events)
    .where(and(eq(events.tenantId, tenant.id), eq(events.type, type)))
    .orderBy(asc(events.id));
  const opened = await openEvents(db, env.FIELD_ENCRYPTION_KEY, tenant.id, rows);
  return opened.map(({ id, data }) => ({ id, data: data as EventData<T> }));
}

export type Notification = EventData<'notification.requested'>;

export async function notificationsFor(tenant: TestTenant, userId: string): Promise<Notification[]> {
  return (await eventsOfType(tenant, 'notification.requested'))
    .map((row) => row.data)
    .filter((data) => data.userId === userId);
}

/**
 * Waits for the `count`-th notification to a user (some are sent after the response) and
 * returns it with its secret: the `token` (password templates) or `code` (verification
 * templates) that the tenant's message would carry.
 */
export async function awaitNotification<S extends 'token' | 'code' = 'token'>(
  tenant: TestTenant,
  userId: string,
  count = 1,
  secret: S = 'token' as S,
): Promise<Notification & Record<S, string>> {
  await expect
    .poll(async () => (await notificationsFor(tenant, userId)).length, { timeout: 5000 })
    .toBe(count);
  const notification = (await notificationsFor(tenant, userId))[count - 1];
  if (typeof notification?.[secret] !== 'string') throw new Error(`no notification with a ${secret}`);
  return notification as Notification & Record<S, string>;
}
