/*
 * A B2C journey with the typed client (client/index.ts), against the local server:
 *
 *   npm start                  # in one terminal: serves http://localhost:8787, writes .dev/demo-credentials.json
 *   npm run example:journey    # in another
 *
 * 1. a person registers (POST /individuals, public self-registration on tenant demo-pro);
 * 2. the tenant's back-end gets a token with client_credentials (POST /oauth/token);
 * 3. it lists the tenant's customers and fetches the new one.
 *
 * DEMO_CREDENTIALS points at another credentials file; TENANT picks another demo tenant.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFinCoreClient, unwrap } from '../client/index.ts';

interface DemoCredentials {
  baseUrl: string;
  tenants: { id: string; client: { clientId: string; clientSecret: string } }[];
}

const credentialsPath =
  process.env.DEMO_CREDENTIALS ?? join(import.meta.dirname, '..', '.dev', 'demo-credentials.json');
const tenantId = process.env.TENANT ?? 'demo-pro';

let credentials: DemoCredentials;
try {
  credentials = JSON.parse(readFileSync(credentialsPath, 'utf8'));
} catch (error) {
  console.error(`Cannot read ${credentialsPath} (${error}). Run \`npm start\` first.`);
  process.exit(1);
}
const tenant = credentials.tenants.find((entry) => entry.id === tenantId);
if (!tenant) throw new Error(`No tenant '${tenantId}' in ${credentialsPath}.`);

// 1. Self-registration: no token, only the tenant.
const anonymous = createFinCoreClient({ baseUrl: credentials.baseUrl, tenantId });
const email = `ada.${Date.now().toString(36)}@example.com`;
const registered = unwrap(
  await anonymous.POST('/v2/customer/individuals', {
    params: { header: { 'Idempotency-Key': crypto.randomUUID() } },
    body: {
      email,
      password: 'correct-horse-battery-staple',
      firstName: 'Ada',
      lastName: 'Lovelace',
      dateOfBirth: '1990-12-10',
      nationality: 'GB',
      phone: '+447911123456',
      address: { line1: '12 St James’s Square', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
      consents: { termsAndConditions: true, privacyPolicy: true },
    },
  }),
);
console.log(`registered  ${registered.id}  ${registered.status}  (user ${registered.userId})`);

// 2. The tenant's back-end authenticates as its OAuth client (client_secret_post).
const token = unwrap(
  await anonymous.POST('/v2/customer/oauth/token', {
    body: {
      grant_type: 'client_credentials',
      client_id: tenant.client.clientId,
      client_secret: tenant.client.clientSecret,
    },
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  }),
);
console.log(`token       ${token.token_type} for ${token.expires_in}s, scope: ${token.scope}`);

// 3. As the back-end: list customers, then fetch the new one.
const api = createFinCoreClient({ baseUrl: credentials.baseUrl, tenantId, accessToken: token.access_token });
const page = unwrap(await api.GET('/v2/customer/customers', { params: { query: { limit: 5 } } }));
console.log(`customers   ${page.data.length} on the first page${page.nextCursor ? ', more to come' : ''}`);
for (const customer of page.data) console.log(`  ${customer.id}  ${customer.type}  ${customer.status}`);

const customer = unwrap(
  await api.GET('/v2/customer/customers/{customerId}', { params: { path: { customerId: registered.id } } }),
);
console.log(`fetched     ${customer.id}  ${customer.type}  ${customer.status}`);
