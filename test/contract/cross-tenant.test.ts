import { document } from 'virtual:openapi-contract';
import { beforeAll, describe, expect, it } from 'vitest';
import { contractViolations } from './conformance';
import { contractOperations, fillPath, pathParameters, TENANT_HEADER } from './openapi';
import {
  type Actor,
  type ApiRequest,
  actorsFor,
  describeRequest,
  exampleBody,
  type RequestContext,
  send,
} from './requests';
import { createOwner, createResource, type Owner } from './resources';

/*
 * The cross-tenant matrix: for every operation with a path id, a resource of tenant A is requested
 * with tenant B's credentials and `X-Tenant-ID`, and with A's tokens under B's `X-Tenant-ID`. None
 * may succeed or let any of A's data through. Requests carry the body the document's examples
 * describe, so they are refused for whose resource it is, not for their shape.
 */

/** Shorter strings (`ACTIVE`, a country code) may occur in any answer by chance. */
const MIN_SECRET_LENGTH = 8;
const REFUSALS = [401, 403, 404];

const operations = contractOperations(document).filter(
  (operation) => operation.access !== 'public' && pathParameters(operation).length > 0,
);

let tenantA: Owner;
let tenantB: Owner;

// One pair for the whole matrix: the requests under test are all refused, and each operation
// works on resources its factory makes afresh, so operations cannot disturb one another.
beforeAll(async () => {
  [tenantA, tenantB] = await Promise.all([createOwner(), createOwner()]);
});

/**
 * The API's own vocabulary (`customer`, `consent.granted`): lower-case words that any answer may
 * contain, refusals included, and that say nothing about tenant A.
 */
const VOCABULARY = /^[a-z_.:]+$/;

/** Every string of at least MIN_SECRET_LENGTH characters in a JSON answer, but vocabulary. */
function strings(text: string): string[] {
  const found: string[] = [];
  const visit = (node: unknown): void => {
    if (typeof node === 'string' && node.length >= MIN_SECRET_LENGTH && !VOCABULARY.test(node))
      found.push(node);
    else if (node && typeof node === 'object') Object.values(node).forEach(visit);
  };
  try {
    visit(JSON.parse(text));
  } catch {
    // not JSON: nothing to collect
  }
  return found;
}

describe('cross-tenant matrix', () => {
  it('covers every operation with a path id', () => {
    expect(operations.length).toBeGreaterThan(0);
  });

  it.each(operations.map((operation) => [operation.name, operation] as const))('%s', async (_, operation) => {
    const resource = await createResource(operation, tenantA);
    const owned: RequestContext = { owner: tenantA, resource };
    const foreign: RequestContext = { owner: tenantB };
    const path = fillPath(operation.path, resource.ids);
    const { headers, body } = exampleBody(document, operation);
    const request = (actor: Actor, owner: Owner): ApiRequest => ({
      method: operation.method,
      url: path,
      actor,
      headers: { ...headers, [TENANT_HEADER]: owner.tenant.id },
      ...(body !== undefined ? { body } : {}),
    });
    // The owner's own request must reach the resource, or the refusals below would prove nothing:
    // a read must succeed; anything else must at least find it (a business rule may still refuse).
    const ownerActor = actorsFor(operation).find((actor) => actor !== 'anonymous') ?? 'staff';
    const safe = operation.method === 'GET' || operation.method === 'HEAD';
    const asOwner = async () => {
      const answer = await send(request(ownerActor, tenantA), owned);
      const report = `tenant A's own ${ownerActor} → ${answer.status} ${answer.text.slice(0, 1000)}`;
      if (safe) expect(answer.status, report).toBeLessThan(300);
      else expect(answer.status, report).not.toBe(404);
      return answer;
    };

    const secrets = new Set(Object.values(resource.ids));
    // A read first, as it changes nothing: B must see none of what it shows.
    if (safe) for (const secret of strings((await asOwner()).text)) secrets.add(secret);

    const attempts: [string, ApiRequest, RequestContext][] = [
      ["tenant B's staff", request('staff', tenantB), foreign],
      ["tenant B's customer", request('customer', tenantB), foreign],
      ["tenant A's staff under tenant B's X-Tenant-ID", request('staff', tenantB), owned],
      ["tenant A's customer under tenant B's X-Tenant-ID", request('customer', tenantB), owned],
    ];
    for (const [who, attempt, context] of attempts) {
      // Contexts pick the token: `foreign` signs with B's principals, `owned` with A's.
      const answer = await send(attempt, context);
      const report = `${who}: ${describeRequest(attempt)}\n→ ${answer.status} ${answer.text.slice(0, 1000)}`;
      expect(REFUSALS, report).toContain(answer.status);
      expect(contractViolations(operation, answer), report).toEqual([]);
      const leaked = [...secrets].filter((secret) => answer.text.replaceAll(path, '').includes(secret));
      expect(leaked, `${report}\nleaks tenant A's data`).toEqual([]);
    }

    if (!safe) await asOwner();
  });
});
