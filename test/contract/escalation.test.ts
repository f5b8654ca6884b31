import { document } from 'virtual:openapi-contract';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { clients, groupMembers, userRoles, webhookEndpoints } from '../../src/db/tenant';
import { type ActsOnTarget, actsOnTargets } from '../../src/platform/auth/escalation';
import { allPermissions, type Permission } from '../../src/platform/auth/permissions';
import { createStaff, database } from '../helpers/factories';
import { BASE, call } from '../helpers/http';
import { contractViolations } from './conformance';
import { type ContractOperation, contractOperations, fillPath, pathParameters } from './openapi';
import { createOwner, createResource, type Owner } from './resources';
import { exampleValue } from './schema-values';

/*
 * The escalation gate: for every operation the document says acts on a principal (`x-acts-on`),
 * a caller holding every permission but one, which the target holds, is refused with 403
 * `permission_not_held` naming that one, and nothing it could read changes; the tenant's
 * TENANT_ADMIN, sending the same request, gets past the rule. A write under the paths that manage
 * principals must declare `x-acts-on` or be listed below with the reason it acts on none, so a
 * new route cannot slip past.
 */

const BASE_PATH = new URL(BASE).pathname;
const PRINCIPAL_PATHS = [
  '/access/users',
  '/access/clients',
  '/access/roles',
  '/groups',
  '/webhooks/endpoints',
  '/webhooks/deliveries',
];
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Writes under PRINCIPAL_PATHS that act on no principal, and why. */
const ACTS_ON_NONE: Record<string, string> = {
  'POST /access/users':
    'creates a user; the roles it grants must be held (permission_not_held, test/api/staff-users.test.ts)',
  'POST /access/clients':
    'creates a client; the permissions it grants must be held (permission_not_held, test/api/access.test.ts)',
  'POST /access/roles':
    'creates a role; the permissions it grants must be held (permission_not_held, test/api/access.test.ts)',
  'POST /groups':
    'creates a group without members; the roles it grants must be held (permission_not_held, test/api/groups.test.ts)',
  'DELETE /webhooks/endpoints/{endpointId}': 'stops deliveries; sends no code or token anywhere',
  'POST /webhooks/endpoints/{endpointId}/rotate-secret':
    'the signing secret authenticates deliveries to the same URL; it sends no code or token anywhere',
  'POST /webhooks/endpoints/{endpointId}/test': 'sends `webhook.test` only, which carries no secret',
  'POST /webhooks/deliveries/{deliveryId}/retry':
    'never re-sends a code or token (409 webhook_delivery_carries_secret, test/api/webhook-secrets.test.ts)',
};

/** The one permission the caller lacks: no example body grants it, every strengthened target holds it. */
const WITHHELD: Permission = 'customers:erase';
const HELD = allPermissions.filter((permission) => permission !== WITHHELD);

const operations = contractOperations(document);
const relative = (operation: ContractOperation) => operation.path.slice(BASE_PATH.length);
const nameOf = (operation: ContractOperation) => `${operation.method} ${relative(operation)}`;
const declared = operations.filter((operation) => operation.operation['x-acts-on']);

function managesPrincipals(operation: ContractOperation): boolean {
  const path = relative(operation);
  return (
    WRITES.has(operation.method) &&
    PRINCIPAL_PATHS.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))
  );
}

/**
 * Makes the target hold every permission (WITHHELD included), the way each kind of principal
 * comes to: a user through a role, a client by its grant, a group through a member, a role
 * through a holder, a webhook endpoint by subscribing to codes and tokens.
 */
const strengthen: Record<ActsOnTarget, (owner: Owner, id: string) => Promise<void>> = {
  'staff-user': async ({ tenant }, userId) => {
    await database(tenant).insert(userRoles).values({
      tenantId: tenant.id,
      userId,
      roleId: 'rol_tenant_admin',
      createdAt: new Date().toISOString(),
    });
  },
  'api-client': async ({ tenant }, clientId) => {
    await database(tenant)
      .update(clients)
      .set({ permissions: allPermissions })
      .where(and(eq(clients.tenantId, tenant.id), eq(clients.id, clientId)));
  },
  group: async ({ tenant }, groupId) => {
    const admin = await createStaff(tenant, 'TENANT_ADMIN');
    await database(tenant)
      .insert(groupMembers)
      .values({ tenantId: tenant.id, groupId, userId: admin.id, addedAt: new Date().toISOString() });
  },
  role: async ({ tenant }, roleId) => {
    const admin = await createStaff(tenant, 'TENANT_ADMIN');
    await database(tenant)
      .insert(userRoles)
      .values({ tenantId: tenant.id, userId: admin.id, roleId, createdAt: new Date().toISOString() });
  },
  'webhook-endpoint': async ({ tenant }, endpointId) => {
    await database(tenant)
      .update(webhookEndpoints)
      .set({ events: ['notification.requested'] })
      .where(and(eq(webhookEndpoints.tenantId, tenant.id), eq(webhookEndpoints.id, endpointId)));
  },
};

/** For a principal the body describes: the body made to describe one holding every permission. */
const strongerBody: Partial<
  Record<ActsOnTarget, (body: Record<string, unknown>) => Record<string, unknown>>
> = {
  'webhook-endpoint': (body) => ({ ...body, events: ['notification.requested'] }),
};

/** Where the target of each kind is read, to show that a refused request changed nothing. */
const targetReads: Record<ActsOnTarget, string> = {
  'staff-user': '/access/users/{id}',
  'api-client': '/access/clients/{id}',
  group: '/groups/{id}',
  role: '/access/roles/{id}',
  'webhook-endpoint': '/webhooks/endpoints/{id}',
};

/** The reads along the operation's own path (`/groups`, `/groups/{groupId}`, its members) it can fill. */
function readsAlong(operation: ContractOperation, ids: Record<string, string>): string[] {
  const path = relative(operation);
  return operations
    .filter((read) => read.method === 'GET')
    .filter((read) => path === relative(read) || path.startsWith(`${relative(read)}/`))
    .filter((read) => pathParameters(read).every((parameter) => parameter.name in ids))
    .map((read) => fillPath(relative(read), ids));
}

async function snapshot(owner: Owner, paths: readonly string[]): Promise<Record<string, unknown>> {
  const reads = await Promise.all(
    paths.map(async (path) => {
      const answer = await call('GET', path, { tenant: owner.tenant.id, token: owner.staff.token });
      expect(answer.status, `GET ${path} → ${answer.text}`).toBe(200);
      return [path, answer.body] as const;
    }),
  );
  return Object.fromEntries(reads);
}

function exampleBody(operation: ContractOperation): Record<string, unknown> | undefined {
  const content = operation.body?.content['application/json'];
  return content ? (exampleValue(document, content.schema ?? {}) as Record<string, unknown>) : undefined;
}

describe('escalation gate', () => {
  it('knows every write that manages principals: declared in x-acts-on, or listed with the reason it acts on none', () => {
    const undeclared = operations
      .filter(managesPrincipals)
      .filter((operation) => !operation.operation['x-acts-on'] && !(nameOf(operation) in ACTS_ON_NONE))
      .map(nameOf);
    expect(undeclared, 'declare `actsOn` on these routes, or add them to ACTS_ON_NONE with a reason').toEqual(
      [],
    );
    const stale = Object.keys(ACTS_ON_NONE).filter(
      (name) =>
        !operations.some((operation) => nameOf(operation) === name && !operation.operation['x-acts-on']),
    );
    expect(stale, 'ACTS_ON_NONE names operations that do not exist or that declare x-acts-on').toEqual([]);
    expect(declared.length).toBeGreaterThan(0);
  });

  it('declares targets it knows, named by path parameters the operation has', () => {
    for (const operation of declared) {
      const actsOn = operation.operation['x-acts-on'];
      expect(actsOnTargets, nameOf(operation)).toContain(actsOn?.target);
      if (actsOn?.in === 'path') {
        expect(pathParameters(operation).map((parameter) => parameter.name)).toContain(actsOn.name);
      } else {
        expect(strongerBody[actsOn?.target as ActsOnTarget], nameOf(operation)).toBeDefined();
      }
    }
  });

  it.each(declared.map((operation) => [nameOf(operation), operation] as const))(
    '%s',
    async (_, operation) => {
      const actsOn = operation.operation['x-acts-on'];
      if (!actsOn) throw new Error('unreachable');
      const target = actsOn.target as ActsOnTarget;
      const owner = await createOwner();
      const ids = pathParameters(operation).length > 0 ? (await createResource(operation, owner)).ids : {};
      const example = exampleBody(operation);
      let body = example;
      const reads = readsAlong(operation, ids);
      if (actsOn.in === 'path') {
        const id = ids[actsOn.name] as string;
        await strengthen[target](owner, id);
        reads.push(fillPath(targetReads[target], { id }));
      } else {
        body = strongerBody[target]?.(example ?? {});
      }
      const actor = await createStaff(owner.tenant, { permissions: HELD });
      const path = fillPath(relative(operation), ids);
      const send = (token: string) => call(operation.method, path, { tenant: owner.tenant.id, token, body });

      const before = await snapshot(owner, reads);
      const refused = await send(actor.token);
      const report = `${operation.method} ${path} with every permission but ${WITHHELD} → ${refused.status} ${refused.text}`;
      expect(refused.status, report).toBe(403);
      expect(refused.body, report).toMatchObject({ code: 'permission_not_held', permissions: [WITHHELD] });
      expect(contractViolations(operation, refused), report).toEqual([]);
      expect(await snapshot(owner, reads), `${report}\nchanged what the owner reads`).toEqual(before);

      // The same request from a TENANT_ADMIN passes the rule (a business rule, such as a role
      // still in use, may refuse it still): the refusal above was for the target's strength.
      const allowed = await send(owner.staff.token);
      expect(
        [403, 404],
        `the owner's ${operation.method} ${path} → ${allowed.status} ${allowed.text}`,
      ).not.toContain(allowed.status);
      expect(allowed.status).toBeLessThan(500);
    },
  );
});
