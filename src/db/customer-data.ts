import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import { sealPurposes } from './seal-purposes';
import * as t from './tenant';

export { sealPurposes };

/**
 * Which of a customer's ids a column holds: the customer's own id, one of its logins' (users
 * whose `customer_id` is the customer), one of an organization's people, or any of these
 * (`subjects`).
 */
export type Holds = 'customer' | 'logins' | 'people' | 'subjects';

/** The parts of the export document (src/modules/export/schemas.ts) a table's rows go to. */
export type ExportPart =
  | 'logins'
  | 'consents'
  | 'sessions'
  | 'secondFactors'
  | 'contactVerifications'
  | 'oauthGrants'
  | 'tppConsents'
  | 'auditEvents'
  | 'events'
  | 'organizationPeople'
  | 'beneficiaries'
  | 'documents'
  | 'verifications';

type Column<T extends SQLiteTable> = keyof T['_']['columns'] & string;

/** A column that ties a row to the customer; a row is the customer's when any of its ties does. */
export interface Tie<K extends string = string> {
  column: K;
  holds: Holds;
  /** `mentions`: the column is JSON text naming one of the ids as a string value somewhere. */
  match?: 'equals' | 'mentions';
}

export type ExportDeclaration<K extends string = string> =
  | {
      part: ExportPart;
      /** What is read; everything else (hashes, secrets, digests, tokens) never leaves the table. */
      columns: readonly K[];
      orderBy: K;
      /** The column naming a record's kind, which the disclosure rules may withhold (./disclosure.ts). */
      withheldBy?: K;
    }
  | { omitted: string };

export type ErasureDeclaration<T extends SQLiteTable = SQLiteTable> =
  | { action: 'delete' }
  | {
      action: 'scrub';
      /** Columns overwritten, and with what; the row itself stays. */
      set: Partial<T['$inferInsert']>;
      /** Free-text fields inside a JSON column, per kind of row, that become `[erased]`. */
      json?: { column: Column<T>; kind: Column<T>; fields: Readonly<Record<string, string>> };
      /** A column set to the erasure's time (a tombstone's `deleted_at`). */
      stamp?: Column<T>;
      /** Why the row is kept. */
      reason: string;
    }
  | { action: 'keep'; reason: string };

export interface CustomerDataEntry<T extends SQLiteTable = SQLiteTable> {
  table: T;
  ties: readonly Tie<Column<T>>[];
  export: ExportDeclaration<Column<T>>;
  erase: ErasureDeclaration<T>;
  /** The purpose each encrypted or digested column is sealed for (per kind of row where it varies). */
  sealed?: Partial<Record<Column<T>, string | Readonly<Record<string, string>>>>;
  /** Objects outside the database that belong to the customer (R2), and what erasure does with them. */
  objects?: ObjectDeclaration;
}

/**
 * A customer's objects in an R2 bucket: every key under `prefix(tenantId, customerId)` is the
 * customer's, and erasure deletes them all (listed in pages, deleted in batches) once its batch
 * has committed. Until then they are ciphertext under keys derived from the customer's data key
 * (`sealed`), which the same batch destroyed: copies of them are unreadable too.
 */
export interface ObjectDeclaration {
  bucket: 'DOCUMENTS';
  prefix: (tenantId: string, customerId: string) => string;
  erase: 'delete';
  sealed: string;
}

/** Where a customer's documents are in R2: ids only, no personal data. */
export function documentPrefix(tenantId: string, customerId: string): string {
  return `t/${tenantId}/c/${customerId}/`;
}

/** Keeps the declaration's literal types, so the export's rows are typed by the columns it names. */
function entry<T extends SQLiteTable, const D extends Omit<CustomerDataEntry<T>, 'table'>>(
  table: T,
  declaration: D,
): D & { table: T } {
  return { table, ...declaration };
}

/**
 * Audit fields that people fill in freely, so they may name the customer: staff's reasons and the
 * names users give their passkeys. Reason codes (`LOGOUT`, …) are no one's data and stay.
 */
const freeTextAuditFields = {
  'customer.status_changed': 'reason',
  'customer.legal_hold_placed': 'reason',
  'passkey.added': 'name',
  'passkey.removed': 'name',
  'verification.decision_recorded': 'reason',
  'verification.hit_disposed': 'note',
};

const amlRecord =
  'the record of due diligence performed, which AML rules (EU AMLD Art. 40) require to be kept for years after the relationship ends, pseudonymised: its ids lead nowhere';

const aCredential = 'a credential or its digest: never handed out (GDPR Art. 15(4), security of others)';

/**
 * Every table that holds data about a customer, and what the GDPR export (Art. 15/20,
 * src/modules/export/service.ts) and erasure (Art. 17, src/modules/erasure/service.ts) do with
 * it. Both are driven by this map; test/unit/customer-data.test.ts walks the schema and fails
 * when a table that names a customer, user, person or organization is missing here.
 *
 * `customers` itself is the root: the export presents it, and erasure scrubs it through the
 * guarded update that refuses a concurrent change.
 */
export const customerData = {
  customers: entry(t.customers, {
    ties: [{ column: 'id', holds: 'customer' }],
    export: { omitted: 'the root of the export, read and presented before the other parts' },
    erase: {
      action: 'scrub',
      set: { personal: null, emailDigest: null },
      reason:
        'the closed, erased record (id, type, dates), so ids in kept records lead to an erased customer',
    },
    sealed: { personal: sealPurposes.customerPersonal, emailDigest: sealPurposes.emailLookup },
  }),
  customerKeys: entry(t.customerKeys, {
    ties: [{ column: 'customerId', holds: 'customer' }],
    export: { omitted: aCredential },
    // The crypto-shredding step: every sealed value of the customer becomes unreadable.
    erase: { action: 'delete' },
    sealed: { wrappedKey: sealPurposes.customerDataKey },
  }),
  customerSearchTerms: entry(t.customerSearchTerms, {
    ties: [{ column: 'customerId', holds: 'customer' }],
    export: { omitted: 'keyed digests of words already in the profile: an index, not data' },
    erase: { action: 'delete' },
    sealed: { termDigest: sealPurposes.customerSearch },
  }),
  users: entry(t.users, {
    ties: [{ column: 'customerId', holds: 'customer' }],
    export: {
      part: 'logins',
      columns: [
        'id',
        'kind',
        'customerId',
        'email',
        'displayName',
        'status',
        'createdAt',
        'passwordChangedAt',
      ],
      orderBy: 'id',
    },
    erase: { action: 'delete' },
    sealed: {
      email: sealPurposes.userEmail,
      displayName: sealPurposes.userDisplayName,
      emailDigest: sealPurposes.emailLookup,
    },
  }),
  passwordTokens: entry(t.passwordTokens, {
    ties: [{ column: 'userId', holds: 'logins' }],
    export: { omitted: aCredential },
    erase: { action: 'delete' },
  }),
  contactVerificationCodes: entry(t.contactVerificationCodes, {
    ties: [{ column: 'customerId', holds: 'customer' }],
    export: {
      part: 'contactVerifications',
      columns: ['contact', 'attempts', 'createdAt', 'expiresAt'],
      orderBy: 'contact',
    },
    erase: { action: 'delete' },
    sealed: {
      codeDigest: sealPurposes.verificationCode,
      recipientDigest: sealPurposes.verificationRecipient,
    },
  }),
  organizationPeople: entry(t.organizationPeople, {
    ties: [{ column: 'customerId', holds: 'customer' }],
    export: {
      part: 'organizationPeople',
      columns: ['id', 'kind', 'role', 'userId', 'ownershipBasisPoints', 'details', 'createdAt'],
      orderBy: 'id',
    },
    erase: { action: 'delete' },
    sealed: { details: sealPurposes.organizationPerson },
  }),
  userRoles: entry(t.userRoles, {
    ties: [{ column: 'userId', holds: 'logins' }],
    export: { omitted: "staff roles: a customer's logins hold none" },
    erase: { action: 'delete' },
  }),
  groupMembers: entry(t.groupMembers, {
    ties: [{ column: 'userId', holds: 'logins' }],
    export: { omitted: "staff groups: a customer's logins belong to none" },
    erase: { action: 'delete' },
  }),
  sessions: entry(t.sessions, {
    ties: [{ column: 'userId', holds: 'logins' }],
    export: {
      part: 'sessions',
      columns: [
        'id',
        'userId',
        'device',
        'userAgent',
        'ip',
        'amr',
        'createdAt',
        'lastUsedAt',
        'revokedAt',
        'revokedReason',
      ],
      orderBy: 'id',
    },
    erase: { action: 'delete' },
  }),
  totpEnrolments: entry(t.totpEnrolments, {
    ties: [{ column: 'userId', holds: 'logins' }],
    export: { part: 'secondFactors', columns: ['userId', 'createdAt'], orderBy: 'userId' },
    erase: { action: 'delete' },
    sealed: { secret: sealPurposes.totpSecret },
  }),
  totpCredentials: entry(t.totpCredentials, {
    ties: [{ column: 'userId', holds: 'logins' }],
    export: { part: 'secondFactors', columns: ['userId', 'confirmedAt'], orderBy: 'userId' },
    erase: { action: 'delete' },
    sealed: { secret: sealPurposes.totpSecret },
  }),
  recoveryCodes: entry(t.recoveryCodes, {
    ties: [{ column: 'userId', holds: 'logins' }],
    export: { part: 'secondFactors', columns: ['userId', 'consumedAt'], orderBy: 'userId' },
    erase: { action: 'delete' },
    sealed: { codeDigest: sealPurposes.recoveryCode },
  }),
  webauthnCredentials: entry(t.webauthnCredentials, {
    ties: [{ column: 'userId', holds: 'logins' }],
    export: {
      part: 'secondFactors',
      columns: ['userId', 'name', 'createdAt', 'lastUsedAt'],
      orderBy: 'createdAt',
    },
    erase: { action: 'delete' },
  }),
  webauthnChallenges: entry(t.webauthnChallenges, {
    ties: [{ column: 'userId', holds: 'logins' }],
    export: { omitted: 'single-use challenges that live five minutes' },
    erase: { action: 'delete' },
  }),
  authorizationCodes: entry(t.authorizationCodes, {
    ties: [{ column: 'customerId', holds: 'customer' }],
    export: { omitted: aCredential },
    erase: { action: 'delete' },
  }),
  oauthGrants: entry(t.oauthGrants, {
    ties: [{ column: 'customerId', holds: 'customer' }],
    export: {
      part: 'oauthGrants',
      columns: ['sessionId', 'clientId', 'userId', 'scope', 'createdAt', 'revokedAt', 'revokedReason'],
      orderBy: 'createdAt',
    },
    erase: {
      action: 'keep',
      reason:
        'the record of what each third party was granted; revoked before the erasure batch, it holds ids and scopes only',
    },
  }),
  tppConsents: entry(t.tppConsents, {
    ties: [
      { column: 'customerId', holds: 'customer' },
      { column: 'userId', holds: 'logins' },
    ],
    export: {
      part: 'tppConsents',
      columns: [
        'id',
        'tppId',
        'clientId',
        'userId',
        'scopes',
        'status',
        'statusReason',
        'revokedBy',
        'redirectUri',
        'expiresAt',
        'createdAt',
        'statusUpdatedAt',
      ],
      orderBy: 'id',
    },
    erase: {
      action: 'scrub',
      set: { state: null },
      reason:
        'the record of what the customer let each TPP do and until when; every live one is revoked before the erasure batch (`endCustomerAccess`), and the TPP’s own `state` text goes',
    },
  }),
  consents: entry(t.consents, {
    ties: [{ column: 'customerId', holds: 'customer' }],
    export: {
      part: 'consents',
      columns: [
        'id',
        'customerId',
        'type',
        'version',
        'status',
        'acceptedAt',
        'ip',
        'userAgent',
        'expiresAt',
        'withdrawnAt',
        'tenantId',
      ],
      orderBy: 'id',
    },
    erase: {
      action: 'scrub',
      set: { ip: null, userAgent: null },
      reason: 'proof of what the customer agreed to and when, pseudonymised: its ids lead nowhere',
    },
  }),
  auditEvents: entry(t.auditEvents, {
    ties: [
      { column: 'targetId', holds: 'subjects' },
      { column: 'actorId', holds: 'logins' },
    ],
    export: {
      part: 'auditEvents',
      columns: [
        'id',
        'tenantId',
        'actorType',
        'actorId',
        'action',
        'targetType',
        'targetId',
        'requestId',
        'ip',
        'data',
        'createdAt',
      ],
      orderBy: 'id',
      withheldBy: 'action',
    },
    erase: {
      action: 'scrub',
      set: { ip: null },
      json: { column: 'data', kind: 'action', fields: freeTextAuditFields },
      reason: 'the audit trail is kept for legal retention, pseudonymised: its ids lead nowhere',
    },
  }),
  events: entry(t.events, {
    ties: [{ column: 'data', holds: 'subjects', match: 'mentions' }],
    export: {
      part: 'events',
      columns: ['id', 'tenantId', 'type', 'subjectId', 'data', 'createdAt', 'enqueuedAt', 'dispatchedAt'],
      orderBy: 'id',
      withheldBy: 'type',
    },
    erase: {
      action: 'keep',
      reason: "the event log; its personal fields are sealed under the customer's data key, shredded with it",
    },
    sealed: { data: sealPurposes.event },
  }),
  beneficiaries: entry(t.beneficiaries, {
    ties: [{ column: 'customerId', holds: 'customer' }],
    export: {
      part: 'beneficiaries',
      columns: [
        'id',
        'customerId',
        'type',
        'network',
        'currency',
        'country',
        'status',
        'details',
        'last4',
        'modulusCheck',
        'payeeStatus',
        'payeeScheme',
        'payeeProvider',
        'payeeReference',
        'payeeCheckedAt',
        'confirmationExpiresAt',
        'confirmedAt',
        'confirmedBy',
        'payeeWarningAcknowledgedAt',
        'createdBy',
        'createdAt',
        'updatedAt',
        'deletedAt',
      ],
      orderBy: 'id',
    },
    // Payees and their accounts are the customer's data; no payment history lives here to keep.
    erase: { action: 'delete' },
    sealed: {
      details: sealPurposes.beneficiaryDetails,
      accountFingerprint: sealPurposes.beneficiaryAccount,
      searchDigests: sealPurposes.beneficiarySearch,
    },
  }),
  verifications: entry(t.verifications, {
    // Every row names its customer: the people screened under it are its subjects, found through it.
    ties: [{ column: 'customerId', holds: 'customer' }],
    export: {
      part: 'verifications',
      columns: [
        'id',
        'customerId',
        'level',
        'status',
        'reason',
        'attempt',
        'provider',
        'providerRef',
        'outcome',
        'reviewReason',
        'approvalsRequired',
        'approvedAt',
        'expiresAt',
        'createdAt',
        'updatedAt',
      ],
      orderBy: 'id',
    },
    // Outcome reasons and the review reason are free text a provider or the system wrote about the customer.
    erase: { action: 'scrub', set: { outcome: null, reviewReason: null }, reason: amlRecord },
  }),
  verificationChecks: entry(t.verificationChecks, {
    ties: [{ column: 'customerId', holds: 'customer' }],
    export: {
      part: 'verifications',
      columns: [
        'id',
        'verificationId',
        'attempt',
        'type',
        'subject',
        'status',
        'resultCode',
        'providerReference',
        'startedAt',
        'completedAt',
      ],
      orderBy: 'id',
    },
    erase: { action: 'keep', reason: `${amlRecord}; a check holds types, ids and reason codes only` },
  }),
  screeningHits: entry(t.screeningHits, {
    ties: [{ column: 'customerId', holds: 'customer' }],
    export: {
      part: 'verifications',
      columns: [
        'id',
        'verificationId',
        'checkId',
        'attempt',
        'subject',
        'listEntryId',
        'caption',
        'datasets',
        'topics',
        'scorePercent',
        'matchedOn',
        'disposition',
        'disposedBy',
        'disposedAt',
        'note',
        'createdAt',
      ],
      orderBy: 'id',
    },
    erase: { action: 'scrub', set: { note: null }, reason: amlRecord },
  }),
  verificationDecisions: entry(t.verificationDecisions, {
    ties: [{ column: 'customerId', holds: 'customer' }],
    export: {
      part: 'verifications',
      columns: ['id', 'verificationId', 'attempt', 'reviewerId', 'decision', 'reason', 'createdAt'],
      orderBy: 'id',
    },
    erase: { action: 'scrub', set: { reason: '[erased]' }, reason: amlRecord },
  }),
  providerEvents: entry(t.providerEvents, {
    ties: [{ column: 'customerId', holds: 'customer' }],
    export: { omitted: 'delivery records of provider callbacks; their outcomes are in the verifications' },
    erase: { action: 'delete' },
  }),
  idempotencyKeys: entry(t.idempotencyKeys, {
    ties: [
      // Replies about the customer, whoever asked (staff who registered it, its employees).
      { column: 'subjectId', holds: 'customer' },
      // Its logins' own requests: keys are scoped by principal id.
      { column: 'scope', holds: 'logins' },
    ],
    export: { omitted: 'cached replies that repeat what the other parts hold, for a day' },
    erase: { action: 'delete' },
    sealed: {
      responseBody: sealPurposes.idempotencyReply,
      fingerprint: sealPurposes.idempotencyFingerprint,
    },
  }),
  documents: entry(t.documents, {
    ties: [{ column: 'customerId', holds: 'customer' }],
    export: {
      part: 'documents',
      columns: [
        'id',
        'customerId',
        'documentType',
        'status',
        'rejectionReason',
        'scanStatus',
        'scanner',
        'scannedAt',
        'mimeType',
        'size',
        'sha256',
        'issuingCountry',
        'details',
        'expiresAt',
        'uploadedBy',
        'createdAt',
        'updatedAt',
        'deletedAt',
      ],
      orderBy: 'id',
    },
    erase: {
      action: 'scrub',
      set: { details: null, sha256: null, issuingCountry: null, deletionReason: 'CUSTOMER_ERASED' },
      stamp: 'deletedAt',
      reason:
        'the tombstone (id, type, status, dates) that verifications and the audit trail refer to; its object is deleted',
    },
    sealed: { details: sealPurposes.documentDetails },
    objects: {
      bucket: 'DOCUMENTS',
      prefix: documentPrefix,
      erase: 'delete',
      sealed: sealPurposes.documentContent,
    },
  }),
} as const;

export type CustomerData = typeof customerData;

/** The rows the export reads from an entry: the columns its declaration names. */
export type ExportedRow<E> = E extends {
  table: infer T extends SQLiteTable;
  export: { columns: readonly (infer C)[] };
}
  ? Pick<T['$inferSelect'], C & keyof T['$inferSelect']>
  : never;
