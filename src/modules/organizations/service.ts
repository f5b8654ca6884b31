import { and, asc, desc, eq, exists, getTableColumns, inArray, lt, ne, or, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/sqlite-core';
import { sealPurposes } from '../../db/customer-data';
import { organizationPeople, users } from '../../db/tenant';
import { identityColumns } from '../../platform/auth/user-identity';
import type { ServiceContext } from '../../platform/context';
import { ApiError, notFound, validationError } from '../../platform/errors';
import { newId } from '../../platform/ids';
import { decodeCursor, toPage } from '../../platform/pagination';
import { type CustomerKey, seal, unseal } from '../../platform/personal-data';
import { commit, commitUnlessRefused, event, type Guard } from '../../platform/unit-of-work';
import { commitWithPasswordToken, invitedLogin, voidPasswordTokens } from '../auth/passwords';
import { revokeUserSessions } from '../auth/sessions';
import type { CustomerView } from '../customers/schemas';
import {
  assertOrganizationRole,
  type CustomerRow,
  commitUnlessErased,
  erasedGuard,
  incorporationDateProblems,
  presentCustomer,
  requireCustomerRow,
  unlessErased,
  updateProfile,
} from '../customers/service';
import { emailInUse, emailTakenGuard, registerCustomer } from '../registration/service';
import type {
  CreateDirectorInput,
  CreateShareholderInput,
  DirectorView,
  EmployeeDetails,
  EmployeeView,
  InviteEmployeeInput,
  PeopleQuery,
  RegisterOrganizationInput,
  ShareholderView,
  UpdateEmployeeInput,
  UpdateOrganizationInput,
} from './schemas';

type StoredPerson = typeof organizationPeople.$inferSelect;
/** A person with its details opened: names, dates of birth and the like are sealed at rest. */
type PersonRow = Omit<StoredPerson, 'details'> & { details: Record<string, unknown> };

/** Far above any real board, shareholder register or staff of a customer. */

/** The people's details are the organization's personal data: sealed under its key, gone with it. */
/** Bound to the person's row as well as to the organization, so details cannot be swapped between people. */
export function sealDetails(
  ctx: ServiceContext,
  key: CustomerKey,
  personId: string,
  details: Record<string, unknown>,
) {
  return seal(key, ctx.tenant.id, `${sealPurposes.organizationPerson}:${personId}`, details);
}

async function openPeople<R extends { id: string; details: string }>(
  ctx: ServiceContext,
  organization: CustomerRow,
  rows: R[],
): Promise<(Omit<R, 'details'> & { details: Record<string, unknown> })[]> {
  return Promise.all(
    rows.map(async (row) => ({
      ...row,
      details: await unseal<Record<string, unknown>>(
        organization.key,
        ctx.tenant.id,
        `${sealPurposes.organizationPerson}:${row.id}`,
        row.details,
      ),
    })),
  );
}

/** The row to insert for a person: its details sealed. */
async function storedPerson(
  ctx: ServiceContext,
  organization: CustomerRow,
  person: PersonRow,
): Promise<StoredPerson> {
  return { ...person, details: await sealDetails(ctx, organization.key, person.id, person.details) };
}
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
  return registerCustomer(ctx, {
    type: 'BUSINESS',
    email,
    phone,
    profile,
    login: {
      email: admin.email,
      password: admin.password,
      displayName: employeeName(admin),
      passwordPath: 'admin.password',
    },
    marketing: accepted.marketing === true,
    problems: incorporationDateProblems(profile.incorporationDate, ctx.now),
    related: async ({ customerId, userId, key }) => {
      const person = newPerson(ctx, customerId, 'EMPLOYEE');
      return [
        ctx.db.insert(organizationPeople).values({
          ...person,
          role: 'ADMIN_USER',
          userId,
          details: await sealDetails(ctx, key, person.id, employeeDetails(admin)),
        }),
      ];
    },
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
 * it; changing it or its people takes the organization role ADMIN_USER.
 */
async function requireManageableOrganization(
  ctx: ServiceContext,
  organizationId: string,
): Promise<CustomerRow> {
  const row = await requireOrganization(ctx, organizationId);
  await assertOrganizationRole(ctx, row, ['ADMIN_USER'], 'change the organization');
  if (row.status === 'CLOSED')
    throw new ApiError('customer_closed', { detail: 'The organization is closed.' });
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

/** The organization's people of one kind: all of them, one (`personId`) or those older than a cursor. */
function peopleOf(
  ctx: ServiceContext,
  organizationId: string,
  kind: PersonKind,
  which: { personId?: string; before?: string } = {},
) {
  return and(
    eq(organizationPeople.tenantId, ctx.tenant.id),
    eq(organizationPeople.customerId, organizationId),
    eq(organizationPeople.kind, kind),
    which.personId === undefined ? undefined : eq(organizationPeople.id, which.personId),
    which.before === undefined ? undefined : lt(organizationPeople.id, which.before),
  );
}

async function listPeople(
  ctx: ServiceContext,
  organizationId: string,
  kind: PersonKind,
  query: PeopleQuery,
): Promise<{ data: PersonRow[]; nextCursor: string | null }> {
  const organization = await requireOrganization(ctx, organizationId);
  const before = decodeCursor(query.cursor, 'per');
  const rows = await ctx.db
    .select()
    .from(organizationPeople)
    .where(peopleOf(ctx, organizationId, kind, { before }))
    .orderBy(desc(organizationPeople.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit);
  return { data: await openPeople(ctx, organization, page.data), nextCursor: page.nextCursor };
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

/** The people of an organization with their details opened, for the GDPR export. */
export async function presentPeopleForExport(
  ctx: ServiceContext,
  organization: CustomerRow,
  rows: Pick<
    StoredPerson,
    'id' | 'kind' | 'role' | 'userId' | 'ownershipBasisPoints' | 'details' | 'createdAt'
  >[],
) {
  return (await openPeople(ctx, organization, rows)).map((row) => ({
    id: row.id,
    kind: row.kind,
    role: row.role,
    userId: row.userId,
    ownershipPercentage: row.ownershipBasisPoints === null ? null : row.ownershipBasisPoints / 100,
    details: row.details,
    createdAt: row.createdAt,
  }));
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

function memberAdded(organizationId: string, person: Pick<PersonRow, 'id' | 'kind' | 'role'>) {
  return {
    audit: [
      {
        action: 'organization.member_added',
        targetType: 'customer',
        targetId: organizationId,
        data: { personId: person.id, kind: person.kind, ...(person.role ? { role: person.role } : {}) },
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

function memberRemoved(organizationId: string, personId: string, kind: PersonKind) {
  return {
    audit: [
      {
        action: 'organization.member_removed',
        targetType: 'customer',
        targetId: organizationId,
        data: { personId, kind },
      },
    ],
    events: [event('organization.member_removed', { customerId: organizationId, personId, kind })],
  };
}

export async function addDirector(
  ctx: ServiceContext,
  organizationId: string,
  input: CreateDirectorInput,
): Promise<DirectorView> {
  const organization = await requireManageableOrganization(ctx, organizationId);
  const { role, ...details } = input;
  const row: PersonRow = {
    ...newPerson(ctx, organizationId, 'DIRECTOR'),
    role,
    userId: null,
    ownershipBasisPoints: null,
    details,
  };
  await commitUnlessErased(ctx, organizationId, {
    statements: [ctx.db.insert(organizationPeople).values(await storedPerson(ctx, organization, row))],
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
  const organization = await requireManageableOrganization(ctx, organizationId);
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
  await commitUnlessErased(
    ctx,
    organizationId,
    {
      statements: [
        ctx.db.insert(organizationPeople).values({
          ...(await storedPerson(ctx, organization, row)),
          ownershipBasisPoints: sql`CASE WHEN (${stakesTotal(ctx, organizationId)}) + ${basisPoints} <= ${FULL_OWNERSHIP} THEN ${basisPoints} END`,
        }),
      ],
      ...memberAdded(organizationId, row),
    },
    {
      violates: 'organization_people_stake_ck',
      // Another shareholder landed since the check above: answer with the total as it is now.
      refusal: async () =>
        overOwnership((await stakesTotal(ctx, organizationId).get())?.total ?? total, basisPoints),
    },
  );
  return presentShareholder(row);
}

export async function removePerson(
  ctx: ServiceContext,
  organizationId: string,
  kind: Exclude<PersonKind, 'EMPLOYEE'>,
  personId: string,
): Promise<void> {
  await requireManageableOrganization(ctx, organizationId);
  const person = peopleOf(ctx, organizationId, kind, { personId });
  const found = await ctx.db
    .select({ id: organizationPeople.id })
    .from(organizationPeople)
    .where(person)
    .get();
  if (!found) throw notFound(kind === 'DIRECTOR' ? 'director' : 'shareholder');
  await commit(ctx, {
    statements: [ctx.db.delete(organizationPeople).where(person)],
    ...memberRemoved(organizationId, personId, kind),
  });
}

/**
 * The one place that knows how an employee's details are kept in `organization_people.details`;
 * `presentEmployee` reads them back.
 */
function employeeDetails({ email, firstName, lastName, phone, position }: EmployeeDetails) {
  return { email, firstName, lastName, phone, position };
}

function employeeName(person: Pick<EmployeeDetails, 'firstName' | 'lastName'>): string {
  return `${person.firstName} ${person.lastName}`;
}

type EmployeeRow = PersonRow & { passwordSetupRequired: boolean };

function presentEmployee(row: EmployeeRow): EmployeeView {
  const { email, firstName, lastName, phone, position } = row.details as EmployeeDetails;
  return {
    id: row.id,
    // organization_people_employee_ck: an employee always has a role and a login.
    userId: row.userId as string,
    role: row.role as EmployeeView['role'],
    email,
    firstName,
    lastName,
    ...(phone === undefined ? {} : { phone }),
    ...(position === undefined ? {} : { position }),
    passwordSetupPending: row.passwordSetupRequired,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** Employees with whether their login still waits for its first password. */
function selectEmployees(ctx: ServiceContext) {
  return ctx.db
    .select({ ...getTableColumns(organizationPeople), passwordSetupRequired: users.passwordSetupRequired })
    .from(organizationPeople)
    .innerJoin(
      users,
      and(eq(users.tenantId, organizationPeople.tenantId), eq(users.id, organizationPeople.userId)),
    );
}

export async function listEmployees(
  ctx: ServiceContext,
  organizationId: string,
  query: PeopleQuery,
): Promise<{ data: EmployeeView[]; nextCursor: string | null }> {
  const organization = await requireOrganization(ctx, organizationId);
  const before = decodeCursor(query.cursor, 'per');
  const rows = await selectEmployees(ctx)
    .where(peopleOf(ctx, organizationId, 'EMPLOYEE', { before }))
    .orderBy(desc(organizationPeople.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit);
  return {
    data: (await openPeople(ctx, organization, page.data)).map(presentEmployee),
    nextCursor: page.nextCursor,
  };
}

async function requireEmployee(
  ctx: ServiceContext,
  organization: CustomerRow,
  personId: string,
): Promise<EmployeeRow> {
  const row = await selectEmployees(ctx)
    .where(peopleOf(ctx, organization.id, 'EMPLOYEE', { personId }))
    .get();
  if (!row) throw notFound('employee');
  const [opened] = await openPeople(ctx, organization, [row]);
  return opened as EmployeeRow;
}

/**
 * Logins are the organization's own to hand out or take away: a third party acting for one of
 * its administrators (an OAuth grant) could otherwise mint a way in that outlives its grant.
 */
function assertNotDelegated(ctx: ServiceContext): void {
  if (ctx.actor.type === 'user' && ctx.actor.delegatedTo !== null) {
    throw new ApiError('forbidden', {
      detail: 'A third party acting for the organization cannot manage its employees.',
    });
  }
}

/**
 * Creates the employee's login (a customer user of the organization) without a usable password
 * and sends it, through `notification.requested` (template `ORGANIZATION_INVITATION`), a token
 * to choose one with `POST /auth/password/reset`.
 */
export async function inviteEmployee(
  ctx: ServiceContext,
  organizationId: string,
  input: InviteEmployeeInput,
): Promise<EmployeeView> {
  assertNotDelegated(ctx);
  const organization = await requireManageableOrganization(ctx, organizationId);
  if (await emailInUse(ctx, { kind: 'CUSTOMER', email: input.email })) throw new ApiError('email_taken');
  const { role, ...details } = input;
  const user = { id: newId('user', ctx.now.getTime()), email: input.email, customerKey: organization.key };
  const row: EmployeeRow = {
    ...newPerson(ctx, organizationId, 'EMPLOYEE'),
    role,
    userId: user.id,
    ownershipBasisPoints: null,
    details: employeeDetails(details),
    passwordSetupRequired: true,
  };
  const { passwordSetupRequired: _, ...person } = row;
  await commitWithPasswordToken(
    ctx,
    user,
    'ORGANIZATION_INVITATION',
    {
      statements: [
        (
          await invitedLogin(
            ctx,
            { id: user.id, email: input.email, displayName: employeeName(details), kind: 'CUSTOMER' },
            organization.key,
          )
        ).statement,
        ctx.db.insert(organizationPeople).values(await storedPerson(ctx, organization, person)),
        unlessErased(ctx, organizationId),
      ],
      ...memberAdded(organizationId, row),
    },
    erasedGuard(ctx),
    emailTakenGuard,
  );
  return presentEmployee(row);
}

/**
 * The role to write for an employee who may be an ADMIN_USER now: NULL when no other ADMIN_USER
 * employee of the organization would be left, which `organization_people_employee_ck` refuses,
 * failing the whole batch (audit row and events included). The condition is evaluated inside
 * the write, and D1 runs batches one at a time, so of two racing demotions or removals of the
 * last two administrators only one lands.
 */
function roleUnlessLastAdmin(
  ctx: ServiceContext,
  organizationId: string,
  personId: string,
  role: string | typeof organizationPeople.role,
) {
  if (role === 'ADMIN_USER') return role;
  const other = alias(organizationPeople, 'other');
  const otherAdmins = ctx.db
    .select({ id: other.id })
    .from(other)
    .where(
      and(
        eq(other.tenantId, ctx.tenant.id),
        eq(other.customerId, organizationId),
        eq(other.kind, 'EMPLOYEE'),
        eq(other.role, 'ADMIN_USER'),
        ne(other.id, personId),
      ),
    );
  return sql`CASE WHEN ${or(ne(organizationPeople.role, 'ADMIN_USER'), exists(otherAdmins))} THEN ${role} END`;
}

/** The refusal of a change that goes through `roleUnlessLastAdmin`. */
const anAdminLeft: Guard = {
  violates: 'organization_people_employee_ck',
  refusal: () =>
    new ApiError('last_admin_user', {
      detail: 'This is the organization’s last ADMIN_USER: give another employee that role first.',
    }),
};

const updatableEmployeeFields = ['role', 'firstName', 'lastName', 'phone', 'position'] as const;

/**
 * Changes an employee's organization role or details. A role change takes effect at the
 * employee's next request: writes check the role in the database, not in the token.
 */
export async function updateEmployee(
  ctx: ServiceContext,
  organizationId: string,
  personId: string,
  patch: UpdateEmployeeInput,
): Promise<EmployeeView> {
  assertNotDelegated(ctx);
  const organization = await requireManageableOrganization(ctx, organizationId);
  const employee = await requireEmployee(ctx, organization, personId);
  const before = { ...(employee.details as EmployeeDetails), role: employee.role };
  const after = { ...before, ...patch };
  const changedFields = updatableEmployeeFields.filter((field) => after[field] !== before[field]);
  if (changedFields.length === 0) return presentEmployee(employee);

  const now = ctx.now.toISOString();
  const { role, ...details } = after;
  const updated: EmployeeRow = { ...employee, role, details: employeeDetails(details), updatedAt: now };
  const renamed = changedFields.includes('firstName') || changedFields.includes('lastName');
  await commitUnlessRefused(
    ctx,
    {
      statements: [
        ctx.db
          .update(organizationPeople)
          .set({
            role: changedFields.includes('role')
              ? roleUnlessLastAdmin(ctx, organizationId, personId, updated.role as string)
              : undefined,
            details: await sealDetails(ctx, organization.key, personId, updated.details),
            updatedAt: now,
          })
          .where(peopleOf(ctx, organizationId, 'EMPLOYEE', { personId })),
        ...(renamed
          ? [
              ctx.db
                .update(users)
                .set({
                  ...(await identityColumns(
                    ctx,
                    updated.userId as string,
                    { email: details.email, displayName: employeeName(details) },
                    organization.key,
                  )),
                  updatedAt: now,
                })
                .where(and(eq(users.tenantId, ctx.tenant.id), eq(users.id, updated.userId as string))),
            ]
          : []),
      ],
      audit: [
        {
          action: 'organization.member_updated',
          targetType: 'customer',
          targetId: organizationId,
          // Names and phone numbers stay out of the audit trail; a role is not personal data.
          data: {
            personId,
            kind: 'EMPLOYEE',
            changedFields,
            ...(changedFields.includes('role') ? { role: { from: before.role, to: role } } : {}),
          },
        },
      ],
      events: [
        event('organization.member_updated', {
          customerId: organizationId,
          personId,
          kind: 'EMPLOYEE',
          changedFields,
          role: updated.role as string,
        }),
      ],
    },
    anAdminLeft,
  );
  return presentEmployee(updated);
}

/**
 * Removes an employee: its login is disabled (kept, like every user, for the audit trail), an
 * unused invitation token dies with it and its sessions end. The last ADMIN_USER stays.
 */
export async function removeEmployee(
  ctx: ServiceContext,
  organizationId: string,
  personId: string,
): Promise<void> {
  assertNotDelegated(ctx);
  const organization = await requireManageableOrganization(ctx, organizationId);
  const employee = await requireEmployee(ctx, organization, personId);
  const userId = employee.userId as string;
  const person = peopleOf(ctx, organizationId, 'EMPLOYEE', { personId });
  await commitUnlessRefused(
    ctx,
    {
      statements: [
        // Rewrites the role through the guard first: the batch stops here if this is the last admin.
        ctx.db
          .update(organizationPeople)
          .set({ role: roleUnlessLastAdmin(ctx, organizationId, personId, organizationPeople.role) })
          .where(person),
        ctx.db.delete(organizationPeople).where(person),
        ctx.db
          .update(users)
          .set({ status: 'DISABLED', updatedAt: ctx.now.toISOString() })
          .where(and(eq(users.tenantId, ctx.tenant.id), eq(users.id, userId))),
        voidPasswordTokens(ctx, userId),
      ],
      ...memberRemoved(organizationId, personId, 'EMPLOYEE'),
    },
    anAdminLeft,
  );
  // After the commit, so a login or refresh racing the removal already meets the DISABLED status.
  await revokeUserSessions(ctx, userId, 'USER_DISABLED');
}

/** Every director and shareholder of an organization, details opened: whom its verification screens. */
export async function loadOfficersAndOwners(ctx: ServiceContext, organization: CustomerRow) {
  const rows = await ctx.db
    .select()
    .from(organizationPeople)
    .where(
      and(
        eq(organizationPeople.tenantId, ctx.tenant.id),
        eq(organizationPeople.customerId, organization.id),
        inArray(organizationPeople.kind, ['DIRECTOR', 'SHAREHOLDER']),
      ),
    )
    .orderBy(asc(organizationPeople.id));
  return openPeople(ctx, organization, rows);
}
