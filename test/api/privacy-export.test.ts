import { env } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditEvents, recoveryCodes, users } from '../../src/db/tenant';
import { REDACTED } from '../../src/platform/events';
import {
  createApiClient,
  createCustomer,
  createOrganization,
  createStaff,
  createTenant,
  database,
  insertCustomerLogin,
  logIn,
  randomIp,
  staleAccessToken,
  type TestStaff,
  type TestTenant,
  unique,
} from '../helpers/factories';
import { call } from '../helpers/http';
import { expectProblem } from '../helpers/problems';
import { enrolTotp } from '../helpers/second-factors';
import { settledStatus, submitVerification as submit, verifiableCustomer } from '../helpers/verifications';

interface CustomerExport {
  exportedAt: string;
  customer: { id: string; email: string };
  logins: Record<string, unknown>[];
  consents: { type: string; status: string; ip: string | null; userAgent: string | null }[];
  sessions: { id: string; userId: string; revokedAt: string | null }[];
  secondFactors: {
    userId: string;
    totpEnrolledAt: string | null;
    totpEnrolmentStartedAt: string | null;
    unusedRecoveryCodes: number;
    passkeys: unknown[];
  }[];
  contactVerifications: { contact: string }[];
  oauthGrants: unknown[];
  auditEvents: {
    action: string;
    actorType: string;
    actorId: string | null;
    targetId: string;
    ip: string | null;
    data: Record<string, unknown>;
  }[];
  events: { type: string; data: Record<string, unknown> }[];
  organizationPeople: unknown[];
  documents: unknown[];
  beneficiaries: unknown[];
  verifications: Verification[];
  truncated: string[];
}

interface Verification {
  id: string;
  attempt: number;
  status: string;
  reviewReason: string | null;
  checks: { attempt: number; type: string }[];
  hits: { attempt: number; disposition: string; disposedBy: string | null; note: string | null }[];
  decisions: { attempt: number; decision: string; reviewerId: string | null; reason: string | null }[];
}

function exportOf(tenant: TestTenant, customerId: string, token: string) {
  return call<CustomerExport>('GET', `/customers/${customerId}/export`, { tenant: tenant.id, token });
}

const STAFF_IP = '198.51.100.23';
const STAFF_USER_AGENT = 'BackOfficeDesk/7.2';

interface StaffTraces {
  officer: TestStaff;
  agent: TestStaff;
  reason: string;
}

/**
 * What the bank does on a customer behind its back: a compliance officer places a legal hold, and
 * a support agent records a consent and changes the customer from a desk of its own.
 */
async function workOnCustomerBehindItsBack(
  tenant: TestTenant,
  customerId: string,
  edit: (asAgent: { tenant: string; token: string; headers: Record<string, string> }) => Promise<number>,
): Promise<StaffTraces> {
  const officer = await createStaff(tenant, 'COMPLIANCE_OFFICER');
  const agent = await createStaff(tenant, 'SUPPORT_AGENT');
  const reason = `AML investigation ${unique('case')}`;
  const hold = await call('PUT', `/customers/${customerId}/legal-hold`, {
    tenant: tenant.id,
    token: officer.token,
    body: { reason },
    headers: { 'CF-Connecting-IP': STAFF_IP, 'User-Agent': STAFF_USER_AGENT },
  });
  expect(hold.status, hold.text).toBe(200);
  const asAgent = {
    tenant: tenant.id,
    token: agent.token,
    headers: { 'CF-Connecting-IP': STAFF_IP, 'User-Agent': STAFF_USER_AGENT },
  };
  const consent = await call('POST', `/customers/${customerId}/consents`, {
    ...asAgent,
    body: { type: 'MARKETING', version: '3.0' },
  });
  expect(consent.status, consent.text).toBe(201);
  expect(await edit(asAgent)).toBeLessThan(300);
  return { officer, agent, reason };
}

/** Searches the whole serialised answer, so a trace left in any section or field fails. */
function expectNoInternalTraces(text: string, traces: StaffTraces) {
  for (const trace of [
    traces.reason,
    'legal_hold',
    'legalHold',
    traces.officer.id,
    traces.agent.id,
    STAFF_IP,
    STAFF_USER_AGENT,
  ]) {
    expect(text).not.toContain(trace);
  }
}

describe('GET /customers/{customerId}/export', () => {
  it('gives a customer everything held on it, without a single secret, and audits the export', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const second = await logIn(tenant, customer.email, customer.password);
    const granted = await call('POST', `/customers/${customer.customerId}/consents`, {
      tenant: tenant.id,
      token: customer.accessToken,
      body: { type: 'MARKETING', version: '2.1' },
    });
    expect(granted.status, granted.text).toBe(201);
    const totp = await enrolTotp(tenant, customer);

    const response = await exportOf(tenant, customer.customerId, customer.accessToken);
    expect(response.status, response.text).toBe(200);
    expect(response.headers.get('Cache-Control')).toBe('no-store');
    const body = response.body;
    expect(body.customer).toMatchObject({ id: customer.customerId, email: customer.email });
    expect(body.logins).toEqual([
      expect.objectContaining({
        id: customer.id,
        email: customer.email,
        status: 'ACTIVE',
        passwordChangedAt: null,
      }),
    ]);
    expect(body.consents.map((consent) => [consent.type, consent.status]).sort()).toEqual([
      ['MARKETING', 'GRANTED'],
      ['PRIVACY_POLICY', 'GRANTED'],
      ['TERMS_AND_CONDITIONS', 'GRANTED'],
    ]);
    expect(body.sessions.map((session) => session.id)).toEqual(
      expect.arrayContaining([customer.sessionId, second.sessionId]),
    );
    expect(body.sessions.every((session) => session.userId === customer.id)).toBe(true);
    expect(body.secondFactors).toEqual([
      {
        userId: customer.id,
        totpEnrolledAt: expect.any(String),
        totpEnrolmentStartedAt: null,
        unusedRecoveryCodes: 10,
        passkeys: [],
      },
    ]);
    const actions = body.auditEvents.map((entry) => entry.action);
    expect(actions).toEqual(expect.arrayContaining(['consent.granted', 'mfa.enrolled']));
    expect(
      body.auditEvents.every(
        (entry) =>
          [customer.customerId, customer.id].includes(entry.targetId) || entry.actorId === customer.id,
      ),
    ).toBe(true);
    expect(body.events.map((event) => event.type)).toEqual(expect.arrayContaining(['consent.granted']));
    for (const event of body.events.filter((event) => event.type === 'notification.requested')) {
      for (const field of ['token', 'code'])
        if (field in event.data) expect(event.data[field]).toBe(REDACTED);
    }
    expect(body).toMatchObject({ organizationPeople: [], documents: [], beneficiaries: [], truncated: [] });

    const db = database(tenant);
    const login = await db.select().from(users).where(eq(users.id, customer.id)).get();
    const digests = await db.select().from(recoveryCodes).where(eq(recoveryCodes.userId, customer.id));
    expect(digests).toHaveLength(10);
    const secrets = [
      login?.passwordHash,
      totp.secret,
      ...totp.recoveryCodes,
      ...digests.map((row) => row.codeDigest),
      customer.refreshToken,
      second.refreshToken,
      customer.accessToken,
      customer.password,
    ];
    for (const secret of secrets) {
      expect(secret).toBeTruthy();
      expect(response.text).not.toContain(secret as string);
    }

    const exported = await db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.tenantId, tenant.id), eq(auditEvents.action, 'customer.exported')));
    expect(exported).toEqual([
      expect.objectContaining({
        actorId: customer.id,
        targetType: 'customer',
        targetId: customer.customerId,
      }),
    ]);
    // The next export shows the subject who has seen its data.
    const again = await exportOf(tenant, customer.customerId, customer.accessToken);
    expect(again.body.auditEvents.map((entry) => entry.action)).toContain('customer.exported');
  });

  it('exports an organization with more logins than one statement may name', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const organization = await createOrganization(tenant);
    const logins = await Promise.all(
      Array.from({ length: 120 }, () =>
        insertCustomerLogin(tenant, organization.customerId, {
          email: `${unique('employee')}@example.com`,
          displayName: 'Employee',
        }),
      ),
    );
    const response = await call<{ logins: { id: string }[]; secondFactors: { userId: string }[] }>(
      'GET',
      `/customers/${organization.customerId}/export`,
      { tenant: tenant.id, token: staff.token },
    );
    expect(response.status, response.text).toBe(200);
    expect(response.body.logins.map((login) => login.id)).toEqual(expect.arrayContaining(logins));
    expect(response.body.secondFactors).toHaveLength(response.body.logins.length);
  });

  it('answers 404 to a customer asking for another customer', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const other = await createCustomer(tenant);
    const response = await exportOf(tenant, other.customerId, customer.accessToken);
    expectProblem(response, 404, 'not_found');
    expect(response.text).not.toContain(other.email);
  });

  it('serves staff with customers:read and refuses staff without it', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const reader = await createStaff(tenant, { permissions: ['customers:read'] });
    const response = await exportOf(tenant, customer.customerId, reader.token);
    expect(response.status, response.text).toBe(200);
    expect(response.body.customer.id).toBe(customer.customerId);
    // Logins of other customers and of staff stay out.
    expect(response.body.logins.map((login) => login.id)).toEqual([customer.id]);
    expect(response.body.auditEvents.some((entry) => entry.actorId === reader.id)).toBe(false);
    const exported = await database(tenant)
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.tenantId, tenant.id), eq(auditEvents.action, 'customer.exported')));
    expect(exported).toEqual([
      expect.objectContaining({ actorId: reader.id, targetId: customer.customerId }),
    ]);

    const outsider = await createStaff(tenant, { permissions: [] });
    expectProblem(await exportOf(tenant, customer.customerId, outsider.token), 403, 'forbidden');
  });

  it('needs a recent authentication from users, customer or staff; API clients are not asked for one', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const reader = await createStaff(tenant, { permissions: ['customers:read'] });
    for (const user of [customer, reader]) {
      const stale = await staleAccessToken(tenant, user);
      const refused = await exportOf(tenant, customer.customerId, stale);
      expectProblem(refused, 401, 'step_up_required');
      expect(refused.text).not.toContain(customer.email);
      const stepped = await call<{ accessToken: string }>('POST', '/auth/step-up', {
        tenant: tenant.id,
        token: stale,
        body: { method: 'PASSWORD', password: user.password },
        headers: { 'CF-Connecting-IP': randomIp() },
      });
      expect(stepped.status, stepped.text).toBe(200);
      expect((await exportOf(tenant, customer.customerId, stepped.body.accessToken)).status).toBe(200);
    }

    const client = await createApiClient(tenant, ['customers:read']);
    const served = await exportOf(tenant, customer.customerId, client.token);
    expect(served.status, served.text).toBe(200);
    expect(served.body.customer.id).toBe(customer.customerId);
  });

  it('answers 404 for an unknown customer', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant, 'SUPPORT_AGENT');
    expectProblem(await exportOf(tenant, 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b', staff.token), 404, 'not_found');
  });

  it('names a section cut at 10,000 rows in `truncated` rather than cutting it silently', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const data = JSON.stringify({ customerId: customer.customerId, changedFields: ['phone'] });
    const now = new Date().toISOString();
    // Marked dispatched, so the outbox sweep leaves them alone.
    await (env as unknown as Record<string, D1Database>)[tenant.binding]
      ?.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10001)
         INSERT INTO events (id, tenant_id, type, data, created_at, enqueued_at, dispatched_at)
         SELECT 'evt_zz' || printf('%06d', i), ?1, 'customer.updated', ?2, ?3, ?3, ?3 FROM n`,
      )
      .bind(tenant.id, data, now)
      .run();
    const response = await exportOf(tenant, customer.customerId, customer.accessToken);
    expect(response.status, response.text.slice(0, 500)).toBe(200);
    expect(response.body.events).toHaveLength(10_000);
    expect(response.body.truncated).toEqual(['events']);
  });

  describe('what the data subject is not shown', () => {
    /** A fresh customer after `workOnCustomerBehindItsBack`, the agent's change being a PATCH of its occupation. */
    async function customerEditedBehindItsBack() {
      const tenant = await createTenant();
      const customer = await createCustomer(tenant);
      const traces = await workOnCustomerBehindItsBack(tenant, customer.customerId, async (asAgent) => {
        const edited = await call('PATCH', `/customers/${customer.customerId}`, {
          ...asAgent,
          body: { occupation: 'Astronomer' },
        });
        return edited.status;
      });
      return { tenant, customer, traces };
    }

    it('gives the customer no trace of a legal hold, and staff actions without who did them or from where', async () => {
      const { tenant, customer, traces } = await customerEditedBehindItsBack();

      const response = await exportOf(tenant, customer.customerId, customer.accessToken);
      expect(response.status, response.text).toBe(200);
      expectNoInternalTraces(response.text, traces);
      // The staff edit is there, by a user the customer is not told the name or address of.
      expect(response.body.auditEvents).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ action: 'customer.updated', actorType: 'user', actorId: null, ip: null }),
        ]),
      );
      expect(response.body.events.map((event) => event.type)).toContain('customer.updated');
      // The customer's own actions still name its login.
      const again = await exportOf(tenant, customer.customerId, customer.accessToken);
      expect(again.body.auditEvents).toContainEqual(
        expect.objectContaining({ action: 'customer.exported', actorId: customer.id }),
      );
      const marketing = response.body.consents.find((consent) => consent.type === 'MARKETING');
      expect(marketing).toMatchObject({ status: 'GRANTED', ip: null, userAgent: null });

      // Its other self-service reads hold no such trace either.
      for (const path of [
        `/customers/${customer.customerId}`,
        `/customers/${customer.customerId}/consents`,
      ]) {
        const read = await call('GET', path, { tenant: tenant.id, token: customer.accessToken });
        expect(read.status, read.text).toBe(200);
        expectNoInternalTraces(read.text, traces);
      }
    });

    it('leaves the customer’s view as it was when a hold is placed and released, `updatedAt` included', async () => {
      const tenant = await createTenant();
      const customer = await createCustomer(tenant);
      const officer = await createStaff(tenant, 'COMPLIANCE_OFFICER');
      const view = () =>
        call('GET', `/customers/${customer.customerId}`, { tenant: tenant.id, token: customer.accessToken });
      const before = await view();
      expect(before.status, before.text).toBe(200);
      const holdPath = `/customers/${customer.customerId}/legal-hold`;
      const asOfficer = { tenant: tenant.id, token: officer.token };
      for (const reason of ['AML investigation (case 1)', 'AML investigation (case 2)']) {
        expect((await call('PUT', holdPath, { ...asOfficer, body: { reason } })).status).toBe(200);
        expect((await view()).body).toEqual(before.body);
      }
      expect((await call('DELETE', holdPath, asOfficer)).status).toBe(204);
      expect((await view()).body).toEqual(before.body);
    });

    it("gives an organization's ADMIN_USER no trace of a hold on the organization, nor of staff", async () => {
      const tenant = await createTenant();
      const organization = await createOrganization(tenant);
      const traces = await workOnCustomerBehindItsBack(tenant, organization.customerId, async (asAgent) => {
        const director = await call('POST', `/organizations/${organization.customerId}/directors`, {
          ...asAgent,
          headers: { ...asAgent.headers, 'Idempotency-Key': unique('director') },
          body: { firstName: 'Charles', lastName: 'Babbage', role: 'MANAGING_DIRECTOR', isPep: false },
        });
        return director.status;
      });

      const response = await exportOf(tenant, organization.customerId, organization.accessToken);
      expect(response.status, response.text).toBe(200);
      expectNoInternalTraces(response.text, traces);
      expect(response.body.auditEvents).toContainEqual(
        expect.objectContaining({ action: 'organization.member_added', actorId: null, ip: null }),
      );
      const again = await exportOf(tenant, organization.customerId, organization.accessToken);
      expect(again.body.auditEvents).toContainEqual(
        expect.objectContaining({ action: 'customer.exported', actorId: organization.id }),
      );
    });

    it('shows staff holding customers:hold the hold, its reason and who acted from where; other staff not the hold', async () => {
      const { tenant, customer, traces } = await customerEditedBehindItsBack();

      const full = await exportOf(tenant, customer.customerId, traces.officer.token);
      expect(full.status, full.text).toBe(200);
      expect(full.body.auditEvents).toContainEqual(
        expect.objectContaining({
          action: 'customer.legal_hold_placed',
          actorId: traces.officer.id,
          ip: STAFF_IP,
          data: { reason: traces.reason },
        }),
      );
      expect(full.body.auditEvents).toContainEqual(
        expect.objectContaining({ action: 'customer.updated', actorId: traces.agent.id, ip: STAFF_IP }),
      );
      expect(full.body.events.map((event) => event.type)).toContain('customer.legal_hold_placed');

      // A support agent reads the customer but not its holds (GET /customers/{customerId}/legal-hold is 403 to it).
      const support = await exportOf(tenant, customer.customerId, traces.agent.token);
      expect(support.status, support.text).toBe(200);
      expect(support.text).not.toContain(traces.reason);
      expect(support.text).not.toContain('legal_hold');
      expect(support.body.auditEvents).toContainEqual(
        expect.objectContaining({ action: 'customer.updated', actorId: traces.agent.id, ip: STAFF_IP }),
      );
    });

    it('exports verifications with every attempt; the data subject sees them without reviewers’ notes or names', async () => {
      const tenant = await createTenant();
      const customer = await verifiableCustomer(tenant, { firstName: 'Ivan', lastName: 'Sanctionow' });
      const reviewer = await createStaff(tenant, 'COMPLIANCE_OFFICER');
      const id = (await submit(tenant, customer.token, customer.customerId)).body.id;
      const decide = async (body: Record<string, unknown>) => {
        const review = await settledStatus(tenant, customer.token, id, 'MANUAL_REVIEW');
        const hitId = review.hits.find((hit) => hit.disposition === 'OPEN')?.id;
        const decided = await call('POST', `/verifications/${id}/decision`, {
          tenant: tenant.id,
          token: reviewer.token,
          body: {
            ...body,
            hitDispositions: [{ hitId, disposition: 'FALSE_POSITIVE', note: 'Born 1990, not 1961.' }],
          },
        });
        expect(decided.status, decided.text).toBe(200);
      };
      await decide({ decision: 'REQUEST_INFO', reason: 'Ask for a second identity document.' });
      expect((await submit(tenant, customer.token, customer.customerId)).status).toBe(202);
      await decide({ decision: 'APPROVE', reason: 'Different person; the list entry is 29 years older.' });

      const asBank = await exportOf(tenant, customer.customerId, reviewer.accessToken);
      expect(asBank.status, asBank.text).toBe(200);
      const [full] = asBank.body.verifications;
      expect(full).toMatchObject({ id, attempt: 2, status: 'APPROVED' });
      expect(full?.reviewReason).toEqual(expect.any(String));
      expect(full?.checks.map((check) => check.attempt)).toEqual(expect.arrayContaining([1, 2]));
      expect(full?.hits).toEqual([
        expect.objectContaining({ attempt: 1, disposedBy: reviewer.id, note: 'Born 1990, not 1961.' }),
        expect.objectContaining({ attempt: 2, disposedBy: reviewer.id, note: 'Born 1990, not 1961.' }),
      ]);
      expect(full?.decisions).toEqual([
        expect.objectContaining({ attempt: 1, decision: 'REQUEST_INFO', reviewerId: reviewer.id }),
        expect.objectContaining({ attempt: 2, decision: 'APPROVE', reviewerId: reviewer.id }),
      ]);

      const asSubject = await exportOf(tenant, customer.customerId, customer.accessToken);
      expect(asSubject.status, asSubject.text).toBe(200);
      const [disclosed] = asSubject.body.verifications;
      expect(disclosed).toMatchObject({ id, status: 'APPROVED', reviewReason: null });
      expect(disclosed?.checks).toHaveLength(full?.checks.length ?? 0);
      expect(
        disclosed?.hits.map(({ disposition, disposedBy, note }) => ({ disposition, disposedBy, note })),
      ).toEqual([
        { disposition: 'FALSE_POSITIVE', disposedBy: null, note: null },
        { disposition: 'FALSE_POSITIVE', disposedBy: null, note: null },
      ]);
      expect(
        disclosed?.decisions.map(({ decision, reviewerId, reason }) => ({ decision, reviewerId, reason })),
      ).toEqual([
        { decision: 'REQUEST_INFO', reviewerId: null, reason: null },
        { decision: 'APPROVE', reviewerId: null, reason: null },
      ]);
      expect(asSubject.text).not.toContain('Born 1990');
      expect(asSubject.text).not.toContain(reviewer.id);
      // The verification route tells the customer no more than its export.
      const read = await call('GET', `/verifications/${id}`, { tenant: tenant.id, token: customer.token });
      expect(read.text).not.toContain('Born 1990');
      expect(read.text).not.toContain(reviewer.id);
    });
  });
});
