import type { BatchItem } from 'drizzle-orm/batch';
import { isGuardViolation, isUniqueViolation } from '../db/client';
import { type AuditEntry, auditStatement } from './audit';
import type { ServiceContext } from './context';
import type { ApiError } from './errors';
import { type EventData, type EventType, handEventsOver, outboxEvent } from './events';
import type { CustomerKey } from './personal-data';
import { tenantChanged } from './tenant-memory';

export interface PendingEvent<T extends EventType = EventType> {
  type: T;
  data: EventData<T>;
  /** The data key of the customer the event is about, which seals its personal fields. */
  subject?: CustomerKey;
}

export function event<T extends EventType>(
  type: T,
  data: EventData<T>,
  subject?: CustomerKey,
): PendingEvent<T> {
  return { type, data, subject };
}

export interface Change {
  statements: BatchItem<'sqlite'>[];
  audit: AuditEntry[];
  events: PendingEvent[];
}

/** One change made of several, in order: each part's statements, audit rows and events. */
export function mergeChanges(...changes: readonly Change[]): Change {
  return {
    statements: changes.flatMap((change) => change.statements),
    audit: changes.flatMap((change) => change.audit),
    events: changes.flatMap((change) => change.events),
  };
}

/**
 * Commits a change, its audit rows and its outbox events in one D1 batch (D1 has no
 * interactive transactions): all of them land or none does. The events are then pushed to the
 * queue after the response, with no D1 write; the cron sweep sends again any not fanned out in time. What this isolate
 * remembers of the tenant's data (src/platform/tenant-memory.ts) is forgotten.
 */
export async function commit(
  ctx: ServiceContext,
  change: Change,
): Promise<{ eventIds: string[] /** The results of `change.statements`, in order. */; results: unknown[] }> {
  const outbox = await Promise.all(
    change.events.map((pending) =>
      outboxEvent(ctx.db, ctx.tenant.id, pending.type, pending.data as never, ctx.now, {
        subject: pending.subject,
      }),
    ),
  );
  const statements: BatchItem<'sqlite'>[] = [
    ...change.statements,
    ...change.audit.map((entry) => auditStatement(ctx, entry)),
    ...outbox.map((row) => row.statement),
  ];
  const [first, ...rest] = statements;
  if (!first) return { eventIds: [], results: [] };
  let results: unknown[];
  try {
    results = await ctx.db.batch([first, ...rest]);
  } finally {
    // Even when the batch failed: its outcome may be unknown, and forgetting costs a read.
    tenantChanged(ctx.tenant.id);
  }
  const eventIds = outbox.map((row) => row.id);
  ctx.committedAbout?.(outbox.flatMap((row) => (row.subjectId === null ? [] : [row.subjectId])));
  if (eventIds.length > 0) ctx.waitUntil(handEventsOver(ctx.env, ctx.tenant.id, eventIds));
  return { eventIds, results: results.slice(0, change.statements.length) };
}

/**
 * How a batch is refused when a precondition no longer holds, so a race cannot slip past a check
 * made before it. Either a statement of the batch writes NULL into a NOT NULL column (`CASE WHEN
 * <rule> THEN <value> END`, or a subquery that finds nothing) or a value a CHECK constraint
 * rejects (`violates`), or a row would duplicate one a unique index holds (`duplicates`). D1 rolls
 * the whole batch back, audit rows and events included.
 */
export type Guard = (
  | {
      /** The NOT NULL column (`table.column`) or the CHECK constraint the refused write violates. */
      violates: string;
    }
  | {
      /** A column (`table.column`) of the unique index or primary key the refused row duplicates. */
      duplicates: string;
    }
) & {
  /** What the caller is answered instead; it may read the state that made the write refuse. */
  refusal: () => ApiError | Promise<ApiError>;
};

function refusedBy(error: unknown, guard: Guard): boolean {
  return 'violates' in guard
    ? isGuardViolation(error, guard.violates)
    : isUniqueViolation(error, guard.duplicates);
}

/**
 * Commits a change guarded by `guards` (see `Guard`): a batch one of them refused throws that
 * guard's refusal; any other error propagates. The one place a guard's failure is mapped.
 */
export async function commitUnlessRefused(
  ctx: ServiceContext,
  change: Change,
  ...guards: readonly Guard[]
): Promise<Awaited<ReturnType<typeof commit>>> {
  try {
    return await commit(ctx, change);
  } catch (error) {
    const guard = guards.find((candidate) => refusedBy(error, candidate));
    if (guard) throw await guard.refusal();
    throw error;
  }
}
