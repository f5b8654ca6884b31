/*
 * Keyed digests that stand in for personal data in lookups: a value can be found by equality
 * without being stored. The seed scripts run this module in Node without a bundler, hence the
 * `.ts` extensions in the imports.
 */
import { sealPurposes } from '../db/seal-purposes.ts';
import { fieldDigest } from './field-encryption.ts';

/** Email addresses compare case-insensitively everywhere (registration, login, filters). */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * The tenant-wide digest an email is looked up by. Bound to the tenant, not to a record, so the
 * same address always digests the same within a tenant and never across tenants.
 */
export function emailDigest(rootKey: string, tenantId: string, email: string): Promise<string> {
  return fieldDigest(
    { rootKey, tenantId, purpose: sealPurposes.emailLookup, recordId: tenantId },
    normaliseEmail(email),
  );
}

/** Words of a name or an email as the search index holds them: NFKC, lower-case, letters and digits. */
export function searchTerms(...values: string[]): string[] {
  const words = values.flatMap((value) =>
    value
      .normalize('NFKC')
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u),
  );
  return [...new Set(words.filter((word) => word.length > 0))];
}

export function searchTermDigest(rootKey: string, tenantId: string, term: string): Promise<string> {
  return fieldDigest({ rootKey, tenantId, purpose: sealPurposes.customerSearch, recordId: tenantId }, term);
}
