import {
  createCustomer,
  createStaff,
  createTenant,
  type TestCustomer,
  type TestPrincipal,
  type TestTenant,
} from '../helpers/factories';
import { BASE } from '../helpers/http';
import { type ContractOperation, pathParameters } from './openapi';

/** A tenant with a staff user holding the tenant-admin role and a self-registered customer. */
export interface Owner {
  tenant: TestTenant;
  staff: TestPrincipal & { email: string };
  customer: TestCustomer;
}

export interface Resource {
  /** A value for every path parameter of the factory's key. */
  ids: Record<string, string>;
  /**
   * Tokens of the principals the resource belongs to, for routes that serve only them (a
   * customer's own record, a user's own sessions or passkeys); the owner's are used otherwise.
   */
  tokens?: { staff?: string; customer?: string };
}

export type ResourceFactory = (owner: Owner) => Promise<Resource>;

/**
 * Real resources for the path ids of the OpenAPI document, shared by the fuzzer (valid requests
 * reach real records) and the cross-tenant matrix (a resource of tenant A is requested as tenant B).
 * An operation whose path id has no factory here fails the matrix, so a new route cannot slip past.
 *
 * To add one: key it by the path up to and including its last parameter, as the document spells
 * it below /v2/customer (`/customers/{id}` serves `/customers/{id}/consents` too;
 * `/customers/{id}/consents/{consentId}` needs its own), create a fresh resource in `owner.tenant`
 * with the API or the test factories, and return a value for every parameter in the key.
 */
export const resourceFactories: Record<string, ResourceFactory> = {
  '/customers/{id}': async ({ tenant }) => {
    const customer = await createCustomer(tenant);
    return { ids: { id: customer.customerId }, tokens: { customer: customer.token } };
  },
  '/platform/tenants/{tenantId}': async () => ({
    ids: { tenantId: (await createTenant({ tier: 'ENTERPRISE' })).id },
  }),
};

const BASE_PATH = new URL(BASE).pathname;

/** `/v2/customer/customers/{id}/consents` → `/customers/{id}`; undefined without path parameters. */
export function resourceKey(operation: ContractOperation): string | undefined {
  const path = operation.path.startsWith(BASE_PATH) ? operation.path.slice(BASE_PATH.length) : operation.path;
  const last = path.lastIndexOf('}');
  return last === -1 ? undefined : path.slice(0, last + 1);
}

/** Creates the resource an operation's path ids name, or says which factory is missing or wrong. */
export async function createResource(operation: ContractOperation, owner: Owner): Promise<Resource> {
  const key = resourceKey(operation);
  const factory = key === undefined ? undefined : resourceFactories[key];
  const names = pathParameters(operation).map((parameter) => parameter.name);
  if (!key || !factory) {
    throw new Error(
      `No resource factory for {${names.join('}, {')}} of ${operation.name}: add '${key}' to resourceFactories in test/contract/resources.ts.`,
    );
  }
  const resource = await factory(owner);
  const missing = names.filter((name) => resource.ids[name] === undefined);
  if (missing.length > 0) {
    throw new Error(
      `The resource factory '${key}' returns no {${missing.join('}, {')}} for ${operation.name}.`,
    );
  }
  return resource;
}

export function hasResourceFactory(operation: ContractOperation): boolean {
  const key = resourceKey(operation);
  return key !== undefined && key in resourceFactories;
}

/** Every capability (ENTERPRISE) and, for the fuzzer, a rate limit it never reaches. */
export async function createOwner(options: { rateLimitPerMinute?: number } = {}): Promise<Owner> {
  const tenant = await createTenant({ tier: 'ENTERPRISE', ...options });
  const [staff, customer] = await Promise.all([createStaff(tenant, 'TENANT_ADMIN'), createCustomer(tenant)]);
  return { tenant, staff, customer };
}
