import { applyD1Migrations, type D1Migration, env } from 'cloudflare:test';
import { isTenantDbBinding } from '../../src/platform/tenancy';

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: { control: D1Migration[]; tenant: D1Migration[] };
    }
  }
}

await applyD1Migrations(env.CONTROL_DB, env.TEST_MIGRATIONS.control);
for (const [name, binding] of Object.entries(env)) {
  if (isTenantDbBinding(name)) await applyD1Migrations(binding as D1Database, env.TEST_MIGRATIONS.tenant);
}
