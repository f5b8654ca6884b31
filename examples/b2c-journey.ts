/*
 * README's B2C journey with @fincore/customer-api-client, as a tenant's back end runs it: it
 * registers a person, finds and reads the customer, the customer logs in and reads its own
 * record, and a second registration with the same email is refused with a typed problem.
 * `npm run example:b2c` runs it against `npm start`; test/scripts/sdk-examples.test.ts against the worker.
 */
import { createClient, isProblemError, type Schemas, unwrap } from '../client/index.ts';
import type { JourneyOptions } from './options.ts';

export async function b2cJourney({ log = console.log, ...connection }: JourneyOptions) {
  const api = createClient(connection);
  const email = `mary.${crypto.randomUUID().slice(0, 8)}@example.com`;
  const password = 'correct-horse-battery-staple';
  const person: Schemas['RegisterIndividual'] = {
    email,
    password,
    firstName: 'Mary',
    lastName: 'Somerville',
    dateOfBirth: '1990-12-26',
    nationality: 'GB',
    phone: '+447911123457',
    address: { line1: '1 Burntisland Road', city: 'Edinburgh', postalCode: 'EH1 1AA', country: 'GB' },
    consents: { termsAndConditions: true, privacyPolicy: true },
  };

  // The SDK adds X-Tenant-ID, the client's token and an Idempotency-Key.
  const registered = unwrap(await api.POST('/v2/customer/individuals', { body: person }));
  log(`registered  ${registered.id}  ${registered.status}`);

  const page = unwrap(await api.GET('/v2/customer/customers', { params: { query: { limit: 5 } } }));
  log(`customers   ${page.data.length} on the first page${page.nextCursor ? ', more to come' : ''}`);
  const customer = unwrap(
    await api.GET('/v2/customer/customers/{customerId}', { params: { path: { customerId: registered.id } } }),
  );
  log(`fetched     ${customer.id}  ${customer.type}  ${customer.status}`);

  // The customer's own session: a user token instead of the client's.
  const login = unwrap(
    await api.POST('/v2/customer/auth/login', { body: { email, password, accountType: 'CUSTOMER' } }),
  );
  if (!('accessToken' in login)) throw new Error('the demo customer has no second factor to ask for');
  const asCustomer = createClient({ ...connection, clientId: undefined, accessToken: login.accessToken });
  const own = unwrap(
    await asCustomer.GET('/v2/customer/customers/{customerId}', {
      params: { path: { customerId: registered.id } },
    }),
  );
  log(`as customer ${own.id}  ${own.status}`);

  try {
    unwrap(await api.POST('/v2/customer/individuals', { body: person }));
    throw new Error('a second registration with the same email was accepted');
  } catch (error) {
    if (!isProblemError(error, 'email_taken')) throw error;
    log(`refused     ${error.status} ${error.code}: ${error.problem.detail}`);
  }
  return { customerId: registered.id, status: own.status };
}
