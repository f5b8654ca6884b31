import type { ServiceContext } from '../../platform/context';
import type { DocumentFact } from './requirements';

/**
 * The documents a customer has uploaded, as the requirements engine sees them.
 *
 * AWAITING THE DOCUMENTS TABLE (issue 13, built in parallel): until the documents section is
 * merged there is no table to read, so this answers no documents and STANDARD/ENHANCED
 * submits are refused with 422 `requirements_not_met` naming the documents due — the correct
 * answer for a customer who has uploaded none. At merge, read the customer's non-deleted rows
 * of the documents table (tenant-scoped) and map them to `DocumentFact`; nothing else changes.
 */
export async function loadDocumentFacts(_ctx: ServiceContext, _customerId: string): Promise<DocumentFact[]> {
  return [];
}
