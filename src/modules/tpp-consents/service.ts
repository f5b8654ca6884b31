import { and, desc, eq, inArray, lt, type SQL, sql } from 'drizzle-orm';
import { clients, customers, tppConsents, tpps } from '../../db/tenant';
import { hasPermission } from '../../platform/auth/principal';
import type { ServiceContext } from '../../platform/context';
import { ApiError, notFound, validationError } from '../../platform/errors';
import { newId } from '../../platform/ids';
import { decodeCursor, toPage } from '../../platform/pagination';
import { type Change, commit, commitUnlessRefused, event } from '../../platform/unit-of-work';
import { authorizationCodeInsert, revokeConsentGrants } from '../oauth/service';
import type { TppRole } from '../tpps/certificates';
import { requireTpp } from '../tpps/lookup';
import {
  type ConsentRevoker,
  type ConsentStatus,
  DEFAULT_AUTHORISATION_WINDOW_MINUTES,
  MAX_CONSENT_DAYS,
  scopesOfRoles,
} from '../tpps/rules';
import type { CreateTppConsentInput, TppConsentListQuery, TppConsentView } from './schemas';

type ConsentRow = typeof tppConsents.$inferSelect;
const DAY_MS = 86_400_000;

/**
 * The status a consent is in at `now`: one whose authorisation window or lifetime has passed is
 * answered as lapsed even before the sweep writes it, so no reader acts on a stale status.
 */
export function statusAt(
  row: Pick<ConsentRow, 'status' | 'authorisationExpiresAt' | 'expiresAt'>,
  now: Date,
) {
  const at = now.toISOString();
  if (row.status === 'AWAITING_AUTHORISATION' && row.authorisationExpiresAt <= at) return 'REJECTED';
  if (row.status === 'AUTHORISED' && row.expiresAt <= at) return 'EXPIRED';
  return row.status;
}

function present(row: ConsentRow, now: Date): TppConsentView {
  const status = statusAt(row, now);
  const lapsed = status !== row.status;
  return {
    id: row.id,
    tppId: row.tppId,
    clientId: row.clientId,
    customerId: row.customerId,
    scopes: row.scopes as TppConsentView['scopes'],
    status,
    statusReason: lapsed ? lapseReason(status) : row.statusReason,
    revokedBy: row.revokedBy,
    redirectUri: row.redirectUri,
    state: row.state,
    expiresAt: row.expiresAt,
    authorisationExpiresAt: row.authorisationExpiresAt,
    createdAt: row.createdAt,
    statusUpdatedAt: lapsed
      ? status === 'EXPIRED'
        ? row.expiresAt
        : row.authorisationExpiresAt
      : row.statusUpdatedAt,
  };
}

function lapseReason(status: ConsentStatus): string {
  return status === 'EXPIRED' ? 'consent_expired' : 'authorisation_window_lapsed';
}

/** The TPP behind a client-credentials token of one of its clients, or 403. */
async function requireTppOfClient(ctx: ServiceContext) {
  const actor = ctx.actor;
  const row =
    actor.type === 'client'
      ? await ctx.db
          .select({ clientId: clients.id, tpp: tpps })
          .from(clients)
          .innerJoin(tpps, and(eq(tpps.tenantId, clients.tenantId), eq(tpps.id, clients.tppId)))
          .where(and(eq(clients.tenantId, ctx.tenant.id), eq(clients.id, actor.id)))
          .get()
      : undefined;
  if (!row) {
    throw new ApiError('tpp_client_required', {
      detail: 'Only a TPP’s OAuth client (client_credentials) asks for consents.',
    });
  }
  if (row.tpp.status !== 'ACTIVE')
    throw new ApiError('tpp_not_active', { detail: `TPP ${row.tpp.id} is ${row.tpp.status}.` });
  return row;
}

export async function createConsent(
  ctx: ServiceContext,
  input: CreateTppConsentInput,
): Promise<TppConsentView> {
  const { clientId, tpp } = await requireTppOfClient(ctx);
  const allowed = scopesOfRoles(tpp.roles as TppRole[]);
  const scopes = [...new Set(input.scopes)].sort();
  const refused = scopes.filter((scope) => !allowed.includes(scope));
  if (refused.length > 0) {
    throw new ApiError('role_not_permitted', {
      detail: `The TPP's roles (${tpp.roles.join(', ')}) do not allow: ${refused.join(', ')}.`,
      extensions: { permissions: refused },
    });
  }
  const expiresAt = new Date(input.expiresAt);
  if (expiresAt <= ctx.now || expiresAt.getTime() - ctx.now.getTime() > MAX_CONSENT_DAYS * DAY_MS) {
    throw validationError([
      { path: 'expiresAt', message: `must be in the future and at most ${MAX_CONSENT_DAYS} days away` },
    ]);
  }
  if (!tpp.redirectUris.includes(input.redirectUri)) {
    throw validationError([{ path: 'redirectUri', message: 'is not one of the TPP’s redirect URIs' }]);
  }
  const customer = await ctx.db
    .select({ id: customers.id })
    .from(customers)
    .where(and(eq(customers.tenantId, ctx.tenant.id), eq(customers.id, input.customerId)))
    .get();
  if (!customer) throw notFound('customer');
  const now = ctx.now.toISOString();
  const row: ConsentRow = {
    id: newId('tppConsent', ctx.now.getTime()),
    tenantId: ctx.tenant.id,
    tppId: tpp.id,
    clientId,
    customerId: customer.id,
    userId: null,
    scopes,
    status: 'AWAITING_AUTHORISATION',
    statusReason: null,
    revokedBy: null,
    redirectUri: input.redirectUri,
    codeChallenge: input.codeChallenge,
    state: input.state ?? null,
    expiresAt: expiresAt.toISOString(),
    authorisationExpiresAt: new Date(
      ctx.now.getTime() + DEFAULT_AUTHORISATION_WINDOW_MINUTES * 60_000,
    ).toISOString(),
    createdAt: now,
    statusUpdatedAt: now,
  };
  const ids = { consentId: row.id, tppId: tpp.id, customerId: customer.id };
  await commit(ctx, {
    statements: [ctx.db.insert(tppConsents).values(row)],
    audit: [
      {
        action: 'tpp.consent.created',
        targetType: 'tpp_consent',
        targetId: row.id,
        data: { ...ids, scopes },
      },
    ],
    events: [event('tpp.consent.created', ids)],
  });
  return present(row, ctx.now);
}

async function findConsent(ctx: ServiceContext, consentId: string): Promise<ConsentRow | undefined> {
  return ctx.db
    .select()
    .from(tppConsents)
    .where(and(eq(tppConsents.tenantId, ctx.tenant.id), eq(tppConsents.id, consentId)))
    .get();
}

/**
 * Who sees a consent: the customer it is about (its own login, not a third party acting for
 * it), a client of the TPP it was given to, and staff with `tpp:admin`. Anyone else finds nothing.
 */
async function requireVisibleConsent(
  ctx: ServiceContext,
  consentId: string,
): Promise<{ row: ConsentRow; by: ConsentRevoker }> {
  const row = await findConsent(ctx, consentId);
  const actor = ctx.actor;
  if (actor.type === 'user' && actor.userKind === 'STAFF') {
    if (!hasPermission(actor, 'tpp:admin')) {
      throw new ApiError('forbidden', {
        detail: "This operation needs the permission 'tpp:admin'.",
        extensions: { permission: 'tpp:admin' },
      });
    }
    if (row) return { row, by: 'STAFF' };
  } else if (actor.type === 'user') {
    if (row && actor.delegatedTo === null && actor.customerId === row.customerId)
      return { row, by: 'CUSTOMER' };
  } else if (actor.type === 'client' && hasPermission(actor, 'tpp:admin')) {
    if (row) return { row, by: 'STAFF' };
  } else if (actor.type === 'client' && row) {
    const client = await ctx.db
      .select({ tppId: clients.tppId })
      .from(clients)
      .where(and(eq(clients.tenantId, ctx.tenant.id), eq(clients.id, actor.id)))
      .get();
    if (client?.tppId === row.tppId) return { row, by: 'TPP' };
  }
  throw notFound('TPP consent');
}

export async function getConsent(ctx: ServiceContext, consentId: string): Promise<TppConsentView> {
  return present((await requireVisibleConsent(ctx, consentId)).row, ctx.now);
}

const notAwaiting = (row: ConsentRow, now: Date) =>
  new ApiError('consent_not_awaiting_authorisation', {
    detail: `The consent is ${statusAt(row, now)}: only a consent awaiting authorisation can be authorised or rejected.`,
  });

/**
 * Moves a consent from `from` to `to` in one guarded statement: the status is written only if it
 * is still `from` and, for an answer to an authorisation request, its window is still open;
 * otherwise NULL refuses the batch (NOT NULL guard on `tpp_consents.status`) and nothing lands.
 */
function transition(
  ctx: ServiceContext,
  row: ConsentRow,
  from: readonly ConsentStatus[],
  to: ConsentStatus,
  set: Partial<ConsentRow>,
  when: SQL,
) {
  return ctx.db
    .update(tppConsents)
    .set({
      ...set,
      status: sql`case when ${tppConsents.status} in (${sql.join(
        from.map((status) => sql`${status}`),
        sql`, `,
      )}) and ${when} then ${to} end`,
      statusUpdatedAt: ctx.now.toISOString(),
    })
    .where(and(eq(tppConsents.tenantId, ctx.tenant.id), eq(tppConsents.id, row.id)));
}

/** The customer can still answer: the authorisation window is open. */
const windowOpen = (ctx: ServiceContext) =>
  sql`${tppConsents.authorisationExpiresAt} > ${ctx.now.toISOString()}`;
/** Still in force: awaiting within its window, or authorised and unexpired. */
const inForce = (ctx: ServiceContext) => {
  const now = ctx.now.toISOString();
  return sql`((${tppConsents.status} = 'AWAITING_AUTHORISATION' and ${tppConsents.authorisationExpiresAt} > ${now})
    or (${tppConsents.status} = 'AUTHORISED' and ${tppConsents.expiresAt} > ${now}))`;
};

const statusGuard = (ctx: ServiceContext, consentId: string, refusal: (row: ConsentRow) => ApiError) => ({
  violates: 'tpp_consents.status',
  refusal: async () => {
    const now = await findConsent(ctx, consentId);
    return now ? refusal(now) : notFound('TPP consent');
  },
});

/** The customer's own consent, for the customer's own login: authorising and rejecting. */
async function requireOwnConsent(ctx: ServiceContext, consentId: string): Promise<ConsentRow> {
  // Found (in this tenant) first: a consent of another tenant is not found, whoever asks.
  const row = await findConsent(ctx, consentId);
  if (!row) throw notFound('TPP consent');
  const actor = ctx.actor;
  if (actor.type !== 'user' || actor.userKind !== 'CUSTOMER') {
    throw new ApiError('forbidden', { detail: 'Only the customer the consent is about can answer it.' });
  }
  if (row.customerId !== actor.customerId) throw notFound('TPP consent');
  return row;
}

/**
 * The customer authorises: the consent becomes `AUTHORISED` and a one-time code for its TPP
 * client is minted in the same batch, bound to the consent's redirect URI and PKCE challenge.
 * A revocation or a second authorisation racing it finds the status changed and refuses.
 */
export async function authorizeConsent(ctx: ServiceContext, consentId: string) {
  const row = await requireOwnConsent(ctx, consentId);
  const actor = ctx.actor;
  if (actor.type !== 'user') throw new ApiError('forbidden');
  if (statusAt(row, ctx.now) !== 'AWAITING_AUTHORISATION') throw notAwaiting(row, ctx.now);
  const tpp = await requireTpp(ctx, row.tppId);
  if (tpp.status !== 'ACTIVE')
    throw new ApiError('tpp_not_active', { detail: `TPP ${tpp.id} is ${tpp.status}.` });
  const code = await authorizationCodeInsert(ctx, {
    clientId: row.clientId,
    userId: actor.id,
    customerId: row.customerId,
    redirectUri: row.redirectUri,
    codeChallenge: row.codeChallenge,
    scope: row.scopes,
    amr: actor.amr,
    authTime: actor.authTime,
    consentId: row.id,
  });
  const ids = { consentId: row.id, tppId: row.tppId, customerId: row.customerId };
  await commitUnlessRefused(
    ctx,
    {
      statements: [
        transition(ctx, row, ['AWAITING_AUTHORISATION'], 'AUTHORISED', { userId: actor.id }, windowOpen(ctx)),
        code.statement,
      ],
      audit: [{ action: 'tpp.consent.authorised', targetType: 'tpp_consent', targetId: row.id, data: ids }],
      events: [event('tpp.consent.authorised', ids)],
    },
    statusGuard(ctx, row.id, (now) => notAwaiting(now, ctx.now)),
  );
  const authorised = {
    ...row,
    status: 'AUTHORISED' as const,
    userId: actor.id,
    statusUpdatedAt: ctx.now.toISOString(),
  };
  return {
    consent: present(authorised, ctx.now),
    code: code.code,
    redirectUri: row.redirectUri,
    state: row.state,
  };
}

export async function rejectConsent(ctx: ServiceContext, consentId: string): Promise<TppConsentView> {
  const row = await requireOwnConsent(ctx, consentId);
  if (statusAt(row, ctx.now) !== 'AWAITING_AUTHORISATION') throw notAwaiting(row, ctx.now);
  const actorId = ctx.actor.type === 'user' ? ctx.actor.id : null;
  const ids = { consentId: row.id, tppId: row.tppId, customerId: row.customerId };
  await commitUnlessRefused(
    ctx,
    {
      statements: [
        transition(
          ctx,
          row,
          ['AWAITING_AUTHORISATION'],
          'REJECTED',
          { userId: actorId, statusReason: 'rejected_by_customer' },
          windowOpen(ctx),
        ),
      ],
      audit: [{ action: 'tpp.consent.rejected', targetType: 'tpp_consent', targetId: row.id, data: ids }],
      events: [event('tpp.consent.rejected', ids)],
    },
    statusGuard(ctx, row.id, (now) => notAwaiting(now, ctx.now)),
  );
  return present(
    {
      ...row,
      status: 'REJECTED',
      statusReason: 'rejected_by_customer',
      userId: actorId,
      statusUpdatedAt: ctx.now.toISOString(),
    },
    ctx.now,
  );
}

/** The change that revokes a live consent (awaiting or authorised and unexpired). */
function revocation(ctx: ServiceContext, row: ConsentRow, by: ConsentRevoker, reason: string): Change {
  const ids = { consentId: row.id, tppId: row.tppId, customerId: row.customerId };
  return {
    statements: [
      transition(
        ctx,
        row,
        ['AWAITING_AUTHORISATION', 'AUTHORISED'],
        'REVOKED',
        { revokedBy: by, statusReason: reason },
        inForce(ctx),
      ),
    ],
    audit: [
      {
        action: 'tpp.consent.revoked',
        targetType: 'tpp_consent',
        targetId: row.id,
        data: { ...ids, revokedBy: by, reason },
      },
    ],
    events: [event('tpp.consent.revoked', { ...ids, revokedBy: by })],
  };
}

/**
 * Revokes a consent and ends the grants made under it. The status goes first, so an exchange
 * of its code that races this finds it revoked, and one that won is found by the grant sweep
 * after it (the exchange and the status write are each one D1 batch, serialised).
 */
export async function revokeConsent(ctx: ServiceContext, consentId: string): Promise<TppConsentView> {
  const { row, by } = await requireVisibleConsent(ctx, consentId);
  const status = statusAt(row, ctx.now);
  if (status !== 'AWAITING_AUTHORISATION' && status !== 'AUTHORISED') {
    throw new ApiError('consent_not_in_force', { detail: `The consent is ${status} already.` });
  }
  const reason = `revoked_by_${by.toLowerCase()}`;
  await commitUnlessRefused(
    ctx,
    revocation(ctx, row, by, reason),
    statusGuard(
      ctx,
      row.id,
      (now) =>
        new ApiError('consent_not_in_force', { detail: `The consent is ${statusAt(now, ctx.now)} already.` }),
    ),
  );
  await revokeConsentGrants(ctx, row.id, 'CONSENT_REVOKED');
  return present(
    {
      ...row,
      status: 'REVOKED',
      revokedBy: by,
      statusReason: reason,
      statusUpdatedAt: ctx.now.toISOString(),
    },
    ctx.now,
  );
}

/** Live consents `which` selects, each revoked by the system with its grants. */
async function revokeLiveConsents(ctx: ServiceContext, which: SQL, reason: string): Promise<void> {
  const live = await ctx.db
    .select()
    .from(tppConsents)
    .where(
      and(
        eq(tppConsents.tenantId, ctx.tenant.id),
        which,
        inArray(tppConsents.status, ['AWAITING_AUTHORISATION', 'AUTHORISED']),
      ),
    );
  for (const row of live) {
    try {
      await commitUnlessRefused(ctx, revocation(ctx, row, 'SYSTEM', reason), {
        violates: 'tpp_consents.status',
        refusal: () => new ApiError('consent_not_in_force'),
      });
    } catch (error) {
      // It ended meanwhile (answered, revoked or lapsed): nothing left to revoke.
      if (!(error instanceof ApiError)) throw error;
    }
    await revokeConsentGrants(ctx, row.id, reason.toUpperCase());
  }
}

/** Closing or erasing a customer ends every consent it gave. */
export function revokeCustomerConsents(
  ctx: ServiceContext,
  customerId: string,
  reason: string,
): Promise<void> {
  return revokeLiveConsents(ctx, eq(tppConsents.customerId, customerId), reason.toLowerCase());
}

/** Revoking a TPP ends every consent it was given. */
export function revokeTppConsents(ctx: ServiceContext, tppId: string): Promise<void> {
  return revokeLiveConsents(ctx, eq(tppConsents.tppId, tppId), 'tpp_revoked');
}

async function listWhere(ctx: ServiceContext, which: SQL, query: TppConsentListQuery) {
  const after = decodeCursor(query.cursor, 'tcn');
  const rows = await ctx.db
    .select()
    .from(tppConsents)
    .where(
      and(
        eq(tppConsents.tenantId, ctx.tenant.id),
        which,
        after ? lt(tppConsents.id, after) : undefined,
        query.status ? eq(tppConsents.status, query.status) : undefined,
      ),
    )
    .orderBy(desc(tppConsents.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit);
  return { data: page.data.map((row) => present(row, ctx.now)), nextCursor: page.nextCursor };
}

/** The consents a customer was asked for; the customer's own login or staff (route permission). */
export async function listCustomerConsents(
  ctx: ServiceContext,
  customerId: string,
  query: TppConsentListQuery,
) {
  const actor = ctx.actor;
  if (actor.type === 'user' && actor.userKind === 'CUSTOMER' && actor.customerId !== customerId)
    throw notFound('customer');
  const customer = await ctx.db
    .select({ id: customers.id })
    .from(customers)
    .where(and(eq(customers.tenantId, ctx.tenant.id), eq(customers.id, customerId)))
    .get();
  if (!customer) throw notFound('customer');
  return listWhere(ctx, eq(tppConsents.customerId, customer.id), query);
}

export async function listTppConsents(ctx: ServiceContext, tppId: string, query: TppConsentListQuery) {
  const tpp = await requireTpp(ctx, tppId);
  return listWhere(ctx, eq(tppConsents.tppId, tpp.id), query);
}

/**
 * The sweep (cron): writes the lapses `statusAt` already answers with, with their events, and
 * ends the grants of expired consents (their tokens could not outlive `expiresAt` anyway).
 */
export async function sweepConsents(ctx: ServiceContext): Promise<number> {
  const now = ctx.now.toISOString();
  const lapsed = await ctx.db
    .select()
    .from(tppConsents)
    .where(
      and(
        eq(tppConsents.tenantId, ctx.tenant.id),
        sql`((${tppConsents.status} = 'AWAITING_AUTHORISATION' and ${tppConsents.authorisationExpiresAt} <= ${now})
          or (${tppConsents.status} = 'AUTHORISED' and ${tppConsents.expiresAt} <= ${now}))`,
      ),
    )
    .limit(100);
  for (const row of lapsed) {
    const to = statusAt(row, ctx.now) as 'REJECTED' | 'EXPIRED';
    const ids = { consentId: row.id, tppId: row.tppId, customerId: row.customerId };
    try {
      await commitUnlessRefused(
        ctx,
        {
          statements: [
            transition(
              ctx,
              row,
              [row.status],
              to,
              { statusReason: lapseReason(to) },
              sql`not ${inForce(ctx)}`,
            ),
          ],
          audit: [
            {
              action: `tpp.consent.${to === 'EXPIRED' ? 'expired' : 'rejected'}`,
              targetType: 'tpp_consent',
              targetId: row.id,
              data: { ...ids, reason: lapseReason(to) },
            },
          ],
          events: [event(to === 'EXPIRED' ? 'tpp.consent.expired' : 'tpp.consent.rejected', ids)],
        },
        { violates: 'tpp_consents.status', refusal: () => new ApiError('consent_not_in_force') },
      );
    } catch (error) {
      // Answered or revoked meanwhile: that change stands.
      if (!(error instanceof ApiError)) throw error;
      continue;
    }
    if (to === 'EXPIRED') await revokeConsentGrants(ctx, row.id, 'CONSENT_EXPIRED');
  }
  return lapsed.length;
}
