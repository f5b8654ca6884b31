/**
 * The purpose label of every encrypted or digested column (src/platform/field-encryption.ts): a
 * value sealed for one purpose cannot be opened as another. Sealing code imports these; no
 * purpose is spelled anywhere else.
 */
export const sealPurposes = {
  /** customers.personal, under the customer's data key. */
  customerPersonal: 'customer-personal',
  /** customer_keys.wrapped_key: a customer's data key, wrapped under the root key. */
  customerDataKey: 'customer-data-key',
  /** users.email of a customer's login, under the customer's data key (suffixed with the user id). */
  userEmail: 'user-email',
  /** users.display_name of a customer's login, likewise. */
  userDisplayName: 'user-display-name',
  /** organization_people.details, under the organization's data key (suffixed with the person id). */
  organizationPerson: 'organization-person',
  /** Personal fields of events.data, under the subject's data key (`event:<type>:<field>`). */
  event: 'event',
  /** users.email_digest and customers.email_digest: the keyed lookup digest of an email. */
  emailLookup: 'email-lookup',
  /** customer_search_terms.term_digest. */
  customerSearch: 'customer-search',
  /** contact_verification_codes.code_digest, per contact. */
  verificationCode: { EMAIL: 'email-verification-code', PHONE: 'phone-verification-code' },
  /** contact_verification_codes.recipient_digest, per contact. */
  verificationRecipient: { EMAIL: 'email-verification-recipient', PHONE: 'phone-verification-recipient' },
  /** totp_enrolments.secret and totp_credentials.secret. */
  totpSecret: 'totp-secret',
  /** recovery_codes.code_digest. */
  recoveryCode: 'recovery-code',
  /** idempotency_keys.response_body. */
  idempotencyReply: 'idempotency-reply',
  /** idempotency_keys.fingerprint. */
  idempotencyFingerprint: 'idempotency-fingerprint',
  /** beneficiaries.details, under the customer's data key (suffixed with the beneficiary id). */
  beneficiaryDetails: 'beneficiary-details',
  /** beneficiaries.account_fingerprint: network and normalised account, per customer. */
  beneficiaryAccount: 'beneficiary-account',
  /** beneficiaries.search_digests: words of the name and nickname, per customer. */
  beneficiarySearch: 'beneficiary-search',
  /** documents.details: file name, declared type and document number, under the customer's data key. */
  documentDetails: 'document-details',
  /** The bytes of a document in R2, under a key derived from the customer's data key per document. */
  documentContent: 'document-content',
  /** webhook_endpoints.secret and previous_secret: the tenant's, no customer's. */
  webhookSecret: 'webhook-secret',
  /** The sandbox verification provider's built-in callback secret, derived per tenant, never stored. */
  sandboxCallbackSecret: 'sandbox-callback-secret',
  /** Provider callback secrets in the tenant's settings (`verification.callbackSecrets`): the tenant's, no customer's. */
  verificationCallbackSecret: 'verification-callback-secret',
  /** The HMAC key of a refresh-token family (src/platform/sessions/refresh-tokens.ts), derived per session, never stored by the worker. */
  refreshTokenFamily: 'refresh-token-family',
} as const;
