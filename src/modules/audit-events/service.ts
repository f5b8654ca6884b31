import { and, desc, eq, lt } from 'drizzle-orm';
import { auditEvents } from '../../db/tenant';
import type { ServiceContext } from '../../platform/context';
import { createdRange, decodeCursor, toPage } from '../../platform/pagination';
import type { AuditEventListQuery, AuditEventView } from './schemas';

export function presentAuditEvent(row: typeof auditEvents.$inferSelect): AuditEventView {
  return { ...row, actorType: row.actorType as AuditEventView['actorType'] };
}

export async function listAuditEvents(
  ctx: ServiceContext,
  query: AuditEventListQuery,
): Promise<{ data: AuditEventView[]; nextCursor: string | null }> {
  const after = decodeCursor(query.cursor, 'aud');
  const rows = await ctx.db
    .select()
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.tenantId, ctx.tenant.id),
        after ? lt(auditEvents.id, after) : undefined,
        query.actorId ? eq(auditEvents.actorId, query.actorId) : undefined,
        query.action ? eq(auditEvents.action, query.action) : undefined,
        query.targetType ? eq(auditEvents.targetType, query.targetType) : undefined,
        query.targetId ? eq(auditEvents.targetId, query.targetId) : undefined,
        ...createdRange(auditEvents.createdAt, query),
      ),
    )
    .orderBy(desc(auditEvents.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit);
  return {
    data: page.data.map(presentAuditEvent),
    nextCursor: page.nextCursor,
  };
}
