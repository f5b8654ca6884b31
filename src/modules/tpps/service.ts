import { and, desc, eq, inArray, lt, type SQL, sql } from 'drizzle-orm';
import { isUniqueViolation, withinParameterLimit } from '../../db/client';
import { clients, tppCertificates, tpps } from '../../db/tenant';
import { clientGenerationSubject, markRevoked } from '../../platform/auth/authenticate';
import type { ServiceContext } from '../../platform/context';
import { ApiError } from '../../platform/errors';
import { newId } from '../../platform/ids';
import { decodeCursor, toPage } from '../../platform/pagination';
import { type Change, commitUnlessRefused, event } from '../../platform/unit-of-work';
import type { ClientListQuery, ClientView, ClientWithSecretView } from '../access/schemas';
import { listClients, registerClient } from '../access/service';
import { revokeClientGrants } from '../oauth/service';
import { revokeTppConsents } from '../tpp-consents/service';
import {
  type CertificateFacts,
  checkCertificate,
  EXPIRY_WARNING_DAYS,
  normaliseAuthorizationNumber,
  type TppRole,
} from './certificates';
import { requireTpp } from './lookup';
import { scopesOfRoles, type TppStatus, tppTransitions } from './rules';
import {
  type CreateTppInput,
  type TppCertificateView,
  type TppListQuery,
  type TppSettings,
  TppSettingsSchema,
  type TppView,
  type UpdateTppInput,
} from './schemas';

type TppRow = typeof tpps.$inferSelect;
type CertificateRow = typeof tppCertificates.$inferSelect;

const DAY_MS = 86_400_000;
/** The grant types of a TPP's client: it asks for consents, then redeems and refreshes codes. */
const TPP_GRANT_TYPES = ['client_credentials', 'authorization_code', 'refresh_token'];

/** The tenant's TPP settings (`settings.tpp`, set by the operator); defaults when unset. */
export function tppSettings(ctx: ServiceContext): TppSettings {
  const parsed = TppSettingsSchema.safeParse(ctx.tenant.settings.tpp ?? {});
  return parsed.success ? parsed.data : TppSettingsSchema.parse({});
}

function presentCertificate(row: CertificateRow, now: Date): TppCertificateView {
  const daysLeft = (Date.parse(row.notAfter) - now.getTime()) / DAY_MS;
  return {
    id: row.id,
    sha256: row.sha256,
    serialNumber: row.serialNumber,
    subject: row.subject,
    issuer: row.issuer,
    notBefore: row.notBefore,
    notAfter: row.notAfter,
    qcType: row.qcType,
    psd2Roles: row.psd2Roles as TppCertificateView['psd2Roles'],
    trust: row.trust,
    warnings: daysLeft < EXPIRY_WARNING_DAYS ? ['certificate_expires_soon'] : [],
    createdAt: row.createdAt,
  };
}

function presentTpp(row: TppRow, certificates: readonly CertificateRow[], now: Date): TppView {
  const roles = row.roles as TppRole[];
  return {
    id: row.id,
    name: row.name,
    legalName: row.legalName,
    authorizationNumber: row.authorizationNumber,
    ncaId: row.ncaId,
    ncaName: row.ncaName,
    roles,
    scopes: scopesOfRoles(roles),
    redirectUris: row.redirectUris,
    status: row.status,
    statusReason: row.statusReason,
    certificates: certificates
      .filter((certificate) => certificate.tppId === row.id)
      .sort((a, b) => b.id.localeCompare(a.id))
      .map((certificate) => presentCertificate(certificate, now)),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

async function certificatesOf(ctx: ServiceContext, tppIds: readonly string[]): Promise<CertificateRow[]> {
  const parts = await Promise.all(
    withinParameterLimit(tppIds, (ids) =>
      ctx.db
        .select()
        .from(tppCertificates)
        .where(and(eq(tppCertificates.tenantId, ctx.tenant.id), inArray(tppCertificates.tppId, ids))),
    ),
  );
  return parts.flat();
}

export async function getTpp(ctx: ServiceContext, tppId: string): Promise<TppView> {
  const row = await requireTpp(ctx, tppId);
  return presentTpp(row, await certificatesOf(ctx, [row.id]), ctx.now);
}

export async function listTpps(
  ctx: ServiceContext,
  query: TppListQuery,
): Promise<{ data: TppView[]; nextCursor: string | null }> {
  const after = decodeCursor(query.cursor, 'tpp');
  const filters: (SQL | undefined)[] = [
    eq(tpps.tenantId, ctx.tenant.id),
    after ? lt(tpps.id, after) : undefined,
    query.status ? eq(tpps.status, query.status) : undefined,
  ];
  const rows = await ctx.db
    .select()
    .from(tpps)
    .where(and(...filters))
    .orderBy(desc(tpps.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit);
  const certificates = await certificatesOf(
    ctx,
    page.data.map((row) => row.id),
  );
  return {
    data: page.data.map((row) => presentTpp(row, certificates, ctx.now)),
    nextCursor: page.nextCursor,
  };
}

function certificateRow(
  ctx: ServiceContext,
  tppId: string,
  { facts, pem }: { facts: CertificateFacts; pem: string },
): CertificateRow {
  return {
    id: newId('tppCertificate', ctx.now.getTime()),
    tenantId: ctx.tenant.id,
    tppId,
    qcType: facts.qcType,
    pem,
    sha256: facts.sha256,
    serialNumber: facts.serialNumber,
    subject: facts.subject,
    issuer: facts.issuer,
    notBefore: facts.notBefore,
    notAfter: facts.notAfter,
    psd2Roles: facts.psd2Roles,
    trust: facts.trust,
    expiryNotifiedAt: null,
    expiryNotices: 0,
    createdAt: ctx.now.toISOString(),
  };
}

/** The unique indexes decide races between registrations; each names what was taken. */
async function commitRegistration(ctx: ServiceContext, change: Change): Promise<void> {
  try {
    await commitUnlessRefused(ctx, change);
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    if (isUniqueViolation(error, 'tpp_certificates.sha256')) {
      throw new ApiError('certificate_in_use', {
        detail: 'This certificate (by its SHA-256 fingerprint) is already registered.',
      });
    }
    throw new ApiError('tpp_already_registered', {
      detail: 'A TPP with this authorisation number is already registered with this tenant.',
    });
  }
}

export async function createTpp(ctx: ServiceContext, input: CreateTppInput): Promise<TppView> {
  const roles = [...new Set(input.roles)].sort();
  const checked = await checkCertificate({
    certificate: input.certificate,
    roles,
    authorizationNumber: input.authorizationNumber,
    trustAnchors: tppSettings(ctx).trustAnchors,
    now: ctx.now,
  });
  const now = ctx.now.toISOString();
  const row: TppRow = {
    id: newId('tpp', ctx.now.getTime()),
    tenantId: ctx.tenant.id,
    name: input.name,
    legalName: input.legalName,
    authorizationNumber: normaliseAuthorizationNumber(input.authorizationNumber),
    ncaId: checked.facts.ncaId,
    ncaName: checked.facts.ncaName,
    roles,
    redirectUris: [...new Set(input.redirectUris)],
    status: 'ACTIVE',
    statusReason: null,
    createdAt: now,
    updatedAt: now,
  };
  const certificate = certificateRow(ctx, row.id, checked);
  await commitRegistration(ctx, {
    statements: [ctx.db.insert(tpps).values(row), ctx.db.insert(tppCertificates).values(certificate)],
    audit: [
      {
        action: 'tpp.created',
        targetType: 'tpp',
        targetId: row.id,
        data: { authorizationNumber: row.authorizationNumber, roles, certificateSha256: certificate.sha256 },
      },
    ],
    events: [event('tpp.created', { tppId: row.id, roles })],
  });
  return presentTpp(row, [certificate], ctx.now);
}

/** A renewal (or a second certificate, a QSealC beside a QWAC), checked like the first. */
export async function addCertificate(
  ctx: ServiceContext,
  tppId: string,
  input: { certificate: string },
): Promise<TppCertificateView> {
  const tpp = await requireTpp(ctx, tppId);
  if (tpp.status === 'REVOKED') {
    throw new ApiError('tpp_revoked', { detail: `TPP ${tpp.id} is revoked.` });
  }
  const checked = await checkCertificate({
    certificate: input.certificate,
    roles: tpp.roles as TppRole[],
    authorizationNumber: tpp.authorizationNumber,
    trustAnchors: tppSettings(ctx).trustAnchors,
    now: ctx.now,
  });
  const certificate = certificateRow(ctx, tpp.id, checked);
  await commitRegistration(ctx, {
    statements: [ctx.db.insert(tppCertificates).values(certificate)],
    audit: [
      {
        action: 'tpp.certificate_added',
        targetType: 'tpp',
        targetId: tpp.id,
        data: { certificateId: certificate.id, sha256: certificate.sha256, notAfter: certificate.notAfter },
      },
    ],
    events: [],
  });
  return presentCertificate(certificate, ctx.now);
}

/**
 * A status change, guarded: the row must still be in the status it was read in, or the batch
 * refuses itself (NOT NULL guard on `tpps.status`) and nothing of it lands.
 */
function statusChange(ctx: ServiceContext, tpp: TppRow, to: TppStatus, reason: string | null): Change {
  return {
    statements: [
      ctx.db
        .update(tpps)
        .set({
          status: sql`case when ${tpps.status} = ${tpp.status} then ${to} end`,
          statusReason: to === 'ACTIVE' ? null : reason,
          updatedAt: ctx.now.toISOString(),
        })
        .where(and(eq(tpps.tenantId, ctx.tenant.id), eq(tpps.id, tpp.id))),
      // Tokens issued from now on are of a generation the suspension's mark does not name.
      ...(to === 'ACTIVE'
        ? [
            ctx.db
              .update(clients)
              .set({ tokenGeneration: sql`${clients.tokenGeneration} + 1`, updatedAt: ctx.now.toISOString() })
              .where(and(eq(clients.tenantId, ctx.tenant.id), eq(clients.tppId, tpp.id))),
          ]
        : []),
      ...(to === 'REVOKED'
        ? [
            ctx.db
              .update(clients)
              .set({ status: 'REVOKED', revokedAt: ctx.now.toISOString(), updatedAt: ctx.now.toISOString() })
              .where(
                and(
                  eq(clients.tenantId, ctx.tenant.id),
                  eq(clients.tppId, tpp.id),
                  eq(clients.status, 'ACTIVE'),
                ),
              ),
          ]
        : []),
    ],
    audit: [
      {
        action: 'tpp.status_changed',
        targetType: 'tpp',
        targetId: tpp.id,
        data: { from: tpp.status, to, reason },
      },
    ],
    events: [event('tpp.status_changed', { tppId: tpp.id, from: tpp.status, to, reason })],
  };
}

/**
 * Ends what the TPP's clients hold: the KV mark of their current token generation stops their
 * client-credentials tokens on every route (at once here, within 60 s elsewhere), and every
 * grant they hold for a customer ends. /oauth/token refuses them new tokens while the TPP is not
 * active; a reactivation starts the next generation, which no mark names.
 */
async function cutOffTpp(ctx: ServiceContext, tppId: string, reason: string): Promise<void> {
  const held = await ctx.db
    .select({ id: clients.id, generation: clients.tokenGeneration })
    .from(clients)
    .where(and(eq(clients.tenantId, ctx.tenant.id), eq(clients.tppId, tppId)));
  await Promise.all(
    held.flatMap((client) => [
      markRevoked(ctx.env, ctx.tenant.id, clientGenerationSubject(client.id, client.generation), reason),
      revokeClientGrants(ctx, client.id, reason),
    ]),
  );
}

export async function changeTppStatus(
  ctx: ServiceContext,
  tpp: TppRow,
  to: TppStatus,
  reason: string | null,
  more: Change = { statements: [], audit: [], events: [] },
): Promise<void> {
  if (!tppTransitions[tpp.status].includes(to)) {
    throw new ApiError('invalid_transition', {
      detail: `A ${tpp.status} TPP cannot become ${to}.`,
      extensions: { allowed: [...tppTransitions[tpp.status]] },
    });
  }
  // The cut-off goes first: a failure after it leaves the TPP stopped, and a retry completes.
  if (to !== 'ACTIVE') await cutOffTpp(ctx, tpp.id, to === 'REVOKED' ? 'TPP_REVOKED' : 'TPP_SUSPENDED');
  if (to === 'REVOKED') await revokeTppConsents(ctx, tpp.id);
  const change = statusChange(ctx, tpp, to, reason);
  await commitUnlessRefused(
    ctx,
    {
      statements: [...change.statements, ...more.statements],
      audit: [...change.audit, ...more.audit],
      events: [...change.events, ...more.events],
    },
    {
      violates: 'tpps.status',
      refusal: () =>
        new ApiError('concurrent_update', { detail: 'The TPP changed meanwhile; read it again and retry.' }),
    },
  );
}

export async function updateTpp(ctx: ServiceContext, tppId: string, input: UpdateTppInput): Promise<TppView> {
  const tpp = await requireTpp(ctx, tppId);
  if (tpp.status === 'REVOKED') throw new ApiError('tpp_revoked', { detail: `TPP ${tpp.id} is revoked.` });
  const details: Partial<TppRow> = {
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.redirectUris !== undefined ? { redirectUris: [...new Set(input.redirectUris)] } : {}),
  };
  const detailChange: Change =
    Object.keys(details).length === 0
      ? { statements: [], audit: [], events: [] }
      : {
          statements: [
            ctx.db
              .update(tpps)
              .set({ ...details, updatedAt: ctx.now.toISOString() })
              .where(and(eq(tpps.tenantId, ctx.tenant.id), eq(tpps.id, tpp.id))),
            // The TPP's clients redeem codes at its redirect URIs: they move with it.
            ...(details.redirectUris
              ? [
                  ctx.db
                    .update(clients)
                    .set({ redirectUris: details.redirectUris, updatedAt: ctx.now.toISOString() })
                    .where(and(eq(clients.tenantId, ctx.tenant.id), eq(clients.tppId, tpp.id))),
                ]
              : []),
          ],
          audit: [
            {
              action: 'tpp.updated',
              targetType: 'tpp',
              targetId: tpp.id,
              data: { changed: Object.keys(details) },
            },
          ],
          events: [],
        };
  if (input.status !== undefined && input.status !== tpp.status) {
    await changeTppStatus(ctx, tpp, input.status, input.statusReason ?? null, detailChange);
  } else if (detailChange.statements.length > 0) {
    await commitUnlessRefused(ctx, detailChange);
  }
  return getTpp(ctx, tpp.id);
}

/** An OAuth client of the TPP: it may ask for the scopes its roles allow, at its redirect URIs. */
export async function createTppClient(
  ctx: ServiceContext,
  tppId: string,
  input: { name: string },
): Promise<ClientWithSecretView> {
  const tpp = await requireTpp(ctx, tppId);
  if (tpp.status !== 'ACTIVE') {
    throw new ApiError('tpp_not_active', { detail: `TPP ${tpp.id} is ${tpp.status}.` });
  }
  return registerClient(ctx, {
    name: input.name,
    permissions: scopesOfRoles(tpp.roles as TppRole[]),
    grantTypes: TPP_GRANT_TYPES,
    redirectUris: tpp.redirectUris,
    tppId: tpp.id,
  });
}

export async function listTppClients(
  ctx: ServiceContext,
  tppId: string,
  query: ClientListQuery,
): Promise<{ data: ClientView[]; nextCursor: string | null }> {
  const tpp = await requireTpp(ctx, tppId);
  return listClients(ctx, query, { tppId: tpp.id });
}
