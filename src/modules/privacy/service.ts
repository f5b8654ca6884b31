import { and, asc, eq, gt, inArray, isNull, notInArray, or, type SQL, sql } from 'drizzle-orm';
import {
  auditEvents,
  consents,
  contactVerificationCodes,
  events,
  oauthGrants,
  recoveryCodes,
  sessions,
  totpCredentials,
  totpEnrolments,
  users,
  webauthnCredentials,
} from '../../db/tenant';
import { identityOf } from '../../platform/auth/user-identity';
import type { ServiceContext } from '../../platform/context';
import { openEvents } from '../../platform/events';
import { commit } from '../../platform/unit-of-work';
import { presentAuditEvent } from '../audit/service';
import { presentConsent } from '../consents/service';
import { assertOrganizationRole, presentCustomer, requireCustomerRow } from '../customers/service';
import { presentEvent } from '../events/service';
import { peopleForExport } from '../organizations/service';
import { disclosedAuditEvent, disclosureTo } from './disclosure';
import { type CustomerExportView, EXPORT_SECTION_CAP, type ExportSection } from './schemas';

/** A divisor of the cap, so pages never overshoot it. */
const PAGE_SIZE = 500;

/**
 * Reads a section in id order, page by page, up to the cap. One extra probe past a full cap
 * tells a section that ends exactly there from one that was cut, so `truncated` never lies.
 */
async function readSection<Row extends { id: string }>(
  section: ExportSection,
  truncated: ExportSection[],
  page: (after: string | undefined, limit: number) => Promise<Row[]>,
): Promise<Row[]> {
  const rows: Row[] = [];
  let after: string | undefined;
  for (;;) {
    const batch = await page(after, PAGE_SIZE);
    rows.push(...batch);
    const last = batch.at(-1);
    if (!last || batch.length < PAGE_SIZE) return rows;
    after = last.id;
    if (rows.length >= EXPORT_SECTION_CAP) {
      if ((await page(after, 1)).length > 0) truncated.push(section);
      return rows;
    }
  }
}

function pastId(column: Parameters<typeof gt>[0], id: string | undefined): SQL | undefined {
  return id === undefined ? undefined : gt(column, id);
}

/** The JSON text of an event's data names the id as a string value somewhere (exact match, quotes included). */
function mentions(ids: string[]): SQL | undefined {
  return or(...ids.map((id) => sql`instr(${events.data}, ${JSON.stringify(id)}) > 0`));
}

/**
 * Everything held on a customer, as one document (GDPR Art. 15 and 20). Credentials stay out:
 * no password hash, TOTP secret, recovery-code digest, verification code or token is read.
 * What the requester may not see (./disclosure.ts) is left out in the queries, so the section
 * caps count only what is handed out.
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
  const tenantId = ctx.tenant.id;
  const loginRows = await ctx.db
    .select()
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.customerId, customerId)))
    .orderBy(asc(users.id));
  const logins = await Promise.all(
    loginRows.map(async (login) => {
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
  const userIds = logins.map((login) => login.id);
  const ownLogins = new Set(userIds);
  const ofLogins = (column: Parameters<typeof inArray>[0]) => inArray(column, userIds);
  const truncated: ExportSection[] = [];
  const disclosure = disclosureTo(ctx.actor);

  const consentRows = await readSection('consents', truncated, (id, limit) =>
    ctx.db
      .select()
      .from(consents)
      .where(
        and(eq(consents.tenantId, tenantId), eq(consents.customerId, customerId), pastId(consents.id, id)),
      )
      .orderBy(asc(consents.id))
      .limit(limit),
  );
  const sessionRows = await readSection('sessions', truncated, (id, limit) =>
    ctx.db
      .select()
      .from(sessions)
      .where(and(eq(sessions.tenantId, tenantId), ofLogins(sessions.userId), pastId(sessions.id, id)))
      .orderBy(asc(sessions.id))
      .limit(limit),
  );
  const auditRows = await readSection('auditEvents', truncated, (id, limit) =>
    ctx.db
      .select()
      .from(auditEvents)
      .where(
        and(
          eq(auditEvents.tenantId, tenantId),
          or(inArray(auditEvents.targetId, [customerId, ...userIds]), ofLogins(auditEvents.actorId)),
          notInArray(auditEvents.action, disclosure.withheld),
          pastId(auditEvents.id, id),
        ),
      )
      .orderBy(asc(auditEvents.id))
      .limit(limit),
  );
  const eventRows = await readSection('events', truncated, (id, limit) =>
    ctx.db
      .select()
      .from(events)
      .where(
        and(
          eq(events.tenantId, tenantId),
          mentions([customerId, ...userIds]),
          notInArray(events.type, disclosure.withheld),
          pastId(events.id, id),
        ),
      )
      .orderBy(asc(events.id))
      .limit(limit),
  );

  const [totps, pendingTotps, unusedCodes, passkeys, verifications, grants] = await ctx.db.batch([
    ctx.db
      .select({ userId: totpCredentials.userId, confirmedAt: totpCredentials.confirmedAt })
      .from(totpCredentials)
      .where(and(eq(totpCredentials.tenantId, tenantId), ofLogins(totpCredentials.userId))),
    ctx.db
      .select({ userId: totpEnrolments.userId, createdAt: totpEnrolments.createdAt })
      .from(totpEnrolments)
      .where(and(eq(totpEnrolments.tenantId, tenantId), ofLogins(totpEnrolments.userId))),
    ctx.db
      .select({ userId: recoveryCodes.userId, count: sql<number>`count(*)` })
      .from(recoveryCodes)
      .where(
        and(
          eq(recoveryCodes.tenantId, tenantId),
          ofLogins(recoveryCodes.userId),
          isNull(recoveryCodes.consumedAt),
        ),
      )
      .groupBy(recoveryCodes.userId),
    ctx.db
      .select({
        userId: webauthnCredentials.userId,
        name: webauthnCredentials.name,
        createdAt: webauthnCredentials.createdAt,
        lastUsedAt: webauthnCredentials.lastUsedAt,
      })
      .from(webauthnCredentials)
      .where(and(eq(webauthnCredentials.tenantId, tenantId), ofLogins(webauthnCredentials.userId)))
      .orderBy(asc(webauthnCredentials.createdAt)),
    ctx.db
      .select({
        contact: contactVerificationCodes.contact,
        attempts: contactVerificationCodes.attempts,
        createdAt: contactVerificationCodes.createdAt,
        expiresAt: contactVerificationCodes.expiresAt,
      })
      .from(contactVerificationCodes)
      .where(
        and(
          eq(contactVerificationCodes.tenantId, tenantId),
          eq(contactVerificationCodes.customerId, customerId),
        ),
      ),
    ctx.db
      .select({
        sessionId: oauthGrants.sessionId,
        clientId: oauthGrants.clientId,
        userId: oauthGrants.userId,
        scope: oauthGrants.scope,
        createdAt: oauthGrants.createdAt,
        revokedAt: oauthGrants.revokedAt,
        revokedReason: oauthGrants.revokedReason,
      })
      .from(oauthGrants)
      .where(and(eq(oauthGrants.tenantId, tenantId), eq(oauthGrants.customerId, customerId)))
      .orderBy(asc(oauthGrants.createdAt)),
  ]);

  const document: CustomerExportView = {
    exportedAt: ctx.now.toISOString(),
    customer: presentCustomer(customer),
    logins,
    consents: consentRows.map(presentConsent),
    sessions: sessionRows.map((row) => ({
      id: row.id,
      userId: row.userId,
      device: row.device,
      userAgent: row.userAgent,
      ip: row.ip,
      amr: row.amr,
      createdAt: row.createdAt,
      lastUsedAt: row.lastUsedAt,
      revokedAt: row.revokedAt,
      revokedReason: row.revokedReason,
    })),
    secondFactors: userIds.map((userId) => ({
      userId,
      totpEnrolledAt: totps.find((row) => row.userId === userId)?.confirmedAt ?? null,
      totpEnrolmentStartedAt: pendingTotps.find((row) => row.userId === userId)?.createdAt ?? null,
      unusedRecoveryCodes: Number(unusedCodes.find((row) => row.userId === userId)?.count ?? 0),
      passkeys: passkeys
        .filter((row) => row.userId === userId)
        .map(({ name, createdAt, lastUsedAt }) => ({ name, createdAt, lastUsedAt })),
    })),
    contactVerifications: verifications,
    oauthGrants: grants,
    auditEvents: auditRows.map((row) => disclosedAuditEvent(disclosure, ownLogins, presentAuditEvent(row))),
    events: (await openEvents(ctx.db, ctx.env.FIELD_ENCRYPTION_KEY, tenantId, eventRows)).map(presentEvent),
    organizationPeople: await peopleForExport(ctx, customer),
    documents: [],
    beneficiaries: [],
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
