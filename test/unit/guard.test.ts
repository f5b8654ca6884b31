import { env } from 'cloudflare:test';
import { type SQL, sql } from 'drizzle-orm';
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/platform/context';
import { ApiError } from '../../src/platform/errors';
import type { Tenant } from '../../src/platform/tenancy';
import { commitUnlessRefused, type Guard } from '../../src/platform/unit-of-work';
import { createTenant, database, unique } from '../helpers/factories';

/**
 * The guard idiom against D1 itself, so the error texts the mapping reads are D1's own: a table
 * of this test's with a NOT NULL column and a named CHECK, written by guarded batches.
 */
const probe = sqliteTable('guard_probe', {
  id: text('id').primaryKey(),
  value: text('value').notNull(),
  stake: integer('stake'),
});

describe('commitUnlessRefused', () => {
  let ctx: ReturnType<typeof systemContext>;

  beforeAll(async () => {
    const tenant = await createTenant();
    const db = database(tenant);
    await db.run(
      sql.raw(
        'CREATE TABLE IF NOT EXISTS guard_probe (id TEXT PRIMARY KEY, value TEXT NOT NULL, stake INTEGER CONSTRAINT guard_probe_stake_ck CHECK (stake <= 100))',
      ),
    );
    const row: Tenant = {
      id: tenant.id,
      name: tenant.id,
      tier: tenant.tier,
      status: 'ACTIVE',
      capabilities: [],
      rateLimitPerMinute: 100,
      d1Binding: tenant.binding,
      settings: {},
      corsOrigins: [],
    };
    ctx = systemContext(env, row, db);
  });

  const insert = (id: string, value: string | SQL, stake = 0) =>
    ctx.db.insert(probe).values({ id, value, stake });
  const change = (...statements: ReturnType<typeof insert>[]) => ({ statements, audit: [], events: [] });
  const stored = async (id: string) =>
    (await ctx.db.all(sql`SELECT id FROM guard_probe WHERE id = ${id}`)).length;
  const refusedWith = (code: 'customer_erased' | 'last_admin_user', violates: string): Guard => ({
    violates,
    refusal: () => new ApiError(code),
  });

  it('turns the NOT NULL column of a guard into its refusal and rolls back the whole batch', async () => {
    const first = unique('row');
    const refused = commitUnlessRefused(
      ctx,
      change(insert(first, 'kept?'), insert(unique('row'), sql`CASE WHEN 0 THEN 'x' END`)),
      refusedWith('last_admin_user', 'guard_probe.stake'),
      refusedWith('customer_erased', 'guard_probe.value'),
    );
    await expect(refused).rejects.toMatchObject({ code: 'customer_erased' });
    expect(await stored(first)).toBe(0);
  });

  it('turns a named CHECK constraint into its refusal, which may read the state first', async () => {
    const refused = commitUnlessRefused(ctx, change(insert(unique('row'), 'x', 101)), {
      violates: 'guard_probe_stake_ck',
      refusal: async () => new ApiError('validation_failed', { detail: `${await stored('none')} left` }),
    });
    await expect(refused).rejects.toMatchObject({ code: 'validation_failed', detail: '0 left' });
  });

  it('lets every other failure through: another column, a unique index on the same column', async () => {
    const guard = refusedWith('customer_erased', 'guard_probe.id');
    const id = unique('row');
    await commitUnlessRefused(ctx, change(insert(id, 'x')), guard);
    const duplicate = commitUnlessRefused(ctx, change(insert(id, 'y')), guard);
    await expect(duplicate).rejects.not.toBeInstanceOf(ApiError);
    await expect(duplicate).rejects.toThrow(/UNIQUE constraint failed: guard_probe\.id/);
    const otherColumn = commitUnlessRefused(ctx, change(insert(unique('row'), sql`NULL`)), guard);
    await expect(otherColumn).rejects.toThrow(/NOT NULL constraint failed: guard_probe\.value/);
  });
});
