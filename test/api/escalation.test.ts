import { describe, expect, it } from 'vitest';
import { allPermissions, builtInRoles, type Permission } from '../../src/platform/auth/permissions';
import {
  createApiClient,
  createStaff,
  createTenant,
  logIn,
  type TestPrincipal,
  type TestTenant,
  unique,
} from '../helpers/factories';
import { call } from '../helpers/http';
import { expectProblem } from '../helpers/problems';
import { createEndpoint, installReceiver, RECEIVER_ORIGIN } from '../helpers/webhooks';

/*
 * Nobody acts beyond what they hold: an administrator may act on a staff user, an API client, a
 * group, a role or a secret-bearing webhook endpoint only when it holds every permission the
 * target holds. Each case is an escalation a lesser administrator could otherwise complete.
 */

const receiver = installReceiver();

const ACCESS_ADMIN: Permission[] = ['access:admin', 'access:read'];
const GROUPS_ADMIN: Permission[] = ['groups:write', 'groups:read'];

/** What `held` lacks of every permission, in the order a `permission_not_held` lists them. */
function allBut(held: readonly Permission[]): Permission[] {
  return allPermissions.filter((permission) => !held.includes(permission)).sort();
}

function as(tenant: TestTenant, actor: TestPrincipal) {
  return (method: string, path: string, body?: unknown) =>
    call<{ permissions?: string[]; status?: string; data?: { userId: string }[] }>(method, path, {
      tenant: tenant.id,
      token: actor.token,
      body,
    });
}

function clientToken(clientId: string, clientSecret: string) {
  return call('POST', '/oauth/token', {
    form: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret },
  });
}

/** A lesser administrator of each kind: a staff user and an API client holding only `permissions`. */
async function lesserAdmins(tenant: TestTenant, permissions: Permission[]) {
  const [staff, client] = await Promise.all([
    createStaff(tenant, { permissions }),
    createApiClient(tenant, permissions),
  ]);
  return [
    ['staff user', staff],
    ['API client', client],
  ] as const;
}

describe('acting on an API client', () => {
  it('refuses to rotate the secret of a client holding more (403 permission_not_held); the owner’s secret still works', async () => {
    const tenant = await createTenant();
    const strong = await createApiClient(tenant, [...allPermissions]);
    for (const [who, actor] of await lesserAdmins(tenant, ACCESS_ADMIN)) {
      const rotated = await as(tenant, actor)('POST', `/access/clients/${strong.id}/secret`);
      expectProblem(rotated, 403, 'permission_not_held');
      expect(rotated.body.permissions, who).toEqual(allBut(ACCESS_ADMIN));
      expect(rotated.text, who).not.toContain('clientSecret');
    }
    expect((await clientToken(strong.id, strong.clientSecret)).status).toBe(200);
  });

  it('refuses to revoke a client holding more; it keeps working', async () => {
    const tenant = await createTenant();
    const strong = await createApiClient(tenant, ['customers:read', 'customers:erase']);
    const [[, actor]] = await lesserAdmins(tenant, [...ACCESS_ADMIN, 'customers:read']);
    const revoked = await as(tenant, actor)('DELETE', `/access/clients/${strong.id}`);
    expectProblem(revoked, 403, 'permission_not_held');
    expect(revoked.body.permissions).toEqual(['customers:erase']);
    expect((await as(tenant, actor)('GET', `/access/clients/${strong.id}`)).body.status).toBe('ACTIVE');
    expect((await clientToken(strong.id, strong.clientSecret)).status).toBe(200);
  });

  it('lets an administrator rotate and revoke a client within its own permissions', async () => {
    const tenant = await createTenant();
    const weaker = await createApiClient(tenant, ['access:read']);
    const [[, actor]] = await lesserAdmins(tenant, ACCESS_ADMIN);
    expect((await as(tenant, actor)('POST', `/access/clients/${weaker.id}/secret`)).status).toBe(200);
    expect((await as(tenant, actor)('DELETE', `/access/clients/${weaker.id}`)).status).toBe(204);
  });
});

describe('acting on a staff user', () => {
  it('refuses to reset the credentials of a TENANT_ADMIN; its password still logs in', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant, 'TENANT_ADMIN');
    for (const [who, actor] of await lesserAdmins(tenant, ACCESS_ADMIN)) {
      const reset = await as(tenant, actor)('POST', `/access/users/${admin.id}/credentials/reset`, {
        resetSecondFactors: true,
      });
      expectProblem(reset, 403, 'permission_not_held');
      expect(reset.body.permissions, who).toEqual(allBut(ACCESS_ADMIN));
    }
    await logIn(tenant, admin.email, admin.password, 'STAFF');
    expect((await as(tenant, admin)('GET', '/me')).status).toBe(200);
  });

  it('refuses to disable, enable or change a user holding more, counting what its groups grant', async () => {
    const tenant = await createTenant();
    const owner = await createStaff(tenant, 'TENANT_ADMIN');
    // Holds only a harmless role directly; its strength comes from a group.
    const target = await createStaff(tenant, { permissions: ['access:read'] });
    const group = await as(tenant, owner)('POST', '/groups', {
      name: unique('auditors'),
      description: 'Read the audit log',
      roleIds: ['rol_compliance_officer'],
    });
    const groupId = (group.body as { id: string }).id;
    expect((await as(tenant, owner)('PUT', `/groups/${groupId}/members/${target.id}`)).status).toBe(201);

    const actor = await createStaff(tenant, { permissions: ACCESS_ADMIN });
    const patch = (body: unknown) => as(tenant, actor)('PATCH', `/access/users/${target.id}`, body);
    for (const body of [{ status: 'DISABLED' }, { displayName: 'Renamed' }, { roleIds: [] }]) {
      const refused = await patch(body);
      expectProblem(refused, 403, 'permission_not_held');
      expect(refused.body.permissions).toContain('audit:read');
    }
    expect((await as(tenant, target)('GET', '/me')).status).toBe(200);
    expect((await as(tenant, owner)('GET', `/access/users/${target.id}`)).body.status).toBe('ACTIVE');

    // Disabled by someone entitled to, the user cannot be enabled by the lesser administrator.
    expect(
      (await as(tenant, owner)('PATCH', `/access/users/${target.id}`, { status: 'DISABLED' })).status,
    ).toBe(200);
    expectProblem(await patch({ status: 'ACTIVE' }), 403, 'permission_not_held');
    expect((await as(tenant, owner)('GET', `/access/users/${target.id}`)).body.status).toBe('DISABLED');
  });

  it('lets an administrator reset and disable a user within its own permissions', async () => {
    const tenant = await createTenant();
    const weaker = await createStaff(tenant, { permissions: ['access:read'] });
    const actor = await createStaff(tenant, { permissions: ACCESS_ADMIN });
    expect((await as(tenant, actor)('POST', `/access/users/${weaker.id}/credentials/reset`)).status).toBe(
      200,
    );
    expect(
      (await as(tenant, actor)('PATCH', `/access/users/${weaker.id}`, { status: 'DISABLED' })).status,
    ).toBe(200);
  });
});

describe('acting on a group', () => {
  async function setting() {
    const tenant = await createTenant();
    const owner = await createStaff(tenant, 'TENANT_ADMIN');
    const manager = await createStaff(tenant, { permissions: GROUPS_ADMIN });
    const group = await as(tenant, manager)('POST', '/groups', {
      name: unique('plain'),
      description: 'Grants nothing',
      roleIds: [],
    });
    expect(group.status, group.text).toBe(201);
    return { tenant, owner, manager, groupId: (group.body as { id: string }).id };
  }

  it('refuses to add a stronger user to a group, even one that grants nothing', async () => {
    const { tenant, owner, manager, groupId } = await setting();
    const added = await as(tenant, manager)('PUT', `/groups/${groupId}/members/${owner.id}`);
    expectProblem(added, 403, 'permission_not_held');
    expect(added.body.permissions).toEqual(allBut(GROUPS_ADMIN));
    expect((await as(tenant, owner)('GET', `/groups/${groupId}/members`)).body.data).toEqual([]);
  });

  it('refuses to remove a stronger member, or to change or delete a group a stronger user is in', async () => {
    const { tenant, owner, manager, groupId } = await setting();
    expect((await as(tenant, owner)('PUT', `/groups/${groupId}/members/${owner.id}`)).status).toBe(201);
    const attempts = [
      ['DELETE', `/groups/${groupId}/members/${owner.id}`, undefined],
      ['PATCH', `/groups/${groupId}`, { name: 'Renamed' }],
      ['DELETE', `/groups/${groupId}`, undefined],
    ] as const;
    for (const [method, path, body] of attempts) {
      const refused = await as(tenant, manager)(method, path, body);
      expectProblem(refused, 403, 'permission_not_held');
      expect(refused.body.permissions, `${method} ${path}`).toEqual(allBut(GROUPS_ADMIN));
    }
    const members = await as(tenant, owner)('GET', `/groups/${groupId}/members`);
    expect(members.body.data?.map((member) => member.userId)).toEqual([owner.id]);
  });

  it('refuses to change a group whose roles grant more than the caller holds', async () => {
    const { tenant, owner, manager } = await setting();
    const strong = await as(tenant, owner)('POST', '/groups', {
      name: unique('strong'),
      description: 'Full control',
      roleIds: ['rol_tenant_admin'],
    });
    const renamed = await as(tenant, manager)('PATCH', `/groups/${(strong.body as { id: string }).id}`, {
      name: 'Renamed',
    });
    expectProblem(renamed, 403, 'permission_not_held');
    expect(renamed.body.permissions).toEqual(allBut(GROUPS_ADMIN));
  });

  it('lets a manager run a group of users within its own permissions', async () => {
    const { tenant, manager, groupId } = await setting();
    const member = await createStaff(tenant, { permissions: ['groups:read'] });
    expect((await as(tenant, manager)('PUT', `/groups/${groupId}/members/${member.id}`)).status).toBe(201);
    expect(
      (await as(tenant, manager)('PATCH', `/groups/${groupId}`, { name: unique('renamed') })).status,
    ).toBe(200);
    expect((await as(tenant, manager)('DELETE', `/groups/${groupId}/members/${member.id}`)).status).toBe(204);
    expect((await as(tenant, manager)('DELETE', `/groups/${groupId}`)).status).toBe(204);
  });
});

describe('acting on a role', () => {
  it('refuses to change or delete a custom role that a stronger user holds', async () => {
    const tenant = await createTenant();
    const owner = await createStaff(tenant, 'TENANT_ADMIN');
    const role = await as(tenant, owner)('POST', '/access/roles', {
      name: unique('reader'),
      description: 'Reads customers',
      permissions: ['customers:read'],
    });
    const roleId = (role.body as { id: string }).id;
    const holder = await createStaff(tenant, 'COMPLIANCE_OFFICER');
    expect(
      (
        await as(tenant, owner)('PATCH', `/access/users/${holder.id}`, {
          roleIds: ['rol_compliance_officer', roleId],
        })
      ).status,
    ).toBe(200);

    const held: Permission[] = [...ACCESS_ADMIN, 'customers:read'];
    const actor = await createStaff(tenant, { permissions: held });
    for (const [method, body] of [
      ['PATCH', { permissions: [] }],
      ['DELETE', undefined],
    ] as const) {
      const refused = await as(tenant, actor)(method, `/access/roles/${roleId}`, body);
      expectProblem(refused, 403, 'permission_not_held');
      expect(refused.body.permissions, method).toEqual(
        builtInRoles.COMPLIANCE_OFFICER.permissions.filter((permission) => !held.includes(permission)).sort(),
      );
    }
    expect((await as(tenant, owner)('GET', `/access/roles/${roleId}`)).body.permissions).toEqual([
      'customers:read',
    ]);
  });

  it('refuses to take from a role a permission the caller does not hold', async () => {
    const tenant = await createTenant();
    const owner = await createStaff(tenant, 'TENANT_ADMIN');
    const role = await as(tenant, owner)('POST', '/access/roles', {
      name: unique('reviewer'),
      description: 'Reviews KYC',
      permissions: ['customers:read', 'kyc:review'],
    });
    const actor = await createStaff(tenant, { permissions: [...ACCESS_ADMIN, 'customers:read'] });
    const narrowed = await as(tenant, actor)('PATCH', `/access/roles/${(role.body as { id: string }).id}`, {
      permissions: ['customers:read'],
    });
    expectProblem(narrowed, 403, 'permission_not_held');
    expect(narrowed.body.permissions).toEqual(['kyc:review']);
  });
});

describe('webhook endpoints that receive codes and tokens', () => {
  const SECRET_BEARING = [['notification.requested'], ['*'], ['customer.created', 'notification.requested']];
  // Everything but one permission: still short of what a secret-bearing endpoint receives.
  const almostAll = allPermissions.filter((permission) => permission !== 'customers:erase');

  it('refuses to subscribe an endpoint to notification.requested (or *) without every permission', async () => {
    const tenant = await createTenant();
    const owner = await createStaff(tenant, 'TENANT_ADMIN');
    const hooks = await createStaff(tenant, { permissions: ['webhooks:admin'] });
    const nearly = await createStaff(tenant, { permissions: almostAll });
    const url = `${RECEIVER_ORIGIN}${receiver.path()}`;
    for (const events of SECRET_BEARING) {
      const refused = await as(tenant, hooks)('POST', '/webhooks/endpoints', { url, events });
      expectProblem(refused, 403, 'permission_not_held');
      expect(refused.body.permissions, events.join()).toEqual(allBut(['webhooks:admin']));
      const short = await as(tenant, nearly)('POST', '/webhooks/endpoints', { url, events });
      expectProblem(short, 403, 'permission_not_held');
      expect(short.body.permissions).toEqual(['customers:erase']);
    }
    const plain = await createEndpoint(tenant, receiver, {
      staff: await createStaff(tenant, { permissions: ['webhooks:admin'] }),
    });
    for (const events of SECRET_BEARING) {
      expectProblem(
        await as(tenant, hooks)('PATCH', `/webhooks/endpoints/${plain.id}`, { events }),
        403,
        'permission_not_held',
      );
    }
    const listed = await as(tenant, owner)('GET', '/webhooks/endpoints');
    expect((listed.body.data as unknown as { id: string }[]).map((endpoint) => endpoint.id)).toEqual([
      plain.id,
    ]);
    expect((await as(tenant, owner)('POST', '/webhooks/endpoints', { url, events: ['*'] })).status).toBe(201);
  });

  it('refuses to move a secret-bearing endpoint to another URL without every permission', async () => {
    const tenant = await createTenant();
    const owner = await createStaff(tenant, 'TENANT_ADMIN');
    const endpoint = await createEndpoint(tenant, receiver, {
      staff: owner,
      events: ['notification.requested'],
    });
    const hooks = await createStaff(tenant, { permissions: ['webhooks:admin'] });
    const moved = await as(tenant, hooks)('PATCH', `/webhooks/endpoints/${endpoint.id}`, {
      url: 'https://attacker.example/collect',
    });
    expectProblem(moved, 403, 'permission_not_held');
    expect(moved.body.permissions).toEqual(allBut(['webhooks:admin']));
    const shown = await as(tenant, owner)('GET', `/webhooks/endpoints/${endpoint.id}`);
    expect((shown.body as unknown as { url: string }).url).toBe(endpoint.url);

    // What does not route secrets elsewhere stays with webhooks:admin: a description, a pause.
    expect(
      (
        await as(tenant, hooks)('PATCH', `/webhooks/endpoints/${endpoint.id}`, {
          description: 'Notifications',
        })
      ).status,
    ).toBe(200);
    const other = await createEndpoint(tenant, receiver, { staff: hooks });
    expect(
      (
        await as(tenant, hooks)('PATCH', `/webhooks/endpoints/${other.id}`, {
          url: `${RECEIVER_ORIGIN}${receiver.path()}`,
        })
      ).status,
    ).toBe(200);
  });
});
