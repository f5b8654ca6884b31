import { z } from '@hono/zod-openapi';
import { type AnyColumn, gte, lt, type SQL, sql } from 'drizzle-orm';
import { base64UrlDecode, base64UrlEncode } from './crypto';
import { ApiError } from './errors';

export const paginationQuery = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .openapi({ description: 'Page size, 1–100.', example: 20, format: 'int32' }),
  cursor: z.string().max(512).optional().openapi({
    description: 'Opaque cursor from the previous page’s `nextCursor`.',
    example: 'eyJpZCI6ImN1c18wMWpkIn0',
  }),
};

export function pageSchema<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({
      data: z.array(item).max(100).openapi({ description: 'The items of this page, newest first.' }),
      nextCursor: z.string().max(512).nullable().openapi({
        description: 'Pass as `cursor` to get the next page; null on the last page.',
        example: null,
      }),
    })
    .openapi(name);
}

/** Cursors carry the last id seen; ids are time-ordered, so `id < cursor` is "older than". */
export function encodeCursor(lastId: string): string {
  return base64UrlEncode(new TextEncoder().encode(JSON.stringify({ after: lastId })));
}

export function decodeCursor(cursor: string | undefined, idPrefix: string): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = JSON.parse(new TextDecoder().decode(base64UrlDecode(cursor))) as { after?: unknown };
    if (typeof parsed.after === 'string' && parsed.after.startsWith(`${idPrefix}_`)) return parsed.after;
  } catch {
    // falls through to the problem below
  }
  throw new ApiError('invalid_cursor');
}

/** Callers fetch `limit + 1` rows; the extra one only tells whether another page exists. */
export function toPage<T extends { id: string }>(
  rows: T[],
  limit: number,
): { data: T[]; nextCursor: string | null };
export function toPage<T>(
  rows: T[],
  limit: number,
  idOf: (row: T) => string,
): { data: T[]; nextCursor: string | null };
export function toPage<T>(
  rows: T[],
  limit: number,
  idOf: (row: T) => string = (row) => (row as { id: string }).id,
): { data: T[]; nextCursor: string | null } {
  const data = rows.slice(0, limit);
  const last = data.at(-1);
  return { data, nextCursor: rows.length > limit && last ? encodeCursor(idOf(last)) : null };
}

/** The time-range filter of list routes: `createdFrom` inclusive, `createdTo` exclusive. */
export const createdRangeQuery = {
  createdFrom: z.iso.datetime({ offset: true }).optional().openapi({
    description: 'Created at or after (ISO 8601).',
    example: '2026-01-01T00:00:00Z',
    maxLength: 40,
  }),
  createdTo: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ description: 'Created before (ISO 8601).', example: '2026-12-31T00:00:00Z', maxLength: 40 }),
};

/** Stored timestamps are ISO strings in UTC, so the bounds are normalised to the same form. */
export function createdRange(
  column: AnyColumn,
  query: { createdFrom?: string; createdTo?: string },
): (SQL | undefined)[] {
  return [
    query.createdFrom ? gte(column, new Date(query.createdFrom).toISOString()) : undefined,
    query.createdTo ? lt(column, new Date(query.createdTo).toISOString()) : undefined,
  ];
}

/**
 * The `q` filter of listings: a case-insensitive (ASCII, as SQLite's `lower`) substring match with
 * the term taken literally. Not LIKE: D1 refuses LIKE patterns over 50 bytes, and terms may be longer.
 */
export function containsText(column: AnyColumn, term: string): SQL {
  return sql`instr(lower(${column}), lower(${term})) > 0`;
}
