import type { DocumentType } from '../documents/schemas';
import { levelRank, type VerificationLevel, verificationLevels } from './lifecycle';

/**
 * The one requirements engine (Stripe's `requirements` shape): a pure function of what is
 * known about a customer, behind `GET …/verification-requirements`, `GET …/activation-readiness`
 * and the 422 `requirements_not_met` of a premature submit. Requirement ids are stable dotted
 * strings clients may switch on; they are listed in docs/api.md (Verification).
 */

export type RequirementKind =
  | 'PROFILE_FIELD'
  | 'CONTACT'
  | 'CONSENT'
  | 'DOCUMENT'
  | 'PERSONNEL'
  | 'SCREENING'
  | 'VERIFICATION';

export interface Requirement {
  /** Stable dotted id: `profile.lastName`, `document.PROOF_OF_ADDRESS`, `person.per_….screening`, … */
  requirement: string;
  kind: RequirementKind;
  /** Whom it is about: the customer (`cus_…`) or one of its people (`per_…`). */
  subject: string;
  /** The lowest level that asks for it. */
  forLevel: VerificationLevel;
  /** For documents: the types that satisfy it. */
  acceptedDocumentTypes?: DocumentType[];
  /** What is wrong now, where the id alone does not say (`shareholdings total 60 %`). */
  detail?: string;
}

export interface RequirementError {
  requirement: string;
  /** snake_case: `document_expired`, `document_rejected`, `document_scan_failed`, or a provider's reason code. */
  code: string;
  subject: string;
  reason: string;
  documentId?: string;
}

export interface PendingRequirement {
  requirement: string;
  subject: string;
  documentId?: string;
}

/** What the documents section knows of one document (src/modules/verifications/document-facts.ts). */
export interface DocumentFact {
  documentId: string;
  documentType: string;
  status: 'UPLOADED' | 'VERIFIED' | 'REJECTED' | 'EXPIRED' | string;
  scanStatus: 'PENDING' | 'CLEAN' | 'INFECTED' | 'SKIPPED' | 'FAILED' | string;
  expiresAt: string | null;
}

export interface PersonFact {
  id: string;
  kind: 'DIRECTOR' | 'SHAREHOLDER';
  shareholderType?: 'INDIVIDUAL' | 'CORPORATE';
  /** A shareholder's stake in hundredths of a percent. */
  basisPoints?: number;
}

/**
 * Where the screening of one subject (the customer or a person) stands: CLEARED by the checks of
 * an approved, unexpired verification, PENDING in an open one; absent when never screened.
 */
export type ScreeningFact = 'CLEARED' | 'PENDING';

export interface VerificationFact {
  level: VerificationLevel;
  status: string;
  expiresAt: string | null;
  /** Reasons the provider or a reviewer asked for more (ADDITIONAL_INFO_REQUIRED), shown to the customer. */
  errors: readonly RequirementError[];
}

export interface RequirementFacts {
  customerId: string;
  customerType: 'INDIVIDUAL' | 'BUSINESS';
  emailVerified: boolean;
  profile: Readonly<Record<string, unknown>>;
  /** Consent types in force (GRANTED and not expired). */
  consentsInForce: readonly string[];
  people: readonly PersonFact[];
  documents: readonly DocumentFact[];
  screening: Readonly<Record<string, ScreeningFact>>;
  /** The customer's latest verification per level. */
  verifications: readonly VerificationFact[];
  now: string;
}

export type RequirementsStatus =
  | 'REQUIREMENTS_DUE'
  | 'READY_TO_SUBMIT'
  | 'PENDING_VERIFICATION'
  | 'SATISFIED';

export interface Requirements {
  customerId: string;
  customerType: RequirementFacts['customerType'];
  level: VerificationLevel;
  status: RequirementsStatus;
  currentlyDue: Requirement[];
  eventuallyDue: Requirement[];
  pendingVerification: PendingRequirement[];
  errors: RequirementError[];
}

/** The consents every customer must have in force (docs/api.md, consent type). */
export const requiredConsents = ['TERMS_AND_CONDITIONS', 'PRIVACY_POLICY'] as const;

const FULL_OWNERSHIP = 10_000;
const UBO_THRESHOLD = 2_500;

const identityDocuments: readonly DocumentType[] = [
  'PASSPORT',
  'NATIONAL_ID',
  'DRIVING_LICENSE',
  'RESIDENCE_PERMIT',
];

interface Rule {
  requirement: string;
  kind: RequirementKind;
  forLevel: VerificationLevel;
  acceptedDocumentTypes?: DocumentType[];
  subject?: string;
  /** The customer-side fact it needs; screening rules are satisfied by verifications instead. */
  satisfied?: (facts: RequirementFacts) => boolean;
  detail?: (facts: RequirementFacts) => string | undefined;
}

function profileField(field: string, forLevel: VerificationLevel = 'BASIC'): Rule {
  return {
    requirement: `profile.${field}`,
    kind: 'PROFILE_FIELD',
    forLevel,
    satisfied: (facts) => {
      const value = facts.profile[field];
      return value !== undefined && value !== null && value !== '';
    },
  };
}

function documentRule(name: string, accepted: readonly DocumentType[], forLevel: VerificationLevel): Rule {
  return {
    requirement: `document.${name}`,
    kind: 'DOCUMENT',
    forLevel,
    acceptedDocumentTypes: [...accepted],
  };
}

const commonRules: Rule[] = [
  {
    requirement: 'contact.email_verified',
    kind: 'CONTACT',
    forLevel: 'BASIC',
    satisfied: (facts) => facts.emailVerified,
  },
  ...requiredConsents.map(
    (type): Rule => ({
      requirement: `consent.${type}`,
      kind: 'CONSENT',
      forLevel: 'BASIC',
      satisfied: (facts) => facts.consentsInForce.includes(type),
    }),
  ),
  { requirement: 'screening.sanctions', kind: 'SCREENING', forLevel: 'BASIC' },
];

const individualRules: Rule[] = [
  ...['firstName', 'lastName', 'dateOfBirth', 'nationality', 'address'].map((field) => profileField(field)),
  ...commonRules,
  { requirement: 'screening.pep', kind: 'SCREENING', forLevel: 'BASIC' },
  documentRule('IDENTITY', identityDocuments, 'STANDARD'),
  documentRule('PROOF_OF_ADDRESS', ['PROOF_OF_ADDRESS', 'BANK_STATEMENT'], 'STANDARD'),
  profileField('sourceOfFunds', 'ENHANCED'),
  documentRule('SOURCE_OF_FUNDS', ['SOURCE_OF_FUNDS', 'BANK_STATEMENT', 'FINANCIAL_STATEMENTS'], 'ENHANCED'),
];

function stakesTotal(facts: RequirementFacts): number {
  return facts.people
    .filter((person) => person.kind === 'SHAREHOLDER')
    .reduce((total, person) => total + (person.basisPoints ?? 0), 0);
}

const businessRules: Rule[] = [
  ...[
    'legalName',
    'registrationNumber',
    'legalForm',
    'incorporationDate',
    'incorporationCountry',
    'registeredAddress',
  ].map((field) => profileField(field)),
  ...commonRules,
  { requirement: 'screening.business_registry', kind: 'SCREENING', forLevel: 'BASIC' },
  {
    requirement: 'personnel.directors.minimum_one',
    kind: 'PERSONNEL',
    forLevel: 'BASIC',
    satisfied: (facts) => facts.people.some((person) => person.kind === 'DIRECTOR'),
  },
  {
    requirement: 'personnel.shareholders.total_100',
    kind: 'PERSONNEL',
    forLevel: 'BASIC',
    satisfied: (facts) => stakesTotal(facts) === FULL_OWNERSHIP,
    detail: (facts) => `shareholdings total ${stakesTotal(facts) / 100} %`,
  },
  documentRule(
    'CERTIFICATE_OF_INCORPORATION',
    ['CERTIFICATE_OF_INCORPORATION', 'BUSINESS_LICENSE'],
    'STANDARD',
  ),
  documentRule('PROOF_OF_ADDRESS', ['PROOF_OF_ADDRESS', 'BANK_STATEMENT'], 'STANDARD'),
  documentRule('SOURCE_OF_FUNDS', ['SOURCE_OF_FUNDS', 'BANK_STATEMENT', 'FINANCIAL_STATEMENTS'], 'ENHANCED'),
  documentRule('BENEFICIAL_OWNERSHIP_DECLARATION', ['BENEFICIAL_OWNERSHIP_DECLARATION'], 'ENHANCED'),
];

/**
 * The people whose screening a business's verification must cover: every director and every
 * UBO (a stake of 25 % or more, the organizations section's `isUbo`, corporate holders included).
 */
export function screenedPeople<P extends PersonFact>(people: readonly P[]): P[] {
  return people.filter(
    (person) =>
      person.kind === 'DIRECTOR' ||
      (person.kind === 'SHAREHOLDER' && (person.basisPoints ?? 0) >= UBO_THRESHOLD),
  );
}

function personRules(facts: RequirementFacts): Rule[] {
  if (facts.customerType !== 'BUSINESS') return [];
  return screenedPeople(facts.people).map((person) => ({
    requirement: `person.${person.id}.screening`,
    kind: 'SCREENING',
    forLevel: 'BASIC',
    subject: person.id,
  }));
}

type DocumentVerdict =
  | { state: 'USABLE'; documentId: string }
  | { state: 'PENDING'; documentId: string }
  | { state: 'UNUSABLE'; error: Omit<RequirementError, 'requirement' | 'subject'> }
  | { state: 'MISSING' };

function documentVerdict(document: DocumentFact, now: string): DocumentVerdict {
  const documentId = document.documentId;
  if (document.status === 'REJECTED') {
    return {
      state: 'UNUSABLE',
      error: { code: 'document_rejected', reason: 'The document was rejected.', documentId },
    };
  }
  if (document.status === 'EXPIRED' || (document.expiresAt !== null && document.expiresAt <= now)) {
    return {
      state: 'UNUSABLE',
      error: { code: 'document_expired', reason: 'The document has expired.', documentId },
    };
  }
  if (document.scanStatus === 'INFECTED' || document.scanStatus === 'FAILED') {
    return {
      state: 'UNUSABLE',
      error: {
        code: 'document_scan_failed',
        reason: 'The document did not pass the malware scan.',
        documentId,
      },
    };
  }
  if (document.scanStatus === 'PENDING') return { state: 'PENDING', documentId };
  return { state: 'USABLE', documentId };
}

/** The best a customer's documents do for a rule: one usable is enough; else pending; else the first error. */
function bestDocument(rule: Rule, facts: RequirementFacts): DocumentVerdict {
  const verdicts = facts.documents
    .filter((document) => rule.acceptedDocumentTypes?.includes(document.documentType as DocumentType))
    .map((document) => documentVerdict(document, facts.now));
  return (
    verdicts.find((verdict) => verdict.state === 'USABLE') ??
    verdicts.find((verdict) => verdict.state === 'PENDING') ??
    verdicts.find((verdict) => verdict.state === 'UNUSABLE') ?? { state: 'MISSING' }
  );
}

function rulesFor(facts: RequirementFacts): Rule[] {
  return [...(facts.customerType === 'BUSINESS' ? businessRules : individualRules), ...personRules(facts)];
}

function asRequirement(rule: Rule, facts: RequirementFacts): Requirement {
  const detail = rule.detail?.(facts);
  return {
    requirement: rule.requirement,
    kind: rule.kind,
    subject: rule.subject ?? facts.customerId,
    forLevel: rule.forLevel,
    ...(rule.acceptedDocumentTypes ? { acceptedDocumentTypes: rule.acceptedDocumentTypes } : {}),
    ...(detail ? { detail } : {}),
  };
}

/**
 * The documents a verification of `level` relies on: per document requirement up to the level,
 * the one that satisfies it (usable, or still being scanned). The submit links them to the
 * verification, which sends the provider these and keeps them from being deleted.
 */
export function documentsReliedOn(facts: RequirementFacts, level: VerificationLevel): string[] {
  const relied = new Set<string>();
  for (const rule of rulesFor(facts)) {
    if (rule.kind !== 'DOCUMENT' || levelRank(rule.forLevel) > levelRank(level)) continue;
    const verdict = bestDocument(rule, facts);
    if (verdict.state === 'USABLE' || verdict.state === 'PENDING') relied.add(verdict.documentId);
  }
  return [...relied];
}

/** An approved verification at `level` or above that has not expired. */
export function approvedAtLevel(
  facts: Pick<RequirementFacts, 'verifications' | 'now'>,
  level: VerificationLevel,
) {
  return facts.verifications.some(
    (verification) =>
      verification.status === 'APPROVED' &&
      levelRank(verification.level) >= levelRank(level) &&
      (verification.expiresAt === null || verification.expiresAt > facts.now),
  );
}

export function computeRequirements(facts: RequirementFacts, level: VerificationLevel): Requirements {
  const currentlyDue: Requirement[] = [];
  const eventuallyDue: Requirement[] = [];
  const pendingVerification: PendingRequirement[] = [];
  const errors: RequirementError[] = [];
  const open = facts.verifications.some((verification) =>
    ['PENDING', 'IN_PROGRESS', 'MANUAL_REVIEW'].includes(verification.status),
  );
  const approved = approvedAtLevel(facts, level);

  for (const rule of rulesFor(facts)) {
    const requirement = asRequirement(rule, facts);
    const due = levelRank(rule.forLevel) <= levelRank(level) ? currentlyDue : eventuallyDue;
    if (rule.kind === 'SCREENING') {
      const state = facts.screening[requirement.subject];
      if (state === 'PENDING' || (state === undefined && open)) {
        pendingVerification.push({ requirement: rule.requirement, subject: requirement.subject });
      } else if (state !== 'CLEARED') {
        due.push(requirement);
      }
      continue;
    }
    if (rule.kind === 'DOCUMENT') {
      const verdict = bestDocument(rule, facts);
      if (verdict.state === 'USABLE') continue;
      if (verdict.state === 'PENDING') {
        pendingVerification.push({
          requirement: rule.requirement,
          subject: requirement.subject,
          documentId: verdict.documentId,
        });
        continue;
      }
      if (verdict.state === 'UNUSABLE' && due === currentlyDue) {
        errors.push({ requirement: rule.requirement, subject: requirement.subject, ...verdict.error });
      }
      due.push(requirement);
      continue;
    }
    if (!rule.satisfied?.(facts)) due.push(requirement);
  }

  // What a provider or reviewer asked for on the latest attempt of this level is due again.
  for (const verification of facts.verifications) {
    if (verification.level === level && verification.status === 'ADDITIONAL_INFO_REQUIRED')
      errors.push(...verification.errors);
  }

  return {
    customerId: facts.customerId,
    customerType: facts.customerType,
    level,
    status: requirementsStatus(currentlyDue, pendingVerification, open, approved),
    currentlyDue,
    eventuallyDue,
    pendingVerification,
    errors,
  };
}

function requirementsStatus(
  currentlyDue: readonly Requirement[],
  pending: readonly PendingRequirement[],
  open: boolean,
  approved: boolean,
): RequirementsStatus {
  if (submitBlockers(currentlyDue).length > 0) return 'REQUIREMENTS_DUE';
  if (open || pending.length > 0) return 'PENDING_VERIFICATION';
  if (approved && currentlyDue.length === 0) return 'SATISFIED';
  return 'READY_TO_SUBMIT';
}

/** What must be provided before a submit: everything due except screening, which the verification itself performs. */
export function submitBlockers(currentlyDue: readonly Requirement[]): Requirement[] {
  return currentlyDue.filter((requirement) => requirement.kind !== 'SCREENING');
}

/** The level after `level`, for the requirements route's default; ENHANCED has none. */
export function nextLevel(facts: RequirementFacts): VerificationLevel {
  return verificationLevels.find((level) => !approvedAtLevel(facts, level)) ?? 'ENHANCED';
}

export interface ActivationReadiness {
  ready: boolean;
  requiredLevel: VerificationLevel;
  missing: Requirement[];
}

/**
 * Activation needs an approved, unexpired verification of the tenant's required level and the
 * required consents in force; `missing` says which of them is not there.
 */
export function activationReadiness(
  facts: RequirementFacts,
  requiredLevel: VerificationLevel,
): ActivationReadiness {
  const missing: Requirement[] = [];
  if (!approvedAtLevel(facts, requiredLevel)) {
    missing.push({
      requirement: `verification.${requiredLevel}`,
      kind: 'VERIFICATION',
      subject: facts.customerId,
      forLevel: requiredLevel,
      detail: `an approved, unexpired ${requiredLevel} verification`,
    });
  }
  for (const rule of commonRules.filter((candidate) => candidate.kind === 'CONSENT')) {
    if (!rule.satisfied?.(facts)) missing.push(asRequirement(rule, facts));
  }
  return { ready: missing.length === 0, requiredLevel, missing };
}
