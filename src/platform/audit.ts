import { rowInsert } from '../db/built-once';
import { auditEvents } from '../db/tenant';
import { actorId } from './auth/principal';
import type { ServiceContext } from './context';
import { newId } from './ids';

export interface AuditEntry {
  action: string;
  targetType: string;
  targetId: string;
  data?: Record<string, unknown>;
}

export function auditStatement(ctx: ServiceContext, entry: AuditEntry) {
  return insertAudit(ctx, {
    id: newId('audit', ctx.now.getTime()),
    tenantId: ctx.tenant.id,
    actorType: ctx.actor.type,
    actorId: actorId(ctx.actor),
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId,
    requestId: ctx.requestId,
    ip: ctx.ip ?? null,
    data: entry.data ?? {},
    createdAt: ctx.now.toISOString(),
  });
}

const insertAudit = rowInsert(auditEvents);
