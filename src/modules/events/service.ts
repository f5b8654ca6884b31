import { and, desc, eq, lt } from 'drizzle-orm';
import { events } from '../../db/tenant';
import type { ServiceContext } from '../../platform/context';
import { notFound } from '../../platform/errors';
import type { EventType } from '../../platform/events';
import { createdRange, decodeCursor, toPage } from '../../platform/pagination';
import type { EventListQuery, EventView } from './schemas';

function presentEvent(row: typeof events.$inferSelect): EventView {
  return {
    id: row.id,
    type: row.type as EventType,
    createdAt: row.createdAt,
    tenantId: row.tenantId,
    data: row.data,
  };
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
  return { data: page.data.map(presentEvent), nextCursor: page.nextCursor };
}

export async function getEvent(ctx: ServiceContext, eventId: string): Promise<EventView> {
  const row = await ctx.db
    .select()
    .from(events)
    .where(and(eq(events.tenantId, ctx.tenant.id), eq(events.id, eventId)))
    .get();
  if (!row) throw notFound('event');
  return presentEvent(row);
}
