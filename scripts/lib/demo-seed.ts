/*
 * The demo tenants `npm start` seeds, and the SQL that seeds them. Nothing here touches the file
 * system or Node-only APIs, so a test can run the same statements inside workerd.
 */
import { builtInRoles } from '../../src/platform/auth/permissions.ts';
import { newId } from '../../src/platform/ids.ts';
import { emailDigest, normaliseEmail } from '../../src/platform/lookup-digests.ts';
import type { Tier } from '../../src/platform/tenancy';
import { hashPassword, isCurrentHashOf, randomSecret, sha256Hex } from './secrets.ts';
import { insertStatement, sqlLiteral } from './sql.ts';
import { registryStatement, type TenantDefinition } from './tenants.ts';

/** One tenant per tier, each in its own local database (bindings declared in wrangler.toml). */
export const demoTenants: TenantDefinition[] = [
  { id: 'demo-starter', name: 'Demo Starter', tier: 'STARTER' },
  { id: 'demo-pro', name: 'Demo Professional', tier: 'PROFESSIONAL' },
  { id: 'demo-enterprise', name: 'Demo Enterprise', tier: 'ENTERPRISE' },
  {
    id: 'demo-custom',
    name: 'Demo Custom',
    tier: 'CUSTOM',
    capabilities: ['SCT01', 'SCT11'],
    rateLimitPerMinute: 50,
  },
];

export interface Login {
  email: string;
  password: string;
}

/** One entry of `.dev/demo-credentials.json`. */
export interface DemoCredentials {
  id: string;
  tier: Tier;
  admin: Login;
  complianceOfficer: Login;
  client: { clientId: string; clientSecret: string };
}

function isLogin(value: unknown): value is Login {
  const login = value as Partial<Login> | null;
  return typeof login?.email === 'string' && typeof login.password === 'string';
}

function isClient(value: unknown): value is DemoCredentials['client'] {
  const client = value as Partial<DemoCredentials['client']> | null;
  return typeof client?.clientId === 'string' && typeof client.clientSecret === 'string';
}

/**
 * Reuses the credentials of an earlier run when `previous` holds a complete entry, so the
 * passwords and secrets a developer has noted keep working; otherwise makes fresh ones.
 */
export function demoCredentials(tenant: TenantDefinition, previous?: unknown): DemoCredentials {
  const earlier = previous as Partial<DemoCredentials> | undefined;
  if (isLogin(earlier?.admin) && isLogin(earlier.complianceOfficer) && isClient(earlier.client)) {
    return {
      id: tenant.id,
      tier: tenant.tier,
      admin: earlier.admin,
      complianceOfficer: earlier.complianceOfficer,
      client: earlier.client,
    };
  }
  return {
    id: tenant.id,
    tier: tenant.tier,
    // 18 random bytes: 24 characters, well past the 12-character minimum of the password policy.
    admin: { email: `admin@${tenant.id}.example.com`, password: randomSecret(18) },
    complianceOfficer: { email: `compliance@${tenant.id}.example.com`, password: randomSecret(18) },
    client: { clientId: newId('client'), clientSecret: `fcs_${randomSecret(32)}` },
  };
}

/** Statements for the control database: the tenant's registry row, then its client's directory entry. */
export function controlSeedStatements(tenant: TenantDefinition, credentials: TenantAccess, now: string) {
  return [registryStatement(tenant, now), clientDirectoryStatement(credentials, now)];
}

/** The client's entry in the directory /oauth/token finds a client's tenant by. */
export function clientDirectoryStatement(credentials: TenantAccess, now: string): string {
  return insertStatement(
    'client_directory',
    { client_id: credentials.client.clientId, tenant_id: credentials.id, created_at: now },
    { orIgnore: true },
  );
}

/**
 * A tenant's first principals: a TENANT_ADMIN and an API client, and for the demo tenants a
 * COMPLIANCE_OFFICER too. `npm start` seeds them for the demo tenants, `tenant:create` for a new one.
 */
export type TenantAccess = Pick<DemoCredentials, 'id' | 'admin' | 'client'> & { complianceOfficer?: Login };

function demoStaff(credentials: TenantAccess) {
  const officer = credentials.complianceOfficer;
  return [
    { login: credentials.admin, displayName: 'Tenant Admin', role: builtInRoles.TENANT_ADMIN },
    ...(officer
      ? [{ login: officer, displayName: 'Compliance Officer', role: builtInRoles.COMPLIANCE_OFFICER }]
      : []),
  ];
}

/** What the demo client may do: everything a TENANT_ADMIN may. */
const demoClientPermissions = JSON.stringify(builtInRoles.TENANT_ADMIN.permissions);

/**
 * Whether the tenant's database already holds what `tenantSeedStatements` would write: both
 * staff users active, with their role and a hash of the file's password, and the client active
 * with the file's secret. Checking costs the two password hashes that rewriting would cost, but
 * leaves an up-to-date database untouched.
 */
export async function tenantSeedIsCurrent(
  db: D1Database,
  credentials: TenantAccess,
  fieldEncryptionKey: string,
): Promise<boolean> {
  const tenantId = credentials.id;
  for (const { login, role } of demoStaff(credentials)) {
    const digest = await emailDigest(fieldEncryptionKey, tenantId, normaliseEmail(login.email));
    const user = await db
      .prepare(
        "SELECT u.password_hash, EXISTS (SELECT 1 FROM user_roles r WHERE r.tenant_id = u.tenant_id AND r.user_id = u.id AND r.role_id = ?1) AS has_role FROM users u WHERE u.tenant_id = ?2 AND u.kind = 'STAFF' AND u.status = 'ACTIVE' AND u.email_digest = ?3",
      )
      .bind(role.id, tenantId, digest)
      .first<{ password_hash: string | null; has_role: number }>();
    if (!user?.has_role || !user.password_hash) return false;
    if (!(await isCurrentHashOf(login.password, user.password_hash))) return false;
  }
  const client = await db
    .prepare(
      "SELECT secret_hash, permissions FROM clients WHERE tenant_id = ?1 AND id = ?2 AND status = 'ACTIVE'",
    )
    .bind(tenantId, credentials.client.clientId)
    .first<{ secret_hash: string; permissions: string }>();
  return (
    client?.secret_hash === (await sha256Hex(credentials.client.clientSecret)) &&
    client.permissions === demoClientPermissions
  );
}

/**
 * Statements for the tenant's own database: two staff users with their built-in roles and an
 * OAuth client with every permission. Secrets are upserted, not ignored, so the credentials file
 * stays the truth even after a password was changed through the API or the file was regenerated.
 */
export async function tenantSeedStatements(
  credentials: TenantAccess,
  now: string,
  fieldEncryptionKey: string,
): Promise<string[]> {
  const tenantId = credentials.id;
  const staff = demoStaff(credentials);
  const statements: string[] = [];
  for (const { login, displayName, role } of staff) {
    const email = normaliseEmail(login.email);
    const digest = await emailDigest(fieldEncryptionKey, tenantId, email);
    statements.push(
      insertStatement(
        'users',
        {
          id: newId('user'),
          tenant_id: tenantId,
          email,
          email_digest: digest,
          kind: 'STAFF',
          status: 'ACTIVE',
          password_hash: await hashPassword(login.password),
          display_name: displayName,
          created_at: now,
          updated_at: now,
        },
        {
          suffix:
            "ON CONFLICT (tenant_id, kind, email_digest) DO UPDATE SET password_hash = excluded.password_hash, status = 'ACTIVE', updated_at = excluded.updated_at",
        },
      ),
      // The user id is looked up rather than carried over: on a re-run the existing row keeps its id.
      `INSERT OR IGNORE INTO user_roles (tenant_id, user_id, role_id, created_at) SELECT tenant_id, id, ${sqlLiteral(role.id)}, ${sqlLiteral(now)} FROM users WHERE tenant_id = ${sqlLiteral(tenantId)} AND email_digest = ${sqlLiteral(digest)};`,
    );
  }
  statements.push(
    insertStatement(
      'clients',
      {
        id: credentials.client.clientId,
        tenant_id: tenantId,
        name: 'Back end',
        secret_hash: await sha256Hex(credentials.client.clientSecret),
        permissions: demoClientPermissions,
        status: 'ACTIVE',
        created_at: now,
        updated_at: now,
      },
      {
        suffix:
          "ON CONFLICT (id) DO UPDATE SET secret_hash = excluded.secret_hash, permissions = excluded.permissions, status = 'ACTIVE', updated_at = excluded.updated_at",
      },
    ),
  );
  return statements;
}
