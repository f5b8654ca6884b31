import { env } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { controlDb, tenantDb } from '../../src/db/client';
import { clientDirectory } from '../../src/db/control';
import {
  clients,
  customers,
  organizationPeople,
  roles,
  sessions,
  userRoles,
  users,
} from '../../src/db/tenant';
import { type PersonalData, storePersonal } from '../../src/modules/customers/service';
import { sealDetails } from '../../src/modules/organizations/service';
import { hashPassword, unusablePasswordHash } from '../../src/platform/auth/passwords';
import { type BuiltInRoleName, builtInRoles, type Permission } from '../../src/platform/auth/permissions';
import { issueAccessToken } from '../../src/platform/auth/tokens';
import { identityColumns, identityOf } from '../../src/platform/auth/user-identity';
import { systemContext } from '../../src/platform/context';
import { sha256Hex } from '../../src/platform/crypto';
import { newId } from '../../src/platform/ids';
import { emailDigest } from '../../src/platform/lookup-digests';
import { loadCustomerKeys, newCustomerKey } from '../../src/platform/personal-data';
import { type Capability, requireActiveTenant, type Tier } from '../../src/platform/tenancy';
import { call, ISSUER } from './http';

export interface TestTenant {
  id: string;
  tier: Tier;
  binding: string;
}

const bindingForTier: Record<Tier, string> = {
  STARTER: 'TENANT_DB_DEMO_STARTER',
  PROFESSIONAL: 'TENANT_DB_DEMO_PRO',
  ENTERPRISE: 'TENANT_DB_DEMO_ENTERPRISE',
  CUSTOM: 'TENANT_DB_DEMO_CUSTOM',
};

let sequence = 0;
export function unique(label: string): string {
  sequence += 1;
  return `${label}-${Date.now().toString(36)}-${sequence}-${Math.random().toString(36).slice(2, 6)}`;
}

export function adminHeaders() {
  return { Authorization: `Bearer ${env.PLATFORM_ADMIN_TOKEN}` };
}

/** A fresh tenant registered through the operator API; its rows share the tier's local database. */
export async function createTenant(
  options: { tier?: Tier; rateLimitPerMinute?: number; capabilities?: Capability[]; binding?: string } = {},
): Promise<TestTenant> {
  const tier = options.tier ?? 'PROFESSIONAL';
  const id = unique('t');
  const binding = options.binding ?? bindingForTier[tier];
  const response = await call('POST', '/platform/tenants', {
    headers: adminHeaders(),
    body: {
      id,
      name: `Test tenant ${id}`,
      tier,
      d1Binding: binding,
      ...(options.capabilities ? { capabilities: options.capabilities } : {}),
      ...(options.rateLimitPerMinute ? { rateLimitPerMinute: options.rateLimitPerMinute } : {}),
    },
  });
  expect(response.status, response.text).toBe(201);
  return { id, tier, binding };
}

export function database(tenant: TestTenant) {
  return tenantDb((env as unknown as Record<string, D1Database>)[tenant.binding] as D1Database);
}

/**
 * A customer written straight to the tenant's database, its personal data sealed as the API
 * seals it: for tenants whose tier cannot create that kind of customer through the API.
 */
export async function insertCustomer(
  tenant: TestTenant,
  customer: { type: 'INDIVIDUAL' | 'BUSINESS'; status: string } & PersonalData,
): Promise<string> {
  const db = database(tenant);
  const ctx = await serviceContextOf(tenant);
  const id = newId('customer');
  const now = new Date();
  const { key, statement } = await newCustomerKey(db, env.FIELD_ENCRYPTION_KEY, tenant.id, id, now);
  const { type, status, ...personal } = customer;
  const stored = await storePersonal(ctx, key, personal);
  await db.batch([
    statement,
    db.insert(customers).values({
      id,
      tenantId: tenant.id,
      type,
      status,
      ...stored.columns,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    }),
    ...stored.searchIndex,
  ]);
  return id;
}

/**
 * The context services get, for factories that write as the API writes and for tests that run a
 * cron's verb on their own tenant at a time of their choosing.
 */
export async function serviceContextOf(tenant: TestTenant, now = new Date()) {
  return systemContext(env, await requireActiveTenant(env, tenant.id), database(tenant), now);
}

/** The data key of a customer made in `tenant`. */
async function customerKeyOf(tenant: TestTenant, customerId: string) {
  const keys = await loadCustomerKeys(database(tenant), env.FIELD_ENCRYPTION_KEY, tenant.id, [customerId]);
  const key = keys.get(customerId);
  if (!key) throw new Error(`no key for ${customerId}`);
  return key;
}

/** A person of an organization written straight to the database, details sealed as the API seals them. */
export async function insertPerson(
  tenant: TestTenant,
  organizationId: string,
  person: Pick<
    typeof organizationPeople.$inferInsert,
    'kind' | 'role' | 'userId' | 'ownershipBasisPoints'
  > & {
    details: Record<string, unknown>;
  },
): Promise<string> {
  const id = newId('person');
  const now = new Date().toISOString();
  const ctx = await serviceContextOf(tenant);
  await database(tenant)
    .insert(organizationPeople)
    .values({
      ...person,
      id,
      tenantId: tenant.id,
      customerId: organizationId,
      details: await sealDetails(ctx, await customerKeyOf(tenant, organizationId), id, person.details),
      createdAt: now,
      updatedAt: now,
    });
  return id;
}

/** A login of a customer written straight to the database, with a password nobody knows. */
export async function insertCustomerLogin(
  tenant: TestTenant,
  customerId: string,
  identity: { email: string; displayName: string },
): Promise<string> {
  const id = newId('user');
  const now = new Date().toISOString();
  const ctx = await serviceContextOf(tenant);
  await database(tenant)
    .insert(users)
    .values({
      id,
      tenantId: tenant.id,
      ...(await identityColumns(ctx, id, identity, await customerKeyOf(tenant, customerId))),
      kind: 'CUSTOMER',
      customerId,
      passwordHash: unusablePasswordHash(),
      createdAt: now,
      updatedAt: now,
    });
  return id;
}

/**
 * An employee of an organization with an organization role, written straight to the database,
 * and an access token of theirs: for tests of what each organization role may do.
 */
export async function createEmployee(
  tenant: TestTenant,
  organizationId: string,
  role: string,
): Promise<string> {
  const userId = await insertCustomerLogin(tenant, organizationId, {
    email: `${unique('employee')}@example.com`,
    displayName: 'Employee',
  });
  await insertPerson(tenant, organizationId, {
    kind: 'EMPLOYEE',
    role,
    userId,
    ownershipBasisPoints: null,
    details: { firstName: 'Ada', lastName: 'King', email: 'ada.king@example.com' },
  });
  return mintToken(tenant, { sub: userId, ptype: 'customer', scope: '', cus: organizationId });
}

/** A login's email and name as the API reads them (sealed at rest for customers' logins). */
export async function loginIdentity(tenant: TestTenant, userId: string) {
  const row = await database(tenant).select().from(users).where(eq(users.id, userId)).get();
  if (!row) throw new Error(`no user ${userId}`);
  const { email, displayName } = await identityOf(await serviceContextOf(tenant), row);
  return { email, displayName };
}

export interface TestPrincipal {
  id: string;
  token: string;
}

export interface TestSession {
  accessToken: string;
  refreshToken: string;
  sessionId: string;
}

export function randomIp(): string {
  const octet = () => Math.floor(Math.random() * 250) + 1;
  return `10.${octet()}.${octet()}.${octet()}`;
}

/**
 * Logs in through POST /auth/login like a client would. Each call comes from its own address so
 * factories never trip the per-IP login limit that the tests of that limit exercise.
 */
export async function logIn(
  tenant: TestTenant,
  email: string,
  password: string,
  accountType: 'CUSTOMER' | 'STAFF' = 'CUSTOMER',
): Promise<TestSession> {
  const response = await call<TestSession>('POST', '/auth/login', {
    tenant: tenant.id,
    body: { email, password, accountType },
    headers: { 'CF-Connecting-IP': randomIp() },
  });
  expect(response.status, response.text).toBe(200);
  return response.body;
}

export const STAFF_PASSWORD = 'staff-password-123';

export async function mintToken(
  tenant: TestTenant,
  claims: {
    sub: string;
    ptype: 'staff' | 'customer' | 'client';
    scope: string;
    cus?: string;
    sid?: string;
    /** A third party acting for the user under an OAuth grant. */
    client_id?: string;
  },
  options: { ttlSeconds?: number; now?: Date } = {},
): Promise<string> {
  const now = options.now ?? new Date();
  return issueAccessToken(env, {
    issuer: ISSUER,
    now,
    ttlSeconds: options.ttlSeconds,
    claims: {
      tid: tenant.id,
      amr: ['pwd'],
      auth_time: Math.floor(now.getTime() / 1000),
      sid: claims.sid ?? (claims.ptype === 'client' ? undefined : newId('session')),
      ...claims,
    },
  });
}

export type TestStaff = TestPrincipal & TestSession & { email: string; password: string };

/**
 * A staff user with a built-in role, or a custom role with exactly the given permissions,
 * logged in through the API.
 */
export async function createStaff(
  tenant: TestTenant,
  role: BuiltInRoleName | { permissions: Permission[] } = 'TENANT_ADMIN',
): Promise<TestStaff> {
  const id = newId('user');
  const email = `${unique('staff')}@example.com`;
  const now = new Date().toISOString();
  const db = database(tenant);
  const roleId = typeof role === 'string' ? builtInRoles[role].id : newId('role');
  await db.batch([
    db.insert(users).values({
      id,
      tenantId: tenant.id,
      email,
      emailDigest: await emailDigest(env.FIELD_ENCRYPTION_KEY, tenant.id, email),
      kind: 'STAFF',
      passwordHash: await hashPassword(STAFF_PASSWORD),
      displayName: 'Test Staff',
      createdAt: now,
      updatedAt: now,
    }),
    ...(typeof role === 'string'
      ? []
      : [
          db.insert(roles).values({
            id: roleId,
            tenantId: tenant.id,
            name: unique('role'),
            description: 'Test role',
            permissions: role.permissions,
            createdAt: now,
            updatedAt: now,
          }),
        ]),
    db.insert(userRoles).values({ tenantId: tenant.id, userId: id, roleId, createdAt: now }),
  ]);
  const session = await logIn(tenant, email, STAFF_PASSWORD, 'STAFF');
  return { id, email, password: STAFF_PASSWORD, token: session.accessToken, ...session };
}

export interface ApiClientOptions {
  /** Defaults to `client_credentials` only, like a tenant back-end; keep it in the list, the factory uses it. */
  grantTypes?: string[];
  redirectUris?: string[];
  clientSecret?: string;
}

/** An API client of the tenant, and a token obtained from /oauth/token like a real back-end would. */
export async function createApiClient(
  tenant: TestTenant,
  permissions: Permission[],
  options: ApiClientOptions = {},
): Promise<TestPrincipal & { clientSecret: string }> {
  const id = newId('client');
  const clientSecret = options.clientSecret ?? `fcs_${unique('secret')}`;
  const now = new Date().toISOString();
  const db = database(tenant);
  await db.insert(clients).values({
    id,
    tenantId: tenant.id,
    name: 'Test client',
    secretHash: await sha256Hex(clientSecret),
    permissions,
    ...(options.grantTypes ? { grantTypes: options.grantTypes } : {}),
    ...(options.redirectUris ? { redirectUris: options.redirectUris } : {}),
    createdAt: now,
    updatedAt: now,
  });
  await controlDb(env.CONTROL_DB)
    .insert(clientDirectory)
    .values({ clientId: id, tenantId: tenant.id, createdAt: now });
  const response = await call<{ access_token: string }>('POST', '/oauth/token', {
    form: { grant_type: 'client_credentials', client_id: id, client_secret: clientSecret },
  });
  expect(response.status, response.text).toBe(200);
  return { id, clientSecret, token: response.body.access_token };
}

export function individualInput(overrides: Record<string, unknown> = {}) {
  return {
    email: `${unique('ada')}@example.com`,
    password: 'correct-horse-battery-staple',
    firstName: 'Ada',
    lastName: 'Lovelace',
    dateOfBirth: '1990-12-10',
    nationality: 'GB',
    phone: '+447911123456',
    address: { line1: '12 St James’s Square', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
    consents: { termsAndConditions: true, privacyPolicy: true },
    ...overrides,
  };
}

export interface TestCustomer extends TestPrincipal, TestSession {
  customerId: string;
  email: string;
  password: string;
}

/** Self-registers an individual through the public route and logs it in. */
export async function createCustomer(
  tenant: TestTenant,
  overrides: Record<string, unknown> = {},
): Promise<TestCustomer> {
  const input = individualInput(overrides);
  const response = await call<{ id: string; userId: string }>('POST', '/individuals', {
    tenant: tenant.id,
    body: input,
  });
  expect(response.status, response.text).toBe(201);
  const session = await logIn(tenant, input.email, input.password);
  return {
    id: response.body.userId,
    customerId: response.body.id,
    email: input.email,
    password: input.password,
    token: session.accessToken,
    ...session,
  };
}

export function organizationInput(overrides: Record<string, unknown> = {}) {
  return {
    legalName: 'Analytical Engines Ltd',
    registrationNumber: '09876543',
    legalForm: 'Private limited company',
    incorporationDate: '2015-03-02',
    incorporationCountry: 'GB',
    email: `${unique('finance')}@example.com`,
    phone: '+442079460000',
    registeredAddress: { line1: '1 Babbage Row', city: 'London', postalCode: 'EC1A 1BB', country: 'GB' },
    admin: {
      email: `${unique('grace')}@example.com`,
      password: 'correct-horse-battery-staple',
      firstName: 'Grace',
      lastName: 'Hopper',
      phone: '+447911123456',
      position: 'Chief Financial Officer',
    },
    consents: { termsAndConditions: true, privacyPolicy: true },
    ...overrides,
  };
}

/** A director's body for `POST /organizations/{organizationId}/directors`. */
export function directorInput(overrides: Record<string, unknown> = {}) {
  return {
    firstName: 'Charles',
    lastName: 'Babbage',
    dateOfBirth: '1971-12-26',
    nationality: 'GB',
    role: 'MANAGING_DIRECTOR',
    isPep: false,
    ...overrides,
  };
}

/**
 * An organization written straight to the database, so the common cases can address one in a
 * tenant whose tier cannot register organizations through the API.
 */
export async function seedOrganization(tenant: TestTenant): Promise<string> {
  const { email, phone, admin: _admin, consents: _consents, ...profile } = organizationInput();
  return insertCustomer(tenant, {
    type: 'BUSINESS',
    status: 'REGISTERED',
    email,
    phone,
    displayName: profile.legalName,
    profile,
  });
}

export interface TestOrganization extends TestPrincipal, TestSession {
  /** The organization's customer id. */
  customerId: string;
}

/** Self-registers an organization through the public route and logs its administrator in. */
export async function createOrganization(
  tenant: TestTenant,
  overrides: Record<string, unknown> = {},
): Promise<TestOrganization> {
  const input = organizationInput(overrides);
  const response = await call<{ id: string; userId: string }>('POST', '/organizations', {
    tenant: tenant.id,
    body: input,
  });
  expect(response.status, response.text).toBe(201);
  const session = await logIn(tenant, input.admin.email, input.admin.password);
  return { id: response.body.userId, customerId: response.body.id, token: session.accessToken, ...session };
}

/**
 * Makes the session's last authentication an hour old and returns a refreshed access token,
 * which carries that old `auth_time`: what routes requiring a step-up must refuse.
 */
export async function staleAccessToken(tenant: TestTenant, session: TestSession): Promise<string> {
  await database(tenant)
    .update(sessions)
    .set({ authTime: Math.floor(Date.now() / 1000) - 3600 })
    .where(eq(sessions.id, session.sessionId));
  const refreshed = await call<TestSession>('POST', '/auth/refresh', {
    tenant: tenant.id,
    body: { refreshToken: session.refreshToken },
  });
  expect(refreshed.status, refreshed.text).toBe(200);
  return refreshed.body.accessToken;
}
