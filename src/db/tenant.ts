import { sql } from 'drizzle-orm';
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/*
 * One database per tenant, yet every row still carries `tenant_id` and every query filters on
 * it: defence in depth, and it lets several test tenants share one local database.
 */

/**
 * A customer's personal data (email, phone, name, profile) is not in this table in the clear: it
 * is `personal`, sealed under the customer's own data key (`customer_keys`, see
 * src/platform/personal-data.ts). Erasure destroys that key. Lookups go through keyed digests.
 */
export const customers = sqliteTable(
  'customers',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    type: text('type', { enum: ['INDIVIDUAL', 'BUSINESS'] }).notNull(),
    status: text('status').notNull(),
    /** Sealed JSON of email, phone, display name and the type-specific profile; null once erased. */
    personal: text('personal'),
    /** Keyed digest of the lower-cased email (per tenant), for the `email` filter; null once erased. */
    emailDigest: text('email_digest'),
    emailVerifiedAt: text('email_verified_at'),
    phoneVerifiedAt: text('phone_verified_at'),
    /** Set while a legal obligation (an investigation, AML record keeping) forbids erasure. */
    legalHoldReason: text('legal_hold_reason'),
    legalHoldPlacedAt: text('legal_hold_placed_at'),
    legalHoldPlacedBy: text('legal_hold_placed_by'),
    erasedAt: text('erased_at'),
    createdBy: text('created_by'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (table) => [
    index('customers_tenant_id_idx').on(table.tenantId, table.id),
    index('customers_tenant_email_digest_idx').on(table.tenantId, table.emailDigest),
    index('customers_tenant_status_idx').on(table.tenantId, table.status, table.id),
    index('customers_tenant_type_idx').on(table.tenantId, table.type, table.id),
  ],
);

/**
 * Each customer's data key, wrapped (encrypted) under a key derived from FIELD_ENCRYPTION_KEY.
 * Deleting the row is the crypto-shredding step of an erasure.
 */
export const customerKeys = sqliteTable(
  'customer_keys',
  {
    tenantId: text('tenant_id').notNull(),
    customerId: text('customer_id').notNull(),
    wrappedKey: text('wrapped_key').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (table) => [primaryKey({ columns: [table.tenantId, table.customerId] })],
);

/**
 * Blind index for `GET /customers?q=`: keyed digests of the words of a customer's name and of its
 * email, so staff can search without the names being stored in the clear.
 */
export const customerSearchTerms = sqliteTable(
  'customer_search_terms',
  {
    tenantId: text('tenant_id').notNull(),
    termDigest: text('term_digest').notNull(),
    customerId: text('customer_id').notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.tenantId, table.termDigest, table.customerId] }),
    index('customer_search_terms_customer_idx').on(table.tenantId, table.customerId),
  ],
);

export const users = sqliteTable(
  'users',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    /**
     * Keyed digest of the lower-cased email: login looks users up by it with `kind`, and their
     * unique index makes an email unique per tenant and kind. Staff and customers are separate
     * namespaces, so registering tells nobody which addresses have back-office accounts.
     */
    emailDigest: text('email_digest').notNull(),
    /**
     * Staff: the lower-cased email. Customer logins: sealed under their customer's data key
     * (src/platform/personal-data.ts), like `displayName`.
     */
    email: text('email').notNull(),
    kind: text('kind', { enum: ['STAFF', 'CUSTOMER'] }).notNull(),
    customerId: text('customer_id'),
    status: text('status', { enum: ['ACTIVE', 'DISABLED'] })
      .notNull()
      .default('ACTIVE'),
    passwordHash: text('password_hash').notNull(),
    /**
     * Set by an invitation or an administrator's credential reset, until the user chooses a
     * password with the token they were sent; meanwhile the stored hash matches no password.
     */
    passwordSetupRequired: integer('password_setup_required', { mode: 'boolean' }).notNull().default(false),
    displayName: text('display_name').notNull(),
    /**
     * Attempts at the user's secrets reserved in the current lockout window, which opened at
     * `failedLoginWindowStartedAt`: failures plus checks still running (src/platform/auth/lockout.ts).
     */
    failedLoginCount: integer('failed_login_count').notNull().default(0),
    failedLoginWindowStartedAt: text('failed_login_window_started_at'),
    lockedUntil: text('locked_until'),
    passwordChangedAt: text('password_changed_at'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (table) => [
    uniqueIndex('users_tenant_kind_email_digest_uq').on(table.tenantId, table.kind, table.emailDigest),
    index('users_tenant_customer_idx').on(table.tenantId, table.customerId),
    // Staff listings page through a table that also holds every customer's login.
    index('users_tenant_kind_idx').on(table.tenantId, table.kind, table.id),
  ],
);

/**
 * Single-use tokens that let a user choose a password: forgotten-password resets, staff and
 * organization-employee invitations and administrators' credential resets. Only a SHA-256 of the token is kept
 * (tokens are 256-bit random, so a slow hash would add nothing).
 */
export const passwordTokens = sqliteTable(
  'password_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    userId: text('user_id').notNull(),
    purpose: text('purpose', {
      enum: ['PASSWORD_RESET', 'STAFF_INVITATION', 'CREDENTIALS_RESET', 'ORGANIZATION_INVITATION'],
    }).notNull(),
    createdAt: text('created_at').notNull(),
    expiresAt: text('expires_at').notNull(),
    /** When the token was used, or made void by a newer token, a new password or disabling the user. */
    consumedAt: text('consumed_at'),
  },
  (table) => [index('password_tokens_user_idx').on(table.tenantId, table.userId, table.createdAt)],
);

/**
 * The one live verification code per customer and contact: a new code replaces the row, a
 * confirmed one deletes it. The code is kept only as a keyed digest.
 */
export const contactVerificationCodes = sqliteTable(
  'contact_verification_codes',
  {
    tenantId: text('tenant_id').notNull(),
    customerId: text('customer_id').notNull(),
    contact: text('contact', { enum: ['EMAIL', 'PHONE'] }).notNull(),
    codeDigest: text('code_digest').notNull(),
    /** Keyed digest of the address the code was sent to: a code proves control of that one only. */
    recipientDigest: text('recipient_digest').notNull(),
    attempts: integer('attempts').notNull().default(0),
    createdAt: text('created_at').notNull(),
    expiresAt: text('expires_at').notNull(),
  },
  (table) => [primaryKey({ columns: [table.tenantId, table.customerId, table.contact] })],
);

/**
 * The people of a BUSINESS customer: directors, shareholders and employees (`kind`). `role` is a
 * director's board role or an employee's organization role; employees have a login (`userId`).
 * Kind-specific facts (names, PEP flag, a corporate shareholder's legal name) are in `details`.
 */
export const organizationPeople = sqliteTable(
  'organization_people',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    customerId: text('customer_id').notNull(),
    kind: text('kind', { enum: ['DIRECTOR', 'SHAREHOLDER', 'EMPLOYEE'] }).notNull(),
    role: text('role'),
    userId: text('user_id'),
    /** A shareholder's stake in hundredths of a percent, so totals add up exactly. */
    ownershipBasisPoints: integer('ownership_basis_points'),
    /** Sealed JSON of the kind's facts (names, PEP flag, …) under the organization's data key. */
    details: text('details').notNull(),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (table) => [
    index('organization_people_kind_idx').on(table.tenantId, table.customerId, table.kind, table.id),
    /*
     * Every shareholder has a stake. Adding one writes NULL when the total would pass 100 %, so
     * this check fails the whole batch (audit row and event included) inside D1's transaction.
     */
    check(
      'organization_people_stake_ck',
      sql`${table.kind} <> 'SHAREHOLDER' OR ${table.ownershipBasisPoints} IS NOT NULL`,
    ),
    /*
     * Every employee has an organization role and a login. Demoting or removing an employee
     * writes a NULL role when no other ADMIN_USER would be left, so this check fails the whole
     * batch the same way.
     */
    check(
      'organization_people_employee_ck',
      sql`${table.kind} <> 'EMPLOYEE' OR (${table.role} IS NOT NULL AND ${table.userId} IS NOT NULL)`,
    ),
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

/**
 * Groups of staff users; members hold the group's roles on top of their own. `nameKey` is the
 * name lower-cased in JavaScript (Unicode-aware, unlike SQLite's `lower()`), so the unique index
 * makes names unique case-insensitively and settles races.
 */
export const groups = sqliteTable(
  'groups',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    name: text('name').notNull(),
    nameKey: text('name_key').notNull(),
    description: text('description').notNull(),
    roleIds: text('role_ids', { mode: 'json' }).$type<string[]>().notNull(),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (table) => [uniqueIndex('groups_tenant_name_uq').on(table.tenantId, table.nameKey)],
);

export const groupMembers = sqliteTable(
  'group_members',
  {
    tenantId: text('tenant_id').notNull(),
    groupId: text('group_id').notNull(),
    userId: text('user_id').notNull(),
    addedAt: text('added_at').notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.tenantId, table.groupId, table.userId] }),
    // rolesOfUser reads a user's groups at every login and refresh. With the group it covers that
    // read: without it SQLite prefers the primary key, covering, and walks every membership of the
    // tenant (EXPLAIN QUERY PLAN: tenant_id=? only).
    index('group_members_user_idx').on(table.tenantId, table.userId, table.groupId),
  ],
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

/**
 * A TOTP secret shown to its user and not yet confirmed with a code. Starting again replaces
 * it; confirming moves it to `totp_credentials`. Field-encrypted (purpose `totp-secret`).
 */
export const totpEnrolments = sqliteTable(
  'totp_enrolments',
  {
    tenantId: text('tenant_id').notNull(),
    userId: text('user_id').notNull(),
    secret: text('secret').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (table) => [primaryKey({ columns: [table.tenantId, table.userId] })],
);

/** A user's confirmed TOTP authenticator; the primary key allows one, so racing confirmations cannot both win. */
export const totpCredentials = sqliteTable(
  'totp_credentials',
  {
    tenantId: text('tenant_id').notNull(),
    userId: text('user_id').notNull(),
    /** Field-encrypted (purpose `totp-secret`, record = user id). */
    secret: text('secret').notNull(),
    /** The RFC 6238 time step of the last accepted code: only later steps are accepted (no replay). */
    lastUsedStep: integer('last_used_step').notNull(),
    confirmedAt: text('confirmed_at').notNull(),
  },
  (table) => [primaryKey({ columns: [table.tenantId, table.userId] })],
);

/** Single-use recovery codes of a user's 2FA enrolment, stored as keyed digests only. */
export const recoveryCodes = sqliteTable(
  'recovery_codes',
  {
    tenantId: text('tenant_id').notNull(),
    userId: text('user_id').notNull(),
    /** HMAC-SHA256 with a per-tenant key (`fieldDigest`, purpose `recovery-code`). */
    codeDigest: text('code_digest').notNull(),
    createdAt: text('created_at').notNull(),
    consumedAt: text('consumed_at'),
  },
  (table) => [primaryKey({ columns: [table.tenantId, table.userId, table.codeDigest] })],
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
    /** When the secret was last replaced; null while the first secret is in use. */
    secretRotatedAt: text('secret_rotated_at'),
    revokedAt: text('revoked_at'),
    /** OAuth grant types the client may use, JSON array; back-end clients only `client_credentials`. */
    grantTypes: text('grant_types', { mode: 'json' })
      .$type<string[]>()
      .notNull()
      .default(sql`'["client_credentials"]'`),
    /** Redirect URIs an authorization code may be bound to, JSON array, compared exactly. */
    redirectUris: text('redirect_uris', { mode: 'json' }).$type<string[]>().notNull().default(sql`'[]'`),
    /** The TPP the client belongs to: it acts for customers only under their consent. */
    tppId: text('tpp_id'),
    /**
     * Its client-credentials tokens carry it (`gen`). Suspending the client's TPP marks the
     * generation revoked and reactivating starts the next, so fresh tokens work at once while
     * those of before the suspension stay refused.
     */
    tokenGeneration: integer('token_generation').notNull().default(0),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (table) => [
    index('clients_tenant_idx').on(table.tenantId, table.id),
    index('clients_tpp_idx').on(table.tenantId, table.tppId),
  ],
);

/**
 * Third-party providers (PSD2 TPPs) the tenant lets act for its customers. A tenant's registry
 * of its own: a TPP licensed once deals with each bank separately, under that bank's trust
 * anchors, so the same TPP registered with two tenants is two rows in two databases.
 */
export const tpps = sqliteTable(
  'tpps',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    name: text('name').notNull(),
    legalName: text('legal_name').notNull(),
    /** The organizationIdentifier of its certificates (`PSDGB-FCA-123456`), upper case. */
    authorizationNumber: text('authorization_number').notNull(),
    ncaId: text('nca_id').notNull(),
    ncaName: text('nca_name'),
    /** `AISP`, `PISP`, `CBPII`, JSON array. */
    roles: text('roles', { mode: 'json' }).$type<string[]>().notNull(),
    redirectUris: text('redirect_uris', { mode: 'json' }).$type<string[]>().notNull(),
    status: text('status', { enum: ['ACTIVE', 'SUSPENDED', 'REVOKED'] }).notNull(),
    statusReason: text('status_reason'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (table) => [uniqueIndex('tpps_authorization_uq').on(table.tenantId, table.authorizationNumber)],
);

/** A TPP's eIDAS certificates (QWAC, QSealC): several, so a renewal is added before the old one expires. */
export const tppCertificates = sqliteTable(
  'tpp_certificates',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    tppId: text('tpp_id').notNull(),
    qcType: text('qc_type', { enum: ['QWAC', 'QSEALC'] }).notNull(),
    /** The leaf, canonical PEM. */
    pem: text('pem').notNull(),
    /** Lower-case hex SHA-256 of the DER: what mTLS presents and `cnf.x5t#S256` binds to. */
    sha256: text('sha256').notNull(),
    serialNumber: text('serial_number').notNull(),
    subject: text('subject').notNull(),
    issuer: text('issuer').notNull(),
    notBefore: text('not_before').notNull(),
    notAfter: text('not_after').notNull(),
    psd2Roles: text('psd2_roles', { mode: 'json' }).$type<string[]>().notNull(),
    trust: text('trust', { enum: ['VERIFIED', 'UNVERIFIED'] }).notNull(),
    /** When the daily cron last emitted `tpp.certificate_expiring` for it. */
    expiryNotifiedAt: text('expiry_notified_at'),
    /**
     * How many of the expiry notices (`EXPIRY_NOTICE_DAYS`) were emitted: the cron's guarded
     * update moves it on from the count it read, so each notice goes out once.
     */
    expiryNotices: integer('expiry_notices').notNull().default(0),
    createdAt: text('created_at').notNull(),
  },
  (table) => [
    uniqueIndex('tpp_certificates_sha256_uq').on(table.tenantId, table.sha256),
    index('tpp_certificates_tpp_idx').on(table.tenantId, table.tppId),
    index('tpp_certificates_expiry_idx').on(table.tenantId, table.notAfter),
  ],
);

/**
 * Authorization codes (RFC 6749 §4.1), stored as SHA-256 hashes: single use, short-lived, bound
 * to the client, the redirect URI and the PKCE challenge. Consuming one is a single conditional
 * UPDATE, so two concurrent exchanges cannot both succeed.
 */
export const authorizationCodes = sqliteTable(
  'authorization_codes',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    codeHash: text('code_hash').notNull(),
    clientId: text('client_id').notNull(),
    /** The customer user who consented; the tokens act for this user. */
    userId: text('user_id').notNull(),
    customerId: text('customer_id').notNull(),
    redirectUri: text('redirect_uri').notNull(),
    /** PKCE S256 challenge: base64url(SHA-256(code_verifier)). */
    codeChallenge: text('code_challenge').notNull(),
    /** Granted permissions, space-separated. */
    scope: text('scope').notNull(),
    /** How and when the customer authenticated to consent; carried into the tokens. */
    amr: text('amr', { mode: 'json' }).$type<string[]>().notNull(),
    authTime: integer('auth_time').notNull(),
    /** The TPP consent the code was minted from, once consents exist. */
    consentId: text('consent_id'),
    createdAt: text('created_at').notNull(),
    expiresAt: text('expires_at').notNull(),
    consumedAt: text('consumed_at'),
    /** The grant (session) the exchange created, so a replayed code can revoke it. */
    sessionId: text('session_id'),
  },
  (table) => [uniqueIndex('authorization_codes_hash_uq').on(table.tenantId, table.codeHash)],
);

/**
 * What an exchanged authorization code grants a client: one refresh-token family (its session
 * in SessionDurableObject) acting for one customer user with a fixed scope.
 */
export const oauthGrants = sqliteTable(
  'oauth_grants',
  {
    sessionId: text('session_id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    clientId: text('client_id').notNull(),
    userId: text('user_id').notNull(),
    customerId: text('customer_id').notNull(),
    scope: text('scope').notNull(),
    amr: text('amr', { mode: 'json' }).$type<string[]>().notNull(),
    authTime: integer('auth_time').notNull(),
    consentId: text('consent_id'),
    createdAt: text('created_at').notNull(),
    revokedAt: text('revoked_at'),
    revokedReason: text('revoked_reason'),
  },
  (table) => [
    index('oauth_grants_client_idx').on(table.tenantId, table.clientId),
    index('oauth_grants_customer_idx').on(table.tenantId, table.customerId),
    index('oauth_grants_consent_idx').on(table.tenantId, table.consentId),
  ],
);

/**
 * A customer's consent to a TPP (PSD2): asked for by the TPP's client, authorised or rejected by
 * the customer, revoked by either or by staff. The authorization code minted when the customer
 * authorises names it, and every grant made from that code carries it (`oauth_grants.consent_id`).
 */
export const tppConsents = sqliteTable(
  'tpp_consents',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    tppId: text('tpp_id').notNull(),
    clientId: text('client_id').notNull(),
    customerId: text('customer_id').notNull(),
    /** The customer's login that authorised or rejected it. */
    userId: text('user_id'),
    scopes: text('scopes', { mode: 'json' }).$type<string[]>().notNull(),
    status: text('status', {
      enum: ['AWAITING_AUTHORISATION', 'AUTHORISED', 'REJECTED', 'REVOKED', 'EXPIRED'],
    }).notNull(),
    statusReason: text('status_reason'),
    revokedBy: text('revoked_by', { enum: ['CUSTOMER', 'TPP', 'STAFF', 'SYSTEM'] }),
    redirectUri: text('redirect_uri').notNull(),
    codeChallenge: text('code_challenge').notNull(),
    /** The TPP's opaque value, handed back with the code. */
    state: text('state'),
    expiresAt: text('expires_at').notNull(),
    /** Past it, an unanswered consent lapses to REJECTED. */
    authorisationExpiresAt: text('authorisation_expires_at').notNull(),
    createdAt: text('created_at').notNull(),
    statusUpdatedAt: text('status_updated_at').notNull(),
  },
  (table) => [
    index('tpp_consents_customer_idx').on(table.tenantId, table.customerId, table.id),
    index('tpp_consents_tpp_idx').on(table.tenantId, table.tppId, table.id),
    index('tpp_consents_status_idx').on(table.tenantId, table.status, table.expiresAt),
  ],
);

export const consents = sqliteTable(
  'consents',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    customerId: text('customer_id').notNull(),
    type: text('type').notNull(),
    version: text('version').notNull(),
    status: text('status', { enum: ['GRANTED', 'WITHDRAWN', 'SUPERSEDED'] }).notNull(),
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
    /**
     * The customer the event is about. Its personal fields (src/platform/events.ts) are sealed
     * under that customer's data key, and the export finds a customer's events by it.
     */
    subjectId: text('subject_id'),
    data: text('data', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    createdAt: text('created_at').notNull(),
    /**
     * When the event was last handed to the queue: written with the event, as its writer sends it
     * right after the commit, and moved on by each sweep that sends it again.
     */
    enqueuedAt: text('enqueued_at'),
    /** When the consumer fanned it out; null rows whose handover is past the grace are swept by the cron. */
    dispatchedAt: text('dispatched_at'),
  },
  (table) => [
    index('events_tenant_idx').on(table.tenantId, table.id),
    index('events_subject_idx').on(table.tenantId, table.subjectId, table.id),
    index('events_pending_idx').on(table.dispatchedAt, table.enqueuedAt),
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
    /** Sealed (src/platform/idempotency.ts): replies can carry personal data. */
    responseBody: text('response_body'),
    /** The customer the reply is about: erasing it deletes the reply. */
    subjectId: text('subject_id'),
    createdAt: text('created_at').notNull(),
    expiresAt: text('expires_at').notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.tenantId, table.scope, table.key] }),
    index('idempotency_expiry_idx').on(table.expiresAt),
    index('idempotency_subject_idx').on(table.tenantId, table.subjectId),
  ],
);

/**
 * Passkeys (WebAuthn credentials). `id` is the credential id the authenticator chose (base64url);
 * authenticators pick it, so it is unique only together with the tenant.
 */
export const webauthnCredentials = sqliteTable(
  'webauthn_credentials',
  {
    tenantId: text('tenant_id').notNull(),
    id: text('id').notNull(),
    userId: text('user_id').notNull(),
    /** COSE public key, base64url. */
    publicKey: text('public_key').notNull(),
    /** The authenticator's signature counter at its last accepted use; 0 when it keeps none. */
    counter: integer('counter').notNull(),
    transports: text('transports', { mode: 'json' }).$type<string[]>().notNull(),
    deviceType: text('device_type', { enum: ['singleDevice', 'multiDevice'] }).notNull(),
    backedUp: integer('backed_up', { mode: 'boolean' }).notNull(),
    /** Authenticator model (AAGUID); all zeros when the authenticator does not say. */
    aaguid: text('aaguid').notNull(),
    name: text('name').notNull(),
    createdAt: text('created_at').notNull(),
    lastUsedAt: text('last_used_at'),
    /** Set when a signature counter went backwards: a copy of the key may exist, so it is refused. */
    cloneSuspectedAt: text('clone_suspected_at'),
  },
  (table) => [
    primaryKey({ columns: [table.tenantId, table.id] }),
    index('webauthn_credentials_user_idx').on(table.tenantId, table.userId),
  ],
);

/** WebAuthn challenges: single use (consumed by one DELETE … RETURNING), five minutes. */
export const webauthnChallenges = sqliteTable(
  'webauthn_challenges',
  {
    tenantId: text('tenant_id').notNull(),
    /** base64url of 32 random bytes, as the client signs it in `clientDataJSON.challenge`. */
    challenge: text('challenge').notNull(),
    purpose: text('purpose', { enum: ['REGISTRATION', 'SIGN_IN', 'SECOND_FACTOR'] }).notNull(),
    /** The user the challenge was issued to; null for a discoverable-credential sign-in. */
    userId: text('user_id'),
    createdAt: text('created_at').notNull(),
    expiresAt: text('expires_at').notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.tenantId, table.challenge] }),
    index('webauthn_challenges_expiry_idx').on(table.tenantId, table.expiresAt),
  ],
);

export const webhookDeliveryStatuses = ['PENDING', 'DELIVERED', 'RETRYING', 'FAILED', 'VOIDED'] as const;
/** Why a delivery is VOIDED: never to be sent, by hand or otherwise. */
export const webhookVoidReasons = ['ENDPOINT_URL_CHANGED'] as const;

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
    /**
     * When the URL was last changed; null while it is the one the endpoint was created with. A
     * secret-bearing event created before this is never delivered to the endpoint.
     */
    urlChangedAt: text('url_changed_at'),
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
    voidedAt: text('voided_at'),
    voidReason: text('void_reason', { enum: webhookVoidReasons }),
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

/**
 * A customer's beneficiaries (payees). The name, nickname, email and account details are
 * `details`, sealed under the customer's data key; only what lists and rules need is in the
 * clear: network, currency, country, the last four characters of the account, the statuses.
 */
export const beneficiaries = sqliteTable(
  'beneficiaries',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    customerId: text('customer_id').notNull(),
    type: text('type', { enum: ['INDIVIDUAL', 'BUSINESS'] }).notNull(),
    network: text('network', { enum: ['SEPA', 'SWIFT', 'FPS', 'ACH'] }).notNull(),
    currency: text('currency').notNull(),
    country: text('country').notNull(),
    status: text('status', { enum: ['PENDING_CONFIRMATION', 'ACTIVE', 'DELETED'] }).notNull(),
    /** Sealed JSON: name, nickname, email, account, the payee check's suggested name. */
    details: text('details').notNull(),
    last4: text('last4').notNull(),
    /**
     * Keyed digest (per customer) of the network and the normalised account: the unique index
     * over rows not deleted makes one account one beneficiary per customer, whatever its spelling.
     */
    accountFingerprint: text('account_fingerprint').notNull(),
    /** JSON array of keyed digests of the words of name and nickname, for `q`. */
    searchDigests: text('search_digests', { mode: 'json' }).$type<string[]>().notNull(),
    modulusCheck: text('modulus_check', { enum: ['PASSED', 'FAILED', 'NOT_CHECKABLE'] }),
    payeeStatus: text('payee_status', {
      enum: ['MATCH', 'CLOSE_MATCH', 'NO_MATCH', 'NOT_POSSIBLE', 'NOT_CHECKED'],
    }).notNull(),
    payeeScheme: text('payee_scheme', { enum: ['VOP', 'COP'] }),
    payeeProvider: text('payee_provider'),
    payeeReference: text('payee_reference'),
    payeeCheckedAt: text('payee_checked_at'),
    confirmationExpiresAt: text('confirmation_expires_at'),
    confirmedAt: text('confirmed_at'),
    confirmedBy: text('confirmed_by'),
    payeeWarningAcknowledgedAt: text('payee_warning_acknowledged_at'),
    createdBy: text('created_by'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
    deletedAt: text('deleted_at'),
  },
  (table) => [
    uniqueIndex('beneficiaries_customer_fingerprint_uq')
      .on(table.tenantId, table.customerId, table.accountFingerprint)
      .where(sql`deleted_at IS NULL`),
    index('beneficiaries_customer_idx').on(table.tenantId, table.customerId, table.id),
  ],
);

/**
 * A customer's document (docs/api.md, Documents). The bytes are in R2 (`DOCUMENTS`), encrypted
 * under a key derived from the customer's data key (src/modules/documents/content-crypto.ts), at
 * `t/<tenant>/c/<customer>/<document id>`: no personal data in the key. What the client declared
 * and what could name the customer (file name, document number) is `details`, sealed.
 */
export const documents = sqliteTable(
  'documents',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    customerId: text('customer_id').notNull(),
    documentType: text('document_type').notNull(),
    status: text('status', { enum: ['UPLOADED', 'VERIFIED', 'REJECTED', 'EXPIRED'] }).notNull(),
    rejectionReason: text('rejection_reason'),
    scanStatus: text('scan_status', {
      enum: ['PENDING', 'CLEAN', 'INFECTED', 'SKIPPED', 'FAILED'],
    }).notNull(),
    /** The scanner that set `scan_status` (`sandbox-eicar`, …); null while pending or skipped. */
    scanner: text('scanner'),
    scannedAt: text('scanned_at'),
    /** Detected from the bytes, never the client's word. */
    mimeType: text('mime_type').notNull(),
    size: integer('size').notNull(),
    /** SHA-256 of the plaintext, hex; the strong ETag. Null once the customer is erased. */
    sha256: text('sha256'),
    issuingCountry: text('issuing_country'),
    /** Sealed JSON: file name, declared type, document number. Null once the customer is erased. */
    details: text('details'),
    expiresAt: text('expires_at'),
    uploadedBy: text('uploaded_by'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
    /** The tombstone: deleted by request or by the customer's erasure; the row stays. */
    deletedAt: text('deleted_at'),
    deletionReason: text('deletion_reason', { enum: ['DELETED', 'CUSTOMER_ERASED'] }),
    /** When the R2 object was removed (deletion, erasure, malware); the cron retries until set. */
    objectRemovedAt: text('object_removed_at'),
  },
  (table) => [
    index('documents_customer_idx').on(table.tenantId, table.customerId, table.id),
    // The same bytes twice for one customer and type is a mistake, or a replay without a key.
    uniqueIndex('documents_duplicate_uq')
      .on(table.tenantId, table.customerId, table.documentType, table.sha256)
      .where(sql`${table.deletionReason} IS NULL`),
    index('documents_expiry_idx').on(table.tenantId, table.status, table.expiresAt),
    index('documents_scan_idx').on(table.scanStatus, table.createdAt),
    index('documents_object_removal_idx').on(table.deletionReason, table.objectRemovedAt),
  ],
);

/**
 * Which documents a verification relies on (the verification section adds the verifications
 * themselves). While a row names a document, deleting it is refused (409 `document_in_use`).
 */
export const verificationDocuments = sqliteTable(
  'verification_documents',
  {
    tenantId: text('tenant_id').notNull(),
    verificationId: text('verification_id').notNull(),
    documentId: text('document_id').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.tenantId, table.verificationId, table.documentId] }),
    index('verification_documents_document_idx').on(table.tenantId, table.documentId),
  ],
);

/**
 * KYC/KYB verifications (src/modules/verifications). One row per customer and level carries
 * every attempt: a re-submission after ADDITIONAL_INFO_REQUIRED bumps `attempt`. The partial
 * unique index keeps one open verification per customer and level, whatever the concurrency.
 * The row is also its own outbox: `job_enqueued_at` is null until its queue message was handed
 * over, and the cron sends what was missed.
 */
export const verifications = sqliteTable(
  'verifications',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    customerId: text('customer_id').notNull(),
    level: text('level', { enum: ['BASIC', 'STANDARD', 'ENHANCED'] }).notNull(),
    status: text('status', {
      enum: ['PENDING', 'IN_PROGRESS', 'APPROVED', 'REJECTED', 'ADDITIONAL_INFO_REQUIRED', 'MANUAL_REVIEW'],
    }).notNull(),
    /** Why it was started: the customer's request, or the tenant's ongoing monitoring. */
    reason: text('reason', { enum: ['CUSTOMER_REQUEST', 'ONGOING_MONITORING'] }).notNull(),
    attempt: integer('attempt').notNull(),
    provider: text('provider').notNull(),
    providerRef: text('provider_ref'),
    /** The user or API client that submitted the current attempt. */
    submittedBy: text('submitted_by'),
    /** The tenant's policy when submitted, so a later change does not move the goalposts mid-review. */
    approvalsRequired: integer('approvals_required').notNull(),
    autoApprove: integer('auto_approve', { mode: 'boolean' }).notNull(),
    /** `{ rejectType, reasons[] }` of the last outcome; reasons are codes and texts a customer may see. */
    outcome: text('outcome', { mode: 'json' }).$type<Record<string, unknown>>(),
    /** Why it is waiting for a reviewer (a provider that kept failing, a near match, a PEP). */
    reviewReason: text('review_reason'),
    /** `occurredAt` of the last provider event applied: an older one is recorded and ignored. */
    lastEventAt: text('last_event_at'),
    jobEnqueuedAt: text('job_enqueued_at'),
    approvedAt: text('approved_at'),
    expiresAt: text('expires_at'),
    /** When `verification.expiring` and `verification.expired` were emitted, so each is sent once. */
    expiringNotifiedAt: text('expiring_notified_at'),
    expiredNotifiedAt: text('expired_notified_at'),
    /** The provider was asked this many times for the outcome of the current attempt (the cron's poll). */
    pollCount: integer('poll_count').notNull().default(0),
    /** When the attempt is polled next if still IN_PROGRESS (`pollDecision`); read in no other status. */
    nextPollAt: text('next_poll_at'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (table) => [
    index('verifications_customer_idx').on(table.tenantId, table.customerId, table.id),
    uniqueIndex('verifications_open_uq')
      .on(table.tenantId, table.customerId, table.level)
      .where(sql`${table.status} IN ('PENDING', 'IN_PROGRESS', 'MANUAL_REVIEW', 'ADDITIONAL_INFO_REQUIRED')`),
    index('verifications_status_idx').on(table.tenantId, table.status, table.updatedAt),
    index('verifications_expiry_idx').on(table.tenantId, table.status, table.expiresAt),
    index('verifications_poll_idx').on(table.tenantId, table.status, table.nextPollAt),
    index('verifications_unenqueued_idx').on(table.jobEnqueuedAt, table.createdAt),
  ],
);

/** One check of a verification attempt, per type and subject (the customer, or each director and UBO). */
export const verificationChecks = sqliteTable(
  'verification_checks',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    verificationId: text('verification_id').notNull(),
    customerId: text('customer_id').notNull(),
    attempt: integer('attempt').notNull(),
    type: text('type', {
      enum: ['IDENTITY', 'DOCUMENT', 'ADDRESS', 'SANCTIONS', 'PEP', 'BUSINESS_REGISTRY', 'UBO'],
    }).notNull(),
    /** `cus_…` or `per_…`. */
    subject: text('subject').notNull(),
    status: text('status', {
      enum: ['PENDING', 'IN_PROGRESS', 'PASSED', 'FAILED', 'NEEDS_REVIEW', 'ERROR'],
    }).notNull(),
    /** Reason code of a failure or review (`document_unreadable`), never the provider's raw report. */
    resultCode: text('result_code'),
    providerReference: text('provider_reference'),
    startedAt: text('started_at').notNull(),
    completedAt: text('completed_at'),
  },
  (table) => [
    uniqueIndex('verification_checks_uq').on(
      table.tenantId,
      table.verificationId,
      table.attempt,
      table.type,
      table.subject,
    ),
  ],
);

/** A candidate match of a screened subject on a sanctions or PEP list, disposed by a reviewer. */
export const screeningHits = sqliteTable(
  'screening_hits',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    verificationId: text('verification_id').notNull(),
    checkId: text('check_id').notNull(),
    customerId: text('customer_id').notNull(),
    attempt: integer('attempt').notNull(),
    subject: text('subject').notNull(),
    /** The list entry, as the list names it: list data, not the customer's. */
    listEntryId: text('list_entry_id').notNull(),
    caption: text('caption').notNull(),
    datasets: text('datasets', { mode: 'json' }).$type<string[]>().notNull(),
    topics: text('topics', { mode: 'json' }).$type<string[]>().notNull(),
    /** Hundredths: 100 is an exact match after normalisation. */
    scorePercent: integer('score_percent').notNull(),
    matchedOn: text('matched_on', { mode: 'json' }).$type<string[]>().notNull(),
    disposition: text('disposition', { enum: ['OPEN', 'TRUE_POSITIVE', 'FALSE_POSITIVE'] }).notNull(),
    /** A reviewer's user id, or null when the list match itself decided (an exact sanctions hit). */
    disposedBy: text('disposed_by'),
    disposedAt: text('disposed_at'),
    note: text('note'),
    createdAt: text('created_at').notNull(),
  },
  (table) => [
    index('screening_hits_verification_idx').on(table.tenantId, table.verificationId, table.attempt),
  ],
);

/**
 * Reviewers' decisions, immutable. One per reviewer and attempt (the unique index is the
 * four-eyes rule that the same person cannot approve twice); N distinct approvals approve.
 */
export const verificationDecisions = sqliteTable(
  'verification_decisions',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    verificationId: text('verification_id').notNull(),
    customerId: text('customer_id').notNull(),
    attempt: integer('attempt').notNull(),
    reviewerId: text('reviewer_id').notNull(),
    decision: text('decision', { enum: ['APPROVE', 'REJECT', 'REQUEST_INFO'] }).notNull(),
    reason: text('reason').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (table) => [
    uniqueIndex('verification_decisions_reviewer_uq').on(
      table.tenantId,
      table.verificationId,
      table.attempt,
      table.reviewerId,
    ),
  ],
);

/**
 * Provider callbacks received, deduplicated on (provider, event id): a duplicate is answered 200
 * and changes nothing. `disposition` records what was done with it (an older outcome is kept
 * but ignored).
 */
export const providerEvents = sqliteTable(
  'provider_events',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    provider: text('provider').notNull(),
    eventId: text('event_id').notNull(),
    verificationId: text('verification_id').notNull(),
    customerId: text('customer_id').notNull(),
    occurredAt: text('occurred_at').notNull(),
    /** The parsed outcome (decision, checks, hits), what the queue consumer applies. */
    outcome: text('outcome', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    disposition: text('disposition', { enum: ['RECEIVED', 'APPLIED', 'STALE', 'IGNORED'] }).notNull(),
    receivedAt: text('received_at').notNull(),
    appliedAt: text('applied_at'),
  },
  (table) => [uniqueIndex('provider_events_uq').on(table.tenantId, table.provider, table.eventId)],
);
