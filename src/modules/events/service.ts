import { and, desc, eq, lt } from 'drizzle-orm';
import { events } from '../../db/tenant';
import type { ServiceContext } from '../../platform/context';
import { notFound } from '../../platform/errors';
import { type EventType, openEvents, redactSecrets } from '../../platform/events';
import { createdRange, decodeCursor, toPage } from '../../platform/pagination';
import type { EventListQuery, EventView } from './schemas';

export function presentEvent(row: typeof events.$inferSelect): EventView {
  const type = row.type as EventType;
  const data = redactSecrets(type, row.data);
  return { id: row.id, type, createdAt: row.createdAt, tenantId: row.tenantId, data };
}

export async function listEvents(
  ctx: ServiceContext,
  query: EventListQuery,
): Promise<{ data: EventView[]; nextCursor: string | null }> {
  const after = decodeCursor(query.cursor, 'evt');
  const rows = await ctx.db
    .select()
    .from(events)
    .where(
      and(
        eq(events.tenantId, ctx.tenant.id),
        after ? lt(events.id, after) : undefined,
        query.type ? eq(events.type, query.type) : undefined,
        ...createdRange(events.createdAt, query),
      ),
    )
    .orderBy(desc(events.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit);
  const opened = await openEvents(ctx.db, ctx.env.FIELD_ENCRYPTION_KEY, ctx.tenant.id, page.data);
  return { data: opened.map(presentEvent), nextCursor: page.nextCursor };
}

export async function getEvent(ctx: ServiceContext, eventId: string): Promise<EventView> {
  const row = await ctx.db
    .select()
    .from(events)
    .where(and(eq(events.tenantId, ctx.tenant.id), eq(events.id, eventId)))
    .get();
  if (!row) throw notFound('event');
  const [opened = row] = await openEvents(ctx.db, ctx.env.FIELD_ENCRYPTION_KEY, ctx.tenant.id, [row]);
  return presentEvent(opened);
}
