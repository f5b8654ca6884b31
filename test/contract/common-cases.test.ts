import { env, SELF } from 'cloudflare:test';
import { document } from 'virtual:openapi-contract';
import { decodeJwt } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Permission } from '../../src/platform/auth/permissions';
import { type Capability, capabilityCodes } from '../../src/platform/tenancy';
import {
  createApiClient,
  createStaff,
  createTenant,
  mintToken,
  type TestPrincipal,
  type TestStaff,
  type TestTenant,
} from '../helpers/factories';
import { BASE, ORIGIN } from '../helpers/http';
import { expectProblem } from '../helpers/problems';
import { type ClientAuthenticatedRoute, itHandlesTheClientCases } from './client-cases';
import {
  type ContractOperation,
  contractOperations,
  fillPath,
  isTenantHeader,
  pathParameters,
  TENANT_HEADER,
} from './openapi';
import { exampleBody } from './requests';
import {
  createOwner,
  createResource,
  hasResourceFactory,
  type Owner,
  type Resource,
  resourceKey,
} from './resources';

/*
 * The cases every operation must get right, derived from its access declaration as the OpenAPI
 * document shows it (`defineRoute` writes both): the tenant header, `security`, `x-permissions`,
 * `x-capability`, `x-user-session-required` and the path ids. A route gets them by being declared;
 * what the document cannot say is written by hand in `handWritten`, and an operation that is
 * neither derived nor there fails the first test.
 *
 * Every request here is refused before the route changes anything, so one owner tenant, one
 * intruder tenant and one resource per path key serve every operation. Requests carry the body
 * the document's examples describe, so they are refused for who sends them, not for their shape.
 */

const BASE_PATH = new URL(BASE).pathname;
const operations = contractOperations(document);

type HandWritten =
  | { clientAuthenticated: ClientAuthenticatedRoute['form'] }
  /** A public route that authenticates the request itself (a signature): refused unsigned, with this code. */
  | { signedBy: string; refusedUnsigned: string }
  | { excluded: string };

/** What cannot be derived from the document, by operation. */
const handWritten: Record<string, HandWritten> = {
  'POST /v2/customer/oauth/token': {
    clientAuthenticated: async () => ({ grant_type: 'client_credentials' }),
  },
  'POST /v2/customer/oauth/introspect': {
    clientAuthenticated: async (_tenant, client) => ({ token: client.token }),
  },
  'POST /v2/customer/oauth/revoke': { clientAuthenticated: async () => ({ token: 'not-a-token-of-ours' }) },
  'POST /v2/customer/verification-providers/{provider}/callback': {
    signedBy: 'the verification provider (test/api/verifications.test.ts signs real callbacks)',
    refusedUnsigned: 'callback_signature_invalid',
  },
};

interface CommonCase {
  name: string;
  run: (operation: ContractOperation) => Promise<void>;
}

let owner: Owner;
let intruder: Owner;
/** A staff user of the owner's tenant with no permission at all. */
let unprivileged: TestStaff;

beforeAll(async () => {
  [owner, intruder] = await Promise.all([
    createOwner({ rateLimitPerMinute: 100_000 }),
    createOwner({ rateLimitPerMinute: 100_000 }),
  ]);
  unprivileged = await createStaff(owner.tenant, { permissions: [] });
});

/** Memoized by key: operations that share a path key (`/customers/{customerId}`) share the resource. */
function memo<T>(make: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const made = new Map<string, Promise<T>>();
  return (key) => {
    const existing = made.get(key);
    if (existing) return existing;
    const promise = make(key);
    made.set(key, promise);
    return promise;
  };
}

const resourceFor = memo<Resource>((key) => {
  const operation = operations.find((candidate) => resourceKey(candidate) === key);
  if (!operation) throw new Error(`No operation for ${key}`);
  return createResource(operation, owner);
});

/** An API client of the owner's tenant holding the route's permission, if any. */
const apiClientWith = memo<TestPrincipal>((permission) =>
  createApiClient(owner.tenant, permission ? [permission as Permission] : []),
);

/** A tenant with every capability but one (a CUSTOM set), and a tenant admin of it. */
const tenantWithout = memo<{ tenant: TestTenant; staff: TestStaff }>(async (capability) => {
  const tenant = await createTenant({
    tier: 'CUSTOM',
    capabilities: capabilityCodes.filter((code) => code !== capability),
    rateLimitPerMinute: 100_000,
  });
  return { tenant, staff: await createStaff(tenant) };
});

/** The operation's path with the ids of the owner's resource, or the parameters' examples. */
async function pathOf(operation: ContractOperation): Promise<string> {
  const key = resourceKey(operation);
  if (key && hasResourceFactory(operation)) return fillPath(operation.path, (await resourceFor(key)).ids);
  const examples = Object.fromEntries(
    pathParameters(operation).map((parameter) => [parameter.name, String(parameter.schema?.example)]),
  );
  return fillPath(operation.path, examples);
}

/** Each operation's requests come from an address of its own: per-IP limits of one never throttle another. */
const addressOf = (operation: ContractOperation) => {
  const index = operations.indexOf(operation);
  return `10.253.${Math.floor(index / 250)}.${(index % 250) + 1}`;
};

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

async function request(
  operation: ContractOperation,
  path: string,
  options: { tenant?: string; token?: string } = {},
): Promise<Answer> {
  const { headers, body } = exampleBody(document, operation);
  const send = (method: string) =>
    SELF.fetch(`${ORIGIN}${path}`, {
      method,
      headers: {
        ...headers,
        'CF-Connecting-IP': addressOf(operation),
        ...(options.tenant ? { [TENANT_HEADER]: options.tenant } : {}),
        ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
      },
      body,
    });
  const response = await send(operation.method);
  const text = await response.text();
  // A HEAD answer is the GET answer without its content (RFC 9110 §9.3.2): the problem it stands
  // for is read from the GET, and the HEAD must match it in status and type, with no body.
  const read = operation.method === 'HEAD' ? await (await send('GET')).text() : text;
  if (operation.method === 'HEAD') expect(text).toBe('');
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(read);
  } catch {
    // not JSON: the assertions on the problem shape say so
  }
  // The GET was another request: the problem the HEAD stands for carries the HEAD's own id.
  if (operation.method === 'HEAD') parsed.requestId = response.headers.get('X-Request-Id');
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** The same claims signed now: the recent authentication step-up routes ask for. */
function renewed(tenant: TestTenant, staff: TestStaff): Promise<string> {
  const { scope } = decodeJwt(staff.token);
  return mintToken(tenant, { sub: staff.id, ptype: 'staff', scope: String(scope), sid: staff.sessionId });
}

const tenantCase: CommonCase = {
  name: 'needs a known tenant (400 without X-Tenant-ID, 404 for an unknown one)',
  run: async (operation) => {
    const path = await pathOf(operation);
    expectProblem(await request(operation, path), 400, 'tenant_required');
    expectProblem(
      await request(operation, path, { tenant: `${owner.tenant.id}-unknown` }),
      404,
      'tenant_not_found',
    );
  },
};

/** The cases of a route that takes an access token of the tenant. */
function bearerCases(operation: ContractOperation): CommonCase[] {
  const declared = operation.operation;
  const permission = declared['x-permissions']?.anyOf[0];
  const capability = declared['x-capability'];
  const cases: CommonCase[] = [tenantCase];
  if (declared['x-user-session-required']) {
    cases.push({
      name: "refuses an API client's token (403 user_session_required)",
      run: async () => {
        const client = await apiClientWith(permission ?? '');
        expectProblem(
          await request(operation, await pathOf(operation), { tenant: owner.tenant.id, token: client.token }),
          403,
          'user_session_required',
        );
      },
    });
  }
  if (operation.access === 'tenant') {
    cases.push({
      name: 'refuses a request without a token (401)',
      run: async () =>
        expectProblem(
          await request(operation, await pathOf(operation), { tenant: owner.tenant.id }),
          401,
          'authentication_required',
        ),
    });
  }
  cases.push(
    {
      name: 'refuses a malformed or forged token (401)',
      run: async () => {
        const path = await pathOf(operation);
        const [header, payload] = owner.staff.token.split('.');
        for (const token of [`${header}.${payload}.${'A'.repeat(86)}`, 'not-a-jwt']) {
          expectProblem(
            await request(operation, path, { tenant: owner.tenant.id, token }),
            401,
            'invalid_token',
          );
        }
      },
    },
    {
      name: 'refuses an expired token (401)',
      run: async () => {
        const expired = await mintToken(
          owner.tenant,
          { sub: owner.staff.id, ptype: 'staff', scope: permission ?? '' },
          { now: new Date(Date.now() - 3_600_000), ttlSeconds: 600 },
        );
        const response = await request(operation, await pathOf(operation), {
          tenant: owner.tenant.id,
          token: expired,
        });
        expectProblem(response, 401, 'invalid_token');
        expect(response.body.detail).toMatch(/expired/);
      },
    },
    {
      name: "refuses another tenant's token (403 tenant_mismatch)",
      run: async () =>
        expectProblem(
          await request(operation, await pathOf(operation), {
            tenant: owner.tenant.id,
            token: intruder.staff.token,
          }),
          403,
          'tenant_mismatch',
        ),
    },
  );
  if (permission) {
    cases.push({
      name: `refuses a principal without ${permission} (403 forbidden)`,
      run: async () => {
        const response = await request(operation, await pathOf(operation), {
          tenant: owner.tenant.id,
          token: unprivileged.token,
        });
        expectProblem(response, 403, 'forbidden');
        expect(response.body.permission).toBe(permission);
      },
    });
  }
  if (capability) {
    cases.push({
      name: `refuses a tenant without ${capability.code} (403 capability_not_enabled)`,
      run: async () => {
        const { tenant, staff } = await tenantWithout(capability.code as Capability);
        const response = await request(operation, await pathOf(operation), {
          tenant: tenant.id,
          token: staff.token,
        });
        expectProblem(response, 403, 'capability_not_enabled');
        expect(response.body.capability).toBe(capability.code);
        expect(response.body.requiredTiers).toEqual(capability.requiredTiers);
      },
    });
  }
  if (pathParameters(operation).length > 0) {
    cases.push({
      name: "answers 404 for another tenant's resource, with no trace of it",
      run: async () => {
        const path = await pathOf(operation);
        const response = await request(operation, path, {
          tenant: intruder.tenant.id,
          token: await renewed(intruder.tenant, intruder.staff),
        });
        expectProblem(response, 404, 'not_found');
        const key = resourceKey(operation) as string;
        const traces = Object.values((await resourceFor(key)).ids).filter((id) =>
          response.text.replaceAll(path, '').includes(id),
        );
        expect(traces).toEqual([]);
      },
    });
  }
  return cases;
}

const operatorCases: CommonCase[] = [
  {
    name: 'refuses a request without the admin token (401)',
    run: async (operation) =>
      expectProblem(await request(operation, await pathOf(operation)), 401, 'authentication_required'),
  },
  {
    name: "refuses a wrong admin token and a tenant's token (401 invalid_token)",
    run: async (operation) => {
      const path = await pathOf(operation);
      for (const token of [`${env.PLATFORM_ADMIN_TOKEN}x`, owner.staff.token]) {
        expectProblem(await request(operation, path, { token }), 401, 'invalid_token');
      }
    },
  },
];

const publicCase: CommonCase = {
  name: 'serves a caller with neither a tenant nor a token',
  run: async (operation) => {
    const answer = await request(operation, await pathOf(operation));
    expect(answer.status, answer.text.slice(0, 500)).toBeLessThan(400);
  },
};

/** The cases the document implies; none for a shape it cannot describe (the OAuth endpoints). */
function derivedCases(operation: ContractOperation): CommonCase[] {
  const tenantHeader = operation.parameters.find(isTenantHeader);
  const tenanted = tenantHeader?.required === true;
  switch (operation.access) {
    case 'tenant':
    case 'optional':
      return tenanted ? bearerCases(operation) : [];
    case 'operator':
      return tenantHeader ? [] : operatorCases;
    default:
      if (tenanted) return [tenantCase];
      return tenantHeader ? [] : [publicCase];
  }
}

describe('common cases of every operation', () => {
  it('derives them for every operation, or has a hand-written block or an exclusion with a reason', () => {
    const uncovered = operations
      .filter((operation) => derivedCases(operation).length === 0 && !(operation.name in handWritten))
      .map((operation) => operation.name);
    expect(uncovered, 'add them to handWritten in test/contract/common-cases.test.ts').toEqual([]);
    const names = new Set(operations.map((operation) => operation.name));
    expect(Object.keys(handWritten).filter((name) => !names.has(name))).toEqual([]);
  });

  for (const operation of operations) {
    describe(operation.name, () => {
      const written = handWritten[operation.name];
      if (written && 'signedBy' in written) {
        it(`refuses an unsigned request (401 ${written.refusedUnsigned})`, async () =>
          expectProblem(await request(operation, await pathOf(operation)), 401, written.refusedUnsigned));
        return;
      }
      for (const { name, run } of derivedCases(operation)) it(name, () => run(operation));
      if (written && 'clientAuthenticated' in written) {
        itHandlesTheClientCases({
          method: operation.method,
          path: operation.path.slice(BASE_PATH.length),
          form: written.clientAuthenticated,
        });
      }
    });
  }
});
