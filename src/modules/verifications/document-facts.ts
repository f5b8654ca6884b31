import { and, eq, isNull } from 'drizzle-orm';
import { documents } from '../../db/tenant';
import type { ServiceContext } from '../../platform/context';
import type { DocumentFact } from './requirements';

/** The documents a customer holds (not deleted), as the requirements engine sees them. */
export async function loadDocumentFacts(ctx: ServiceContext, customerId: string): Promise<DocumentFact[]> {
  return ctx.db
    .select({
      documentId: documents.id,
      documentType: documents.documentType,
      status: documents.status,
      scanStatus: documents.scanStatus,
      expiresAt: documents.expiresAt,
    })
    .from(documents)
    .where(
      and(
        eq(documents.tenantId, ctx.tenant.id),
        eq(documents.customerId, customerId),
        isNull(documents.deletedAt),
      ),
    )
    .orderBy(documents.id);
}
