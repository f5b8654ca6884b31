import { and, desc, eq, isNull, lt, sql } from 'drizzle-orm';
import { isUniqueViolation } from '../../db/client';
import { documentPrefix, sealPurposes } from '../../db/customer-data';
import { customers, documents, verificationDocuments } from '../../db/tenant';
import { actorId } from '../../platform/auth/principal';
import type { ServiceContext } from '../../platform/context';
import { ApiError, notFound } from '../../platform/errors';
import { newId } from '../../platform/ids';
import { decodeCursor, toPage } from '../../platform/pagination';
import {
  type CustomerKey,
  documentContentKey,
  loadCustomerKeys,
  seal,
  unseal,
} from '../../platform/personal-data';
import { commit, commitUnlessRefused, event } from '../../platform/unit-of-work';
import {
  assertCustomerVisible,
  assertOrganizationRole,
  type CustomerRow,
  commitUnlessErased,
  requireCustomerRow,
} from '../customers/service';
import {
  type ContentIds,
  decryptRange,
  encryptedStream,
  storedSpan,
  UnreadableContent,
} from './content-crypto';
import { parseRange } from './range';
import type { AcceptedMimeType, DocumentFields, DocumentType, DocumentView } from './schemas';
import type { UploadedFile } from './upload';

export type DocumentRow = typeof documents.$inferSelect;

interface Details {
  fileName: string | null;
  declaredMimeType: string | null;
  documentNumber: string | null;
}

/** Organization users who may see and handle the organization's documents. */
const documentRoles = ['ADMIN_USER', 'COMPLIANCE_OFFICER'];

/** The R2 key of a document: ids only. */
export function objectKey(row: Pick<DocumentRow, 'tenantId' | 'customerId' | 'id'>): string {
  return `${documentPrefix(row.tenantId, row.customerId)}${row.id}`;
}

function detailsPurpose(documentId: string): string {
  return `${sealPurposes.documentDetails}:${documentId}`;
}

function contentIds(row: Pick<DocumentRow, 'tenantId' | 'id'>): ContentIds {
  return { tenantId: row.tenantId, documentId: row.id };
}

/** The columns a view is made of: those the GDPR export reads too. */
type PresentedColumns = Omit<
  DocumentRow,
  'tenantId' | 'details' | 'deletionReason' | 'objectRemovedAt' | 'deletedAt'
>;

export function presentDocument(row: PresentedColumns, details: Details | null): DocumentView {
  return {
    id: row.id,
    customerId: row.customerId,
    documentType: row.documentType as DocumentType,
    status: row.status,
    rejectionReason: row.rejectionReason,
    scanStatus: row.scanStatus,
    scanner: row.scanner,
    mimeType: row.mimeType as AcceptedMimeType,
    size: row.size,
    sha256: row.sha256 ?? '',
    fileName: details?.fileName ?? null,
    declaredMimeType: details?.declaredMimeType ?? null,
    issuingCountry: row.issuingCountry,
    documentNumberLast4: details?.documentNumber?.slice(-4) ?? null,
    expiresAt: row.expiresAt,
    uploadedBy: row.uploadedBy,
    uploadedAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export async function openDetails(
  key: CustomerKey | undefined,
  tenantId: string,
  row: Pick<DocumentRow, 'id' | 'details'>,
): Promise<Details | null> {
  if (!key || row.details === null) return null;
  return unseal<Details>(key, tenantId, detailsPurpose(row.id), row.details);
}

async function customerKey(ctx: ServiceContext, customerId: string): Promise<CustomerKey> {
  const key = (await loadCustomerKeys(ctx.db, ctx.env.FIELD_ENCRYPTION_KEY, ctx.tenant.id, [customerId])).get(
    customerId,
  );
  if (!key) throw notFound('document');
  return key;
}

/**
 * The customer a caller may upload for: checked before the body is read, so nobody who may
 * not upload for that customer can make the worker read, hash or store a byte.
 */
export async function requireUploadTarget(ctx: ServiceContext, customerId: string): Promise<CustomerRow> {
  const customer = await requireCustomerRow(ctx, customerId);
  await assertOrganizationRole(ctx, customer, documentRoles, "upload the organization's documents");
  if (customer.status === 'CLOSED')
    throw new ApiError('customer_closed', { detail: 'The customer is closed.' });
  return customer;
}

function findDuplicate(ctx: ServiceContext, customerId: string, documentType: string, sha256: string) {
  return ctx.db
    .select({ id: documents.id })
    .from(documents)
    .where(
      and(
        eq(documents.tenantId, ctx.tenant.id),
        eq(documents.customerId, customerId),
        eq(documents.documentType, documentType),
        eq(documents.sha256, sha256),
        isNull(documents.deletionReason),
      ),
    )
    .get();
}

function duplicate(existingId: string): ApiError {
  return new ApiError('document_duplicate', {
    detail: `The customer already has this file as a document of this type: ${existingId}.`,
    extensions: { existingId },
  });
}

/**
 * Stores an uploaded document: the bytes encrypted in R2 first, then the row, its audit entry
 * and event in one batch. The unique index on (customer, type, SHA-256) decides between two
 * identical uploads racing; the loser removes its object. Scanning follows from the queue.
 */
export async function storeDocument(
  ctx: ServiceContext,
  customer: CustomerRow,
  fields: DocumentFields,
  file: UploadedFile,
): Promise<DocumentView> {
  const known = await findDuplicate(ctx, customer.id, fields.documentType, file.sha256);
  if (known) throw duplicate(known.id);
  const now = ctx.now.toISOString();
  const details: Details = {
    fileName: file.fileName,
    declaredMimeType: file.declaredMimeType,
    documentNumber: fields.documentNumber ?? null,
  };
  const id = newId('document', ctx.now.getTime());
  const row: DocumentRow = {
    id,
    tenantId: ctx.tenant.id,
    customerId: customer.id,
    documentType: fields.documentType,
    status: 'UPLOADED',
    rejectionReason: null,
    scanStatus: 'PENDING',
    scanner: null,
    scannedAt: null,
    mimeType: file.mimeType,
    size: file.size,
    sha256: file.sha256,
    issuingCountry: fields.issuingCountry ?? null,
    details: await seal(customer.key, ctx.tenant.id, detailsPurpose(id), details),
    expiresAt: fields.expiresAt ?? null,
    uploadedBy: actorId(ctx.actor),
    createdAt: now,
    updatedAt: now,
    deletedAt: null,
    deletionReason: null,
    objectRemovedAt: null,
  };
  const key = await documentContentKey(customer.key, ctx.tenant.id, id);
  const { stream, written } = encryptedStream(key, contentIds(row), file.pieces, file.size);
  await Promise.all([
    ctx.env.DOCUMENTS.put(objectKey(row), stream, {
      httpMetadata: { contentType: 'application/octet-stream' },
      customMetadata: { format: 'fincore-document-v1', size: String(file.size) },
    }),
    written,
  ]);
  try {
    await commitUnlessErased(ctx, customer.id, {
      statements: [ctx.db.insert(documents).values(row)],
      audit: [
        {
          action: 'document.uploaded',
          targetType: 'customer',
          targetId: customer.id,
          data: { documentId: id, documentType: row.documentType, size: row.size },
        },
      ],
      events: [
        event('document.uploaded', {
          customerId: customer.id,
          documentId: id,
          documentType: row.documentType,
        }),
      ],
    });
  } catch (error) {
    await ctx.env.DOCUMENTS.delete(objectKey(row));
    if (isUniqueViolation(error)) {
      const winner = await findDuplicate(ctx, customer.id, fields.documentType, file.sha256);
      if (winner) throw duplicate(winner.id);
    }
    throw error;
  }
  ctx.waitUntil(
    ctx.env.DOCUMENT_QUEUE.send({ kind: 'document.scan', tenantId: ctx.tenant.id, documentId: id }),
  );
  return presentDocument(row, details);
}

/** A document the caller may see, not deleted; else 404, whoever's it is. */
export async function requireDocumentRow(
  ctx: ServiceContext,
  documentId: string,
  action = 'read the organization’s documents',
): Promise<DocumentRow> {
  const row = await ctx.db
    .select()
    .from(documents)
    .where(
      and(
        eq(documents.tenantId, ctx.tenant.id),
        eq(documents.id, documentId),
        isNull(documents.deletionReason),
      ),
    )
    .get();
  if (!row) throw notFound('document');
  try {
    assertCustomerVisible(ctx, row.customerId);
  } catch {
    throw notFound('document');
  }
  await assertOrganizationRole(
    ctx,
    { id: row.customerId, type: await customerType(ctx, row.customerId) },
    documentRoles,
    action,
  );
  return row;
}

async function customerType(ctx: ServiceContext, customerId: string): Promise<'INDIVIDUAL' | 'BUSINESS'> {
  const customer = await ctx.db
    .select({ type: customers.type })
    .from(customers)
    .where(and(eq(customers.tenantId, ctx.tenant.id), eq(customers.id, customerId)))
    .get();
  return customer?.type ?? 'INDIVIDUAL';
}

export async function getDocument(ctx: ServiceContext, documentId: string): Promise<DocumentView> {
  const row = await requireDocumentRow(ctx, documentId);
  return presentDocument(row, await openDetails(await customerKey(ctx, row.customerId), ctx.tenant.id, row));
}

export async function listDocuments(
  ctx: ServiceContext,
  customerId: string,
  query: { limit: number; cursor?: string; documentType?: DocumentType; status?: DocumentRow['status'] },
): Promise<{ data: DocumentView[]; nextCursor: string | null }> {
  const customer = await requireCustomerRow(ctx, customerId);
  await assertOrganizationRole(ctx, customer, documentRoles, "read the organization's documents");
  const after = decodeCursor(query.cursor, 'doc');
  const rows = await ctx.db
    .select()
    .from(documents)
    .where(
      and(
        eq(documents.tenantId, ctx.tenant.id),
        eq(documents.customerId, customerId),
        isNull(documents.deletionReason),
        query.documentType ? eq(documents.documentType, query.documentType) : undefined,
        query.status ? eq(documents.status, query.status) : undefined,
        after ? lt(documents.id, after) : undefined,
      ),
    )
    .orderBy(desc(documents.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit);
  return {
    data: await Promise.all(
      page.data.map(async (row) => presentDocument(row, await openDetails(customer.key, ctx.tenant.id, row))),
    ),
    nextCursor: page.nextCursor,
  };
}

/** Removes a document's object and records it; the sweep retries whatever fails here. */
export async function removeObject(ctx: Pick<ServiceContext, 'env' | 'db'>, row: DocumentRow, now: Date) {
  await ctx.env.DOCUMENTS.delete(objectKey(row));
  await ctx.db
    .update(documents)
    .set({ objectRemovedAt: now.toISOString() })
    .where(and(eq(documents.tenantId, row.tenantId), eq(documents.id, row.id)));
}

/**
 * Deletes a document: the row stays as a tombstone, the object goes. Refused (409) while a
 * verification refers to it: the statement itself checks `verification_documents`, so a
 * verification linking it meanwhile makes the batch fail instead of losing its evidence. A
 * submit links the documents its attempt relies on (src/modules/verifications/document-facts.ts),
 * so open and approved verifications hold theirs, and a rejected one keeps its evidence as the
 * due-diligence record; a re-submission links the corrected documents instead.
 */
export async function deleteDocument(ctx: ServiceContext, documentId: string): Promise<void> {
  const row = await requireDocumentRow(ctx, documentId, "delete the organization's documents");
  const now = ctx.now.toISOString();
  const referenced = sql`EXISTS (SELECT 1 FROM ${verificationDocuments} WHERE ${verificationDocuments.tenantId} = ${documents.tenantId} AND ${verificationDocuments.documentId} = ${documents.id})`;
  await commitUnlessRefused(
    ctx,
    {
      statements: [
        ctx.db
          .update(documents)
          .set({
            deletedAt: now,
            deletionReason: 'DELETED',
            updatedAt: sql`CASE WHEN ${documents.deletionReason} IS NULL AND NOT ${referenced} THEN ${now} END`,
          })
          .where(and(eq(documents.tenantId, ctx.tenant.id), eq(documents.id, documentId))),
      ],
      audit: [
        {
          action: 'document.deleted',
          targetType: 'customer',
          targetId: row.customerId,
          data: { documentId, documentType: row.documentType },
        },
      ],
      events: [
        event('document.deleted', { customerId: row.customerId, documentId, documentType: row.documentType }),
      ],
    },
    {
      violates: 'documents.updated_at',
      refusal: () =>
        new ApiError('document_in_use', {
          detail:
            'A verification relies on this document; it cannot be deleted while the verification is open or approved.',
        }),
    },
  );
  await removeObject(ctx, row, ctx.now);
}

export interface ContentRequest {
  method: 'GET' | 'HEAD';
  ifNoneMatch?: string;
  range?: string;
}

/** RFC 6266: an ASCII fallback and the UTF-8 name, percent-encoded (RFC 8187). */
function contentDisposition(fileName: string | null, documentId: string, mimeType: string): string {
  const extension = { 'application/pdf': 'pdf', 'image/jpeg': 'jpg', 'image/png': 'png' }[mimeType] ?? 'bin';
  const name = fileName ?? `${documentId}.${extension}`;
  const ascii = name.replace(/[^\x20-\x7e]|["\\%;]/g, '_');
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

function matchesETag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header
    .split(',')
    .map((candidate) => candidate.trim().replace(/^W\//, ''))
    .some((candidate) => candidate === '*' || candidate === etag);
}

/**
 * The document's bytes, decrypted as they stream: the whole file, or the one range asked for
 * (only the chunks it touches are read and decrypted). Served so a browser never renders it
 * (attachment, nosniff, CSP sandbox) nor keeps it (no-store). A download is audited before a
 * byte leaves; the first chunk is decrypted before the answer starts, so a tampered or moved
 * object is a clean 500 `document_unreadable`, and one failing later ends the stream short.
 */
export async function readDocumentContent(
  ctx: ServiceContext,
  documentId: string,
  request: ContentRequest,
): Promise<Response> {
  const row = await requireDocumentRow(ctx, documentId);
  if (row.objectRemovedAt !== null || row.sha256 === null) throw notFound('document content');
  const key = await customerKey(ctx, row.customerId);
  const etag = `"${row.sha256}"`;
  const headers = new Headers({
    ETag: etag,
    'Cache-Control': 'private, no-store',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': 'sandbox',
    'Accept-Ranges': 'bytes',
  });
  if (matchesETag(request.ifNoneMatch, etag)) return new Response(null, { status: 304, headers });
  const range = parseRange(request.range, row.size);
  if (range.kind === 'unsatisfiable') {
    throw new ApiError('range_not_satisfiable', {
      detail: `The document has ${row.size} bytes.`,
      headers: { 'Content-Range': `bytes */${row.size}` },
    });
  }
  const { start, end } = range.kind === 'part' ? range : { start: 0, end: row.size - 1 };
  const length = end - start + 1;
  headers.set('Content-Type', row.mimeType);
  headers.set('Content-Length', String(length));
  headers.set(
    'Content-Disposition',
    contentDisposition((await openDetails(key, ctx.tenant.id, row))?.fileName ?? null, row.id, row.mimeType),
  );
  const status = range.kind === 'part' ? 206 : 200;
  if (range.kind === 'part') headers.set('Content-Range', `bytes ${start}-${end}/${row.size}`);
  if (request.method === 'HEAD') return new Response(null, { status, headers });

  const span = storedSpan(start, end, row.size);
  const stored = await ctx.env.DOCUMENTS.get(objectKey(row), {
    range: { offset: span.offset, length: span.length },
  });
  if (!stored) throw notFound('document content');
  const plaintext = decryptRange(
    await documentContentKey(key, ctx.tenant.id, row.id),
    contentIds(row),
    stored.body,
    {
      start,
      end,
      size: row.size,
    },
  );
  let first: IteratorResult<Uint8Array>;
  try {
    first = await plaintext.next();
  } catch (error) {
    if (error instanceof UnreadableContent) {
      throw new ApiError('document_unreadable', {
        detail: 'The stored document fails its integrity check.',
        cause: error,
      });
    }
    throw error;
  }
  await commit(ctx, {
    statements: [],
    audit: [
      {
        action: 'document.downloaded',
        targetType: 'customer',
        targetId: row.customerId,
        data: { documentId: row.id, ...(range.kind === 'part' ? { range: `${start}-${end}` } : {}) },
      },
    ],
    events: [],
  });
  const { readable, writable } = new FixedLengthStream(length);
  const pumping = (async () => {
    const writer = writable.getWriter();
    try {
      if (!first.done) await writer.write(first.value);
      for await (const piece of plaintext) await writer.write(piece);
      await writer.close();
    } catch (error) {
      ctx.logger.error('document_stream_failed', {
        documentId: row.id,
        error: error instanceof Error ? error.message : String(error),
      });
      await writer.abort(error).catch(() => undefined);
    }
  })();
  ctx.waitUntil(pumping);
  return new Response(readable, { status, headers });
}
