import { env } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { controlDb } from '../../src/db/client';
import { clientDirectory } from '../../src/db/control';
import { auditEvents, clients, events, userRoles } from '../../src/db/tenant';
import { allPermissions, type Permission, permissionCatalogue } from '../../src/platform/auth/permissions';
import { sha256Hex } from '../../src/platform/crypto';
import { counted } from '../helpers/counted';
import {
  createApiClient,
  createCustomer,
  createStaff,
  createTenant,
  database,
  logIn,
  mintToken,
  randomIp,
  type TestTenant,
  unique,
} from '../helpers/factories';
import { call } from '../helpers/http';
import { expectProblem } from '../helpers/problems';

interface Role {
  id: string;
  name: string;
  description: string;
  permissions: string[];
  builtIn: boolean;
  createdAt: string | null;
}

interface ApiClient {
  id: string;
  name: string;
  permissions: string[];
  status: 'ACTIVE' | 'REVOKED';
  secretRotatedAt: string | null;
  revokedAt: string | null;
  clientSecret?: string;
}

interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

async function createRole(
  tenant: TestTenant,
  permissions: Permission[] = ['customers:read'],
  token?: string,
): Promise<Role> {
  const response = await call<Role>('POST', '/access/roles', {
    tenant: tenant.id,
    token: token ?? (await createStaff(tenant)).token,
    body: { name: unique('Role'), description: 'A role for the test', permissions },
  });
  expect(response.status, response.text).toBe(201);
  return response.body;
}

async function createClient(tenant: TestTenant, token: string, permissions: Permission[]) {
  const response = await call<ApiClient & { clientSecret: string }>('POST', '/access/clients', {
    tenant: tenant.id,
    token,
    body: { name: 'Core banking back-end', permissions },
  });
  expect(response.status, response.text).toBe(201);
  return response.body;
}

function requestToken(clientId: string, clientSecret: string, tenantHeader?: string) {
  return call<{ access_token: string; scope: string }>('POST', '/oauth/token', {
    ...(tenantHeader ? { tenant: tenantHeader } : {}),
    form: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret },
  });
}

function refresh(tenant: TestTenant, refreshToken: string) {
  return call<{ accessToken: string; refreshToken: string }>('POST', '/auth/refresh', {
    tenant: tenant.id,
    body: { refreshToken },
  });
}

async function eventTypes(tenant: TestTenant): Promise<string[]> {
  const rows = await database(tenant)
    .select({ type: events.type })
    .from(events)
    .where(eq(events.tenantId, tenant.id));
  return rows.map((row) => row.type);
}

async function auditOf(tenant: TestTenant, targetId: string) {
  return database(tenant)
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.tenantId, tenant.id), eq(auditEvents.targetId, targetId)));
}

describe('GET /me', () => {
  it('describes a staff user: session, built-in role, token permissions, tenant and capabilities', async () => {
    const tenant = await createTenant({ tier: 'PROFESSIONAL' });
    const staff = await createStaff(tenant, 'COMPLIANCE_OFFICER');
    const started = Date.now();
    const response = await call('GET', '/me', { tenant: tenant.id, token: staff.token });
    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({
      principal: {
        type: 'USER',
        id: staff.id,
        kind: 'STAFF',
        email: staff.email,
        customerId: null,
        sessionId: staff.sessionId,
      },
      tenant: { id: tenant.id, tier: 'PROFESSIONAL' },
      roles: [{ id: 'rol_compliance_officer', name: 'COMPLIANCE_OFFICER', builtIn: true }],
      capabilities: ['SCT01', 'SCT02', 'SCT11'],
      amr: ['pwd'],
    });
    expect(response.body.permissions).toEqual([
      'audit:read',
      'beneficiaries:read',
      'customers:hold',
      'customers:read',
      'documents:read',
      'events:read',
      'kyc:review',
    ]);
    const authTime = Date.parse(String(response.body.authTime));
    expect(String(response.body.authTime)).toMatch(/Z$/);
    expect(Math.abs(authTime - started)).toBeLessThan(60_000);
  });

  it('describes a customer user: its customer, the CUSTOMER role and no staff permissions', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const response = await call('GET', '/me', { tenant: tenant.id, token: customer.token });
    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({
      principal: {
        type: 'USER',
        id: customer.id,
        kind: 'CUSTOMER',
        customerId: customer.customerId,
        sessionId: customer.sessionId,
        name: 'Ada Lovelace',
      },
      roles: [{ id: 'rol_customer', name: 'CUSTOMER', builtIn: true }],
      permissions: [],
    });
  });

  it('describes an API client: no roles, no session, the permissions of its token', async () => {
    const tenant = await createTenant({ tier: 'ENTERPRISE' });
    const admin = await createStaff(tenant);
    const client = await createClient(tenant, admin.token, ['customers:read', 'customers:write']);
    const token = await requestToken(client.id, client.clientSecret);
    expect(token.status, token.text).toBe(200);
    const response = await call('GET', '/me', { tenant: tenant.id, token: token.body.access_token });
    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({
      principal: {
        type: 'CLIENT',
        id: client.id,
        kind: null,
        name: 'Core banking back-end',
        email: null,
        customerId: null,
        sessionId: null,
      },
      tenant: { id: tenant.id, tier: 'ENTERPRISE' },
      roles: [],
      permissions: ['customers:read', 'customers:write'],
      capabilities: ['SCT01', 'SCT02', 'SCT11', 'SCT12'],
      amr: ['client_secret'],
    });
  });
});

describe('GET /me remembers its caller per session, and forgets at every change of the tenant', () => {
  const me = (tenant: TestTenant, token: string, ip: string) =>
    counted('GET', '/me', { ip, tenant: tenant.id, token });

  it('answers a second /me without D1; a new display name or role shows on the very next one', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const staff = await createStaff(tenant, 'SUPPORT_AGENT');
    const ip = randomIp();
    expect((await me(tenant, staff.token, ip)).answered.d1Queries).toBe(1);
    const again = await me(tenant, staff.token, ip);
    expect(again.answered.d1Queries).toBe(0);
    expect(again.body).toMatchObject({
      principal: { name: 'Test Staff' },
      roles: [{ id: 'rol_support_agent' }],
    });

    const asAdmin = { ip, tenant: tenant.id, token: admin.token };
    const renamed = await counted('PATCH', `/access/users/${staff.id}`, {
      ...asAdmin,
      body: { displayName: 'Grace Renamed' },
    });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    expect((await me(tenant, staff.token, ip)).body).toMatchObject({ principal: { name: 'Grace Renamed' } });

    const promoted = await counted('PATCH', `/access/users/${staff.id}`, {
      ...asAdmin,
      body: { roleIds: ['rol_compliance_officer'] },
    });
    expect(promoted.status, JSON.stringify(promoted.body)).toBe(200);
    const after = await me(tenant, staff.token, ip);
    expect(after.body.roles).toEqual([
      { id: 'rol_compliance_officer', name: 'COMPLIANCE_OFFICER', builtIn: true },
    ]);
    // The token still carries the permissions it was issued with: they follow at the next refresh.
    expect(after.body.permissions).toEqual(again.body.permissions);
  });

  it('serves an entry only to tokens of its own session', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const ip = randomIp();
    await me(tenant, staff.token, ip);
    const other = await logIn(tenant, staff.email, staff.password, 'STAFF');
    const first = await me(tenant, other.accessToken, ip);
    expect(first.answered.d1Queries).toBe(1);
    expect(first.body).toMatchObject({ principal: { sessionId: other.sessionId } });
  });

  it('refuses an erased customer, even a token whose session no erasure revoked', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const client = await createApiClient(tenant, ['customers:erase']);
    // A session the erasure cannot know of: only the forgotten identity stops this token.
    const token = await mintToken(tenant, {
      sub: customer.id,
      ptype: 'customer',
      scope: '',
      cus: customer.customerId,
    });
    const ip = randomIp();
    expect((await me(tenant, token, ip)).body).toMatchObject({ principal: { name: 'Ada Lovelace' } });
    const erased = await counted('POST', `/customers/${customer.customerId}/erasure`, {
      ip,
      tenant: tenant.id,
      token: client.token,
      body: {},
    });
    expect(erased.status, JSON.stringify(erased.body)).toBe(200);
    const refused = await me(tenant, token, ip);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ code: 'invalid_token' });
    expect((await me(tenant, customer.token, ip)).status).toBe(401);
  });
});

describe('GET /access/permissions', () => {
  it('lists the whole catalogue with descriptions', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const response = await call<Page<{ name: string; description: string }>>('GET', '/access/permissions', {
      tenant: tenant.id,
      token: staff.token,
    });
    expect(response.status, response.text).toBe(200);
    expect(response.body.nextCursor).toBeNull();
    expect(response.body.data.map((entry) => entry.name)).toEqual(allPermissions);
    for (const entry of response.body.data)
      expect(entry.description).toBe(permissionCatalogue[entry.name as Permission]);
  });
});

describe('roles', () => {
  it('creates a custom role, audited and announced, and reads it back', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const response = await call<Role>('POST', '/access/roles', {
      tenant: tenant.id,
      token: admin.token,
      body: {
        name: 'Fraud analyst',
        description: 'Reads customers and reviews KYC',
        permissions: ['kyc:review', 'customers:read', 'kyc:review'],
      },
    });
    expect(response.status, response.text).toBe(201);
    expect(response.body).toMatchObject({
      name: 'Fraud analyst',
      permissions: ['customers:read', 'kyc:review'],
      builtIn: false,
    });
    expect(response.body.id).toMatch(/^rol_/);
    expect(response.headers.get('Location')).toBe(`/v2/customer/access/roles/${response.body.id}`);
    const read = await call<Role>('GET', `/access/roles/${response.body.id}`, {
      tenant: tenant.id,
      token: admin.token,
    });
    expect(read.body).toEqual(response.body);
    expect(await eventTypes(tenant)).toContain('role.created');
    const [audit] = await auditOf(tenant, response.body.id);
    expect(audit).toMatchObject({ action: 'role.created', actorId: admin.id, actorType: 'user' });
  });

  it('lists built-in roles first, then custom roles newest first, across pages', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const older = await createRole(tenant, [], admin.token);
    const newer = await createRole(tenant, [], admin.token);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: Page<Role> } = await call<Page<Role>>(
        'GET',
        `/access/roles?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { tenant: tenant.id, token: admin.token },
      );
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((role) => role.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([
      'rol_tenant_admin',
      'rol_compliance_officer',
      'rol_support_agent',
      'rol_customer',
      // Newest first by id, which is time-ordered to the millisecond.
      ...[older.id, newer.id].sort().reverse(),
    ]);
    const whole = await call<Page<Role>>('GET', '/access/roles', { tenant: tenant.id, token: admin.token });
    expect(whole.body.data.filter((role) => role.builtIn).map((role) => role.name)).toEqual([
      'TENANT_ADMIN',
      'COMPLIANCE_OFFICER',
      'SUPPORT_AGENT',
      'CUSTOMER',
    ]);
    expectProblem(
      await call('GET', '/access/roles?cursor=bogus', { tenant: tenant.id, token: admin.token }),
      400,
      'invalid_cursor',
    );
  });

  it('refuses permissions outside the catalogue (422, naming each)', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const response = await call('POST', '/access/roles', {
      tenant: tenant.id,
      token: admin.token,
      body: {
        name: 'Typos',
        description: 'Misspelt permissions',
        permissions: ['customers:read', 'kyc:reveiw', 'root'],
      },
    });
    expectProblem(response, 422, 'validation_failed');
    expect(response.body.errors).toEqual([
      { path: 'permissions.1', message: expect.stringContaining("'kyc:reveiw'") },
      { path: 'permissions.2', message: expect.stringContaining("'root'") },
    ]);
  });

  it('refuses a duplicate name, case-insensitively, and the names of built-in roles (409)', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const body = { name: 'Fraud analyst', description: 'First', permissions: [] };
    expect(
      (await call('POST', '/access/roles', { tenant: tenant.id, token: admin.token, body })).status,
    ).toBe(201);
    for (const name of ['Fraud analyst', 'FRAUD ANALYST', 'tenant_admin', 'CUSTOMER']) {
      expectProblem(
        await call('POST', '/access/roles', {
          tenant: tenant.id,
          token: admin.token,
          body: { ...body, name },
        }),
        409,
        'role_name_taken',
      );
    }
    const other = await createRole(tenant, [], admin.token);
    expectProblem(
      await call('PATCH', `/access/roles/${other.id}`, {
        tenant: tenant.id,
        token: admin.token,
        body: { name: 'fraud Analyst' },
      }),
      409,
      'role_name_taken',
    );
    // The same name in another tenant is no clash.
    const elsewhere = await createTenant();
    const outsider = await createStaff(elsewhere);
    expect(
      (await call('POST', '/access/roles', { tenant: elsewhere.id, token: outsider.token, body })).status,
    ).toBe(201);
  });

  it('lets one of twenty parallel creations of one role name through; the rest get 409 role_name_taken', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const body = { name: 'Payments officer', description: 'Raced', permissions: [] };
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        call('POST', '/access/roles', { tenant: tenant.id, token: admin.token, body }),
      ),
    );
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(1);
    for (const answer of answers.filter((a) => a.status !== 201))
      expectProblem(answer, 409, 'role_name_taken');
  });

  it('keeps built-in roles read-only (409 role_read_only)', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const read = await call<Role>('GET', '/access/roles/rol_support_agent', {
      tenant: tenant.id,
      token: admin.token,
    });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ name: 'SUPPORT_AGENT', builtIn: true, createdAt: null });
    expectProblem(
      await call('PATCH', '/access/roles/rol_tenant_admin', {
        tenant: tenant.id,
        token: admin.token,
        body: { permissions: [] },
      }),
      409,
      'role_read_only',
    );
    expectProblem(
      await call('DELETE', '/access/roles/rol_customer', { tenant: tenant.id, token: admin.token }),
      409,
      'role_read_only',
    );
  });

  it('refuses to delete a role still assigned to users (409), and deletes it once it is not', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const role = await createRole(tenant, ['customers:read'], admin.token);
    const holder = await createStaff(tenant, { permissions: [] });
    const db = database(tenant);
    await db.insert(userRoles).values({
      tenantId: tenant.id,
      userId: holder.id,
      roleId: role.id,
      createdAt: new Date().toISOString(),
    });
    const path = `/access/roles/${role.id}`;
    const refused = await call('DELETE', path, { tenant: tenant.id, token: admin.token });
    expectProblem(refused, 409, 'role_in_use');
    expect(refused.body.detail).toContain('1 user');

    await db.delete(userRoles).where(and(eq(userRoles.tenantId, tenant.id), eq(userRoles.roleId, role.id)));
    expect((await call('DELETE', path, { tenant: tenant.id, token: admin.token })).status).toBe(204);
    expectProblem(await call('GET', path, { tenant: tenant.id, token: admin.token }), 404, 'not_found');
    expect(await eventTypes(tenant)).toContain('role.deleted');
  });

  it("brings a custom role's permission changes to its users at their next refresh", async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const role = await createRole(tenant, [], admin.token);
    const analyst = await createStaff(tenant, { permissions: [] });
    await database(tenant).insert(userRoles).values({
      tenantId: tenant.id,
      userId: analyst.id,
      roleId: role.id,
      createdAt: new Date().toISOString(),
    });
    const listCustomers = (token: string) => call('GET', '/customers', { tenant: tenant.id, token });
    expectProblem(await listCustomers(analyst.token), 403, 'forbidden');

    const granted = await call<Role>('PATCH', `/access/roles/${role.id}`, {
      tenant: tenant.id,
      token: admin.token,
      body: { permissions: ['customers:read'] },
    });
    expect(granted.status, granted.text).toBe(200);
    expect(granted.body.permissions).toEqual(['customers:read']);
    // The token in hand still carries the old permissions …
    expectProblem(await listCustomers(analyst.token), 403, 'forbidden');
    // … the next one carries the new.
    const refreshed = await refresh(tenant, analyst.refreshToken);
    expect(refreshed.status, refreshed.text).toBe(200);
    expect((await listCustomers(refreshed.body.accessToken)).status).toBe(200);
    const me = await call('GET', '/me', { tenant: tenant.id, token: refreshed.body.accessToken });
    expect(me.body.roles).toEqual(expect.arrayContaining([{ id: role.id, name: role.name, builtIn: false }]));

    const withdrawn = await call('PATCH', `/access/roles/${role.id}`, {
      tenant: tenant.id,
      token: admin.token,
      body: { permissions: [] },
    });
    expect(withdrawn.status).toBe(200);
    const again = await refresh(tenant, refreshed.body.refreshToken);
    expectProblem(await listCustomers(again.body.accessToken), 403, 'forbidden');

    const changes = (await auditOf(tenant, role.id)).filter((row) => row.action === 'role.updated');
    expect(changes).toHaveLength(2);
    expect(changes.map((row) => row.data)).toEqual(
      expect.arrayContaining([
        { changed: ['permissions'], permissions: { added: ['customers:read'], removed: [] } },
        { changed: ['permissions'], permissions: { added: [], removed: ['customers:read'] } },
      ]),
    );
  });

  it('refuses an empty change (422) and records nothing for a change to the same values', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const role = await createRole(tenant, ['customers:read'], admin.token);
    const path = `/access/roles/${role.id}`;
    expectProblem(
      await call('PATCH', path, { tenant: tenant.id, token: admin.token, body: {} }),
      422,
      'validation_failed',
    );
    const same = await call<Role>('PATCH', path, {
      tenant: tenant.id,
      token: admin.token,
      body: { name: role.name, permissions: ['customers:read'] },
    });
    expect(same.status).toBe(200);
    expect((await auditOf(tenant, role.id)).map((row) => row.action)).toEqual(['role.created']);
  });

  it('refuses to grant a role permissions the caller does not hold (403 permission_not_held)', async () => {
    const tenant = await createTenant();
    const delegate = await createStaff(tenant, {
      permissions: ['access:read', 'access:admin', 'customers:read'],
    });
    const refused = await call('POST', '/access/roles', {
      tenant: tenant.id,
      token: delegate.token,
      body: {
        name: 'Escalation',
        description: 'More than I have',
        permissions: ['customers:read', 'kyc:review'],
      },
    });
    expectProblem(refused, 403, 'permission_not_held');
    expect(refused.body.permissions).toEqual(['kyc:review']);

    const allowed = await createRole(tenant, ['customers:read'], delegate.token);
    const widen = await call('PATCH', `/access/roles/${allowed.id}`, {
      tenant: tenant.id,
      token: delegate.token,
      body: { permissions: ['customers:read', 'audit:read'] },
    });
    expectProblem(widen, 403, 'permission_not_held');
    expect(widen.body.permissions).toEqual(['audit:read']);
  });
});

describe('API clients', () => {
  it('creates a client whose secret is shown once, stored hashed, and works at /oauth/token', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const response = await call<ApiClient & { clientSecret: string }>('POST', '/access/clients', {
      tenant: tenant.id,
      token: admin.token,
      body: { name: 'Core banking back-end', permissions: ['customers:write', 'customers:read'] },
    });
    expect(response.status, response.text).toBe(201);
    expect(response.headers.get('Cache-Control')).toBe('no-store');
    const client = response.body;
    expect(response.headers.get('Location')).toBe(`/v2/customer/access/clients/${client.id}`);
    expect(client).toMatchObject({
      status: 'ACTIVE',
      permissions: ['customers:read', 'customers:write'],
      secretRotatedAt: null,
      revokedAt: null,
    });
    expect(client.id).toMatch(/^cli_/);
    // 32 random bytes in base64url: 43 characters after the prefix.
    expect(client.clientSecret).toMatch(/^fcs_[A-Za-z0-9_-]{43}$/);

    const [stored] = await database(tenant).select().from(clients).where(eq(clients.id, client.id));
    expect(stored?.secretHash).toBe(await sha256Hex(client.clientSecret));
    expect(JSON.stringify(stored)).not.toContain(client.clientSecret);
    const directory = await controlDb(env.CONTROL_DB)
      .select()
      .from(clientDirectory)
      .where(eq(clientDirectory.clientId, client.id));
    expect(directory).toEqual([expect.objectContaining({ tenantId: tenant.id })]);

    const read = await call<ApiClient>('GET', `/access/clients/${client.id}`, {
      tenant: tenant.id,
      token: admin.token,
    });
    expect(read.status).toBe(200);
    expect(read.body).not.toHaveProperty('clientSecret');
    expect(read.text).not.toContain(client.clientSecret);

    const token = await requestToken(client.id, client.clientSecret);
    expect(token.status, token.text).toBe(200);
    expect(token.body.scope).toBe('customers:read customers:write');
    expect(await eventTypes(tenant)).toContain('client.created');
  });

  it('rotates the secret: the old one fails at once, the new one works', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const client = await createClient(tenant, admin.token, ['customers:read']);
    const rotated = await call<ApiClient & { clientSecret: string }>(
      'POST',
      `/access/clients/${client.id}/secret`,
      {
        tenant: tenant.id,
        token: admin.token,
      },
    );
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.headers.get('Cache-Control')).toBe('no-store');
    expect(rotated.body.clientSecret).toMatch(/^fcs_/);
    expect(rotated.body.clientSecret).not.toBe(client.clientSecret);
    expect(rotated.body.secretRotatedAt).toEqual(expect.any(String));

    const old = await requestToken(client.id, client.clientSecret);
    expect(old.status).toBe(401);
    expect(old.body).toMatchObject({ error: 'invalid_client' });
    expect((await requestToken(client.id, rotated.body.clientSecret)).status).toBe(200);
    expect(await eventTypes(tenant)).toContain('client.secret_rotated');
    const audit = await auditOf(tenant, client.id);
    expect(audit.map((row) => row.action).sort()).toEqual(['client.created', 'client.secret_rotated']);
    expect(JSON.stringify(audit)).not.toContain(rotated.body.clientSecret);
  });

  it('revokes a client: /oauth/token refuses it and its issued access tokens stop working at once', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const client = await createClient(tenant, admin.token, ['customers:read']);
    const issued = await requestToken(client.id, client.clientSecret);
    expect(issued.status).toBe(200);
    const accessToken = issued.body.access_token;
    expect((await call('GET', '/customers', { tenant: tenant.id, token: accessToken })).status).toBe(200);

    const path = `/access/clients/${client.id}`;
    expect((await call('DELETE', path, { tenant: tenant.id, token: admin.token })).status).toBe(204);

    const refused = await requestToken(client.id, client.clientSecret);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: 'invalid_client' });
    const revokedToken = await call('GET', '/customers', { tenant: tenant.id, token: accessToken });
    expectProblem(revokedToken, 401, 'invalid_token');
    expect(revokedToken.body.detail).toMatch(/revoked/);

    const read = await call<ApiClient>('GET', path, { tenant: tenant.id, token: admin.token });
    expect(read.body).toMatchObject({ status: 'REVOKED', revokedAt: expect.any(String) });
    expectProblem(
      await call('POST', `${path}/secret`, { tenant: tenant.id, token: admin.token }),
      409,
      'client_revoked',
    );
    // Revoking again is harmless and records nothing more.
    expect((await call('DELETE', path, { tenant: tenant.id, token: admin.token })).status).toBe(204);
    expect((await auditOf(tenant, client.id)).map((row) => row.action).sort()).toEqual([
      'client.created',
      'client.revoked',
    ]);
    expect((await eventTypes(tenant)).filter((type) => type === 'client.revoked')).toHaveLength(1);
  });

  it('lists clients newest first, filtered by status, without secrets', async () => {
    const tenant = await createTenant();
    const admin = await createStaff(tenant);
    const first = await createClient(tenant, admin.token, ['customers:read']);
    const second = await createClient(tenant, admin.token, []);
    await call('DELETE', `/access/clients/${first.id}`, { tenant: tenant.id, token: admin.token });
    const all = await call<Page<ApiClient>>('GET', '/access/clients', {
      tenant: tenant.id,
      token: admin.token,
    });
    expect(all.status).toBe(200);
    const newestFirst = [first.id, second.id].sort().reverse();
    expect(all.body.data.map((client) => client.id)).toEqual(newestFirst);
    expect(all.text).not.toContain('fcs_');
    const active = await call<Page<ApiClient>>('GET', '/access/clients?status=ACTIVE', {
      tenant: tenant.id,
      token: admin.token,
    });
    expect(active.body.data.map((client) => client.id)).toEqual([second.id]);
    const paged = await call<Page<ApiClient>>('GET', '/access/clients?limit=1', {
      tenant: tenant.id,
      token: admin.token,
    });
    expect(paged.body.data.map((client) => client.id)).toEqual(newestFirst.slice(0, 1));
    const next = await call<Page<ApiClient>>(
      `GET`,
      `/access/clients?limit=1&cursor=${paged.body.nextCursor}`,
      {
        tenant: tenant.id,
        token: admin.token,
      },
    );
    expect(next.body.data.map((client) => client.id)).toEqual(newestFirst.slice(1));
    expect(next.body.nextCursor).toBeNull();
  });

  it('refuses unknown permissions (422) and permissions the caller does not hold (403)', async () => {
    const tenant = await createTenant();
    const delegate = await createStaff(tenant, { permissions: ['access:admin', 'customers:read'] });
    const unknown = await call('POST', '/access/clients', {
      tenant: tenant.id,
      token: delegate.token,
      body: { name: 'Back-end', permissions: ['customers:read', 'everything'] },
    });
    expectProblem(unknown, 422, 'validation_failed');
    expect(unknown.body.errors).toEqual([
      { path: 'permissions.1', message: expect.stringContaining("'everything'") },
    ]);

    const escalation = await call('POST', '/access/clients', {
      tenant: tenant.id,
      token: delegate.token,
      body: { name: 'Back-end', permissions: ['customers:read', 'access:admin', 'audit:read', 'tpp:admin'] },
    });
    expectProblem(escalation, 403, 'permission_not_held');
    expect(escalation.body.permissions).toEqual(['audit:read', 'tpp:admin']);
    const withinReach = await createClient(tenant, delegate.token, ['customers:read', 'access:admin']);
    expect(withinReach.permissions).toEqual(['access:admin', 'customers:read']);
  });

  it('lets an API client with access:admin manage clients, within its own permissions', async () => {
    const tenant = await createTenant();
    const manager = await createApiClient(tenant, ['access:admin', 'customers:read']);
    const created = await createClient(tenant, manager.token, ['customers:read']);
    expect((await requestToken(created.id, created.clientSecret)).status).toBe(200);
    expectProblem(
      await call('POST', '/access/clients', {
        tenant: tenant.id,
        token: manager.token,
        body: { name: 'Wider', permissions: ['kyc:review'] },
      }),
      403,
      'permission_not_held',
    );
  });

  it("keeps tenants apart: another tenant's client and role are 404, its secret is refused with this tenant's header", async () => {
    const home = await createTenant();
    const away = await createTenant();
    const homeAdmin = await createStaff(home);
    const awayAdmin = await createStaff(away);
    const awayClient = await createClient(away, awayAdmin.token, ['customers:read']);
    const awayRole = await createRole(away, [], awayAdmin.token);

    const token = await requestToken(awayClient.id, awayClient.clientSecret, home.id);
    expect(token.status).toBe(401);
    expect(token.body).toMatchObject({ error: 'invalid_client' });

    const asHome = { tenant: home.id, token: homeAdmin.token };
    for (const [method, path] of [
      ['GET', `/access/clients/${awayClient.id}`],
      ['POST', `/access/clients/${awayClient.id}/secret`],
      ['DELETE', `/access/clients/${awayClient.id}`],
      ['GET', `/access/roles/${awayRole.id}`],
      ['PATCH', `/access/roles/${awayRole.id}`],
      ['DELETE', `/access/roles/${awayRole.id}`],
    ] as const) {
      const body = method === 'PATCH' ? { description: 'Taken over' } : undefined;
      expectProblem(await call(method, path, { ...asHome, body }), 404, 'not_found');
    }
    const homeClients = await call<Page<ApiClient>>('GET', '/access/clients', asHome);
    expect(homeClients.text).not.toContain(awayClient.id);
    const homeRoles = await call<Page<Role>>('GET', '/access/roles', asHome);
    expect(homeRoles.text).not.toContain(awayRole.id);
    // The away client is untouched and still works.
    expect((await requestToken(awayClient.id, awayClient.clientSecret)).status).toBe(200);
  });
});
