import { and, asc, desc, eq, gt, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import { isUniqueViolation } from '../../db/client';
import {
  consents,
  customers,
  screeningHits,
  verificationChecks,
  verificationDecisions,
  verifications,
} from '../../db/tenant';
import { actorId } from '../../platform/auth/principal';
import type { ServiceContext } from '../../platform/context';
import { ApiError, notFound } from '../../platform/errors';
import { newId } from '../../platform/ids';
import { decodeCursor, toPage } from '../../platform/pagination';
import { requireCapability } from '../../platform/tenancy';
import { type Change, commitUnlessRefused, event, type PendingEvent } from '../../platform/unit-of-work';
import type { CustomerStatus } from '../customers/schemas';
import {
  assertCustomerVisible,
  assertOrganizationRole,
  type CustomerRow,
  guardedUpdate,
  requireCustomerRow,
} from '../customers/service';
import { type Disclosure, disclosureTo } from '../export/disclosure';
import { loadOfficersAndOwners } from '../organizations/service';
import { linkDocuments, loadDocumentFacts, loadVerificationDocuments } from './document-facts';
import {
  applyEvent,
  type LifecycleRefusal,
  type LifecycleState,
  openStatuses,
  type VerificationEvent,
  type VerificationLevel,
  type VerificationStatus,
  verificationTransitions,
} from './lifecycle';
import { approvalsRequiredFor, requiredLevel, reviewIntervalDays } from './policy';
import { firstPollAt } from './polling';
import { providerFor } from './providers';
import type { ProviderOutcome, StartJob, SubjectFacts } from './providers/types';
import { enqueueVerificationJobs } from './queue';
import {
  activationReadiness,
  computeRequirements,
  documentsReliedOn,
  nextLevel,
  type PersonFact,
  type RequirementError,
  type RequirementFacts,
  type ScreeningFact,
  screenedPeople,
  submitBlockers,
} from './requirements';
import type {
  DecisionInput,
  SubmitVerificationInput,
  VerificationListQuery,
  VerificationView,
} from './schemas';

export type VerificationRow = typeof verifications.$inferSelect;

const DAY_MS = 86_400_000;

/** The tenant's policy: clean outcomes approve BASIC and STANDARD by themselves, ENHANCED always has a reviewer. */
function autoApproveFor(level: VerificationLevel): boolean {
  return level !== 'ENHANCED';
}

// ---------------------------------------------------------------- facts and requirements

async function personFacts(ctx: ServiceContext, customer: CustomerRow) {
  if (customer.type !== 'BUSINESS') return [];
  return (await loadOfficersAndOwners(ctx, customer)).map((person) => ({
    id: person.id,
    kind: person.kind as PersonFact['kind'],
    basisPoints: person.ownershipBasisPoints ?? undefined,
    shareholderType: (person.details.type as PersonFact['shareholderType']) ?? undefined,
    details: person.details,
  }));
}

/** Everything the requirements engine needs about a customer, read in parallel. */
export async function loadFacts(ctx: ServiceContext, customer: CustomerRow) {
  const now = ctx.now.toISOString();
  const [inForce, people, documents, rows] = await Promise.all([
    ctx.db
      .select({ type: consents.type })
      .from(consents)
      .where(
        and(
          eq(consents.tenantId, ctx.tenant.id),
          eq(consents.customerId, customer.id),
          eq(consents.status, 'GRANTED'),
          or(isNull(consents.expiresAt), gt(consents.expiresAt, now)),
        ),
      ),
    personFacts(ctx, customer),
    loadDocumentFacts(ctx, customer.id),
    ctx.db
      .select()
      .from(verifications)
      .where(and(eq(verifications.tenantId, ctx.tenant.id), eq(verifications.customerId, customer.id)))
      .orderBy(desc(verifications.id))
      .limit(50),
  ]);
  const screening = await screeningFacts(ctx, rows, now);
  const facts: RequirementFacts = {
    customerId: customer.id,
    customerType: customer.type,
    emailVerified: customer.emailVerifiedAt !== null,
    profile: customer.profile,
    consentsInForce: inForce.map((row) => row.type),
    people,
    documents,
    screening,
    verifications: latestPerLevel(rows).map((row) => ({
      level: row.level,
      status: row.status,
      expiresAt: row.expiresAt,
      errors: outcomeErrors(row),
    })),
    now,
  };
  return { facts, people, documents, verifications: rows };
}

function latestPerLevel(rows: VerificationRow[]): VerificationRow[] {
  const seen = new Set<string>();
  return rows.filter((row) => !seen.has(row.level) && seen.add(row.level));
}

function outcomeErrors(row: VerificationRow): RequirementError[] {
  const reasons = (row.outcome?.reasons ?? []) as {
    code: string;
    reason: string;
    requirement?: string;
    subject?: string;
  }[];
  return reasons
    .filter((reason) => reason.requirement)
    .map((reason) => ({
      requirement: reason.requirement as string,
      code: reason.code,
      reason: reason.reason,
      subject: reason.subject ?? row.customerId,
    }));
}

/**
 * Subjects screened by the SANCTIONS checks of an approved, unexpired verification are CLEARED;
 * those of an open one are PENDING.
 */
async function screeningFacts(ctx: ServiceContext, rows: VerificationRow[], now: string) {
  const counted = rows.filter(
    (row) =>
      openStatuses.includes(row.status) ||
      (row.status === 'APPROVED' && (row.expiresAt === null || row.expiresAt > now)),
  );
  const screening: Record<string, ScreeningFact> = {};
  if (counted.length === 0) return screening;
  const checks = await ctx.db
    .select({
      verificationId: verificationChecks.verificationId,
      attempt: verificationChecks.attempt,
      subject: verificationChecks.subject,
    })
    .from(verificationChecks)
    .where(
      and(
        eq(verificationChecks.tenantId, ctx.tenant.id),
        inArray(
          verificationChecks.verificationId,
          counted.map((row) => row.id),
        ),
        eq(verificationChecks.type, 'SANCTIONS'),
      ),
    );
  for (const row of counted) {
    const state: ScreeningFact = row.status === 'APPROVED' ? 'CLEARED' : 'PENDING';
    for (const check of checks) {
      if (check.verificationId !== row.id || check.attempt !== row.attempt) continue;
      if (screening[check.subject] !== 'CLEARED') screening[check.subject] = state;
    }
  }
  return screening;
}

export async function getRequirements(ctx: ServiceContext, customerId: string, level?: VerificationLevel) {
  const customer = await requireVerifiableCustomer(ctx, customerId, 'read');
  const { facts } = await loadFacts(ctx, customer);
  return computeRequirements(facts, level ?? nextLevel(facts));
}

/** A customer the caller may act on for verification; organizations' own users by their role. */
async function requireVerifiableCustomer(ctx: ServiceContext, customerId: string, access: 'read' | 'write') {
  const customer = await requireCustomerRow(ctx, customerId);
  if (customer.type === 'BUSINESS') requireCapability(ctx.tenant, 'SCT02');
  if (access === 'write') {
    await assertOrganizationRole(
      ctx,
      customer,
      ['ADMIN_USER', 'COMPLIANCE_OFFICER'],
      'submit a verification',
    );
  }
  return customer;
}

// ---------------------------------------------------------------- views

type CheckRow = typeof verificationChecks.$inferSelect;
type HitRow = typeof screeningHits.$inferSelect;
type DecisionRow = typeof verificationDecisions.$inferSelect;

/** What a view is made of: the columns the customer-data map hands the export, too. */
type PresentedRow = Omit<
  VerificationRow,
  | 'tenantId'
  | 'submittedBy'
  | 'autoApprove'
  | 'lastEventAt'
  | 'jobEnqueuedAt'
  | 'expiringNotifiedAt'
  | 'expiredNotifiedAt'
  | 'pollCount'
  | 'nextPollAt'
>;
type PresentedCheck = Omit<CheckRow, 'tenantId' | 'customerId'>;
type PresentedHit = Omit<HitRow, 'tenantId' | 'customerId' | 'createdAt'>;
type PresentedDecision = Omit<DecisionRow, 'tenantId' | 'customerId'>;

/**
 * A verification's view. The API shows the checks and hits of the current attempt; the GDPR
 * export (`attempts: 'all'`) those of every attempt, each naming its own.
 */
export function presentVerification(
  row: PresentedRow,
  checks: readonly PresentedCheck[],
  hits: readonly PresentedHit[],
  decisions: readonly PresentedDecision[],
  attempts: 'current' | 'all' = 'current',
): VerificationView {
  const outcome = (row.outcome ?? {}) as {
    rejectType?: 'FINAL' | 'RETRYABLE';
    reasons?: { code: string; reason: string }[];
  };
  const current = <R extends { verificationId: string; attempt: number }>(list: readonly R[]) =>
    list.filter(
      (item) => item.verificationId === row.id && (attempts === 'all' || item.attempt === row.attempt),
    );
  return {
    id: row.id,
    customerId: row.customerId,
    level: row.level,
    status: row.status,
    reason: row.reason,
    attempt: row.attempt,
    provider: row.provider,
    providerReference: row.providerRef,
    rejectType: outcome.rejectType ?? null,
    reasons: (outcome.reasons ?? []).map(({ code, reason }) => ({ code, reason })),
    reviewReason: row.reviewReason,
    approvalsRequired: row.approvalsRequired,
    checks: current(checks).map((check) => ({
      id: check.id,
      attempt: check.attempt,
      type: check.type,
      subject: check.subject,
      status: check.status,
      resultCode: check.resultCode,
      providerReference: check.providerReference,
      startedAt: check.startedAt,
      completedAt: check.completedAt,
    })),
    hits: current(hits).map((hit) => ({
      id: hit.id,
      attempt: hit.attempt,
      checkId: hit.checkId,
      subject: hit.subject,
      listEntryId: hit.listEntryId,
      caption: hit.caption,
      datasets: hit.datasets,
      topics: hit.topics,
      score: hit.scorePercent / 100,
      matchedOn: hit.matchedOn,
      disposition: hit.disposition,
      disposedBy: hit.disposedBy,
      disposedAt: hit.disposedAt,
      note: hit.note,
    })),
    decisions: decisions
      .filter((decision) => decision.verificationId === row.id)
      .map(({ id, attempt, reviewerId, decision, reason, createdAt }) => ({
        id,
        attempt,
        reviewerId,
        decision,
        reason,
        createdAt,
      })),
    approvedAt: row.approvedAt,
    expiresAt: row.expiresAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

async function presentRows(ctx: ServiceContext, rows: VerificationRow[]): Promise<VerificationView[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.id);
  const scoped = <T extends typeof verificationChecks | typeof screeningHits | typeof verificationDecisions>(
    table: T,
  ) => and(eq(table.tenantId, ctx.tenant.id), inArray(table.verificationId, ids));
  const [checks, hits, decisions] = await Promise.all([
    ctx.db
      .select()
      .from(verificationChecks)
      .where(scoped(verificationChecks))
      .orderBy(asc(verificationChecks.id)),
    ctx.db.select().from(screeningHits).where(scoped(screeningHits)).orderBy(asc(screeningHits.id)),
    ctx.db
      .select()
      .from(verificationDecisions)
      .where(scoped(verificationDecisions))
      .orderBy(asc(verificationDecisions.id)),
  ]);
  return presentWith(ctx, rows, checks, hits, decisions);
}

function presentWith(
  ctx: ServiceContext,
  rows: VerificationRow[],
  checks: readonly PresentedCheck[],
  hits: readonly PresentedHit[],
  decisions: readonly PresentedDecision[],
): VerificationView[] {
  const disclosure = disclosureTo(ctx.actor);
  return rows.map((row) =>
    disclosedVerification(disclosure, presentVerification(row, checks, hits, decisions)),
  );
}

/**
 * A verification as the requester may see it (./export/disclosure.ts): the data subject sees
 * its outcome, checks, hits and the reasons given to it, but neither what reviewers wrote for
 * the bank's file (review reason, hit notes, the reasons of decisions) nor who they are.
 */
export function disclosedVerification(disclosure: Disclosure, view: VerificationView): VerificationView {
  const withoutNames = disclosure.namesTheBanksActors
    ? view
    : {
        ...view,
        hits: view.hits.map((hit) => ({ ...hit, disposedBy: null })),
        decisions: view.decisions.map((decision) => ({ ...decision, reviewerId: null })),
      };
  if (disclosure.showsReviewNotes) return withoutNames;
  return {
    ...withoutNames,
    reviewReason: null,
    hits: withoutNames.hits.map((hit) => ({ ...hit, note: null })),
    decisions: withoutNames.decisions.map((decision) => ({ ...decision, reason: null })),
  };
}

/** The customer's verifications for its GDPR export, every attempt's checks and hits with them. */
export function presentVerificationsForExport(
  disclosure: Disclosure,
  rows: {
    verifications: readonly PresentedRow[];
    checks: readonly PresentedCheck[];
    hits: readonly PresentedHit[];
    decisions: readonly PresentedDecision[];
  },
): VerificationView[] {
  return rows.verifications.map((row) =>
    disclosedVerification(
      disclosure,
      presentVerification(row, rows.checks, rows.hits, rows.decisions, 'all'),
    ),
  );
}

export async function findVerification(ctx: ServiceContext, verificationId: string) {
  return ctx.db
    .select()
    .from(verifications)
    .where(and(eq(verifications.tenantId, ctx.tenant.id), eq(verifications.id, verificationId)))
    .get();
}

/** A verification of a customer the caller may see (a customer sees only its own); else 404. */
export async function requireVerification(
  ctx: ServiceContext,
  verificationId: string,
): Promise<VerificationRow> {
  const row = await findVerification(ctx, verificationId);
  if (!row) throw notFound('verification');
  try {
    assertCustomerVisible(ctx, row.customerId);
  } catch {
    throw notFound('verification');
  }
  return row;
}

export async function getVerification(
  ctx: ServiceContext,
  verificationId: string,
): Promise<VerificationView> {
  const row = await requireVerification(ctx, verificationId);
  const [view] = await presentRows(ctx, [row]);
  return view as VerificationView;
}

export async function listVerifications(
  ctx: ServiceContext,
  customerId: string,
  query: VerificationListQuery,
) {
  await requireVerifiableCustomer(ctx, customerId, 'read');
  const after = decodeCursor(query.cursor, 'ver_');
  const rows = await ctx.db
    .select()
    .from(verifications)
    .where(
      and(
        eq(verifications.tenantId, ctx.tenant.id),
        eq(verifications.customerId, customerId),
        after ? lt(verifications.id, after) : undefined,
      ),
    )
    .orderBy(desc(verifications.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit);
  return { data: await presentRows(ctx, page.data), nextCursor: page.nextCursor };
}

// ---------------------------------------------------------------- writing

/**
 * Writes a verification's new state only if nobody moved it since it was read: a stale row
 * gets a null `updated_at`, which NOT NULL refuses, rolling the whole batch back. This is what
 * lets exactly one of two racing reviewers or callbacks win.
 */
function guardedVerificationUpdate(
  ctx: ServiceContext,
  row: VerificationRow,
  values: Partial<VerificationRow>,
) {
  return ctx.db
    .update(verifications)
    .set({
      ...values,
      updatedAt: sql`CASE WHEN ${verifications.updatedAt} = ${row.updatedAt} AND ${verifications.status} = ${row.status} THEN ${ctx.now.toISOString()} END`,
    })
    .where(and(eq(verifications.tenantId, ctx.tenant.id), eq(verifications.id, row.id)));
}

const verificationGuard = {
  violates: 'verifications.updated_at',
  refusal: () =>
    new ApiError('concurrent_update', {
      detail: 'The verification was changed by another request; read it again and retry.',
    }),
};

const customerGuard = {
  violates: 'customers.updated_at',
  refusal: () =>
    new ApiError('concurrent_update', {
      detail: 'The customer was changed meanwhile; read it again and retry.',
    }),
};

export function lifecycleError(refusal: LifecycleRefusal): ApiError {
  switch (refusal.code) {
    case 'invalid_transition':
      return new ApiError('invalid_transition', {
        detail: `A ${refusal.from} verification cannot ${refusal.to ? `become ${refusal.to}` : 'be changed that way'}.`,
        extensions: { allowed: verificationTransitions[refusal.from] },
      });
    case 'hits_open':
      return new ApiError('hits_open', { detail: `Open screening hits: ${refusal.openHits.join(', ')}.` });
    case 'already_approved_by_reviewer':
      return new ApiError('approval_already_given', {
        detail: 'You have already approved this attempt; another reviewer must give the next approval.',
      });
    case 'unknown_hit':
      return new ApiError('validation_failed', {
        detail: `No hit ${refusal.hitId} in this attempt.`,
        errors: [{ path: 'hitDispositions', message: `unknown hit ${refusal.hitId}` }],
      });
  }
}

/** Where the customer's status goes when one of its verifications reaches `status`. */
function customerStatusAfter(from: CustomerStatus, status: VerificationStatus): CustomerStatus | null {
  if (status === 'PENDING' && (from === 'REGISTERED' || from === 'REJECTED')) return 'VERIFICATION_PENDING';
  if (status === 'APPROVED' && from === 'VERIFICATION_PENDING') return 'VERIFIED';
  if (status === 'REJECTED' && from === 'VERIFICATION_PENDING') return 'REJECTED';
  return null;
}

/** The customer's part of a verification's move: its status, audited, with the event, when it follows. */
function customerFollows(
  ctx: ServiceContext,
  customer: CustomerRow,
  status: VerificationStatus,
  reason: string,
): Change {
  const from = customer.status as CustomerStatus;
  const to = customerStatusAfter(from, status);
  if (!to) return { statements: [], audit: [], events: [] };
  return {
    statements: [guardedUpdate(ctx, customer, { status: to })],
    audit: [
      {
        action: 'customer.status_changed',
        targetType: 'customer',
        targetId: customer.id,
        data: { from, to, reason },
      },
    ],
    events: [event('customer.status_changed', { customerId: customer.id, from, to, reason }, customer.key)],
  };
}

const statusEvents = {
  APPROVED: 'verification.approved',
  REJECTED: 'verification.rejected',
  ADDITIONAL_INFO_REQUIRED: 'verification.additional_info_required',
  MANUAL_REVIEW: 'verification.manual_review',
} as const;

function verificationEvents(
  row: VerificationRow,
  status: VerificationStatus,
  customer: CustomerRow,
): PendingEvent[] {
  if (!(status in statusEvents) || status === row.status) return [];
  const type = statusEvents[status as keyof typeof statusEvents];
  return [
    event(
      type,
      { customerId: row.customerId, verificationId: row.id, level: row.level, attempt: row.attempt },
      customer.key,
    ),
  ];
}

export function lifecycleStateOf(
  row: VerificationRow,
  hits: HitRow[],
  decisions: DecisionRow[],
): LifecycleState {
  return {
    status: row.status,
    hits: Object.fromEntries(
      hits.filter((hit) => hit.attempt === row.attempt).map((hit) => [hit.id, hit.disposition]),
    ),
    approvals: decisions
      .filter((decision) => decision.attempt === row.attempt && decision.decision === 'APPROVE')
      .map((decision) => decision.reviewerId),
    approvalsRequired: row.approvalsRequired,
    autoApprove: row.autoApprove,
    monitoring: row.reason === 'ONGOING_MONITORING',
  };
}

function expiryOf(
  ctx: ServiceContext,
  documents: { documentType: string; expiresAt: string | null }[],
): string {
  const days = reviewIntervalDays(ctx.tenant);
  const interval = new Date(ctx.now.getTime() + days * DAY_MS).toISOString();
  const identity = ['PASSPORT', 'NATIONAL_ID', 'DRIVING_LICENSE', 'RESIDENCE_PERMIT'];
  const documentExpiries = documents
    .filter((document) => identity.includes(document.documentType) && document.expiresAt !== null)
    .map((document) => new Date(document.expiresAt as string).toISOString());
  return [interval, ...documentExpiries].sort()[0] as string;
}

/** The statements that move a verification to `next`, with the customer following. */
async function moveVerification(
  ctx: ServiceContext,
  row: VerificationRow,
  next: LifecycleState,
  values: Partial<VerificationRow>,
  reason: string,
): Promise<Change> {
  const customer = await requireCustomerRow(ctx, row.customerId);
  const approved = next.status === 'APPROVED' && row.status !== 'APPROVED';
  const documents = approved ? await loadVerificationDocuments(ctx, row.id) : [];
  const update = guardedVerificationUpdate(ctx, row, {
    ...values,
    status: next.status,
    ...(approved ? { approvedAt: ctx.now.toISOString(), expiresAt: expiryOf(ctx, documents) } : {}),
  });
  const follows = customerFollows(ctx, customer, next.status, reason);
  return {
    statements: [update, ...follows.statements],
    audit: [
      ...(next.status !== row.status
        ? [
            {
              action: 'verification.status_changed',
              targetType: 'verification',
              targetId: row.id,
              data: { customerId: row.customerId, from: row.status, to: next.status, attempt: row.attempt },
            },
          ]
        : []),
      ...follows.audit,
    ],
    events: [...verificationEvents(row, next.status, customer), ...follows.events],
  };
}

const documentGoneGuard = {
  violates: 'verification_documents.created_at',
  refusal: () =>
    new ApiError('concurrent_update', {
      detail: 'A document this verification relies on was deleted meanwhile; read the requirements again.',
    }),
};

/**
 * Submits a verification of a level (202): refused with 422 `requirements_not_met` while
 * something the customer must provide is missing. An ADDITIONAL_INFO_REQUIRED one of the
 * level is re-submitted as its next attempt; otherwise a new one is created, and the partial
 * unique index lets only one open verification per customer and level exist.
 */
export async function submitVerification(
  ctx: ServiceContext,
  customerId: string,
  input: SubmitVerificationInput,
  reason: VerificationRow['reason'] = 'CUSTOMER_REQUEST',
): Promise<VerificationView> {
  const customer = await requireVerifiableCustomer(ctx, customerId, 'write');
  if (input.level !== 'BASIC') requireCapability(ctx.tenant, 'SCT11');
  const { facts, verifications: rows } = await loadFacts(ctx, customer);
  const blockers = submitBlockers(computeRequirements(facts, input.level).currentlyDue);
  if (blockers.length > 0) {
    throw new ApiError('requirements_not_met', {
      detail: `Due before a ${input.level} verification: ${blockers.map((entry) => entry.requirement).join(', ')}.`,
      extensions: {
        missing: blockers.map(({ requirement, kind, subject }) => ({ requirement, kind, subject })),
      },
    });
  }
  const now = ctx.now.toISOString();
  const waiting = rows.find((row) => row.level === input.level && row.status === 'ADDITIONAL_INFO_REQUIRED');
  let row: VerificationRow;
  let change: Change;
  if (waiting) {
    const result = applyEvent(lifecycleStateOf(waiting, [], []), { type: 'RESUBMITTED' });
    if (!result.ok) throw lifecycleError(result.refusal);
    row = {
      ...waiting,
      status: 'PENDING',
      attempt: waiting.attempt + 1,
      submittedBy: actorId(ctx.actor),
      outcome: null,
      reviewReason: null,
      jobEnqueuedAt: null,
      updatedAt: now,
    };
    change = await moveVerification(
      ctx,
      waiting,
      result.state,
      {
        attempt: row.attempt,
        submittedBy: row.submittedBy,
        outcome: null,
        reviewReason: null,
        jobEnqueuedAt: null,
        lastEventAt: null,
      },
      'verification re-submitted',
    );
  } else {
    row = {
      id: newId('verification', ctx.now.getTime()),
      tenantId: ctx.tenant.id,
      customerId,
      level: input.level,
      status: 'PENDING',
      reason,
      attempt: 1,
      provider: providerFor(ctx.tenant.settings).name,
      providerRef: null,
      submittedBy: actorId(ctx.actor),
      approvalsRequired: approvalsRequiredFor(ctx.tenant, input.level),
      autoApprove: autoApproveFor(input.level),
      outcome: null,
      reviewReason: null,
      lastEventAt: null,
      jobEnqueuedAt: null,
      approvedAt: null,
      expiresAt: null,
      expiringNotifiedAt: null,
      expiredNotifiedAt: null,
      pollCount: 0,
      nextPollAt: null,
      createdAt: now,
      updatedAt: now,
    };
    const follows = customerFollows(ctx, customer, 'PENDING', 'verification submitted');
    change = {
      statements: [ctx.db.insert(verifications).values(row), ...follows.statements],
      audit: follows.audit,
      events: follows.events,
    };
  }
  change.statements.push(
    ...linkDocuments(ctx, row.id, documentsReliedOn(facts, input.level), waiting !== undefined),
  );
  change.audit.push({
    action: 'verification.submitted',
    targetType: 'verification',
    targetId: row.id,
    data: { customerId, level: row.level, attempt: row.attempt, reason },
  });
  change.events.push(
    event(
      'verification.submitted',
      { customerId, verificationId: row.id, level: row.level, attempt: row.attempt },
      customer.key,
    ),
  );
  try {
    await commitUnlessRefused(ctx, change, verificationGuard, customerGuard, documentGoneGuard);
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ApiError('verification_in_progress', {
        detail: `The customer already has an open ${input.level} verification.`,
      });
    }
    throw error;
  }
  ctx.waitUntil(enqueueVerificationJobs(ctx.env, ctx.db, ctx.tenant.id, [row.id]));
  // A verification this request created has no checks, hits or decisions yet: nothing to read.
  const [view] = waiting ? await presentRows(ctx, [row]) : presentWith(ctx, [row], [], [], []);
  return view as VerificationView;
}

// ---------------------------------------------------------------- provider side (queue consumers)

/** What the provider is told about the verification: names to screen, the magic inputs, documents. */
export async function startJob(
  ctx: ServiceContext,
  row: VerificationRow,
  deliveryAttempt: number,
): Promise<StartJob> {
  const customer = await requireCustomerRow(ctx, row.customerId);
  const [{ people }, documents] = await Promise.all([
    loadFacts(ctx, customer),
    loadVerificationDocuments(ctx, row.id),
  ]);
  const profile = customer.profile as Record<string, string | undefined>;
  const subject: SubjectFacts =
    customer.type === 'INDIVIDUAL'
      ? {
          id: customer.id,
          kind: 'CUSTOMER',
          schema: 'Person',
          name: [profile.firstName, profile.middleName, profile.lastName].filter(Boolean).join(' '),
          lastName: profile.lastName,
        }
      : {
          id: customer.id,
          kind: 'CUSTOMER',
          schema: 'Company',
          name: profile.legalName ?? '',
          registrationNumber: profile.registrationNumber,
        };
  const screened = screenedPeople(people).map((person): SubjectFacts => {
    const details = person.details as Record<string, unknown>;
    const corporate = details.type === 'CORPORATE';
    return {
      id: person.id,
      kind: person.kind,
      schema: corporate ? 'Company' : 'Person',
      name: corporate
        ? String(details.legalName ?? '')
        : `${details.firstName ?? ''} ${details.lastName ?? ''}`.trim(),
      lastName: corporate ? undefined : (details.lastName as string | undefined),
      isPep: details.isPep === true,
    };
  });
  return {
    tenantId: ctx.tenant.id,
    verificationId: row.id,
    attempt: row.attempt,
    level: row.level,
    deliveryAttempt,
    customerType: customer.type,
    customer: subject,
    people: screened,
    documents,
  };
}

/** The consumer started the verification at the provider: IN_PROGRESS with its checks. */
export async function recordStarted(
  ctx: ServiceContext,
  row: VerificationRow,
  providerRef: string,
  checks: { type: CheckRow['type']; subject: string }[],
): Promise<void> {
  const result = applyEvent(lifecycleStateOf(row, [], []), { type: 'PROVIDER_STARTED' });
  if (!result.ok) return; // Started already (a redelivered message): nothing to do.
  const now = ctx.now.toISOString();
  const change = await moveVerification(
    ctx,
    row,
    result.state,
    { providerRef, pollCount: 0, nextPollAt: firstPollAt(ctx.now) },
    'verification started',
  );
  change.statements.push(
    ...checks.map((check) =>
      ctx.db
        .insert(verificationChecks)
        .values({
          id: newId('verificationCheck', ctx.now.getTime()),
          tenantId: ctx.tenant.id,
          verificationId: row.id,
          customerId: row.customerId,
          attempt: row.attempt,
          type: check.type,
          subject: check.subject,
          status: 'IN_PROGRESS',
          providerReference: providerRef,
          startedAt: now,
        })
        .onConflictDoNothing(),
    ),
  );
  await commitUnlessRefused(ctx, change, verificationGuard, customerGuard);
}

/**
 * Applies a provider's outcome to the attempt it is about. An outcome for another attempt, one
 * older than the last applied, or one the lifecycle refuses (the verification was decided
 * meanwhile) changes nothing: the caller records it as STALE or IGNORED.
 */
export async function applyOutcome(
  ctx: ServiceContext,
  row: VerificationRow,
  outcome: ProviderOutcome,
  occurredAt: string,
  extra: Change = { statements: [], audit: [], events: [] },
): Promise<'APPLIED' | 'STALE' | 'IGNORED'> {
  if (row.lastEventAt !== null && occurredAt <= row.lastEventAt) return 'STALE';
  const now = ctx.now.toISOString();
  const checkIds = new Map<string, string>();
  const hitRows = outcome.hits.map((hit) => {
    const key = `${hit.checkType}:${hit.subject}`;
    if (!checkIds.has(key)) checkIds.set(key, newId('verificationCheck', ctx.now.getTime()));
    return {
      id: newId('screeningHit', ctx.now.getTime()),
      tenantId: ctx.tenant.id,
      verificationId: row.id,
      checkId: checkIds.get(key) as string,
      customerId: row.customerId,
      attempt: row.attempt,
      subject: hit.subject,
      listEntryId: hit.listEntryId,
      caption: hit.caption,
      datasets: hit.datasets,
      topics: hit.topics,
      scorePercent: Math.round(hit.score * 100),
      matchedOn: hit.matchedOn,
      disposition: hit.disposition,
      disposedBy: null,
      disposedAt: hit.disposition === 'OPEN' ? null : now,
      note: hit.disposition === 'OPEN' ? null : 'Exact match on the list.',
      createdAt: now,
    };
  });
  const event: VerificationEvent = {
    type: 'PROVIDER_OUTCOME',
    decision: outcome.decision,
    hits: Object.fromEntries(hitRows.map((hit) => [hit.id, hit.disposition])),
    needsReview: outcome.checks.some((check) => check.status === 'NEEDS_REVIEW'),
  };
  const result = applyEvent(lifecycleStateOf(row, [], []), event);
  if (!result.ok) return 'IGNORED';
  const reasons = outcome.reasons;
  const change = await moveVerification(
    ctx,
    row,
    result.state,
    {
      outcome: { rejectType: outcome.rejectType ?? null, reasons },
      lastEventAt: occurredAt,
      ...(result.state.status === 'MANUAL_REVIEW'
        ? { reviewReason: reasons.map((reason) => reason.code).join(', ') || 'review required by policy' }
        : {}),
    },
    `verification ${result.state.status.toLowerCase()}`,
  );
  // Checks are upserted on (attempt, type, subject): the one the start created is completed.
  for (const check of outcome.checks) {
    const key = `${check.type}:${check.subject}`;
    change.statements.push(
      ctx.db
        .insert(verificationChecks)
        .values({
          id: checkIds.get(key) ?? newId('verificationCheck', ctx.now.getTime()),
          tenantId: ctx.tenant.id,
          verificationId: row.id,
          customerId: row.customerId,
          attempt: row.attempt,
          type: check.type,
          subject: check.subject,
          status: check.status,
          resultCode: check.resultCode ?? null,
          providerReference: check.providerReference ?? row.providerRef,
          startedAt: now,
          completedAt: now,
        })
        .onConflictDoUpdate({
          target: [
            verificationChecks.tenantId,
            verificationChecks.verificationId,
            verificationChecks.attempt,
            verificationChecks.type,
            verificationChecks.subject,
          ],
          set: { status: check.status, resultCode: check.resultCode ?? null, completedAt: now },
        }),
    );
  }
  change.statements.push(...hitRows.map((hit) => ctx.db.insert(screeningHits).values(hit)));
  await commitUnlessRefused(
    ctx,
    {
      statements: [...change.statements, ...extra.statements],
      audit: [...change.audit, ...extra.audit],
      events: [...change.events, ...extra.events],
    },
    verificationGuard,
    customerGuard,
  );
  return 'APPLIED';
}

/** The provider could not be reached, or never answered: a person takes over, told why. */
export async function sendToManualReview(
  ctx: ServiceContext,
  row: VerificationRow,
  reason: string,
): Promise<boolean> {
  const result = applyEvent(lifecycleStateOf(row, [], []), { type: 'PROVIDER_FAILED' });
  if (!result.ok) return false;
  const change = await moveVerification(
    ctx,
    row,
    result.state,
    { reviewReason: reason },
    'verification sent to manual review',
  );
  await commitUnlessRefused(ctx, change, verificationGuard, customerGuard);
  return true;
}

// ---------------------------------------------------------------- review (four eyes)

function assertReviewer(ctx: ServiceContext, row: VerificationRow) {
  const actor = ctx.actor;
  if (actor.type !== 'user') {
    throw new ApiError('four_eyes_violation', {
      detail: 'Verifications are decided by a person: API clients may not decide.',
    });
  }
  if (actor.userKind !== 'STAFF' || actor.customerId !== null || actor.delegatedTo !== null) {
    throw new ApiError('four_eyes_violation', {
      detail: 'A user of the customer may not decide its verification.',
    });
  }
  if (row.submittedBy === actor.id) {
    throw new ApiError('four_eyes_violation', {
      detail: 'The submitter of a verification may not decide it.',
    });
  }
  return actor;
}

/**
 * A reviewer's decision, with the hit dispositions it makes, in one batch: hits, decision row,
 * the verification's move and the customer's, audit rows and events. Decisions are immutable;
 * the guarded update makes exactly one of two racing reviewers win.
 */
export async function decideVerification(
  ctx: ServiceContext,
  verificationId: string,
  input: DecisionInput,
): Promise<VerificationView> {
  const row = await requireVerification(ctx, verificationId);
  const reviewer = assertReviewer(ctx, row);
  const [hits, decisions] = await Promise.all([
    ctx.db
      .select()
      .from(screeningHits)
      .where(and(eq(screeningHits.tenantId, ctx.tenant.id), eq(screeningHits.verificationId, row.id))),
    ctx.db
      .select()
      .from(verificationDecisions)
      .where(
        and(
          eq(verificationDecisions.tenantId, ctx.tenant.id),
          eq(verificationDecisions.verificationId, row.id),
        ),
      ),
  ]);
  let state = lifecycleStateOf(row, hits, decisions);
  const now = ctx.now.toISOString();
  const statements: Change['statements'] = [];
  const audit: Change['audit'] = [];
  for (const disposition of input.hitDispositions ?? []) {
    const result = applyEvent(state, {
      type: 'HIT_DISPOSED',
      hitId: disposition.hitId,
      disposition: disposition.disposition,
    });
    if (!result.ok) throw lifecycleError(result.refusal);
    state = result.state;
    statements.push(
      ctx.db
        .update(screeningHits)
        .set({
          disposition: disposition.disposition,
          disposedBy: reviewer.id,
          disposedAt: now,
          note: disposition.note ?? null,
        })
        .where(and(eq(screeningHits.tenantId, ctx.tenant.id), eq(screeningHits.id, disposition.hitId))),
    );
    audit.push({
      action: 'verification.hit_disposed',
      targetType: 'verification',
      targetId: row.id,
      data: {
        customerId: row.customerId,
        hitId: disposition.hitId,
        disposition: disposition.disposition,
        note: disposition.note ?? null,
      },
    });
  }
  const reviewEvent: VerificationEvent =
    input.decision === 'APPROVE'
      ? { type: 'REVIEW_APPROVE', reviewerId: reviewer.id }
      : input.decision === 'REJECT'
        ? { type: 'REVIEW_REJECT', reviewerId: reviewer.id }
        : { type: 'REVIEW_REQUEST_INFO', reviewerId: reviewer.id };
  const result = applyEvent(state, reviewEvent);
  if (!result.ok) throw lifecycleError(result.refusal);
  const customer = await requireCustomerRow(ctx, row.customerId);
  const reasons =
    input.decision === 'APPROVE'
      ? []
      : [
          {
            code: input.decision === 'REJECT' ? 'rejected_by_reviewer' : 'information_requested',
            reason: input.reason,
            requirement: undefined,
          },
        ];
  const move = await moveVerification(
    ctx,
    row,
    result.state,
    input.decision === 'APPROVE'
      ? {}
      : { outcome: { rejectType: input.decision === 'REJECT' ? 'FINAL' : 'RETRYABLE', reasons } },
    `verification decided: ${input.decision}`,
  );
  statements.push(
    ctx.db.insert(verificationDecisions).values({
      id: newId('verificationDecision', ctx.now.getTime()),
      tenantId: ctx.tenant.id,
      verificationId: row.id,
      customerId: row.customerId,
      attempt: row.attempt,
      reviewerId: reviewer.id,
      decision: input.decision,
      reason: input.reason,
      createdAt: now,
    }),
  );
  audit.push({
    action: 'verification.decision_recorded',
    targetType: 'verification',
    targetId: row.id,
    data: {
      customerId: row.customerId,
      decision: input.decision,
      attempt: row.attempt,
      reason: input.reason,
    },
  });
  try {
    await commitUnlessRefused(
      ctx,
      {
        statements: [...statements, ...move.statements],
        audit: [...audit, ...move.audit],
        events: [
          event(
            'verification.decision_recorded',
            { customerId: row.customerId, verificationId: row.id, level: row.level, attempt: row.attempt },
            customer.key,
          ),
          ...move.events,
        ],
      },
      verificationGuard,
      customerGuard,
    );
  } catch (error) {
    if (isUniqueViolation(error)) throw lifecycleError({ code: 'already_approved_by_reviewer' });
    throw error;
  }
  return getVerification(ctx, verificationId);
}

// ---------------------------------------------------------------- activation

export async function getActivationReadiness(ctx: ServiceContext, customerId: string) {
  const customer = await requireVerifiableCustomer(ctx, customerId, 'read');
  const { facts } = await loadFacts(ctx, customer);
  return activationReadiness(facts, requiredLevel(ctx.tenant));
}

/** VERIFIED → ACTIVE once ready (409 `activation_not_ready` with `missing` otherwise). */
export async function activateCustomer(ctx: ServiceContext, customerId: string) {
  const customer = await requireVerifiableCustomer(ctx, customerId, 'write');
  const { facts } = await loadFacts(ctx, customer);
  const readiness = activationReadiness(facts, requiredLevel(ctx.tenant));
  const from = customer.status as CustomerStatus;
  if (!readiness.ready) {
    throw new ApiError('activation_not_ready', {
      detail: `Missing: ${readiness.missing.map((entry) => entry.requirement).join(', ')}.`,
      extensions: {
        missing: readiness.missing.map(({ requirement, kind, subject }) => ({ requirement, kind, subject })),
      },
    });
  }
  if (from !== 'VERIFIED') {
    throw new ApiError('invalid_transition', {
      detail: `A ${from} customer cannot be activated; it must be VERIFIED.`,
      extensions: { allowed: [] },
    });
  }
  const reason = 'activated after verification';
  await commitUnlessRefused(
    ctx,
    {
      statements: [guardedUpdate(ctx, customer, { status: 'ACTIVE' })],
      audit: [
        {
          action: 'customer.activated',
          targetType: 'customer',
          targetId: customerId,
          data: { from, to: 'ACTIVE', reason },
        },
      ],
      events: [
        event('customer.status_changed', { customerId, from, to: 'ACTIVE', reason }, customer.key),
        event('customer.activated', { customerId }, customer.key),
      ],
    },
    customerGuard,
  );
  const updated = await ctx.db
    .select({ status: customers.status, updatedAt: customers.updatedAt })
    .from(customers)
    .where(and(eq(customers.tenantId, ctx.tenant.id), eq(customers.id, customerId)))
    .get();
  return { customerId, status: updated?.status ?? 'ACTIVE' };
}
