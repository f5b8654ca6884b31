import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/*
 * One database per tenant, yet every row still carries `tenant_id` and every query filters on
 * it: defence in depth, and it lets several test tenants share one local database.
 */

export const customers = sqliteTable(
  'customers',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    type: text('type', { enum: ['INDIVIDUAL', 'BUSINESS'] }).notNull(),
    status: text('status').notNull(),
    email: text('email').notNull(),
    phone: text('phone'),
    displayName: text('display_name').notNull(),
    /** Type-specific profile (individual or organization) as JSON; shape owned by the customers module. */
    profile: text('profile', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    emailVerifiedAt: text('email_verified_at'),
    phoneVerifiedAt: text('phone_verified_at'),
    createdBy: text('created_by'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (table) => [
    index('customers_tenant_id_idx').on(table.tenantId, table.id),
    index('customers_tenant_email_idx').on(table.tenantId, table.email),
    index('customers_tenant_status_idx').on(table.tenantId, table.status, table.id),
    index('customers_tenant_type_idx').on(table.tenantId, table.type, table.id),
  ],
);

export const users = sqliteTable(
  'users',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    /** Lower-cased; unique per tenant across staff and customers, since login takes only an email. */
    email: text('email').notNull(),
    kind: text('kind', { enum: ['STAFF', 'CUSTOMER'] }).notNull(),
    customerId: text('customer_id'),
    status: text('status', { enum: ['ACTIVE', 'DISABLED'] })
      .notNull()
      .default('ACTIVE'),
    passwordHash: text('password_hash').notNull(),
    displayName: text('display_name').notNull(),
    /** Failed logins in the current lockout window, which opened at `failedLoginWindowStartedAt`. */
    failedLoginCount: integer('failed_login_count').notNull().default(0),
    failedLoginWindowStartedAt: text('failed_login_window_started_at'),
    lockedUntil: text('locked_until'),
    passwordChangedAt: text('password_changed_at'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (table) => [
    uniqueIndex('users_tenant_email_uq').on(table.tenantId, table.email),
    index('users_tenant_customer_idx').on(table.tenantId, table.customerId),
  ],
);

export const userRoles = sqliteTable(
  'user_roles',
  {
    tenantId: text('tenant_id').notNull(),
    userId: text('user_id').notNull(),
    roleId: text('role_id').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (table) => [primaryKey({ columns: [table.tenantId, table.userId, table.roleId] })],
);

/** Custom roles; the built-in ones live in code (src/platform/auth/permissions.ts) and are read-only. */
export const roles = sqliteTable(
  'roles',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull(),
    permissions: text('permissions', { mode: 'json' }).$type<string[]>().notNull(),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (table) => [uniqueIndex('roles_tenant_name_uq').on(table.tenantId, table.name)],
);

/**
 * The listing side of a login session; its refresh-token family lives in the session's Durable
 * Object, which is the authority on whether the session can still be refreshed.
 */
export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    userId: text('user_id').notNull(),
    /** Authentication methods (RFC 8176 `amr`) of the last authentication, JSON array. */
    amr: text('amr', { mode: 'json' }).$type<string[]>().notNull(),
    /** When the user last proved who they are (login or step-up), epoch seconds. */
    authTime: integer('auth_time').notNull(),
    device: text('device').notNull(),
    userAgent: text('user_agent'),
    ip: text('ip'),
    createdAt: text('created_at').notNull(),
    lastUsedAt: text('last_used_at').notNull(),
    revokedAt: text('revoked_at'),
    revokedReason: text('revoked_reason'),
  },
  (table) => [index('sessions_tenant_user_idx').on(table.tenantId, table.userId, table.id)],
);

export const clients = sqliteTable(
  'clients',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    name: text('name').notNull(),
    /** SHA-256 of the secret: secrets are 256-bit random, so a slow hash adds nothing. */
    secretHash: text('secret_hash').notNull(),
    /** Permissions the client may be granted, JSON array. */
    permissions: text('permissions', { mode: 'json' }).$type<string[]>().notNull(),
    status: text('status', { enum: ['ACTIVE', 'REVOKED'] })
      .notNull()
      .default('ACTIVE'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (table) => [index('clients_tenant_idx').on(table.tenantId, table.id)],
);

export const consents = sqliteTable(
  'consents',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    customerId: text('customer_id').notNull(),
    type: text('type').notNull(),
    version: text('version').notNull(),
    status: text('status', { enum: ['GRANTED', 'WITHDRAWN'] }).notNull(),
    acceptedAt: text('accepted_at').notNull(),
    ip: text('ip'),
    userAgent: text('user_agent'),
    expiresAt: text('expires_at'),
    withdrawnAt: text('withdrawn_at'),
  },
  (table) => [index('consents_customer_idx').on(table.tenantId, table.customerId, table.type)],
);

export const auditEvents = sqliteTable(
  'audit_events',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id'),
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id').notNull(),
    requestId: text('request_id').notNull(),
    ip: text('ip'),
    data: text('data', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    createdAt: text('created_at').notNull(),
  },
  (table) => [
    index('audit_tenant_idx').on(table.tenantId, table.id),
    index('audit_target_idx').on(table.tenantId, table.targetId, table.id),
    index('audit_actor_idx').on(table.tenantId, table.actorId, table.id),
  ],
);

/** The transactional outbox: written in the same batch as the change it describes. */
export const events = sqliteTable(
  'events',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    type: text('type').notNull(),
    data: text('data', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    createdAt: text('created_at').notNull(),
    /** When the event was handed to the queue; null rows are swept by the cron. */
    enqueuedAt: text('enqueued_at'),
    /** When the consumer fanned it out. */
    dispatchedAt: text('dispatched_at'),
  },
  (table) => [
    index('events_tenant_idx').on(table.tenantId, table.id),
    index('events_pending_idx').on(table.enqueuedAt, table.createdAt),
  ],
);

export const idempotencyKeys = sqliteTable(
  'idempotency_keys',
  {
    tenantId: text('tenant_id').notNull(),
    /** The principal (or client IP for anonymous calls): keys are private to their caller. */
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    fingerprint: text('fingerprint').notNull(),
    state: text('state', { enum: ['IN_FLIGHT', 'COMPLETED'] }).notNull(),
    responseStatus: integer('response_status'),
    responseHeaders: text('response_headers', { mode: 'json' }).$type<Record<string, string>>(),
    responseBody: text('response_body'),
    createdAt: text('created_at').notNull(),
    expiresAt: text('expires_at').notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.tenantId, table.scope, table.key] }),
    index('idempotency_expiry_idx').on(table.expiresAt),
  ],
);

export const webhookDeliveryStatuses = ['PENDING', 'DELIVERED', 'RETRYING', 'FAILED'] as const;

/** Where a tenant's events are posted. Secrets are encrypted at rest (src/platform/field-encryption.ts). */
export const webhookEndpoints = sqliteTable(
  'webhook_endpoints',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    url: text('url').notNull(),
    description: text('description'),
    /** Subscribed event types, or `["*"]` for all of them. */
    events: text('events', { mode: 'json' }).$type<string[]>().notNull(),
    enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
    /** Why a disabled endpoint is off: by hand (MANUAL) or after 5 days of failures (FAILING). */
    disabledReason: text('disabled_reason', { enum: ['MANUAL', 'FAILING'] }),
    secret: text('secret').notNull(),
    /** The secret replaced by the last rotation; deliveries carry its signature too until it expires. */
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: text('previous_secret_expires_at'),
    /** Start of the current run of failed attempts; any successful delivery clears it. */
    failingSince: text('failing_since'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (table) => [index('webhook_endpoints_tenant_idx').on(table.tenantId, table.id)],
);

/** One event for one endpoint; its `webhook-id` is the event id, the same on every attempt. */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    endpointId: text('endpoint_id').notNull(),
    eventId: text('event_id').notNull(),
    eventType: text('event_type').notNull(),
    status: text('status', { enum: webhookDeliveryStatuses }).notNull(),
    attemptCount: integer('attempt_count').notNull().default(0),
    lastAttemptAt: text('last_attempt_at'),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    nextAttemptAt: text('next_attempt_at'),
    deliveredAt: text('delivered_at'),
    failedAt: text('failed_at'),
    /** When the delivery was handed to the queue; PENDING rows left null are swept by the cron. */
    enqueuedAt: text('enqueued_at'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (table) => [
    // A repeated fan-out of the same event (at-least-once queues) cannot create a second delivery.
    uniqueIndex('webhook_deliveries_event_endpoint_uq').on(table.tenantId, table.eventId, table.endpointId),
    index('webhook_deliveries_endpoint_idx').on(table.tenantId, table.endpointId, table.id),
    index('webhook_deliveries_pending_idx').on(table.enqueuedAt, table.updatedAt),
  ],
);

/** Every HTTP attempt of a delivery, successful or not. */
export const webhookAttempts = sqliteTable(
  'webhook_attempts',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    deliveryId: text('delivery_id').notNull(),
    attemptedAt: text('attempted_at').notNull(),
    /** Null when no response arrived (timeout, connection error, refused URL). */
    statusCode: integer('status_code'),
    latencyMs: integer('latency_ms').notNull(),
    error: text('error'),
    /** The first KiB of the response body. */
    responseBody: text('response_body'),
  },
  (table) => [index('webhook_attempts_delivery_idx').on(table.tenantId, table.deliveryId, table.id)],
);
