/*
 * Sample customers of the demo tenants, so list routes and the docs page show something. They are
 * made through the API by the tenant's own client, as a back office would make them, so they are
 * sealed, audited and evented like any other customer. Clearly fake: `.example` addresses
 * (RFC 2606), `Sample` names, and the +44 7911 123 4xx numbers libphonenumber's own examples use
 * (Ofcom's drama range, +44 7700 900xxx, fails the library's validity check).
 */
import type { DemoCredentials } from './demo-seed.ts';

type Status =
  | 'PENDING_EMAIL_VERIFICATION'
  | 'REGISTERED'
  | 'VERIFICATION_PENDING'
  | 'VERIFIED'
  | 'ACTIVE'
  | 'SUSPENDED'
  | 'REJECTED';

/** The status route's steps from a new customer to each status (the lifecycle of src/modules/customers). */
const pathTo: Record<Status, Status[]> = {
  PENDING_EMAIL_VERIFICATION: [],
  REGISTERED: ['REGISTERED'],
  VERIFICATION_PENDING: ['REGISTERED', 'VERIFICATION_PENDING'],
  VERIFIED: ['REGISTERED', 'VERIFICATION_PENDING', 'VERIFIED'],
  ACTIVE: ['REGISTERED', 'VERIFICATION_PENDING', 'VERIFIED', 'ACTIVE'],
  SUSPENDED: ['REGISTERED', 'VERIFICATION_PENDING', 'VERIFIED', 'ACTIVE', 'SUSPENDED'],
  REJECTED: ['REGISTERED', 'VERIFICATION_PENDING', 'REJECTED'],
};

interface SampleIndividual {
  firstName: string;
  lastName: string;
  status: Status;
  dateOfBirth: string;
  nationality: string;
}

export const sampleIndividuals: SampleIndividual[] = [
  {
    firstName: 'Sample',
    lastName: 'Pending',
    status: 'PENDING_EMAIL_VERIFICATION',
    dateOfBirth: '1991-04-02',
    nationality: 'GB',
  },
  {
    firstName: 'Sample',
    lastName: 'Registered',
    status: 'REGISTERED',
    dateOfBirth: '1985-09-17',
    nationality: 'IE',
  },
  {
    firstName: 'Sample',
    lastName: 'Reviewing',
    status: 'VERIFICATION_PENDING',
    dateOfBirth: '1979-01-30',
    nationality: 'FR',
  },
  { firstName: 'Sample', lastName: 'Active', status: 'ACTIVE', dateOfBirth: '1994-06-11', nationality: 'DE' },
  {
    firstName: 'Sample',
    lastName: 'Suspended',
    status: 'SUSPENDED',
    dateOfBirth: '1968-12-03',
    nationality: 'NL',
  },
  {
    firstName: 'Sample',
    lastName: 'Rejected',
    status: 'REJECTED',
    dateOfBirth: '2000-02-29',
    nationality: 'ES',
  },
];

export function sampleEmail(tenantId: string, individual: SampleIndividual): string {
  return `${individual.lastName.toLowerCase()}.customer@${tenantId}.example`;
}

/** The answer of one API call: status and parsed JSON body. */
export type Api = (
  method: string,
  path: string,
  options: { token?: string; body?: unknown },
) => Promise<{ status: number; body: unknown }>;

function expectStatus(answer: { status: number; body: unknown }, expected: number, what: string): void {
  if (answer.status !== expected) {
    throw new Error(`${what}: expected ${expected}, got ${answer.status} ${JSON.stringify(answer.body)}`);
  }
}

/**
 * Makes the tenant's sample customers that are missing (looked up by email), each moved to its
 * status. Resolves with how many were made; 0 when all were there already.
 */
export async function seedSampleCustomers(api: Api, tenant: DemoCredentials, token: string): Promise<number> {
  let made = 0;
  for (const [index, individual] of sampleIndividuals.entries()) {
    const email = sampleEmail(tenant.id, individual);
    const existing = await api('GET', `/customers?email=${encodeURIComponent(email)}`, { token });
    expectStatus(existing, 200, `GET /customers?email=${email}`);
    if (((existing.body as { data?: unknown[] }).data ?? []).length > 0) continue;
    const created = await api('POST', '/individuals', {
      token,
      body: {
        email,
        // Never used to log in: the login exists because registration always makes one.
        password: `sample-${crypto.randomUUID()}`,
        firstName: individual.firstName,
        lastName: individual.lastName,
        dateOfBirth: individual.dateOfBirth,
        nationality: individual.nationality,
        phone: `+4479111234${String(index).padStart(2, '0')}`,
        address: {
          line1: `${index + 1} Sample Street`,
          city: 'Exampleton',
          postalCode: 'EX1 1AA',
          country: 'GB',
        },
        consents: { termsAndConditions: true, privacyPolicy: true },
      },
    });
    expectStatus(created, 201, `POST /individuals ${email}`);
    const { id } = created.body as { id: string };
    for (const status of pathTo[individual.status]) {
      const changed = await api('PUT', `/customers/${id}/status`, {
        token,
        body: { status, reason: 'Sample data seeded by npm start' },
      });
      expectStatus(changed, 200, `PUT /customers/${id}/status ${status}`);
    }
    made += 1;
  }
  return made;
}
