import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** The tenant registry: small, read on every request (through an isolate cache), written rarely. */
export const tenants = sqliteTable(
  'tenants',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    tier: text('tier', { enum: ['STARTER', 'PROFESSIONAL', 'ENTERPRISE', 'CUSTOM'] }).notNull(),
    status: text('status', { enum: ['ACTIVE', 'SUSPENDED'] })
      .notNull()
      .default('ACTIVE'),
    /** JSON array of capability codes; null means the tier's default set. */
    capabilities: text('capabilities', { mode: 'json' }).$type<string[] | null>(),
    /** Requests per minute; null means the tier's default. */
    rateLimitPerMinute: integer('rate_limit_per_minute'),
    d1Binding: text('d1_binding').notNull(),
    /** Tenant settings: WebAuthn relying party, notification channels. */
    settings: text('settings', { mode: 'json' })
      .$type<Record<string, unknown>>()
      .notNull()
      .default(sql`'{}'`),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (table) => [index('tenants_binding_idx').on(table.d1Binding)],
);

/**
 * OAuth client ids are unique across tenants so that standard OAuth libraries need no tenant
 * header on /oauth/*: this directory maps a client id to its tenant.
 */
export const clientDirectory = sqliteTable('client_directory', {
  clientId: text('client_id').primaryKey(),
  tenantId: text('tenant_id')
    .notNull()
    .references(() => tenants.id),
  createdAt: text('created_at').notNull(),
});
