/*
 * The bench tenant and its data. The tenant and the customers are made through the API. Staff
 * users are inserted into the tenant database as `npm start` seeds its demo staff (the API has no
 * staff-user route yet), and their access tokens are issued by the bench entry the way the tests'
 * `mintToken` issues them.
 */
import { builtInRoles } from '../../src/platform/auth/permissions.ts';
import { newId } from '../../src/platform/ids.ts';
import { emailDigest } from '../../src/platform/lookup-digests.ts';
import { hashPassword } from '../lib/secrets.ts';
import { insertStatement } from '../lib/sql.ts';
import type { Api } from './api.ts';
import { benchRoutes } from './protocol.ts';

export const BENCH_TENANT_ID = 'bench';
/** The most the operator API allows: the limiter runs on every request but never refuses one. */
export const BENCH_RATE_LIMIT_PER_MINUTE = 100_000;
const STAFF_PASSWORD = 'bench-staff-password-1';
const CUSTOMERS = 16;

export interface StaffUser {
  id: string;
  email: string;
  /** A TENANT_ADMIN access token. */
  token: string;
}

export interface Seed {
  tenantId: string;
  /** Several users, so staff requests spread over several rate-limit buckets as real traffic does. */
  staff: StaffUser[];
  staffPassword: string;
  customerIds: string[];
}

/** A valid self-registration; `tag` makes the email unique. */
export function individual(tag: string) {
  return {
    email: `${tag}@bench.example.com`,
    password: 'correct-horse-battery-staple',
    firstName: 'Ada',
    lastName: 'Lovelace',
    dateOfBirth: '1990-12-10',
    nationality: 'GB',
    phone: '+447911123456',
    address: { line1: '12 St James’s Square', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
    consents: { termsAndConditions: true, privacyPolicy: true },
  };
}

async function insertStaff(
  database: D1Database,
  tenantId: string,
  count: number,
  fieldEncryptionKey: string,
): Promise<Omit<StaffUser, 'token'>[]> {
  const now = new Date().toISOString();
  const passwordHash = await hashPassword(STAFF_PASSWORD);
  const users = await Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const email = `staff-${index}@bench.example.com`;
      return { id: newId('user'), email, digest: await emailDigest(fieldEncryptionKey, tenantId, email) };
    }),
  );
  const statements = users.flatMap(({ id, email, digest }) => [
    insertStatement('users', {
      id,
      tenant_id: tenantId,
      email,
      email_digest: digest,
      kind: 'STAFF',
      status: 'ACTIVE',
      password_hash: passwordHash,
      display_name: 'Bench Staff',
      created_at: now,
      updated_at: now,
    }),
    insertStatement('user_roles', {
      tenant_id: tenantId,
      user_id: id,
      role_id: builtInRoles.TENANT_ADMIN.id,
      created_at: now,
    }),
  ]);
  await database.batch(statements.map((statement) => database.prepare(statement)));
  return users;
}

export async function seed(
  client: Api,
  options: {
    adminToken: string;
    fieldEncryptionKey: string;
    tenantDatabase: D1Database;
    tenantBinding: string;
    staffUsers: number;
  },
): Promise<Seed> {
  const tenantId = BENCH_TENANT_ID;
  await client.call(
    {
      method: 'POST',
      path: '/platform/tenants',
      token: options.adminToken,
      body: {
        id: tenantId,
        name: 'Bench tenant',
        tier: 'ENTERPRISE',
        d1Binding: options.tenantBinding,
        rateLimitPerMinute: BENCH_RATE_LIMIT_PER_MINUTE,
      },
    },
    201,
  );
  const staff: StaffUser[] = [];
  for (const user of await insertStaff(
    options.tenantDatabase,
    tenantId,
    options.staffUsers,
    options.fieldEncryptionKey,
  )) {
    const { token } = await client.call<{ token: string }>({
      method: 'POST',
      path: benchRoutes.token,
      raw: true,
      body: { tenantId, userId: user.id, permissions: builtInRoles.TENANT_ADMIN.permissions },
    });
    staff.push({ ...user, token });
  }
  const customerIds = await registerCustomers(client, tenantId, 'seed', CUSTOMERS, options.staffUsers);
  return { tenantId, staff, staffPassword: STAFF_PASSWORD, customerIds };
}

/**
 * `count` customers registered through `POST /individuals`, `inFlight` at a time: each is a
 * password hash, so the server is kept busy rather than waiting on one round trip after another.
 * Resolves with their ids in the order of their tags (`<prefix>-0`, `<prefix>-1`, …).
 */
export async function registerCustomers(
  client: Api,
  tenantId: string,
  prefix: string,
  count: number,
  inFlight: number,
): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  const register = async () => {
    for (let index = next++; index < count; index = next++) {
      const { id } = await client.call<{ id: string }>(
        { method: 'POST', path: '/individuals', tenantId, body: individual(`${prefix}-${index}`) },
        201,
      );
      ids[index] = id;
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, register));
  return ids;
}

/**
 * Marks the customers' emails confirmed, as test/helpers/verifications.ts `confirmEmail` does: a
 * confirmation needs the code the notification carries, which the bench cannot read (it runs no
 * queue consumers). A BASIC verification requires it.
 */
export async function confirmEmails(database: D1Database, tenantId: string, customerIds: string[]) {
  const now = new Date().toISOString();
  const update = database.prepare(
    "UPDATE customers SET status = 'REGISTERED', email_verified_at = ?1 WHERE tenant_id = ?2 AND id = ?3",
  );
  await database.batch(customerIds.map((id) => update.bind(now, tenantId, id)));
}
