import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditEvents, groupMembers } from '../../src/db/tenant';
import {
  createCustomer,
  createStaff,
  createTenant,
  database,
  type TestSession,
  type TestTenant,
  unique,
} from '../helpers/factories';
import { call } from '../helpers/http';
import { eventsOfType } from '../helpers/outbox';
import { expectProblem } from '../helpers/problems';

interface Group {
  id: string;
  name: string;
  description: string;
  roles: { id: string; name: string }[];
  createdAt: string;
  updatedAt: string;
}

interface Member {
  userId: string;
  email: string;
  displayName: string;
  status: string;
  addedAt: string;
}

function groupBody(overrides: Record<string, unknown> = {}) {
  return {
    name: unique('group'),
    description: 'Night-shift support',
    roleIds: ['rol_support_agent'],
    ...overrides,
  };
}

async function createGroup(tenant: TestTenant, token?: string, body: unknown = groupBody()): Promise<Group> {
  const admin = token ?? (await createStaff(tenant)).token;
  const response = await call<Group>('POST', '/groups', { tenant: tenant.id, token: admin, body });
  expect(response.status, response.text).toBe(201);
  return response.body;
}

function addMember(tenant: TestTenant, token: string, groupId: string, userId: string) {
  return call<Member>('PUT', `/groups/${groupId}/members/${userId}`, { tenant: tenant.id, token });
}

function refresh(tenant: TestTenant, refreshToken: string) {
  return call<TestSession>('POST', '/auth/refresh', { tenant: tenant.id, body: { refreshToken } });
}

describe('groups', () => {
  it('creates, shows, lists, changes and deletes a group, with audit rows and events', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const created = await call<Group>('POST', '/groups', {
      tenant: tenant.id,
      token: admin.token,
      body: groupBody({ name: 'Night shift', roleIds: ['rol_support_agent', 'rol_support_agent'] }),
    });
    expect(created.status, created.text).toBe(201);
    const group = created.body;
    expect(created.headers.get('Location')).toBe(`/v2/customer/groups/${group.id}`);
    expect(group).toMatchObject({
      id: expect.stringMatching(/^grp_/),
      name: 'Night shift',
      description: 'Night-shift support',
      roles: [{ id: 'rol_support_agent', name: 'SUPPORT_AGENT' }],
    });

    const shown = await call<Group>('GET', `/groups/${group.id}`, { tenant: tenant.id, token: admin.token });
    expect(shown.body).toEqual(group);

    const second = await createGroup(tenant, admin.token, groupBody({ roleIds: [] }));
    const page = await call<{ data: Group[]; nextCursor: string | null }>('GET', '/groups?limit=1', {
      tenant: tenant.id,
      token: admin.token,
    });
    expect(page.body.data.map((item) => item.id)).toEqual([second.id]);
    const next = await call<{ data: Group[]; nextCursor: string | null }>(
      'GET',
      `/groups?limit=1&cursor=${page.body.nextCursor}`,
      { tenant: tenant.id, token: admin.token },
    );
    expect(next.body).toEqual({ data: [group], nextCursor: null });

    const changed = await call<Group>('PATCH', `/groups/${group.id}`, {
      tenant: tenant.id,
      token: admin.token,
      body: { name: 'Day shift', roleIds: ['rol_compliance_officer'] },
    });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.body).toMatchObject({
      name: 'Day shift',
      description: 'Night-shift support',
      roles: [{ id: 'rol_compliance_officer', name: 'COMPLIANCE_OFFICER' }],
    });

    const deleted = await call('DELETE', `/groups/${group.id}`, { tenant: tenant.id, token: admin.token });
    expect(deleted.status).toBe(204);
    expectProblem(
      await call('GET', `/groups/${group.id}`, { tenant: tenant.id, token: admin.token }),
      404,
      'not_found',
    );

    expect((await eventsOfType(tenant, 'group.created')).map((row) => row.data.groupId)).toEqual([
      group.id,
      second.id,
    ]);
    expect((await eventsOfType(tenant, 'group.updated')).map((row) => row.data)).toEqual([
      { groupId: group.id, changed: ['name', 'roleIds'] },
    ]);
    expect((await eventsOfType(tenant, 'group.deleted')).map((row) => row.data)).toEqual([
      { groupId: group.id },
    ]);
    const audit = await database(tenant)
      .select({ action: auditEvents.action, actorId: auditEvents.actorId })
      .from(auditEvents)
      .where(and(eq(auditEvents.tenantId, tenant.id), eq(auditEvents.targetId, group.id)));
    expect(audit.map((row) => row.action).sort()).toEqual([
      'group.created',
      'group.deleted',
      'group.updated',
    ]);
    expect(audit.every((row) => row.actorId === admin.id)).toBe(true);
  });

  it('refuses a duplicate name, case-insensitively (409), on creation and renaming', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    await createGroup(tenant, admin.token, groupBody({ name: 'Ünderwriters' }));
    expectProblem(
      await call('POST', '/groups', {
        tenant: tenant.id,
        token: admin.token,
        body: groupBody({ name: 'üNDERWRITERS' }),
      }),
      409,
      'group_name_taken',
    );
    const other = await createGroup(tenant, admin.token);
    expectProblem(
      await call('PATCH', `/groups/${other.id}`, {
        tenant: tenant.id,
        token: admin.token,
        body: { name: 'Ünderwriters' },
      }),
      409,
      'group_name_taken',
    );
    // Another tenant may use the name.
    const elsewhere = await createTenant();
    await createGroup(elsewhere, undefined, groupBody({ name: 'Ünderwriters' }));
  });

  it('lets one of twenty parallel creations of one name through; the rest get 409 group_name_taken', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const body = groupBody({ name: 'Treasury desk' });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        call('POST', '/groups', { tenant: tenant.id, token: admin.token, body }),
      ),
    );
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(1);
    for (const answer of answers.filter((a) => a.status !== 201))
      expectProblem(answer, 409, 'group_name_taken');
  });

  it("refuses unknown roles, the customers' role and another tenant's role (422)", async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const response = await call('POST', '/groups', {
      tenant: tenant.id,
      token: admin.token,
      body: groupBody({ roleIds: ['rol_support_agent', 'rol_nope', 'rol_customer'] }),
    });
    expectProblem(response, 422, 'validation_failed');
    expect(response.body.errors).toEqual([
      { path: 'roleIds.1', message: 'names no role of this tenant' },
      { path: 'roleIds.2', message: 'is the role of customers, not of staff' },
    ]);
    const group = await createGroup(tenant, admin.token);
    expectProblem(
      await call('PATCH', `/groups/${group.id}`, {
        tenant: tenant.id,
        token: admin.token,
        body: { roleIds: ['rol_nope'] },
      }),
      422,
      'validation_failed',
    );
    expectProblem(
      await call('PATCH', `/groups/${group.id}`, { tenant: tenant.id, token: admin.token, body: {} }),
      422,
      'validation_failed',
    );
  });

  it('lets an administrator grant through a group only permissions it holds', async () => {
    const tenant = await createTenant();
    const manager = await createStaff(tenant, {
      permissions: ['groups:write', 'groups:read', 'customers:read'],
    });
    const refused = await call('POST', '/groups', {
      tenant: tenant.id,
      token: manager.token,
      body: groupBody({ roleIds: ['rol_support_agent'] }),
    });
    expectProblem(refused, 403, 'permission_not_held');
    expect(refused.body.permissions).toEqual(['beneficiaries:read', 'customers:write', 'documents:read']);

    // A group a more powerful administrator made: the manager may not add anyone to it, itself
    // included (test/api/escalation.test.ts has the rest of the rule).
    const group = await createGroup(tenant);
    expectProblem(await addMember(tenant, manager.token, group.id, manager.id), 403, 'permission_not_held');
    const within = await createGroup(tenant, undefined, groupBody({ roleIds: [] }));
    expectProblem(
      await call('PATCH', `/groups/${within.id}`, {
        tenant: tenant.id,
        token: manager.token,
        body: { roleIds: ['rol_compliance_officer'] },
      }),
      403,
      'permission_not_held',
    );
  });

  it('keeps a custom role a group grants from being deleted (409 role_in_use)', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const role = await call<{ id: string }>('POST', '/access/roles', {
      tenant: tenant.id,
      token: admin.token,
      body: { name: unique('role'), description: 'Reads customers.', permissions: ['customers:read'] },
    });
    const group = await createGroup(tenant, admin.token, groupBody({ roleIds: [role.body.id] }));
    expect(group.roles).toEqual([{ id: role.body.id, name: expect.any(String) }]);
    const path = `/access/roles/${role.body.id}`;
    const refused = await call('DELETE', path, { tenant: tenant.id, token: admin.token });
    expectProblem(refused, 409, 'role_in_use');
    expect(refused.body.detail).toContain('granted by 1 group');

    await call('PATCH', `/groups/${group.id}`, {
      tenant: tenant.id,
      token: admin.token,
      body: { roleIds: [] },
    });
    expect((await call('DELETE', path, { tenant: tenant.id, token: admin.token })).status).toBe(204);
  });

  it('adds, lists and removes staff members; customers and unknown users are 404', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const group = await createGroup(tenant, admin.token);
    const first = await createStaff(tenant, { permissions: [] });
    const second = await createStaff(tenant, { permissions: [] });

    const added = await addMember(tenant, admin.token, group.id, first.id);
    expect(added.status, added.text).toBe(201);
    expect(added.body).toMatchObject({ userId: first.id, email: first.email, status: 'ACTIVE' });
    const again = await addMember(tenant, admin.token, group.id, first.id);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(added.body);
    expect((await addMember(tenant, admin.token, group.id, second.id)).status).toBe(201);

    const page = await call<{ data: Member[]; nextCursor: string | null }>(
      'GET',
      `/groups/${group.id}/members?limit=1`,
      { tenant: tenant.id, token: admin.token },
    );
    expect(page.body.data.map((member) => member.userId)).toEqual([second.id]);
    const rest = await call<{ data: Member[]; nextCursor: string | null }>(
      'GET',
      `/groups/${group.id}/members?limit=1&cursor=${page.body.nextCursor}`,
      { tenant: tenant.id, token: admin.token },
    );
    expect(rest.body).toEqual({ data: [added.body], nextCursor: null });

    const customer = await createCustomer(tenant);
    expectProblem(await addMember(tenant, admin.token, group.id, customer.id), 404, 'not_found');
    expectProblem(await addMember(tenant, admin.token, group.id, 'usr_unknown'), 404, 'not_found');

    const removed = await call('DELETE', `/groups/${group.id}/members/${first.id}`, {
      tenant: tenant.id,
      token: admin.token,
    });
    expect(removed.status).toBe(204);
    expectProblem(
      await call('DELETE', `/groups/${group.id}/members/${first.id}`, {
        tenant: tenant.id,
        token: admin.token,
      }),
      404,
      'not_found',
    );

    expect((await eventsOfType(tenant, 'group.member_added')).map((row) => row.data)).toEqual([
      { groupId: group.id, userId: first.id },
      { groupId: group.id, userId: second.id },
    ]);
    expect((await eventsOfType(tenant, 'group.member_removed')).map((row) => row.data)).toEqual([
      { groupId: group.id, userId: first.id },
    ]);
  });

  it("grants the group's roles to its members from their next refresh, and takes them back", async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const user = await createStaff(tenant, { permissions: [] });
    const customers = (token: string) => call('GET', '/customers', { tenant: tenant.id, token });
    let session: TestSession = user;
    const refreshed = async () => {
      const response = await refresh(tenant, session.refreshToken);
      expect(response.status, response.text).toBe(200);
      session = response.body;
      return session.accessToken;
    };
    expectProblem(await customers(user.token), 403, 'forbidden');

    const group = await createGroup(tenant, admin.token, groupBody({ roleIds: ['rol_support_agent'] }));
    expect((await addMember(tenant, admin.token, group.id, user.id)).status).toBe(201);
    expect((await customers(await refreshed())).status).toBe(200);
    const me = await call<{ roles: { id: string }[]; permissions: string[] }>('GET', '/me', {
      tenant: tenant.id,
      token: session.accessToken,
    });
    expect(me.body.roles.map((role) => role.id)).toContain('rol_support_agent');
    expect(me.body.permissions).toContain('customers:read');

    await call('DELETE', `/groups/${group.id}/members/${user.id}`, { tenant: tenant.id, token: admin.token });
    expectProblem(await customers(await refreshed()), 403, 'forbidden');

    expect((await addMember(tenant, admin.token, group.id, user.id)).status).toBe(201);
    expect((await customers(await refreshed())).status).toBe(200);
    expect(
      (await call('DELETE', `/groups/${group.id}`, { tenant: tenant.id, token: admin.token })).status,
    ).toBe(204);
    expectProblem(await customers(await refreshed()), 403, 'forbidden');
    const left = await database(tenant)
      .select()
      .from(groupMembers)
      .where(and(eq(groupMembers.tenantId, tenant.id), eq(groupMembers.groupId, group.id)));
    expect(left).toEqual([]);
  });
});
