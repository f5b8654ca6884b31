/**
 * The catalogue of problem types (RFC 9457). A `code` is part of the public contract: clients
 * branch on it, so codes are only ever added, never renamed.
 */
export const problemTypes = {
  invalid_request: {
    status: 400,
    title: 'Invalid OAuth request',
    description:
      'RFC 6749: a required parameter is missing or malformed, or the client authenticated with more than one method (Basic credentials and a client secret in the form, or a form `client_id` naming another client).',
  },
  invalid_grant: {
    status: 400,
    title: 'Invalid grant',
    description:
      'RFC 6749: the authorization code or refresh token is invalid, expired, revoked or bound to another client.',
  },
  unsupported_grant_type: {
    status: 400,
    title: 'Unsupported grant type',
    description: 'RFC 6749: the grant type is not supported by this server.',
  },
  invalid_scope: {
    status: 400,
    title: 'Invalid scope',
    description: 'RFC 6749: the requested scope exceeds what the client may be granted.',
  },
  unauthorized_client: {
    status: 400,
    title: 'Unauthorized client',
    description: 'RFC 6749: the client may not use this grant type.',
  },
  unsupported_token_type: {
    status: 400,
    title: 'Unsupported token type',
    description:
      'RFC 7009: the server cannot revoke this kind of token. No longer answered: every token this API issues can be revoked.',
  },
  invalid_client: {
    status: 401,
    title: 'Invalid client',
    description:
      'RFC 6749: client authentication failed (unknown client, wrong secret, revoked client or another tenant).',
  },
  malformed_request: {
    status: 400,
    title: 'Malformed request',
    description: 'The request could not be parsed: its body is not valid JSON or a header is malformed.',
  },
  invalid_cursor: {
    status: 400,
    title: 'Invalid cursor',
    description: 'The pagination cursor was not issued by this API or belongs to another listing.',
  },
  invalid_password_token: {
    status: 400,
    title: 'Invalid password token',
    description:
      'The password token is unknown, already used, replaced by a newer one or expired: ask for a new one with `POST /auth/password/forgot`.',
  },
  tenant_required: {
    status: 400,
    title: 'Tenant required',
    description: 'Tenant routes need the `X-Tenant-ID` header, holding a well-formed tenant id.',
  },
  authentication_required: {
    status: 401,
    title: 'Authentication required',
    description: 'The route needs a Bearer access token in the `Authorization` header.',
  },
  invalid_token: {
    status: 401,
    title: 'Invalid token',
    description: 'The access token is malformed, expired, revoked or not signed by this API.',
  },
  certificate_binding_required: {
    status: 401,
    title: 'Certificate binding required',
    description:
      'The tenant issues TPP clients only certificate-bound tokens (RFC 8705): call /oauth/token over mTLS with one of the TPP’s registered, currently valid certificates. OAuth clients read it as `invalid_client`.',
  },
  invalid_credentials: {
    status: 401,
    title: 'Invalid credentials',
    description: 'The email and password do not match an account.',
  },
  invalid_refresh_token: {
    status: 401,
    title: 'Invalid refresh token',
    description: 'The refresh token is unknown, expired, or its session has been revoked: log in again.',
  },
  refresh_token_reused: {
    status: 401,
    title: 'Refresh token reused',
    description:
      'A refresh token that had already been exchanged came back, so someone may hold a copy: the whole session has been revoked.',
  },
  invalid_mfa_token: {
    status: 401,
    title: 'Invalid MFA token',
    description:
      'The `mfaToken` from the login step is malformed, expired or not for this tenant: log in again.',
  },
  invalid_mfa_code: {
    status: 401,
    title: 'Invalid second factor',
    description:
      'The TOTP code, recovery code or passkey assertion was wrong, already used or expired. Failures count towards the account lockout.',
  },
  invalid_passkey: {
    status: 401,
    title: 'Invalid passkey',
    description:
      'The passkey assertion did not verify: an unknown or removed passkey, another origin or RP id, a bad signature, no user verification, or a challenge that is unknown, already used or older than 5 minutes.',
  },
  passkey_clone_suspected: {
    status: 401,
    title: 'Passkey clone suspected',
    description:
      "The authenticator's signature counter did not increase, so a copy of the passkey may exist: the passkey is blocked from now on. Remove it and enrol a new one; if it was the only second factor, the tenant's support resets the credentials.",
  },
  step_up_required: {
    status: 401,
    title: 'Step-up required',
    description:
      'The operation needs a recent authentication: call `POST /auth/step-up` and retry with the access token it returns.',
  },
  account_disabled: {
    status: 403,
    title: 'Account disabled',
    description: 'The account has been disabled by the tenant; it cannot log in.',
  },
  role_not_permitted: {
    status: 403,
    title: 'Role not permitted',
    description:
      'The TPP’s PSD2 roles do not allow a requested scope (an AISP reads; only a PISP manages beneficiaries); `permissions` names them.',
  },
  tpp_client_required: {
    status: 403,
    title: 'TPP client required',
    description:
      'Only an OAuth client of a registered TPP, with its client-credentials token, asks customers for consents.',
  },
  user_session_required: {
    status: 403,
    title: 'User session required',
    description:
      'The operation acts on a login session: it needs the access token of the user itself, not of an API client or of a third party acting for a customer.',
  },
  forbidden: {
    status: 403,
    title: 'Forbidden',
    description: 'The principal lacks the permission the route requires; `permission` names it.',
  },
  permission_not_held: {
    status: 403,
    title: 'Permission not held',
    description:
      'Nobody acts beyond what they hold: granting permissions, or acting on a staff user, API client, group, role or secret-bearing webhook endpoint, needs every permission granted or held by the target; `permissions` lists those the caller lacks.',
  },
  capability_not_enabled: {
    status: 403,
    title: 'Capability not enabled',
    description:
      "The tenant's subscription tier does not include the capability this route needs; `capability` and `requiredTiers` say which.",
  },
  tenant_suspended: {
    status: 403,
    title: 'Tenant suspended',
    description: 'The tenant is suspended by the platform operator.',
  },
  tenant_mismatch: {
    status: 403,
    title: 'Tenant mismatch',
    description: 'The access token was issued for another tenant than `X-Tenant-ID` names.',
  },
  not_found: {
    status: 404,
    title: 'Not found',
    description: 'No resource exists at this path for this tenant.',
  },
  tenant_not_found: {
    status: 404,
    title: 'Tenant not found',
    description: 'No tenant is registered under the `X-Tenant-ID` given.',
  },
  method_not_allowed: {
    status: 405,
    title: 'Method not allowed',
    description: 'The path exists but not with this method; the `Allow` header lists the methods it has.',
  },
  not_acceptable: {
    status: 406,
    title: 'Not acceptable',
    description: 'The response cannot be produced in a media type the `Accept` header allows.',
  },
  conflict: {
    status: 409,
    title: 'Conflict',
    description:
      'The request conflicts with the current state of the resource. No longer answered since API version 2.1.0: each conflict has its own code (`customer_closed`, `concurrent_update`, …).',
  },
  concurrent_update: {
    status: 409,
    title: 'Concurrent update',
    description:
      'Another request changed the resource between this request reading it and writing it, so nothing was written: read it again and retry.',
  },
  customer_closed: {
    status: 409,
    title: 'Customer closed',
    description:
      'The customer (or organization) is CLOSED: its profile, consents, people and contact details can no longer be changed.',
  },
  customer_is_organization: {
    status: 409,
    title: 'Customer is an organization',
    description:
      'A business customer’s profile is changed with `PATCH /organizations/{organizationId}`, not through `/customers`.',
  },
  no_phone_number: {
    status: 409,
    title: 'No phone number',
    description: 'The customer has no phone number to verify: add one to the profile first.',
  },
  contact_already_verified: {
    status: 409,
    title: 'Contact already verified',
    description: 'The email address or phone number is already verified: there is nothing to verify.',
  },
  consent_not_in_force: {
    status: 409,
    title: 'Consent not in force',
    description: 'Only a GRANTED consent can be withdrawn; this one is SUPERSEDED or WITHDRAWN already.',
  },
  no_legal_hold: {
    status: 409,
    title: 'No legal hold',
    description: 'No legal hold applies to the customer, so there is none to release.',
  },
  user_disabled: {
    status: 409,
    title: 'User disabled',
    description:
      'The user is disabled: enable it (`PATCH` with `status: ACTIVE`) before resetting its credentials.',
  },
  passkey_already_registered: {
    status: 409,
    title: 'Passkey already registered',
    description: 'This authenticator’s credential is already registered; nothing needs doing.',
  },
  passkey_limit_reached: {
    status: 409,
    title: 'Passkey limit reached',
    description: 'The user already has the most passkeys a user may have (10); remove one first.',
  },
  tenant_exists: {
    status: 409,
    title: 'Tenant exists',
    description: 'A tenant with this id is already registered; choose another id or change that tenant.',
  },
  webhook_delivery_pending: {
    status: 409,
    title: 'Delivery still pending',
    description:
      'The delivery is PENDING or RETRYING: it is already queued and will be tried again; only a settled delivery (FAILED or DELIVERED) can be retried by hand.',
  },
  consent_not_withdrawable: {
    status: 409,
    title: 'Consent cannot be withdrawn',
    description:
      'Terms and conditions and the privacy policy are required for as long as the customer relationship lasts.',
  },
  consent_not_awaiting_authorisation: {
    status: 409,
    title: 'Consent not awaiting authorisation',
    description:
      'The TPP consent was answered, revoked or its authorisation window (15 minutes) lapsed: the TPP must ask for a new one.',
  },
  certificate_in_use: {
    status: 409,
    title: 'Certificate in use',
    description:
      'This certificate (by its SHA-256 fingerprint) is already registered, to this TPP or another.',
  },
  tpp_already_registered: {
    status: 409,
    title: 'TPP already registered',
    description:
      'A TPP with this authorisation number is registered with this tenant already; add certificates to it instead.',
  },
  tpp_revoked: {
    status: 409,
    title: 'TPP revoked',
    description: 'The TPP is revoked, which is final: register it anew to deal with it again.',
  },
  tpp_not_active: {
    status: 409,
    title: 'TPP not active',
    description:
      'The TPP is suspended or revoked: it can get no new clients, consents or tokens until it is active.',
  },
  invalid_transition: {
    status: 409,
    title: 'Invalid status transition',
    description:
      'The lifecycle (of a customer, or of a verification) does not allow this change from the current status; `allowed` lists what is.',
  },
  requirements_not_met: {
    status: 422,
    title: 'Requirements not met',
    description:
      'The customer lacks what the verification level needs; `missing` lists the requirements due (the same as `currentlyDue` of `GET /customers/{customerId}/verification-requirements`).',
  },
  verification_in_progress: {
    status: 409,
    title: 'Verification in progress',
    description:
      'The customer already has an open verification of this level; wait for it, or answer it if it asks for more.',
  },
  hits_open: {
    status: 409,
    title: 'Screening hits open',
    description:
      'A verification cannot be approved while a screening hit is OPEN: dispose of each (`hitDispositions`) as TRUE_POSITIVE or FALSE_POSITIVE first.',
  },
  four_eyes_violation: {
    status: 403,
    title: 'Four-eyes rule',
    description:
      'A verification is decided by a staff user holding `kyc:review` (not an API client) who neither submitted it nor belongs to the customer.',
  },
  approval_already_given: {
    status: 409,
    title: 'Already approved by you',
    description:
      'You have already approved this attempt of the verification, and the tenant requires several distinct approvals for its level: another reviewer must give the next one.',
  },
  activation_not_ready: {
    status: 409,
    title: 'Not ready for activation',
    description:
      'Activation needs an approved, unexpired verification of the tenant’s required level and the required consents; `missing` lists what is not there.',
  },
  callback_signature_invalid: {
    status: 401,
    title: 'Callback signature invalid',
    description:
      'The provider callback is unsigned, signed with no active secret, or too old. Nothing was recorded.',
  },
  reverification_required: {
    status: 409,
    title: 'Re-verification required',
    description:
      'Identity fields of a verified customer (names, date of birth, nationality; an organization’s legal name, registration number, legal form, incorporation date and country, LEI) can only be changed by staff, which starts a new verification.',
  },
  customer_erased: {
    status: 409,
    title: 'Customer erased',
    description:
      'The customer’s personal data was erased (GDPR Art. 17): the customer is closed for good and nothing about it can be changed or read beyond its id, type, status and dates.',
  },
  legal_hold: {
    status: 409,
    title: 'Legal hold',
    description:
      'A legal hold (an investigation, record-keeping duties) applies to the customer, so its data cannot be erased until compliance staff release the hold.',
  },
  beneficiary_exists: {
    status: 409,
    title: 'Beneficiary exists',
    description:
      'The customer already has a beneficiary (not deleted) for this account on this network, however it was written; `existingId` names it.',
  },
  confirmation_expired: {
    status: 409,
    title: 'Confirmation expired',
    description:
      'The beneficiary was not confirmed before its confirmation deadline: delete it and add it again.',
  },
  payee_warning_not_acknowledged: {
    status: 422,
    title: 'Payee warning not acknowledged',
    description:
      'The payee check found that the name does not match the account (`NO_MATCH`) or nearly does (`CLOSE_MATCH`): confirm again with `acknowledgePayeeWarning: true` to take the risk, which is recorded.',
  },
  beneficiary_deleted: {
    status: 409,
    title: 'Beneficiary deleted',
    description: 'The beneficiary was deleted; it is kept as a tombstone and cannot be changed or confirmed.',
  },
  document_duplicate: {
    status: 409,
    title: 'Document duplicate',
    description:
      'The customer already has a document of this type with the same bytes (SHA-256); `existingId` names it.',
  },
  document_in_use: {
    status: 409,
    title: 'Document in use',
    description:
      'A verification relies on the document, so it cannot be deleted while that verification is open or approved.',
  },
  email_taken: {
    status: 409,
    title: 'Email taken',
    description:
      'Another account of the same kind (customer or staff) in this tenant already uses this email address; staff and customers are separate namespaces.',
  },
  role_name_taken: {
    status: 409,
    title: 'Role name taken',
    description:
      'Another role of this tenant has this name, or it is the name of a built-in role (compared case-insensitively).',
  },
  group_name_taken: {
    status: 409,
    title: 'Group name taken',
    description: 'Another group of this tenant has this name (compared case-insensitively).',
  },
  role_read_only: {
    status: 409,
    title: 'Built-in role is read-only',
    description:
      'Built-in roles (`TENANT_ADMIN`, `COMPLIANCE_OFFICER`, `SUPPORT_AGENT`, `CUSTOMER`) cannot be changed or deleted; create a custom role instead.',
  },
  role_in_use: {
    status: 409,
    title: 'Role in use',
    description:
      'The role is still assigned to users or granted by groups: take it away from them before deleting it.',
  },
  client_revoked: {
    status: 409,
    title: 'Client revoked',
    description: 'The API client has been revoked for good; create a new one.',
  },
  totp_already_enrolled: {
    status: 409,
    title: 'TOTP already enrolled',
    description:
      'The user already has a TOTP authenticator; remove it (`DELETE /auth/mfa/totp`, with step-up) before enrolling another.',
  },
  totp_enrolment_not_started: {
    status: 409,
    title: 'TOTP enrolment not started',
    description:
      'There is no pending TOTP enrolment to confirm: start one with `POST /auth/mfa/totp`, then confirm a code from the new secret.',
  },
  self_lockout: {
    status: 409,
    title: 'Would lock yourself out',
    description:
      'Administrators cannot disable their own account, reset their own credentials or remove their own `access:admin`: another administrator must.',
  },
  last_admin_user: {
    status: 409,
    title: 'Last ADMIN_USER',
    description:
      'The organization would be left without an employee with the organization role `ADMIN_USER`: give another employee that role before removing or demoting this one.',
  },
  webhook_endpoint_limit_reached: {
    status: 409,
    title: 'Webhook endpoint limit reached',
    description: 'The tenant already has the most webhook endpoints it may have (20); delete one first.',
  },
  webhook_endpoint_disabled: {
    status: 409,
    title: 'Webhook endpoint disabled',
    description:
      'The webhook endpoint is disabled, so nothing is sent to it; enable it (PATCH `enabled: true`) first.',
  },
  webhook_delivery_carries_secret: {
    status: 409,
    title: 'Delivery carries a secret',
    description:
      'The delivery’s event carries a single-use token or code (`notification.requested`), which is delivered once, only to the URL the endpoint had when the event was created, and never sent again by hand: issue a new one (a new password token, a credentials reset, a new verification code), which sends a new event.',
  },
  idempotency_key_in_use: {
    status: 409,
    title: 'Idempotency key in use',
    description: 'A request with this `Idempotency-Key` is still being processed; retry after it completes.',
  },
  payload_too_large: {
    status: 413,
    title: 'Payload too large',
    description: 'The request body exceeds the size this route accepts.',
  },
  unsupported_media_type: {
    status: 415,
    title: 'Unsupported media type',
    description:
      'The request body has a `Content-Type` this route does not accept, or an uploaded file’s bytes are of a type it does not accept (`detectedType` names what they are).',
  },
  range_not_satisfiable: {
    status: 416,
    title: 'Range not satisfiable',
    description:
      'The `Range` asks for bytes past the end of the content; `Content-Range: bytes */<size>` gives its size.',
  },
  validation_failed: {
    status: 422,
    title: 'Validation failed',
    description:
      'The request is well-formed but some fields are invalid; `errors` lists each failing field with its path.',
  },
  invalid_code: {
    status: 422,
    title: 'Invalid verification code',
    description:
      'The verification code is wrong, expired or void. A code works for 10 minutes and for 5 attempts; after that, request a new one.',
  },
  invalid_passkey_registration: {
    status: 422,
    title: 'Invalid passkey registration',
    description:
      'The passkey registration response did not verify: another origin or RP id, an unsupported algorithm or attestation, or a challenge that is unknown, already used, issued to someone else or older than 5 minutes.',
  },
  webhook_url_not_allowed: {
    status: 422,
    title: 'Webhook URL not allowed',
    description:
      'Webhooks are only sent over https to public hosts: the URL names localhost, or a private, loopback, link-local, CGNAT or other special-purpose address, or is not https. `errors` names the field.',
  },
  certificate_unparseable: {
    status: 422,
    title: 'Certificate unparseable',
    description:
      'The TPP certificate is not X.509: accepted are PEM (one certificate, or a chain with the leaf first, LF or CRLF, or flattened onto one line), bare base64 of one DER certificate, or percent-encoded PEM.',
  },
  certificate_expired: {
    status: 422,
    title: 'Certificate expired',
    description: 'The certificate’s `notAfter` has passed: register its renewal.',
  },
  certificate_not_yet_valid: {
    status: 422,
    title: 'Certificate not yet valid',
    description: 'The certificate’s `notBefore` is still to come: register it once it is valid.',
  },
  certificate_not_qualified: {
    status: 422,
    title: 'Certificate not qualified',
    description:
      'The certificate has no QCStatements extension with QcCompliance and a QcType of `web` (QWAC) or `eseal` (QSealC) (ETSI EN 319 412-5).',
  },
  certificate_missing_psd2_roles: {
    status: 422,
    title: 'Certificate without PSD2 roles',
    description:
      'The certificate has no ETSI TS 119 495 PSD2 statement, or the statement names no known role (PSP_AS, PSP_PI, PSP_AI, PSP_IC).',
  },
  certificate_role_mismatch: {
    status: 422,
    title: 'Certificate role names disagree',
    description:
      'A role of the PSD2 statement carries the name of another role than its OID: roles are read by OID, so a certificate whose names disagree is refused rather than guessed at.',
  },
  role_not_in_certificate: {
    status: 422,
    title: 'Role not in certificate',
    description:
      'A requested role is not in the certificate: `AISP` needs PSP_AI, `PISP` PSP_PI and `CBPII` PSP_IC.',
  },
  organization_identifier_mismatch: {
    status: 422,
    title: 'Organization identifier mismatch',
    description:
      'The subject’s organizationIdentifier (OID 2.5.4.97, e.g. `PSDGB-FCA-123456`) is missing, not in the PSD2 form, or not the `authorizationNumber` of the TPP.',
  },
  nca_mismatch: {
    status: 422,
    title: 'NCA mismatch',
    description:
      'The NCA part of the organizationIdentifier (`GB-FCA` in `PSDGB-FCA-123456`) is not the NCA id of the certificate’s PSD2 statement.',
  },
  certificate_untrusted: {
    status: 422,
    title: 'Certificate untrusted',
    description:
      'The certificate does not chain to any of the tenant’s configured trust anchors (the QTSP roots it trusts).',
  },
  mfa_method_not_enrolled: {
    status: 422,
    title: 'Second factor not enrolled',
    description:
      'The user has not enrolled the method named in `method`; the login answer lists the enrolled ones.',
  },
  step_up_method_not_allowed: {
    status: 422,
    title: 'Step-up method not allowed',
    description: 'A user with a second factor enrolled must step up with it, not with the password alone.',
  },
  idempotency_key_reused: {
    status: 422,
    title: 'Idempotency key reused',
    description: 'The `Idempotency-Key` was already used with a different request body or route.',
  },
  account_locked: {
    status: 423,
    title: 'Account locked',
    description:
      'Too many failed attempts at the password or a second factor (5 in 15 minutes, checks still running included): the account is locked for 15 minutes, the right secret included; `Retry-After` says how long is left.',
  },
  rate_limited: {
    status: 429,
    title: 'Rate limited',
    description: 'The principal has used up its requests for now; `Retry-After` says when to try again.',
  },
  internal_error: {
    status: 500,
    title: 'Internal error',
    description: 'An unexpected error occurred. It has been logged with the `requestId`.',
  },
  document_unreadable: {
    status: 500,
    title: 'Document unreadable',
    description:
      'The stored bytes of the document fail authenticated decryption (damaged in storage, tampered with, or moved from another document): nothing is served, and its scan is `FAILED`. A fault of the server, not of the request, and a lasting one: retrying does not help. Delete the document and upload the file again. It has been logged with the `requestId`.',
  },
  tenant_unavailable: {
    status: 503,
    title: 'Tenant unavailable',
    description: 'The tenant is registered but its database is not bound to this deployment.',
  },
} as const satisfies Record<string, { status: number; title: string; description: string }>;

export type ProblemCode = keyof typeof problemTypes;

const PROBLEM_BASE_PATH = '/v2/customer/problems';

export function problemTypeUri(code: ProblemCode): string {
  return `${PROBLEM_BASE_PATH}/${code}`;
}

export function isProblemCode(value: string): value is ProblemCode {
  return Object.hasOwn(problemTypes, value);
}
