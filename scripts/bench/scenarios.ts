/*
 * What `npm run bench` measures and what it holds the results to. A scenario whose operation the
 * served OpenAPI document lacks is skipped, and so is every budget that needs it: the list can
 * name routes before they exist.
 */
import { type Api, type ApiRequest, clientIp } from './api.ts';
import { type OperationBudget, operationBudgets, RENEWALS_PER_REQUEST } from './budgets.ts';
import { benchRoutes } from './protocol.ts';
import type { Budget } from './report.ts';
import { confirmEmails, individual, registerCustomers, type Seed } from './seed.ts';

export interface RequestSource {
  /** The n-th request of the scenario (numbered across its warm-up and measured phases). */
  next(n: number): ApiRequest;
  /** Sees every response body, for scenarios whose requests depend on earlier answers. */
  onResponse?(body: string): void;
}

export interface ScenarioContext {
  seed: Seed;
  api: Api;
  /** The bench tenant's database, for state the API cannot make (see seed.ts). */
  tenantDatabase: D1Database;
  connections: number;
  /**
   * Phases the scenario runs before it is started again, warm-ups and measured rounds: each end
   * strands what its requests held. Absent, one warm-up and one measured phase (the peer harness
   * starts a scenario again before each of its rounds).
   */
  phases?: number;
}

export interface Scenario {
  name: string;
  /** `METHOD /path` as in the OpenAPI document; absent for the bench entry's own routes. */
  operation?: string;
  expectedStatus: number;
  /**
   * Requests the warm-up sends before its timed part, when the scenario spreads over more
   * rate-limit buckets than a short warm-up is sure to reach.
   */
  primingRequests?: number;
  /**
   * At most this many requests in flight, for scenarios whose requests each take long enough that
   * the run's connections would only queue behind each other past the phase's end.
   */
  maxConnections?: number;
  /**
   * Phases of so many requests per connection instead of the run's durations, for scenarios whose
   * every request uses up something `start` has to prepare: it then knows how much.
   */
  requestsPerConnection?: { warmup: number; measured: number };
  start(context: ScenarioContext): RequestSource | Promise<RequestSource>;
}

export const BASELINE = 'GET /health';
/**
 * Routes without a tenant allow 600 requests a minute per client address, so the health check
 * comes from 256 of them: about 180k requests in the first 12 s before any bucket runs dry. The
 * warm-up reaches every address first, so the measured phase finds their limiter objects made,
 * as steady traffic would.
 */
const PUBLIC_ADDRESSES = 256;
const CUSTOMER_READ = 'GET /customers/{customerId}';
const LOGIN = 'POST /auth/login';
const BENEFICIARY_CREATE = 'POST /customers/{customerId}/beneficiaries';
const VERIFICATION_SUBMIT = 'POST /customers/{customerId}/verifications';
/**
 * One open verification per customer and level, so every submit needs a customer of its own,
 * registered in `start` at the pace of its password hash (about half the submits' rate here).
 * With 16 connections these counts keep that to about the length of another scenario's phases.
 */
const VERIFICATION_REQUESTS = { warmup: 2, measured: 20 };
export const DOCUMENT_UPLOAD = 'POST /customers/{customerId}/documents';
export const DOCUMENT_DOWNLOAD = 'GET /documents/{documentId}/content';
const MiB = 1024 * 1024;
const BOUNDARY = 'bench-document-boundary';
/** A 1 MiB upload or download is tens of milliseconds of the worker's CPU: 4 in flight keep it busy. */
const DOCUMENT_CONNECTIONS = 4;
export const READ_BINDINGS = `bindings of ${CUSTOMER_READ} only`;
export const PASSWORD_VERIFY = 'password verification only';

function pick<T>(items: readonly T[], n: number): T {
  return items[n % items.length] as T;
}

/** The n-th of distinct valid German IBANs (bank code 37040044), check digits by ISO 7064 mod 97-10. */
function germanIban(n: number): string {
  const bban = `37040044${String(n).padStart(10, '0')}`;
  // DE is 13 14 in the check's letters-to-digits; BigInt because the number has 24 digits.
  const check = 98n - (BigInt(`${bban}131400`) % 97n);
  return `DE${String(check).padStart(2, '0')}${bban}`;
}

/** The staff user's own token, so each user's requests fill that user's rate-limit bucket. */
function asStaff(seed: Seed, n: number): Pick<ApiRequest, 'tenantId' | 'token'> {
  return { tenantId: seed.tenantId, token: pick(seed.staff, n).token };
}

/**
 * Logins are limited to 20 a minute per client address against password guessing, so they come
 * from a pool of addresses, each used a few times a minute at the measured rates; the warm-up
 * reaches every address first, so (as with steady traffic from returning clients) the measured
 * phase finds their limiter objects made. Addresses follow those of the health check.
 */
const LOGIN_ADDRESSES = 512;

function staffLogin(seed: Seed, n: number): ApiRequest {
  return {
    method: 'POST',
    path: '/auth/login',
    tenantId: seed.tenantId,
    clientIp: clientIp(PUBLIC_ADDRESSES + (n % LOGIN_ADDRESSES)),
    body: { email: pick(seed.staff, n).email, password: seed.staffPassword, accountType: 'STAFF' },
  };
}

/**
 * Uploads of a PDF of `fileBytes`, each its own file: the tag is written into the file, so no two
 * are the same bytes (the same file twice is a 409 duplicate). The forms are copies of one
 * template, as a client streaming a file from disk would send it.
 */
export function documentUpload(fileBytes: number): (seed: Seed, n: number, tag: number) => ApiRequest {
  const encoder = new TextEncoder();
  const head = encoder.encode(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="documentType"\r\n\r\nPROOF_OF_ADDRESS\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="statement.pdf"\r\nContent-Type: application/pdf\r\n\r\n`,
  );
  const tail = encoder.encode(`\r\n--${BOUNDARY}--\r\n`);
  const template = new Uint8Array(head.length + fileBytes + tail.length);
  for (let index = 0; index < fileBytes; index++) template[head.length + index] = 0x20 + (index % 90);
  template.set(head);
  template.set(encoder.encode('%PDF-1.4\n%'), head.length);
  template.set(tail, head.length + fileBytes);
  const tagAt = head.length + 11;
  return (seed, n, tag) => {
    const form = template.slice();
    form.set(encoder.encode(String(tag).padStart(12, '0')), tagAt);
    return {
      method: 'POST',
      path: `/customers/${pick(seed.customerIds, n)}/documents`,
      ...asStaff(seed, n),
      bytes: { contentType: `multipart/form-data; boundary=${BOUNDARY}`, data: form },
    };
  };
}

export const scenarios: Scenario[] = [
  {
    name: BASELINE,
    operation: 'GET /health',
    expectedStatus: 200,
    primingRequests: PUBLIC_ADDRESSES,
    start: () => ({
      next: (n) => ({ method: 'GET', path: '/health', clientIp: clientIp(n % PUBLIC_ADDRESSES) }),
    }),
  },
  {
    name: 'GET /me',
    operation: 'GET /me',
    expectedStatus: 200,
    start: ({ seed }) => ({ next: (n) => ({ method: 'GET', path: '/me', ...asStaff(seed, n) }) }),
  },
  {
    name: CUSTOMER_READ,
    operation: CUSTOMER_READ,
    expectedStatus: 200,
    start: ({ seed }) => ({
      next: (n) => ({ method: 'GET', path: `/customers/${pick(seed.customerIds, n)}`, ...asStaff(seed, n) }),
    }),
  },
  {
    // What the local simulators of KV, the Durable Object and D1 cost in the customer read.
    name: READ_BINDINGS,
    expectedStatus: 200,
    start: ({ seed }) => ({
      next: (n) => {
        const query = new URLSearchParams({
          tenant: seed.tenantId,
          customer: pick(seed.customerIds, n),
          principal: pick(seed.staff, n).id,
        });
        return { method: 'GET', path: `${benchRoutes.readBindings}?${query}`, raw: true };
      },
    }),
  },
  {
    name: 'POST /individuals',
    operation: 'POST /individuals',
    expectedStatus: 201,
    start: ({ seed }) => ({
      next: (n) => ({
        method: 'POST',
        path: '/individuals',
        tenantId: seed.tenantId,
        body: individual(`load-${n}`),
      }),
    }),
  },
  {
    name: LOGIN,
    operation: LOGIN,
    expectedStatus: 200,
    primingRequests: LOGIN_ADDRESSES,
    start: ({ seed }) => ({ next: (n) => staffLogin(seed, n) }),
  },
  {
    name: 'POST /auth/refresh',
    operation: 'POST /auth/refresh',
    expectedStatus: 200,
    start: async ({ seed, api, connections, phases = 2 }) => {
      // Each refresh spends its token and answers with the successor, so the tokens circulate, each
      // in one request at a time. Stopping a phase strands the tokens in flight: hence the spares.
      const tokens: string[] = [];
      for (let n = 0; n < connections * (phases + 1); n++) {
        tokens.push((await api.call<{ refreshToken: string }>(staffLogin(seed, n))).refreshToken);
      }
      return {
        next: () => ({
          method: 'POST',
          path: '/auth/refresh',
          tenantId: seed.tenantId,
          body: { refreshToken: tokens.shift() },
        }),
        onResponse: (body) => {
          const { refreshToken } = JSON.parse(body) as { refreshToken?: string };
          if (refreshToken) tokens.push(refreshToken);
        },
      };
    },
  },
  {
    name: BENEFICIARY_CREATE,
    operation: BENEFICIARY_CREATE,
    expectedStatus: 201,
    start: ({ seed }) => ({
      next: (n) => ({
        method: 'POST',
        path: `/customers/${pick(seed.customerIds, n)}/beneficiaries`,
        ...asStaff(seed, n),
        // A new account every time: the same one for the same customer is a 409 duplicate.
        body: {
          name: 'Grace Hopper',
          type: 'INDIVIDUAL',
          country: 'DE',
          network: 'SEPA',
          currency: 'EUR',
          account: { iban: germanIban(n) },
        },
      }),
    }),
  },
  {
    name: VERIFICATION_SUBMIT,
    operation: VERIFICATION_SUBMIT,
    expectedStatus: 202,
    requestsPerConnection: VERIFICATION_REQUESTS,
    start: async ({ seed, api, tenantDatabase, connections }) => {
      const { warmup, measured } = VERIFICATION_REQUESTS;
      const customers = (warmup + measured) * connections;
      const customerIds = await registerCustomers(api, seed.tenantId, 'verify', customers, connections);
      await confirmEmails(tenantDatabase, seed.tenantId, customerIds);
      return {
        // A customer used twice would answer 409, which the run reports as unexpected.
        next: (n) => ({
          method: 'POST',
          path: `/customers/${pick(customerIds, n)}/verifications`,
          ...asStaff(seed, n),
          body: { level: 'BASIC' },
        }),
      };
    },
  },
  {
    name: DOCUMENT_UPLOAD,
    operation: DOCUMENT_UPLOAD,
    expectedStatus: 201,
    maxConnections: DOCUMENT_CONNECTIONS,
    start: ({ seed }) => {
      const upload = documentUpload(MiB);
      return { next: (n) => upload(seed, n, n) };
    },
  },
  {
    name: DOCUMENT_DOWNLOAD,
    operation: DOCUMENT_DOWNLOAD,
    expectedStatus: 200,
    maxConnections: DOCUMENT_CONNECTIONS,
    start: async ({ seed, api }) => {
      // One 1 MiB document, downloaded whole by every request; -1 keeps it apart from the uploads.
      const { id } = await api.call<{ id: string }>(documentUpload(MiB)(seed, 0, -1), 201);
      return { next: (n) => ({ method: 'GET', path: `/documents/${id}/content`, ...asStaff(seed, n) }) };
    },
  },
  {
    name: PASSWORD_VERIFY,
    expectedStatus: 204,
    start: () => ({ next: () => ({ method: 'POST', path: benchRoutes.passwordVerify, raw: true }) }),
  },
];

/** A route's store operations up to its answer, averaged over the run (scripts/bench/budgets.ts). */
function operations(scenario: string, budget: OperationBudget): Budget {
  const { d1Queries, doCalls, kvReads } = budget;
  return {
    title: `${scenario}: at most ${d1Queries} D1 queries, ${doCalls} Durable Object calls and ${kvReads} KV reads before the answer (+${RENEWALS_PER_REQUEST} for renewals)`,
    needs: [scenario],
    check: (result) => {
      const { perRequest, answeredPerRequest = perRequest } = result(scenario);
      const spent = answeredPerRequest;
      const within = (used: number, allowed: number) => used <= allowed + RENEWALS_PER_REQUEST;
      return {
        pass:
          within(spent.d1Queries, d1Queries) &&
          within(spent.doCalls, doCalls) &&
          within(spent.kvReads, kvReads),
        detail: `${spent.d1Queries} D1, ${spent.doCalls} DO, ${spent.kvReads} KV reads per request (${perRequest.d1Queries} D1 with waitUntil work)`,
      };
    },
  };
}

export const budgets: Budget[] = [
  ...Object.entries(operationBudgets).map(([scenario, budget]) => operations(scenario, budget)),
  {
    title: `${CUSTOMER_READ}: at least 40 % of the requests/s of ${BASELINE}`,
    needs: [CUSTOMER_READ, BASELINE],
    check: (result) => {
      const share = result(CUSTOMER_READ).requestsPerSecond / result(BASELINE).requestsPerSecond;
      return { pass: share >= 0.4, detail: `${Math.round(share * 100)} %` };
    },
  },
  {
    title: `${CUSTOMER_READ}: at least 90 % of the requests/s of its ${READ_BINDINGS}`,
    needs: [CUSTOMER_READ, READ_BINDINGS],
    check: (result) => {
      const share = result(CUSTOMER_READ).requestsPerSecond / result(READ_BINDINGS).requestsPerSecond;
      return { pass: share >= 0.9, detail: `${Math.round(share * 100)} %` };
    },
  },
  {
    title: `${LOGIN}: at most 1.25 × the time of the password verification alone`,
    needs: [LOGIN, PASSWORD_VERIFY],
    check: (result) => {
      // Time per request is 1/throughput: workerd runs one request's JavaScript at a time.
      const login = 1000 / result(LOGIN).requestsPerSecond;
      const verify = 1000 / result(PASSWORD_VERIFY).requestsPerSecond;
      return {
        pass: login <= 1.25 * verify,
        detail: `${login.toFixed(1)} ms against ${verify.toFixed(1)} ms (${(login / verify).toFixed(2)} ×)`,
      };
    },
  },
];
