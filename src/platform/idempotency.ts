import { and, eq } from 'drizzle-orm';
import type { Context, MiddlewareHandler } from 'hono';
import type { TenantDb } from '../db/client';
import { sealPurposes } from '../db/customer-data';
import { idempotencyKeys } from '../db/tenant';
import { principalKey } from './auth/principal';
import type { AppEnv } from './context';
import { ApiError, validationError } from './errors';
import { decryptField, encryptField, type FieldContext, fieldDigest } from './field-encryption';
import { handleError } from './http';

const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** An in-flight claim older than this belongs to a request that died; it may be taken over. */
const IDEMPOTENCY_LOCK_MS = 60_000;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const REPLAYED_HEADERS = ['content-type', 'location'];

type Row = typeof idempotencyKeys.$inferSelect;

async function claim(db: TenantDb, row: typeof idempotencyKeys.$inferInsert): Promise<boolean> {
  const inserted = await db
    .insert(idempotencyKeys)
    .values(row)
    .onConflictDoNothing()
    .returning({ key: idempotencyKeys.key });
  return inserted.length > 0;
}

function keyFilter(tenantId: string, scope: string, key: string) {
  return and(
    eq(idempotencyKeys.tenantId, tenantId),
    eq(idempotencyKeys.scope, scope),
    eq(idempotencyKeys.key, key),
  );
}

function isStale(row: Row, now: Date): boolean {
  if (row.expiresAt <= now.toISOString()) return true;
  return row.state === 'IN_FLIGHT' && Date.parse(row.createdAt) < now.getTime() - IDEMPOTENCY_LOCK_MS;
}

/**
 * Stored replies can carry a customer's personal data (a registration answers with the profile),
 * so they are sealed under a key derived from the root key, bound to their caller and key.
 */
function replyContext(rootKey: string, tenantId: string, scope: string, key: string): FieldContext {
  return { rootKey, tenantId, purpose: sealPurposes.idempotencyReply, recordId: `${scope}:${key}` };
}

async function replay(rootKey: string, row: Row): Promise<Response> {
  const headers = new Headers(row.responseHeaders ?? {});
  headers.set('Idempotent-Replayed', 'true');
  const body =
    row.responseBody === null
      ? null
      : await decryptField(replyContext(rootKey, row.tenantId, row.scope, row.key), row.responseBody);
  return new Response(body, { status: row.responseStatus ?? 200, headers });
}

/**
 * `Idempotency-Key` for POSTs that change state: the first request claims the key (an atomic
 * insert, so of twenty parallel requests exactly one proceeds), later ones with the same body
 * get the stored answer, with another body 422, while the first is running 409. A 5xx releases
 * the key so the client can retry. The fingerprint is the method, path and body as text.
 */
export function idempotency(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.header('Idempotency-Key') === undefined) return next();
    return runIdempotently(c, `${c.req.method} ${c.req.path}\n${await c.req.text()}`, async () => {
      await next();
      return c.res;
    });
  };
}

/**
 * The idempotency rules around `run`, for a request whose fingerprint is `source`: what the
 * middleware does with the body as text, and what a route whose body is not text (an upload,
 * fingerprinted by its file's SHA-256 and its fields) calls from its handler once it has read it.
 * Without an `Idempotency-Key`, `run` just runs.
 */
export async function runIdempotently(
  c: Context<AppEnv>,
  source: string,
  run: () => Promise<Response>,
): Promise<Response> {
  const key = c.req.header('Idempotency-Key');
  if (key === undefined) return run();
  if (!KEY_PATTERN.test(key)) {
    throw validationError([
      { path: 'header.Idempotency-Key', message: 'must be 1–255 visible ASCII characters' },
    ]);
  }
  const db = c.get('db');
  const tenantId = c.get('tenant').id;
  const scope = principalKey(c.get('principal'));
  // Keyed, not a bare hash: bodies can hold passwords, and an unkeyed digest of a guessable
  // body could be brute-forced offline from the table.
  const fingerprint = await fieldDigest(
    {
      rootKey: c.env.FIELD_ENCRYPTION_KEY,
      tenantId,
      purpose: sealPurposes.idempotencyFingerprint,
      recordId: `${scope}:${key}`,
    },
    source,
  );
  const now = new Date();
  const row = {
    tenantId,
    scope,
    key,
    fingerprint,
    state: 'IN_FLIGHT' as const,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + IDEMPOTENCY_TTL_MS).toISOString(),
  };

  let claimed = await claim(db, row);
  if (!claimed) {
    const existing = await db
      .select()
      .from(idempotencyKeys)
      .where(keyFilter(tenantId, scope, key))
      .get();
    if (!existing || isStale(existing, now)) {
      if (existing) {
        await db
          .delete(idempotencyKeys)
          .where(and(keyFilter(tenantId, scope, key), eq(idempotencyKeys.createdAt, existing.createdAt)));
      }
      claimed = await claim(db, row);
    }
    if (!claimed) {
      const current = existing && !isStale(existing, now) ? existing : undefined;
      if (!current) throw new ApiError('idempotency_key_in_use');
      if (current.fingerprint !== fingerprint) throw new ApiError('idempotency_key_reused');
      if (current.state === 'IN_FLIGHT') throw new ApiError('idempotency_key_in_use');
      return replay(c.env.FIELD_ENCRYPTION_KEY, current);
    }
  }

  // The customers the request's commits are about, as their events name them: the stored
  // reply is filed under the first, and erasing it deletes the reply (src/db/customer-data.ts).
  const about: string[] = [];
  c.set('committedAbout', about);
  let response: Response;
  try {
    response = await run();
  } catch (error) {
    // A problem thrown past this point is answered by onError; a 4xx is stored like any other.
    response = handleError(error, c);
  }

  if (response.status >= 500) {
    await db.delete(idempotencyKeys).where(keyFilter(tenantId, scope, key));
    return response;
  }
  const responseHeaders: Record<string, string> = {};
  for (const name of REPLAYED_HEADERS) {
    const value = response.headers.get(name);
    if (value !== null) responseHeaders[name] = value;
  }
  const body = await response.clone().text();
  await db
    .update(idempotencyKeys)
    .set({
      state: 'COMPLETED',
      responseStatus: response.status,
      responseHeaders,
      responseBody: await encryptField(replyContext(c.env.FIELD_ENCRYPTION_KEY, tenantId, scope, key), body),
      subjectId: about[0] ?? null,
    })
    .where(keyFilter(tenantId, scope, key));
  return response;
}
