import { describe, expect, it } from 'vitest';
import {
  activationReadiness,
  computeRequirements,
  type DocumentFact,
  documentsReliedOn,
  type RequirementFacts,
  submitBlockers,
} from '../../src/modules/verifications/requirements';

const now = '2026-12-01T12:00:00.000Z';

function individual(overrides: Partial<RequirementFacts> = {}): RequirementFacts {
  return {
    customerId: 'cus_a',
    customerType: 'INDIVIDUAL',
    emailVerified: true,
    profile: {
      firstName: 'Ada',
      lastName: 'Lovelace',
      dateOfBirth: '1990-12-10',
      nationality: 'GB',
      address: { line1: '1 Road' },
    },
    consentsInForce: ['TERMS_AND_CONDITIONS', 'PRIVACY_POLICY'],
    people: [],
    documents: [],
    screening: {},
    verifications: [],
    now,
    ...overrides,
  };
}

function business(overrides: Partial<RequirementFacts> = {}): RequirementFacts {
  return individual({
    customerId: 'cus_b',
    customerType: 'BUSINESS',
    profile: {
      legalName: 'Analytical Engines Ltd',
      registrationNumber: '09876543',
      legalForm: 'Ltd',
      incorporationDate: '2015-03-02',
      incorporationCountry: 'GB',
      registeredAddress: { line1: '1 Road' },
    },
    ...overrides,
  });
}

function doc(documentType: string, overrides: Partial<DocumentFact> = {}): DocumentFact {
  return {
    documentId: `doc_${documentType}`,
    documentType,
    status: 'UPLOADED',
    scanStatus: 'CLEAN',
    expiresAt: null,
    ...overrides,
  };
}

const ids = (list: { requirement: string }[]) => list.map((entry) => entry.requirement);

describe('computeRequirements for individuals', () => {
  it('BASIC with complete data has only the screening due, which the verification performs', () => {
    const result = computeRequirements(individual(), 'BASIC');
    expect(ids(result.currentlyDue)).toEqual(['screening.sanctions', 'screening.pep']);
    expect(submitBlockers(result.currentlyDue)).toEqual([]);
    expect(result.status).toBe('READY_TO_SUBMIT');
    expect(ids(result.eventuallyDue)).toEqual([
      'document.IDENTITY',
      'document.PROOF_OF_ADDRESS',
      'profile.sourceOfFunds',
      'document.SOURCE_OF_FUNDS',
    ]);
  });

  it('names missing fields, an unverified email and missing consents, each with its subject', () => {
    const result = computeRequirements(
      individual({
        emailVerified: false,
        profile: { firstName: 'Ada' },
        consentsInForce: ['PRIVACY_POLICY'],
      }),
      'BASIC',
    );
    expect(result.status).toBe('REQUIREMENTS_DUE');
    expect(ids(submitBlockers(result.currentlyDue))).toEqual([
      'profile.lastName',
      'profile.dateOfBirth',
      'profile.nationality',
      'profile.address',
      'contact.email_verified',
      'consent.TERMS_AND_CONDITIONS',
    ]);
    expect(result.currentlyDue.every((entry) => entry.subject === 'cus_a')).toBe(true);
  });

  it('STANDARD needs an identity document and a proof of address of accepted types', () => {
    const missing = computeRequirements(individual({ documents: [doc('SELFIE')] }), 'STANDARD');
    expect(ids(submitBlockers(missing.currentlyDue))).toEqual([
      'document.IDENTITY',
      'document.PROOF_OF_ADDRESS',
    ]);
    expect(
      missing.currentlyDue.find((entry) => entry.requirement === 'document.IDENTITY')?.acceptedDocumentTypes,
    ).toEqual(['PASSPORT', 'NATIONAL_ID', 'DRIVING_LICENSE', 'RESIDENCE_PERMIT']);
    const provided = computeRequirements(
      individual({ documents: [doc('PASSPORT'), doc('BANK_STATEMENT')] }),
      'STANDARD',
    );
    expect(submitBlockers(provided.currentlyDue)).toEqual([]);
  });

  it('an expired, rejected or infected document is an error and leaves the requirement due', () => {
    const result = computeRequirements(
      individual({
        documents: [
          doc('PASSPORT', { expiresAt: '2026-11-30' }),
          doc('PROOF_OF_ADDRESS', { status: 'REJECTED' }),
          doc('BANK_STATEMENT', { documentId: 'doc_bank', scanStatus: 'INFECTED' }),
        ],
      }),
      'STANDARD',
    );
    expect(ids(submitBlockers(result.currentlyDue))).toEqual([
      'document.IDENTITY',
      'document.PROOF_OF_ADDRESS',
    ]);
    expect(result.errors.map((error) => [error.requirement, error.code, error.documentId])).toEqual([
      ['document.IDENTITY', 'document_expired', 'doc_PASSPORT'],
      ['document.PROOF_OF_ADDRESS', 'document_rejected', 'doc_PROOF_OF_ADDRESS'],
    ]);
  });

  it('a usable document beats an unusable one of the same requirement; a scan in progress is pending', () => {
    const result = computeRequirements(
      individual({
        documents: [
          doc('PASSPORT', { status: 'EXPIRED' }),
          doc('NATIONAL_ID'),
          doc('PROOF_OF_ADDRESS', { scanStatus: 'PENDING' }),
        ],
      }),
      'STANDARD',
    );
    expect(result.errors).toEqual([]);
    expect(submitBlockers(result.currentlyDue)).toEqual([]);
    expect(result.pendingVerification).toEqual([
      { requirement: 'document.PROOF_OF_ADDRESS', subject: 'cus_a', documentId: 'doc_PROOF_OF_ADDRESS' },
    ]);
    expect(result.status).toBe('PENDING_VERIFICATION');
  });

  it('ENHANCED adds the source of funds, as a field and a document', () => {
    const result = computeRequirements(
      individual({ documents: [doc('PASSPORT'), doc('PROOF_OF_ADDRESS')] }),
      'ENHANCED',
    );
    expect(ids(submitBlockers(result.currentlyDue))).toEqual([
      'profile.sourceOfFunds',
      'document.SOURCE_OF_FUNDS',
    ]);
    expect(result.eventuallyDue).toEqual([]);
  });

  it('an open verification makes screening pending; an approved one clears it and satisfies the level', () => {
    const open = computeRequirements(
      individual({ verifications: [{ level: 'BASIC', status: 'IN_PROGRESS', expiresAt: null, errors: [] }] }),
      'BASIC',
    );
    expect(open.status).toBe('PENDING_VERIFICATION');
    expect(ids(open.pendingVerification)).toEqual(['screening.sanctions', 'screening.pep']);
    const approved = computeRequirements(
      individual({
        screening: { cus_a: 'CLEARED' },
        verifications: [
          { level: 'BASIC', status: 'APPROVED', expiresAt: '2027-12-01T00:00:00.000Z', errors: [] },
        ],
      }),
      'BASIC',
    );
    expect(approved.status).toBe('SATISFIED');
    expect(approved.currentlyDue).toEqual([]);
  });

  it('an expired approval no longer satisfies the level', () => {
    const result = computeRequirements(
      individual({
        verifications: [
          { level: 'STANDARD', status: 'APPROVED', expiresAt: '2026-11-01T00:00:00.000Z', errors: [] },
        ],
      }),
      'BASIC',
    );
    expect(result.status).toBe('READY_TO_SUBMIT');
  });

  it('reasons of an ADDITIONAL_INFO_REQUIRED attempt are errors of that level', () => {
    const error = {
      requirement: 'document.IDENTITY',
      code: 'document_unreadable',
      subject: 'cus_a',
      reason: 'Blurred',
    };
    const result = computeRequirements(
      individual({
        verifications: [
          { level: 'STANDARD', status: 'ADDITIONAL_INFO_REQUIRED', expiresAt: null, errors: [error] },
        ],
      }),
      'STANDARD',
    );
    expect(result.errors).toEqual([error]);
    expect(computeRequirements(individual(), 'BASIC').errors).toEqual([]);
  });
});

describe('computeRequirements for businesses (KYB)', () => {
  const director = { id: 'per_dir', kind: 'DIRECTOR' as const };

  it('needs at least one director and shareholdings of exactly 100 %, in basis points', () => {
    const none = computeRequirements(business(), 'BASIC');
    expect(ids(submitBlockers(none.currentlyDue))).toEqual([
      'personnel.directors.minimum_one',
      'personnel.shareholders.total_100',
    ]);
    const sixty = computeRequirements(
      business({
        people: [
          director,
          { id: 'per_sh', kind: 'SHAREHOLDER', shareholderType: 'INDIVIDUAL', basisPoints: 6_000 },
        ],
      }),
      'BASIC',
    );
    expect(submitBlockers(sixty.currentlyDue)).toEqual([
      expect.objectContaining({
        requirement: 'personnel.shareholders.total_100',
        detail: 'shareholdings total 60 %',
      }),
    ]);
    // 99.99 % + 0.01 % in floating point is not 100; in basis points it is exactly 10 000.
    const exact = computeRequirements(
      business({
        people: [
          director,
          { id: 'per_a', kind: 'SHAREHOLDER', shareholderType: 'INDIVIDUAL', basisPoints: 9_999 },
          { id: 'per_b', kind: 'SHAREHOLDER', shareholderType: 'INDIVIDUAL', basisPoints: 1 },
        ],
      }),
      'BASIC',
    );
    expect(submitBlockers(exact.currentlyDue)).toEqual([]);
  });

  it('screens every director and every UBO (≥ 25 %), each as its own subject', () => {
    const result = computeRequirements(
      business({
        people: [
          director,
          { id: 'per_ubo', kind: 'SHAREHOLDER', shareholderType: 'INDIVIDUAL', basisPoints: 2_500 },
          { id: 'per_corp', kind: 'SHAREHOLDER', shareholderType: 'CORPORATE', basisPoints: 5_100 },
          { id: 'per_small', kind: 'SHAREHOLDER', shareholderType: 'INDIVIDUAL', basisPoints: 2_400 },
        ],
        screening: { per_dir: 'CLEARED' },
      }),
      'BASIC',
    );
    const screening = result.currentlyDue.filter((entry) => entry.kind === 'SCREENING');
    expect(screening.map((entry) => [entry.requirement, entry.subject])).toEqual([
      ['screening.sanctions', 'cus_b'],
      ['screening.business_registry', 'cus_b'],
      ['person.per_ubo.screening', 'per_ubo'],
      ['person.per_corp.screening', 'per_corp'],
    ]);
  });

  it('STANDARD and ENHANCED add the company documents and the UBO declaration', () => {
    const result = computeRequirements(business({ people: [director] }), 'ENHANCED');
    expect(ids(result.currentlyDue.filter((entry) => entry.kind === 'DOCUMENT'))).toEqual([
      'document.CERTIFICATE_OF_INCORPORATION',
      'document.PROOF_OF_ADDRESS',
      'document.SOURCE_OF_FUNDS',
      'document.BENEFICIAL_OWNERSHIP_DECLARATION',
    ]);
  });
});

describe('activationReadiness', () => {
  it('needs an approved, unexpired verification of the required level and the required consents', () => {
    expect(activationReadiness(individual({ consentsInForce: [] }), 'BASIC')).toEqual({
      ready: false,
      requiredLevel: 'BASIC',
      missing: [
        expect.objectContaining({ requirement: 'verification.BASIC', kind: 'VERIFICATION' }),
        expect.objectContaining({ requirement: 'consent.TERMS_AND_CONDITIONS' }),
        expect.objectContaining({ requirement: 'consent.PRIVACY_POLICY' }),
      ],
    });
    const approvedBasic = individual({
      verifications: [{ level: 'BASIC', status: 'APPROVED', expiresAt: null, errors: [] }],
    });
    expect(activationReadiness(approvedBasic, 'BASIC').ready).toBe(true);
    expect(activationReadiness(approvedBasic, 'STANDARD').missing.map((entry) => entry.requirement)).toEqual([
      'verification.STANDARD',
    ]);
  });
});

describe('documentsReliedOn', () => {
  const documents = [
    doc('PASSPORT', { documentId: 'doc_new_passport' }),
    doc('PASSPORT', { documentId: 'doc_old_passport' }),
    doc('NATIONAL_ID', { documentId: 'doc_expired_id', expiresAt: '2026-01-01' }),
    doc('BANK_STATEMENT', { scanStatus: 'PENDING' }),
    doc('SELFIE'),
  ];

  it('names, per document requirement of the level, the first document that satisfies it, scanned or being scanned', () => {
    expect(documentsReliedOn(individual({ documents }), 'STANDARD')).toEqual([
      'doc_new_passport',
      'doc_BANK_STATEMENT',
    ]);
  });

  it('names a document that satisfies two requirements once, and none for BASIC', () => {
    expect(documentsReliedOn(individual({ documents }), 'ENHANCED')).toEqual([
      'doc_new_passport',
      'doc_BANK_STATEMENT',
    ]);
    expect(documentsReliedOn(individual({ documents }), 'BASIC')).toEqual([]);
  });

  it('names no unusable document', () => {
    expect(
      documentsReliedOn(individual({ documents: [doc('PASSPORT', { status: 'REJECTED' })] }), 'STANDARD'),
    ).toEqual([]);
  });
});
