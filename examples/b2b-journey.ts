/*
 * README's B2B journey (SCT02) with @fincore/customer-api-client: the tenant's back end registers
 * an organization with its first admin, records a director and a 60 % corporate shareholder
 * (flagged as UBO), and reads the organization back.
 * `npm run example:b2b` runs it against `npm start`; test/scripts/sdk-examples.test.ts against the worker.
 */
import { createClient, unwrap } from '../client/index.ts';
import type { JourneyOptions } from './options.ts';

export async function b2bJourney({ log = console.log, ...connection }: JourneyOptions) {
  const api = createClient(connection);
  const suffix = crypto.randomUUID().slice(0, 8);
  const organization = unwrap(
    await api.POST('/v2/customer/organizations', {
      body: {
        legalName: `Analytical Engines ${suffix} Ltd`,
        registrationNumber: '09876543',
        legalForm: 'Private limited company',
        incorporationDate: '2015-03-02',
        incorporationCountry: 'GB',
        lei: '5493001KJTIIGC8Y1R12',
        industryCode: 'K64.19',
        email: `finance.${suffix}@analytical-engines.example`,
        phone: '+442079460000',
        registeredAddress: { line1: '1 Babbage Row', city: 'London', postalCode: 'EC1A 1BB', country: 'GB' },
        admin: {
          email: `grace.${suffix}@analytical-engines.example`,
          password: 'correct-horse-battery-staple',
          firstName: 'Grace',
          lastName: 'Hopper',
          phone: '+447911123456',
          position: 'CFO',
        },
        consents: { termsAndConditions: true, privacyPolicy: true },
      },
    }),
  );
  log(`registered  ${organization.id}  ${organization.type}  ${organization.status}`);

  const params = { path: { organizationId: organization.id } };
  const director = unwrap(
    await api.POST('/v2/customer/organizations/{organizationId}/directors', {
      params,
      body: { firstName: 'Charles', lastName: 'Babbage', role: 'MANAGING_DIRECTOR', isPep: false },
    }),
  );
  log(`director    ${director.id}`);
  const shareholder = unwrap(
    await api.POST('/v2/customer/organizations/{organizationId}/shareholders', {
      params,
      body: {
        type: 'CORPORATE',
        legalName: 'Babbage Holdings plc',
        incorporationCountry: 'GB',
        ownershipPercentage: 60,
      },
    }),
  );
  log(`shareholder ${shareholder.id}  ${shareholder.ownershipPercentage} %  UBO: ${shareholder.isUbo}`);

  const read = unwrap(await api.GET('/v2/customer/organizations/{organizationId}', { params }));
  log(`fetched     ${read.id}  ${read.status}`);
  return { organizationId: organization.id, shareholderIsUbo: shareholder.isUbo };
}
