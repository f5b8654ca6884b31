import { sql } from 'drizzle-orm';
import { sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { builtOnce, rowInsert, type TenantScope } from '../../src/db/built-once';
import { createTenant, database, unique } from '../helpers/factories';

/** A table of this test's, so the statements run against D1 itself. */
const probe = sqliteTable('built_once_probe', {
  id: text('id').primaryKey(),
  tenantId: text('tenant_id').notNull(),
  value: text('value', { mode: 'json' }).$type<{ n: number }>(),
});

describe('builtOnce', () => {
  let scope: TenantScope;

  beforeAll(async () => {
    const tenant = await createTenant();
    scope = { db: database(tenant), tenant: { id: tenant.id } };
    await scope.db.run(
      sql.raw(
        'CREATE TABLE IF NOT EXISTS built_once_probe (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, value TEXT)',
      ),
    );
  });

  it('builds once per database and tenant, and binds each use its own values, encoded by column', async () => {
    let builds = 0;
    const insert = rowInsert(probe);
    const read = builtOnce((built) => {
      builds += 1;
      return [
        built.db
          .select({ value: probe.value })
          .from(probe)
          .where(sql`${probe.tenantId} = ${built.tenant.id} AND ${probe.id} = ${sql.placeholder('id')}`),
      ] as const;
    });
    const [a, b] = [unique('a'), unique('b')];
    await scope.db.batch([
      insert(scope, { id: a, tenantId: scope.tenant.id, value: { n: 1 } }),
      insert(scope, { id: b, tenantId: scope.tenant.id }),
    ]);
    const [[first]] = await scope.db.batch(read(scope, { id: a }));
    const [[second]] = await scope.db.batch(read(scope, { id: b }));
    expect([first?.value, second?.value]).toEqual([{ n: 1 }, null]);
    expect(builds).toBe(1);

    const other = { db: scope.db, tenant: { id: unique('t') } };
    const [none] = await scope.db.batch(read(other, { id: a }));
    expect({ builds, rows: none }).toEqual({ builds: 2, rows: [] });
  });

  it('refuses a use that leaves a placeholder without its value', () => {
    const read = builtOnce((built) => [
      built.db
        .select()
        .from(probe)
        .where(sql`${probe.id} = ${sql.placeholder('id')}`),
    ]);
    expect(() => read(scope, {})).toThrow('No value for placeholder "id"');
  });
});
