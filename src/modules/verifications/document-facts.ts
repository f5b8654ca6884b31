import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { documents, verificationDocuments } from '../../db/tenant';
import type { ServiceContext } from '../../platform/context';
import type { DocumentFact } from './requirements';

const documentFact = {
  documentId: documents.id,
  documentType: documents.documentType,
  status: documents.status,
  scanStatus: documents.scanStatus,
  expiresAt: documents.expiresAt,
};

/**
 * The documents a customer holds (not deleted), as the requirements engine sees them: newest
 * first, so a document uploaded to correct one a verification could not use is the one relied on.
 */
export async function loadDocumentFacts(ctx: ServiceContext, customerId: string): Promise<DocumentFact[]> {
  return ctx.db
    .select(documentFact)
    .from(documents)
    .where(
      and(
        eq(documents.tenantId, ctx.tenant.id),
        eq(documents.customerId, customerId),
        isNull(documents.deletedAt),
      ),
    )
    .orderBy(desc(documents.id));
}

/** The documents the submit linked to a verification: what its provider is sent and its expiry follows. */
export async function loadVerificationDocuments(
  ctx: ServiceContext,
  verificationId: string,
): Promise<DocumentFact[]> {
  return ctx.db
    .select(documentFact)
    .from(verificationDocuments)
    .innerJoin(
      documents,
      and(
        eq(documents.tenantId, verificationDocuments.tenantId),
        eq(documents.id, verificationDocuments.documentId),
      ),
    )
    .where(
      and(
        eq(verificationDocuments.tenantId, ctx.tenant.id),
        eq(verificationDocuments.verificationId, verificationId),
      ),
    )
    .orderBy(documents.id);
}

/**
 * Links the documents an attempt relies on; a re-submission's replace the last attempt's. Each
 * link takes its time from the document's row only while the document is not deleted: one
 * deleted since the requirements were read leaves it NULL, which NOT NULL refuses, so the
 * submit fails rather than rely on a document that is gone (the delete checks the links likewise).
 */
export function linkDocuments(
  ctx: ServiceContext,
  verificationId: string,
  documentIds: string[],
  relink: boolean,
) {
  const now = ctx.now.toISOString();
  return [
    ...(relink
      ? [
          ctx.db
            .delete(verificationDocuments)
            .where(
              and(
                eq(verificationDocuments.tenantId, ctx.tenant.id),
                eq(verificationDocuments.verificationId, verificationId),
              ),
            ),
        ]
      : []),
    ...documentIds.map((documentId) =>
      ctx.db.insert(verificationDocuments).values({
        tenantId: ctx.tenant.id,
        verificationId,
        documentId,
        createdAt: sql`(SELECT ${now} FROM ${documents} WHERE ${documents.tenantId} = ${ctx.tenant.id} AND ${documents.id} = ${documentId} AND ${documents.deletedAt} IS NULL)`,
      }),
    ),
  ];
}
