import { describe, expect, it } from 'vitest';
import { fixture, runScan, uploadDocument } from '../helpers/documents';
import {
  createOrganization,
  createStaff,
  createTenant,
  directorInput,
  individualInput,
  type TestTenant,
} from '../helpers/factories';
import { call } from '../helpers/http';
import { awaitNotification } from '../helpers/outbox';
import { expectProblem } from '../helpers/problems';
import {
  confirmEmail,
  settledStatus,
  submitVerification as submit,
  verifiableCustomer,
} from '../helpers/verifications';

type Requirements = {
  status: string;
  currentlyDue: { requirement: string; kind: string; subject: string; detail?: string }[];
  eventuallyDue: { requirement: string }[];
};

function requirements(tenant: TestTenant, token: string, customerId: string, level: string) {
  return call<Requirements>('GET', `/customers/${customerId}/verification-requirements?level=${level}`, {
    tenant: tenant.id,
    token,
  });
}

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

/** Uploads a document of `documentType` and runs its malware scan, so it is usable. */
async function scannedDocument(
  tenant: TestTenant,
  token: string,
  customerId: string,
  documentType: string,
  fields: Record<string, string> = {},
) {
  const id = await uploadDocument(tenant, token, customerId, {
    bytes: fixture(documentType === 'PASSPORT' ? 'valid.pdf' : 'valid.png'),
    fileType: documentType === 'PASSPORT' ? 'application/pdf' : 'image/png',
    fields: { documentType, ...fields },
  });
  await runScan(tenant, id);
  return id;
}

function deleteDocument(tenant: TestTenant, token: string, documentId: string) {
  return call('DELETE', `/documents/${documentId}`, { tenant: tenant.id, token });
}

async function addPerson(
  tenant: TestTenant,
  token: string,
  organizationId: string,
  kind: 'directors' | 'shareholders',
  body: Record<string, unknown>,
) {
  const response = await call<{ id: string }>('POST', `/organizations/${organizationId}/${kind}`, {
    tenant: tenant.id,
    token,
    body,
  });
  expect(response.status, response.text).toBe(201);
  return response.body.id;
}

function shareholder(lastName: string, ownershipPercentage: number) {
  return { type: 'INDIVIDUAL', firstName: 'Ada', lastName, isPep: false, ownershipPercentage };
}

const corporateShareholder = (ownershipPercentage: number) => ({
  type: 'CORPORATE',
  legalName: 'Babbage Holdings plc',
  incorporationCountry: 'GB',
  ownershipPercentage,
});

describe('B2C STANDARD: register → confirm email → upload ID and proof of address → APPROVED → ACTIVE', () => {
  it('goes through with the real consumers; the documents it relied on cannot be deleted, others can', async () => {
    const tenant = await createTenant();
    const input = individualInput();
    const registered = await call<{ id: string; userId: string }>('POST', '/individuals', {
      tenant: tenant.id,
      body: input,
    });
    expect(registered.status, registered.text).toBe(201);
    const customerId = registered.body.id;
    const login = await call<{ accessToken: string }>('POST', '/auth/login', {
      tenant: tenant.id,
      body: { email: input.email, password: input.password },
    });
    const token = login.body.accessToken;
    const as = { tenant: tenant.id, token };
    expect(
      (await call('POST', '/registration/email-verification', { ...as, body: { customerId } })).status,
    ).toBe(202);
    const { code } = await awaitNotification(tenant, registered.body.userId, 1, 'code');
    const confirmed = await call('POST', '/registration/email-verification/confirm', {
      ...as,
      body: { customerId, code },
    });
    expect(confirmed.body).toMatchObject({ status: 'REGISTERED', emailVerified: true });

    const due = await requirements(tenant, token, customerId, 'STANDARD');
    expect(due.body.status).toBe('REQUIREMENTS_DUE');
    expect(due.body.currentlyDue.map((entry) => entry.requirement)).toEqual(
      expect.arrayContaining(['document.IDENTITY', 'document.PROOF_OF_ADDRESS']),
    );

    const passportExpiry = inDays(200);
    const passport = await scannedDocument(tenant, token, customerId, 'PASSPORT', {
      expiresAt: passportExpiry,
    });
    const proofOfAddress = await scannedDocument(tenant, token, customerId, 'PROOF_OF_ADDRESS');
    const selfie = await scannedDocument(tenant, token, customerId, 'SELFIE');
    expect((await requirements(tenant, token, customerId, 'STANDARD')).body.status).toBe('READY_TO_SUBMIT');

    const submitted = await submit(tenant, token, customerId, 'STANDARD');
    expect(submitted.status, submitted.text).toBe(202);
    const approved = await settledStatus(tenant, token, submitted.body.id, 'APPROVED');
    expect(approved.checks.map((check) => [check.type, check.status]).sort()).toEqual([
      ['ADDRESS', 'PASSED'],
      ['DOCUMENT', 'PASSED'],
      ['IDENTITY', 'PASSED'],
      ['PEP', 'PASSED'],
      ['SANCTIONS', 'PASSED'],
    ]);
    // The identity document it relied on expires before the review interval ends.
    expect(approved.expiresAt?.slice(0, 10)).toBe(passportExpiry);

    const activated = await call('POST', `/customers/${customerId}/activation`, as);
    expect(activated.status, activated.text).toBe(200);
    expect(activated.body).toEqual({ customerId, status: 'ACTIVE' });

    expectProblem(await deleteDocument(tenant, token, passport), 409, 'document_in_use');
    expectProblem(await deleteDocument(tenant, token, proofOfAddress), 409, 'document_in_use');
    expect((await deleteDocument(tenant, token, selfie)).status).toBe(204);
  });

  it('an IN_PROGRESS verification holds its documents; a re-submission relies on the corrected upload', async () => {
    const tenant = await createTenant();
    const pending = await verifiableCustomer(tenant, { lastName: 'Pending' });
    const identity = await scannedDocument(tenant, pending.token, pending.customerId, 'PASSPORT');
    await scannedDocument(tenant, pending.token, pending.customerId, 'PROOF_OF_ADDRESS');
    const started = await submit(tenant, pending.token, pending.customerId, 'STANDARD');
    await settledStatus(tenant, pending.token, started.body.id, 'IN_PROGRESS');
    expectProblem(await deleteDocument(tenant, pending.token, identity), 409, 'document_in_use');

    const resubmit = await verifiableCustomer(tenant, { lastName: 'Resubmit' });
    const unreadable = await scannedDocument(tenant, resubmit.token, resubmit.customerId, 'PASSPORT');
    await scannedDocument(tenant, resubmit.token, resubmit.customerId, 'PROOF_OF_ADDRESS');
    const first = await submit(tenant, resubmit.token, resubmit.customerId, 'STANDARD');
    await settledStatus(tenant, resubmit.token, first.body.id, 'ADDITIONAL_INFO_REQUIRED');
    const sharper = await uploadDocument(tenant, resubmit.token, resubmit.customerId, {
      bytes: fixture('valid.jpg'),
      fileType: 'image/jpeg',
      fields: { documentType: 'PASSPORT' },
    });
    await runScan(tenant, sharper);
    const second = await submit(tenant, resubmit.token, resubmit.customerId, 'STANDARD');
    expect(second.status, second.text).toBe(202);
    expect(second.body).toMatchObject({ id: first.body.id, attempt: 2 });
    expect((await deleteDocument(tenant, resubmit.token, unreadable)).status).toBe(204);
    expectProblem(await deleteDocument(tenant, resubmit.token, sharper), 409, 'document_in_use');
  });
});

describe('ENHANCED', () => {
  it('asks an individual for its source of funds, declared and evidenced, and always has a reviewer', async () => {
    const tenant = await createTenant();
    const customer = await verifiableCustomer(tenant);
    await scannedDocument(tenant, customer.token, customer.customerId, 'PASSPORT');
    await scannedDocument(tenant, customer.token, customer.customerId, 'PROOF_OF_ADDRESS');
    const due = await requirements(tenant, customer.token, customer.customerId, 'ENHANCED');
    expect(due.body.currentlyDue.map((entry) => entry.requirement)).toEqual([
      'screening.sanctions',
      'screening.pep',
      'profile.sourceOfFunds',
      'document.SOURCE_OF_FUNDS',
    ]);
    const refused = await submit(tenant, customer.token, customer.customerId, 'ENHANCED');
    expectProblem(refused, 422, 'requirements_not_met');
    expect(refused.body).toMatchObject({
      missing: [
        { requirement: 'profile.sourceOfFunds', kind: 'PROFILE_FIELD' },
        { requirement: 'document.SOURCE_OF_FUNDS', kind: 'DOCUMENT' },
      ],
    });

    const patched = await call('PATCH', `/customers/${customer.customerId}`, {
      tenant: tenant.id,
      token: customer.token,
      body: { sourceOfFunds: 'Salary' },
    });
    expect(patched.status, patched.text).toBe(200);
    const evidence = await scannedDocument(tenant, customer.token, customer.customerId, 'SOURCE_OF_FUNDS');
    const submitted = await submit(tenant, customer.token, customer.customerId, 'ENHANCED');
    expect(submitted.status, submitted.text).toBe(202);
    // Why it awaits a reviewer is for the bank's staff: the customer sees no review notes.
    const reviewer = await createStaff(tenant, 'COMPLIANCE_OFFICER');
    const review = await settledStatus(tenant, reviewer.token, submitted.body.id, 'MANUAL_REVIEW');
    expect(review).toMatchObject({ approvalsRequired: 2, reviewReason: 'review required by policy' });
    expectProblem(await deleteDocument(tenant, customer.token, evidence), 409, 'document_in_use');
  });

  it('asks a business for its source of funds and a beneficial-ownership declaration', async () => {
    const tenant = await createTenant();
    const organization = await createOrganization(tenant);
    const due = await requirements(tenant, organization.token, organization.customerId, 'ENHANCED');
    expect(due.status, due.text).toBe(200);
    expect(due.body.currentlyDue.map((entry) => entry.requirement)).toEqual(
      expect.arrayContaining(['document.SOURCE_OF_FUNDS', 'document.BENEFICIAL_OWNERSHIP_DECLARATION']),
    );
    const basic = await requirements(tenant, organization.token, organization.customerId, 'BASIC');
    expect(basic.body.eventuallyDue.map((entry) => entry.requirement)).toEqual(
      expect.arrayContaining(['document.SOURCE_OF_FUNDS', 'document.BENEFICIAL_OWNERSHIP_DECLARATION']),
    );
  });
});

describe('KYB', () => {
  it('60 % of shareholdings is a shortfall the requirements show and the submit refuses; at 100 % every director and UBO is screened', async () => {
    const tenant = await createTenant();
    const organization = await createOrganization(tenant);
    const id = organization.customerId;
    await confirmEmail(tenant, id);
    const charles = await addPerson(tenant, organization.token, id, 'directors', directorInput());
    const majority = await addPerson(tenant, organization.token, id, 'shareholders', shareholder('King', 60));

    const short = await requirements(tenant, organization.token, id, 'BASIC');
    expect(short.body.status).toBe('REQUIREMENTS_DUE');
    expect(short.body.currentlyDue).toContainEqual(
      expect.objectContaining({
        requirement: 'personnel.shareholders.total_100',
        kind: 'PERSONNEL',
        subject: id,
        detail: 'shareholdings total 60 %',
      }),
    );
    const refused = await submit(tenant, organization.token, id, 'BASIC');
    expectProblem(refused, 422, 'requirements_not_met');
    expect(refused.body).toMatchObject({
      missing: [{ requirement: 'personnel.shareholders.total_100', kind: 'PERSONNEL', subject: id }],
    });

    const corporate = await addPerson(
      tenant,
      organization.token,
      id,
      'shareholders',
      corporateShareholder(30),
    );
    const minority = await addPerson(
      tenant,
      organization.token,
      id,
      'shareholders',
      shareholder('Lovelace', 10),
    );
    const full = await requirements(tenant, organization.token, id, 'BASIC');
    expect(full.body.status).toBe('READY_TO_SUBMIT');
    expect(full.body.currentlyDue.map((entry) => entry.requirement).sort()).toEqual(
      [
        'screening.business_registry',
        'screening.sanctions',
        `person.${charles}.screening`,
        `person.${majority}.screening`,
        `person.${corporate}.screening`,
      ].sort(),
    );

    const submitted = await submit(tenant, organization.token, id, 'BASIC');
    expect(submitted.status, submitted.text).toBe(202);
    const approved = await settledStatus(tenant, organization.token, submitted.body.id, 'APPROVED');
    const screened = approved.checks
      .filter((check) => check.type === 'SANCTIONS')
      .map((check) => check.subject);
    expect(screened.sort()).toEqual([id, charles, majority, corporate].sort());
    expect(screened).not.toContain(minority);
    // People are screened against the PEP list too; a company is not a person.
    expect(
      approved.checks
        .filter((check) => check.type === 'PEP')
        .map((check) => check.subject)
        .sort(),
    ).toEqual([charles, majority].sort());
    expect(approved.checks.map((check) => check.type)).toEqual(
      expect.arrayContaining(['BUSINESS_REGISTRY', 'UBO']),
    );
    expect((await requirements(tenant, organization.token, id, 'BASIC')).body).toMatchObject({
      status: 'SATISFIED',
      currentlyDue: [],
    });
  });

  it('a PEP director: the hit is disposed by a second reviewer, never by the submitter or the organization', async () => {
    const tenant = await createTenant();
    const organization = await createOrganization(tenant);
    const id = organization.customerId;
    await confirmEmail(tenant, id);
    const petra = await addPerson(
      tenant,
      organization.token,
      id,
      'directors',
      directorInput({ firstName: 'Petra', lastName: 'Politika' }),
    );
    await addPerson(tenant, organization.token, id, 'shareholders', corporateShareholder(100));
    const submitter = await createStaff(tenant, 'TENANT_ADMIN');
    const submitted = await submit(tenant, submitter.token, id, 'BASIC');
    expect(submitted.status, submitted.text).toBe(202);
    const review = await settledStatus(tenant, submitter.token, submitted.body.id, 'MANUAL_REVIEW');
    expect(review.checks).toContainEqual(
      expect.objectContaining({ type: 'PEP', subject: petra, status: 'NEEDS_REVIEW' }),
    );
    expect(review.hits).toEqual([
      expect.objectContaining({ subject: petra, listEntryId: 'fsl-101', disposition: 'OPEN' }),
    ]);
    const hitId = review.hits[0]?.id as string;
    const decide = (token: string, body: Record<string, unknown>) =>
      call('POST', `/verifications/${submitted.body.id}/decision`, { tenant: tenant.id, token, body });
    const disposed = {
      decision: 'APPROVE',
      reason: 'Domestic PEP; enhanced due diligence on file, risk accepted.',
      hitDispositions: [
        { hitId, disposition: 'TRUE_POSITIVE', note: 'Same person: confirmed by the director.' },
      ],
    };
    // The submitter holds kyc:review (TENANT_ADMIN) and is still refused: four eyes.
    expectProblem(await decide(submitter.token, disposed), 403, 'four_eyes_violation');
    expect((await decide(organization.token, disposed)).status).toBe(403);
    const reviewer = await createStaff(tenant, 'COMPLIANCE_OFFICER');
    expectProblem(await decide(reviewer.token, { decision: 'APPROVE', reason: 'ok' }), 409, 'hits_open');
    const approved = await decide(reviewer.token, disposed);
    expect(approved.status, approved.text).toBe(200);
    expect(approved.body).toMatchObject({
      status: 'APPROVED',
      hits: [{ id: hitId, disposition: 'TRUE_POSITIVE', disposedBy: reviewer.id }],
      decisions: [{ decision: 'APPROVE', reviewerId: reviewer.id }],
    });
    const profile = await call<{ status: string }>('GET', `/customers/${id}`, {
      tenant: tenant.id,
      token: organization.token,
    });
    expect(profile.body.status).toBe('VERIFIED');
  });
});
