import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import {
  controlSeedStatements,
  type DemoCredentials,
  demoCredentials,
  demoTenants,
  tenantSeedStatements,
} from '../../scripts/lib/demo-seed';
import { tenantBinding } from '../../scripts/lib/tenants';
import { verifyPassword } from '../../src/platform/auth/passwords';
import { call } from '../helpers/http';

/*
 * `npm start` runs these statements through `wrangler d1 execute`; here they run against the same
 * migrated schemas in workerd, and the worker itself checks the result.
 */

function database(binding: string): D1Database {
  return (env as unknown as Record<string, D1Database>)[binding] as D1Database;
}

async function run(db: D1Database, statements: string[]): Promise<void> {
  await db.batch(statements.map((statement) => db.prepare(statement)));
}

/** One `npm start` seed: reuses `previous` credentials the way the credentials file does. */
async function seed(previous: DemoCredentials[] = []): Promise<DemoCredentials[]> {
  const now = new Date().toISOString();
  const seeded = demoTenants.map((tenant) => ({
    tenant,
    credentials: demoCredentials(
      tenant,
      previous.find((entry) => entry.id === tenant.id),
    ),
  }));
  await run(
    env.CONTROL_DB,
    seeded.flatMap(({ tenant, credentials }) => controlSeedStatements(tenant, credentials, now)),
  );
  for (const { tenant, credentials } of seeded) {
    await run(
      database(tenantBinding(tenant.id)),
      await tenantSeedStatements(credentials, now, env.FIELD_ENCRYPTION_KEY),
    );
  }
  return seeded.map(({ credentials }) => credentials);
}

async function clientToken(credentials: DemoCredentials): Promise<string> {
  const response = await call<{ access_token: string; scope: string }>('POST', '/oauth/token', {
    form: {
      grant_type: 'client_credentials',
      client_id: credentials.client.clientId,
      client_secret: credentials.client.clientSecret,
    },
  });
  expect(response.status, response.text).toBe(200);
  expect(response.body.scope.split(' ')).toContain('access:admin');
  return response.body.access_token;
}

describe('demo seed of npm start', () => {
  it('gives every demo tenant working staff users and an OAuth client, and re-runs without change', async () => {
    const first = await seed();
    const second = await seed(first);
    expect(second).toEqual(first);

    for (const credentials of second) {
      const db = database(tenantBinding(credentials.id));
      const staff = await db
        .prepare(
          'SELECT u.email, u.kind, u.password_hash, r.role_id FROM users u JOIN user_roles r ON r.tenant_id = u.tenant_id AND r.user_id = u.id WHERE u.tenant_id = ? ORDER BY u.email',
        )
        .bind(credentials.id)
        .all<{ email: string; kind: string; password_hash: string; role_id: string }>();
      expect(staff.results.map(({ email, kind, role_id }) => ({ email, kind, role_id }))).toEqual([
        { email: credentials.admin.email, kind: 'STAFF', role_id: 'rol_tenant_admin' },
        { email: credentials.complianceOfficer.email, kind: 'STAFF', role_id: 'rol_compliance_officer' },
      ]);
      // The scripts hash with their own copy of the scheme; the worker must accept it as current.
      const [admin, officer] = staff.results;
      expect(await verifyPassword(credentials.admin.password, admin?.password_hash ?? '')).toEqual({
        valid: true,
        needsRehash: false,
      });
      expect(
        (await verifyPassword(credentials.complianceOfficer.password, officer?.password_hash ?? '')).valid,
      ).toBe(true);

      const token = await clientToken(credentials);
      const customers = await call('GET', '/customers', { tenant: credentials.id, token });
      expect(customers.status, customers.text).toBe(200);
    }
  });

  it('registers the custom tenant with its capability set and rate limit', async () => {
    await seed();
    const response = await call<{ capabilities: string[]; rateLimitPerMinute: number }>(
      'GET',
      '/platform/tenants/demo-custom',
      { headers: { Authorization: `Bearer ${env.PLATFORM_ADMIN_TOKEN}` } },
    );
    expect(response.status, response.text).toBe(200);
    expect(response.body.capabilities).toEqual(['SCT01', 'SCT11']);
    expect(response.body.rateLimitPerMinute).toBe(50);
  });
});
