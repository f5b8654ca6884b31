import { and, desc, eq, lt, sql } from 'drizzle-orm';
import { isCheckViolation } from '../../db/client';
import { organizationPeople } from '../../db/tenant';
import type { ServiceContext } from '../../platform/context';
import { ApiError, notFound, validationError } from '../../platform/errors';
import { newId } from '../../platform/ids';
import { decodeCursor, toPage } from '../../platform/pagination';
import { commit, event } from '../../platform/unit-of-work';
import type { CustomerView } from '../customers/schemas';
import {
  type CustomerRow,
  incorporationDateProblems,
  presentCustomer,
  requireCustomerRow,
  updateProfile,
} from '../customers/service';
import { registerCustomer } from '../registration/service';
import type {
  CreateDirectorInput,
  CreateShareholderInput,
  DirectorView,
  PeopleQuery,
  RegisterOrganizationInput,
  ShareholderView,
  UpdateOrganizationInput,
} from './schemas';

type PersonRow = typeof organizationPeople.$inferSelect;
type PersonKind = PersonRow['kind'];

/** Stakes are stored in hundredths of a percent; a shareholder at or above 25 % is a UBO. */
const FULL_OWNERSHIP = 10_000;
const UBO_THRESHOLD = 2_500;

/**
 * Registers a BUSINESS customer. Its administrator becomes the first employee (`ADMIN_USER`)
 * with a customer login, so every self-service route works for the organization too.
 */
export async function registerOrganization(
  ctx: ServiceContext,
  input: RegisterOrganizationInput,
): Promise<CustomerView & { userId: string }> {
  const { email, phone, admin, consents: accepted, ...profile } = input;
  const now = ctx.now.toISOString();
  const adminName = `${admin.firstName} ${admin.lastName}`;
  return registerCustomer(ctx, {
    type: 'BUSINESS',
    email,
    phone,
    profile,
    login: {
      email: admin.email,
      password: admin.password,
      displayName: adminName,
      passwordPath: 'admin.password',
    },
    marketing: accepted.marketing === true,
    problems: incorporationDateProblems(profile.incorporationDate, ctx.now),
    related: async ({ customerId, userId }) => [
      ctx.db.insert(organizationPeople).values({
        id: newId('person', ctx.now.getTime()),
        tenantId: ctx.tenant.id,
        customerId,
        kind: 'EMPLOYEE',
        role: 'ADMIN_USER',
        userId,
        details: {
          firstName: admin.firstName,
          lastName: admin.lastName,
          email: admin.email,
          phone: admin.phone,
          position: admin.position,
        },
        createdAt: now,
        updatedAt: now,
      }),
    ],
  });
}

/** An id that is not a BUSINESS customer of this tenant (or not the caller's own) is 404. */
async function requireOrganization(ctx: ServiceContext, organizationId: string): Promise<CustomerRow> {
  const row = await requireCustomerRow(ctx, organizationId);
  if (row.type !== 'BUSINESS') throw notFound('organization');
  return row;
}

/**
 * Staff and clients passed the route's permission already. An organization's own users may read
 * it; changing it, its directors or its shareholders takes the organization role ADMIN_USER.
 */
async function requireManageableOrganization(
  ctx: ServiceContext,
  organizationId: string,
): Promise<CustomerRow> {
  const row = await requireOrganization(ctx, organizationId);
  if (ctx.actor.type === 'user' && ctx.actor.userKind === 'CUSTOMER') {
    const employee = await ctx.db
      .select({ role: organizationPeople.role })
      .from(organizationPeople)
      .where(
        and(
          eq(organizationPeople.tenantId, ctx.tenant.id),
          eq(organizationPeople.customerId, row.id),
          eq(organizationPeople.kind, 'EMPLOYEE'),
          eq(organizationPeople.userId, ctx.actor.id),
        ),
      )
      .get();
    if (employee?.role !== 'ADMIN_USER') {
      throw new ApiError('forbidden', {
        detail: 'Only employees with the organization role ADMIN_USER may change the organization.',
        extensions: { permission: 'customers:write' },
      });
    }
  }
  if (row.status === 'CLOSED') throw new ApiError('conflict', { detail: 'The organization is closed.' });
  return row;
}

export async function getOrganization(ctx: ServiceContext, organizationId: string): Promise<CustomerView> {
  return presentCustomer(await requireOrganization(ctx, organizationId));
}

export async function updateOrganization(
  ctx: ServiceContext,
  organizationId: string,
  patch: UpdateOrganizationInput,
): Promise<CustomerView> {
  return updateProfile(ctx, await requireManageableOrganization(ctx, organizationId), patch);
}

async function listPeople(
  ctx: ServiceContext,
  organizationId: string,
  kind: PersonKind,
  query: PeopleQuery,
): Promise<{ data: PersonRow[]; nextCursor: string | null }> {
  await requireOrganization(ctx, organizationId);
  const after = decodeCursor(query.cursor, 'per');
  const rows = await ctx.db
    .select()
    .from(organizationPeople)
    .where(
      and(
        eq(organizationPeople.tenantId, ctx.tenant.id),
        eq(organizationPeople.customerId, organizationId),
        eq(organizationPeople.kind, kind),
        after ? lt(organizationPeople.id, after) : undefined,
      ),
    )
    .orderBy(desc(organizationPeople.id))
    .limit(query.limit + 1);
  return toPage(rows, query.limit);
}

function presentDirector(row: PersonRow): DirectorView {
  return {
    ...(row.details as Omit<DirectorView, 'id' | 'role' | 'createdAt'>),
    id: row.id,
    role: row.role as DirectorView['role'],
    createdAt: row.createdAt,
  };
}

function presentShareholder(row: PersonRow): ShareholderView {
  const basisPoints = row.ownershipBasisPoints ?? 0;
  return {
    ...(row.details as Omit<ShareholderView, 'id' | 'ownershipPercentage' | 'isUbo' | 'createdAt'>),
    id: row.id,
    ownershipPercentage: basisPoints / 100,
    isUbo: basisPoints >= UBO_THRESHOLD,
    createdAt: row.createdAt,
  } as ShareholderView;
}

export async function listDirectors(ctx: ServiceContext, organizationId: string, query: PeopleQuery) {
  const page = await listPeople(ctx, organizationId, 'DIRECTOR', query);
  return { data: page.data.map(presentDirector), nextCursor: page.nextCursor };
}

export async function listShareholders(ctx: ServiceContext, organizationId: string, query: PeopleQuery) {
  const page = await listPeople(ctx, organizationId, 'SHAREHOLDER', query);
  return { data: page.data.map(presentShareholder), nextCursor: page.nextCursor };
}

function newPerson(ctx: ServiceContext, organizationId: string, kind: PersonKind) {
  const now = ctx.now.toISOString();
  return {
    id: newId('person', ctx.now.getTime()),
    tenantId: ctx.tenant.id,
    customerId: organizationId,
    kind,
    createdAt: now,
    updatedAt: now,
  };
}

function memberAdded(organizationId: string, person: { id: string; kind: PersonKind }) {
  return {
    audit: [
      {
        action: 'organization.member_added',
        targetType: 'customer',
        targetId: organizationId,
        data: { personId: person.id, kind: person.kind },
      },
    ],
    events: [
      event('organization.member_added', {
        customerId: organizationId,
        personId: person.id,
        kind: person.kind,
      }),
    ],
  };
}

export async function addDirector(
  ctx: ServiceContext,
  organizationId: string,
  input: CreateDirectorInput,
): Promise<DirectorView> {
  await requireManageableOrganization(ctx, organizationId);
  const { role, ...details } = input;
  const row: PersonRow = {
    ...newPerson(ctx, organizationId, 'DIRECTOR'),
    role,
    userId: null,
    ownershipBasisPoints: null,
    details,
  };
  await commit(ctx, {
    statements: [ctx.db.insert(organizationPeople).values(row)],
    ...memberAdded(organizationId, row),
  });
  return presentDirector(row);
}

/** The sum of the organization's stakes, in basis points: a query, or a scalar subquery in SQL. */
function stakesTotal(ctx: ServiceContext, organizationId: string) {
  return ctx.db
    .select({ total: sql<number>`coalesce(sum(${organizationPeople.ownershipBasisPoints}), 0)` })
    .from(organizationPeople)
    .where(
      and(
        eq(organizationPeople.tenantId, ctx.tenant.id),
        eq(organizationPeople.customerId, organizationId),
        eq(organizationPeople.kind, 'SHAREHOLDER'),
      ),
    );
}

function overOwnership(currentBasisPoints: number, addedBasisPoints: number) {
  return validationError([
    {
      path: 'ownershipPercentage',
      message: `would bring the shareholders' total to ${(currentBasisPoints + addedBasisPoints) / 100} %; at most ${(FULL_OWNERSHIP - currentBasisPoints) / 100} % is left`,
    },
  ]);
}

/**
 * Adds a shareholder unless the stakes would pass 100 %. The check before the write gives the
 * precise answer; the write itself re-checks the total in SQL, so two requests racing past the
 * first check cannot both land (see `organization_people_stake_ck`).
 */
export async function addShareholder(
  ctx: ServiceContext,
  organizationId: string,
  input: CreateShareholderInput,
): Promise<ShareholderView> {
  await requireManageableOrganization(ctx, organizationId);
  const { ownershipPercentage, ...details } = input;
  const basisPoints = Math.round(ownershipPercentage * 100);
  const { total } = (await stakesTotal(ctx, organizationId).get()) ?? { total: 0 };
  if (total + basisPoints > FULL_OWNERSHIP) throw overOwnership(total, basisPoints);

  const row: PersonRow = {
    ...newPerson(ctx, organizationId, 'SHAREHOLDER'),
    role: null,
    userId: null,
    ownershipBasisPoints: basisPoints,
    details,
  };
  try {
    await commit(ctx, {
      statements: [
        ctx.db.insert(organizationPeople).values({
          ...row,
          ownershipBasisPoints: sql`CASE WHEN (${stakesTotal(ctx, organizationId)}) + ${basisPoints} <= ${FULL_OWNERSHIP} THEN ${basisPoints} END`,
        }),
      ],
      ...memberAdded(organizationId, row),
    });
  } catch (error) {
    if (isCheckViolation(error, 'organization_people_stake_ck')) {
      // Another shareholder landed since the check above: answer with the total as it is now.
      const now = (await stakesTotal(ctx, organizationId).get())?.total ?? total;
      throw overOwnership(now, basisPoints);
    }
    throw error;
  }
  return presentShareholder(row);
}

export async function removePerson(
  ctx: ServiceContext,
  organizationId: string,
  kind: Exclude<PersonKind, 'EMPLOYEE'>,
  personId: string,
): Promise<void> {
  await requireManageableOrganization(ctx, organizationId);
  const person = and(
    eq(organizationPeople.tenantId, ctx.tenant.id),
    eq(organizationPeople.customerId, organizationId),
    eq(organizationPeople.kind, kind),
    eq(organizationPeople.id, personId),
  );
  const found = await ctx.db
    .select({ id: organizationPeople.id })
    .from(organizationPeople)
    .where(person)
    .get();
  if (!found) throw notFound(kind === 'DIRECTOR' ? 'director' : 'shareholder');
  await commit(ctx, {
    statements: [ctx.db.delete(organizationPeople).where(person)],
    audit: [
      {
        action: 'organization.member_removed',
        targetType: 'customer',
        targetId: organizationId,
        data: { personId, kind },
      },
    ],
    events: [event('organization.member_removed', { customerId: organizationId, personId, kind })],
  });
}
