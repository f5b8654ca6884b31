import { and, asc, gt, notInArray, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import {
  type CustomerData,
  type CustomerDataEntry,
  customerData,
  type ExportedRow,
} from '../../db/customer-data';
import { identityOf } from '../../platform/auth/user-identity';
import type { ServiceContext } from '../../platform/context';
import { openEvents } from '../../platform/events';
import type { CustomerKey } from '../../platform/personal-data';
import { commit } from '../../platform/unit-of-work';
import { presentAuditEvent } from '../audit-events/service';
import { presentBeneficiariesForExport } from '../beneficiaries/service';
import { presentConsent } from '../consents/service';
import { type CustomerIds, columnOf, customerIds, forTheCustomer } from '../customers/data-map';
import { assertOrganizationRole, presentCustomer, requireCustomerRow } from '../customers/service';
import { openDetails, presentDocument } from '../documents/service';
import { presentEvent } from '../events/service';
import { presentPeopleForExport } from '../organizations/service';
import { presentVerificationsForExport } from '../verifications/service';
import { type Disclosure, disclosedAuditEvent, disclosureTo } from './disclosure';
import { type CustomerExportView, EXPORT_SECTION_CAP, type ExportSection, exportSections } from './schemas';

/** A divisor of the cap, so pages never overshoot it. */
const PAGE_SIZE = 500;

/**
 * Reads a section in id order, page by page, up to the cap. One extra probe past a full cap
 * tells a section that ends exactly there from one that was cut, so `truncated` never lies.
 */
async function readSection<Row extends { id: string }>(
  page: (after: string | undefined, limit: number) => Promise<Row[]>,
): Promise<{ rows: Row[]; truncated: boolean }> {
  const rows: Row[] = [];
  let after: string | undefined;
  for (;;) {
    const batch = await page(after, PAGE_SIZE);
    rows.push(...batch);
    const last = batch.at(-1);
    if (!last || batch.length < PAGE_SIZE) return { rows, truncated: false };
    after = last.id;
    if (rows.length >= EXPORT_SECTION_CAP) return { rows, truncated: (await page(after, 1)).length > 0 };
  }
}

function isSection(part: string): part is ExportSection {
  return (exportSections as readonly string[]).includes(part);
}

type Row = Record<string, unknown>;

/**
 * One mapped table's rows of the customer, as the export declares them: only the declared
 * columns, without what the requester may not see, so the caps count only what is handed out.
 * A table tied by several columns or ids past D1's parameter limit is read in several
 * statements; sections merge them by id, page by page.
 */
async function readEntry(
  ctx: ServiceContext,
  entry: CustomerDataEntry,
  ids: CustomerIds,
  disclosure: Disclosure,
): Promise<{ rows: Row[]; truncated: boolean }> {
  const declared = entry.export;
  if (!('part' in declared)) return { rows: [], truncated: false };
  const selection = Object.fromEntries(declared.columns.map((name) => [name, columnOf(entry.table, name)]));
  const order = columnOf(entry.table, declared.orderBy);
  const withheld =
    declared.withheldBy === undefined
      ? undefined
      : notInArray(columnOf(entry.table, declared.withheldBy), disclosure.withheld);
  const read = (after: string | undefined, limit: number) =>
    Promise.all(
      forTheCustomer(ctx, entry, ids, (filter: SQL) =>
        ctx.db
          .select(selection as Record<string, SQLiteColumn>)
          .from(entry.table)
          .where(and(filter, withheld, after === undefined ? undefined : gt(order, after)))
          .orderBy(asc(order))
          .limit(limit),
      ),
    ).then((parts) => merged(parts.flat(), declared.orderBy, limit));
  if (!isSection(declared.part)) return { rows: await read(undefined, EXPORT_SECTION_CAP), truncated: false };
  return readSection((after, limit) => read(after, limit) as Promise<(Row & { id: string })[]>);
}

/**
 * Rows of several statements as one, in order and no more than `limit`. A row met by two ties
 * is the same id twice; tables read whole have one tie (test/unit/customer-data.test.ts), so
 * their equal rows (a login's unused recovery codes) are distinct rows and stay.
 */
function merged(rows: Row[], orderBy: string, limit: number): Row[] {
  const key = (row: Row) => String(row[orderBy]);
  const unique = orderBy === 'id' ? [...new Map(rows.map((row) => [row.id, row])).values()] : rows;
  return unique.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)).slice(0, limit);
}

type ExportedRows = { [Name in keyof CustomerData]: ExportedRow<CustomerData[Name]>[] };

/** Every mapped table's rows of the customer, and the sections that were cut at the cap. */
async function readExport(ctx: ServiceContext, ids: CustomerIds, disclosure: Disclosure) {
  const names = Object.keys(customerData) as (keyof CustomerData)[];
  const results = await Promise.all(
    names.map((name) => readEntry(ctx, customerData[name] as CustomerDataEntry, ids, disclosure)),
  );
  const rows = Object.fromEntries(names.map((name, index) => [name, results[index]?.rows])) as ExportedRows;
  const truncated = exportSections.filter((section) =>
    names.some((name, index) => {
      const declared = customerData[name].export;
      return 'part' in declared && declared.part === section && results[index]?.truncated;
    }),
  );
  return { rows, truncated };
}

/** Documents as the export shows them: metadata and a link to the bytes, never the bytes. */
function presentDocumentsForExport(tenantId: string, key: CustomerKey, rows: ExportedRows['documents']) {
  return Promise.all(
    rows.map(async (row) => ({
      ...presentDocument(row, await openDetails(key, tenantId, row)),
      deletedAt: row.deletedAt,
      contentUrl: row.deletedAt === null ? `/v2/customer/documents/${row.id}/content` : null,
    })),
  );
}

/**
 * Everything held on a customer, as one document (GDPR Art. 15 and 20), read table by table
 * from the customer-data map (src/db/customer-data.ts). Credentials stay out: the map names the
 * columns each table hands out, and no password hash, TOTP secret, recovery-code digest,
 * verification code or token is among them. What the requester may not see (./disclosure.ts)
 * is left out in the queries.
 * The export is audited before it is handed out, so no disclosure goes unrecorded.
 */
export async function exportCustomer(ctx: ServiceContext, customerId: string): Promise<CustomerExportView> {
  const customer = await requireCustomerRow(ctx, customerId);
  await assertOrganizationRole(
    ctx,
    customer,
    ['ADMIN_USER', 'COMPLIANCE_OFFICER'],
    "export the organization's data",
  );
  const ids = await customerIds(ctx, customerId);
  const disclosure = disclosureTo(ctx.actor);
  const { rows, truncated } = await readExport(ctx, ids, disclosure);
  const logins = await Promise.all(
    rows.users.map(async (login) => {
      const { email, displayName } = await identityOf(ctx, login, customer.key);
      return {
        id: login.id,
        email,
        displayName,
        status: login.status,
        createdAt: login.createdAt,
        passwordChangedAt: login.passwordChangedAt,
      };
    }),
  );
  const ownLogins = new Set(ids.logins);
  const ofLogin = <R extends { userId: string | null }>(tableRows: R[], userId: string) =>
    tableRows.filter((row) => row.userId === userId);

  const document: CustomerExportView = {
    exportedAt: ctx.now.toISOString(),
    customer: presentCustomer(customer),
    logins,
    consents: rows.consents.map(presentConsent),
    sessions: rows.sessions,
    secondFactors: ids.logins.map((userId) => ({
      userId,
      totpEnrolledAt: ofLogin(rows.totpCredentials, userId)[0]?.confirmedAt ?? null,
      totpEnrolmentStartedAt: ofLogin(rows.totpEnrolments, userId)[0]?.createdAt ?? null,
      unusedRecoveryCodes: ofLogin(rows.recoveryCodes, userId).filter((row) => row.consumedAt === null)
        .length,
      passkeys: ofLogin(rows.webauthnCredentials, userId).map(({ name, createdAt, lastUsedAt }) => ({
        name,
        createdAt,
        lastUsedAt,
      })),
    })),
    contactVerifications: rows.contactVerificationCodes,
    oauthGrants: rows.oauthGrants,
    tppConsents: rows.tppConsents,
    auditEvents: rows.auditEvents.map((row) =>
      disclosedAuditEvent(disclosure, ownLogins, presentAuditEvent(row)),
    ),
    events: (await openEvents(ctx.db, ctx.env.FIELD_ENCRYPTION_KEY, ctx.tenant.id, rows.events)).map(
      presentEvent,
    ),
    organizationPeople: await presentPeopleForExport(ctx, customer, rows.organizationPeople),
    documents: await presentDocumentsForExport(ctx.tenant.id, customer.key, rows.documents),
    beneficiaries: await presentBeneficiariesForExport(ctx, customer.key, rows.beneficiaries),
    verifications: presentVerificationsForExport(disclosure, {
      verifications: rows.verifications,
      checks: rows.verificationChecks,
      hits: rows.screeningHits,
      decisions: rows.verificationDecisions,
    }),
    truncated,
  };
  await commit(ctx, {
    statements: [],
    audit: [
      {
        action: 'customer.exported',
        targetType: 'customer',
        targetId: customerId,
        data: { truncated },
      },
    ],
    events: [],
  });
  return document;
}
