import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { customers } from '../../src/db/tenant';
import { base64UrlEncode } from '../../src/platform/crypto';
import { queueNames, type WebhookQueueMessage } from '../../src/platform/queues';
import { type CreationOptions, SoftwareAuthenticator } from '../helpers/authenticator';
import { uploadDocument } from '../helpers/documents';
import {
  createCustomer,
  createOrganization,
  createStaff,
  createTenant,
  database,
  directorInput,
  logIn,
  type TestCustomer,
  type TestStaff,
  type TestTenant,
  unique,
} from '../helpers/factories';
import { BASE, call } from '../helpers/http';
import { deliver } from '../helpers/queues';
import { createTppClient, registerTpp, TPP_REDIRECT_URI } from '../helpers/tpps';
import { createEndpoint, installReceiver } from '../helpers/webhooks';
import { type ContractOperation, pathParameters } from './openapi';

/** A tenant with a staff user holding the tenant-admin role and a self-registered customer. */
export interface Owner {
  tenant: TestTenant;
  staff: TestStaff;
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
 * Answers every webhook delivery in the test, to the factories' endpoints and to whatever URL the
 * fuzzer registers or patches in, so nothing goes out to the network. Its hooks join the test file
 * that imports this module.
 */
const receiver = installReceiver({ everyHost: true });

/** Runs the worker's queue consumer on one delivery attempt, as the webhook queue would. */
function attemptNow(tenant: TestTenant, deliveryId: string): Promise<void> {
  return deliver<WebhookQueueMessage>(queueNames.webhooks, {
    kind: 'delivery.attempt',
    tenantId: tenant.id,
    deliveryId,
  });
}

/** A customer with its own login, whose token the customer's requests use. */
async function ownCustomer({ tenant }: Owner): Promise<Resource> {
  const customer = await createCustomer(tenant);
  return {
    ids: { id: customer.customerId, customerId: customer.customerId },
    tokens: { customer: customer.token },
  };
}

/** A request a factory needs to succeed, as a user of the tenant; its JSON answer. */
async function expectSuccess<T>(
  tenant: TestTenant,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await call<T>(method, path, { tenant: tenant.id, token, body });
  expect(response.status, `${method} ${path} → ${response.text}`).toBeLessThan(300);
  return response.body;
}

/**
 * Real resources for the path ids of the OpenAPI document, shared by the fuzzer (valid requests
 * reach real records) and the cross-tenant matrix (a resource of tenant A is requested as tenant B).
 * An operation whose path id has no factory here fails the matrix, so a new route cannot slip past.
 *
 * To add one: key it by the path up to and including its last parameter, as the document spells
 * it below /v2/customer (`/customers/{customerId}` serves `/customers/{customerId}/consents` too;
 * `/customers/{customerId}/consents/{consentId}` needs its own), create a fresh resource in `owner.tenant`
 * with the API or the test factories, and return a value for every parameter in the key.
 */
export const resourceFactories: Record<string, ResourceFactory> = {
  '/auth/sessions/{sessionId}': async ({ tenant }) => {
    // A second session of a fresh user: revoking it leaves the token that revokes it alive.
    const user = await createStaff(tenant);
    const other = await logIn(tenant, user.email, user.password, 'STAFF');
    return { ids: { sessionId: other.sessionId }, tokens: { staff: user.token } };
  },
  '/auth/webauthn/credentials/{credentialId}': async ({ tenant }) => {
    // Removing a passkey needs a recent authentication: the login createStaff just made is one.
    const user = await createStaff(tenant);
    const authenticator = await SoftwareAuthenticator.create();
    const options = await expectSuccess<CreationOptions>(
      tenant,
      user.token,
      'POST',
      '/auth/webauthn/registration/options',
    );
    const passkey = await expectSuccess<{ id: string }>(
      tenant,
      user.token,
      'POST',
      '/auth/webauthn/registration/verify',
      {
        credential: await authenticator.register(options),
      },
    );
    return { ids: { credentialId: passkey.id }, tokens: { staff: user.token } };
  },
  '/customers/{customerId}': ownCustomer,
  '/beneficiaries/{beneficiaryId}': async ({ tenant }) => {
    const customer = await createCustomer(tenant);
    const beneficiary = await expectSuccess<{ id: string }>(
      tenant,
      customer.token,
      'POST',
      `/customers/${customer.customerId}/beneficiaries`,
      {
        name: 'Ada Lovelace',
        type: 'INDIVIDUAL',
        network: 'SEPA',
        currency: 'EUR',
        country: 'DE',
        account: { iban: 'DE89370400440532013000' },
      },
    );
    return { ids: { beneficiaryId: beneficiary.id }, tokens: { customer: customer.token } };
  },
  '/verifications/{verificationId}': async ({ tenant, staff }) => {
    // `Pending` keeps the sandbox from answering, so the verification stays open whatever runs next.
    const customer = await createCustomer(tenant, { lastName: 'Pending' });
    await database(tenant)
      .update(customers)
      .set({ status: 'REGISTERED', emailVerifiedAt: new Date().toISOString() })
      .where(eq(customers.id, customer.customerId));
    const verification = await expectSuccess<{ id: string }>(
      tenant,
      staff.token,
      'POST',
      `/customers/${customer.customerId}/verifications`,
      { level: 'BASIC' },
    );
    return { ids: { verificationId: verification.id }, tokens: { customer: customer.token } };
  },
  '/verification-providers/{provider}': async () => ({ ids: { provider: 'sandbox' } }),
  '/customers/{customerId}/consents/{consentId}': async ({ tenant, staff }) => {
    const customer = await createCustomer(tenant);
    const consent = await expectSuccess<{ id: string }>(
      tenant,
      staff.token,
      'POST',
      `/customers/${customer.customerId}/consents`,
      {
        type: 'MARKETING',
        version: '1.0',
      },
    );
    return {
      ids: { customerId: customer.customerId, consentId: consent.id },
      tokens: { customer: customer.token },
    };
  },
  '/documents/{documentId}': async ({ tenant, staff }) => {
    const customer = await createCustomer(tenant);
    const documentId = await uploadDocument(tenant, staff.token, customer.customerId);
    return { ids: { documentId }, tokens: { customer: customer.token } };
  },
  '/events/{eventId}': async ({ tenant, staff }) => {
    const customer = await createCustomer(tenant);
    const page = await expectSuccess<{ data: { id: string; data: Record<string, unknown> }[] }>(
      tenant,
      staff.token,
      'GET',
      '/events?type=customer.created&limit=100',
    );
    const created = page.data.find((event) => event.data.customerId === customer.customerId);
    if (!created) throw new Error(`No customer.created event for ${customer.customerId}`);
    return { ids: { eventId: created.id } };
  },
  '/organizations/{organizationId}': async ({ tenant }) => {
    const organization = await createOrganization(tenant);
    return { ids: { organizationId: organization.customerId }, tokens: { customer: organization.token } };
  },
  '/organizations/{organizationId}/directors/{personId}': async ({ tenant, staff }) => {
    const organization = await createOrganization(tenant);
    const person = await expectSuccess<{ id: string }>(
      tenant,
      staff.token,
      'POST',
      `/organizations/${organization.customerId}/directors`,
      directorInput(),
    );
    return {
      ids: { organizationId: organization.customerId, personId: person.id },
      tokens: { customer: organization.token },
    };
  },
  '/organizations/{organizationId}/employees/{personId}': async ({ tenant, staff }) => {
    const organization = await createOrganization(tenant);
    const person = await expectSuccess<{ id: string }>(
      tenant,
      staff.token,
      'POST',
      `/organizations/${organization.customerId}/employees`,
      { email: `${unique('employee')}@example.com`, firstName: 'Ada', lastName: 'King', role: 'EMPLOYEE' },
    );
    return {
      ids: { organizationId: organization.customerId, personId: person.id },
      tokens: { customer: organization.token },
    };
  },
  '/organizations/{organizationId}/shareholders/{personId}': async ({ tenant, staff }) => {
    const organization = await createOrganization(tenant);
    const person = await expectSuccess<{ id: string }>(
      tenant,
      staff.token,
      'POST',
      `/organizations/${organization.customerId}/shareholders`,
      { type: 'INDIVIDUAL', firstName: 'Ada', lastName: 'King', isPep: false, ownershipPercentage: 10 },
    );
    return {
      ids: { organizationId: organization.customerId, personId: person.id },
      tokens: { customer: organization.token },
    };
  },
  '/groups/{groupId}': async ({ tenant, staff }) => {
    const group = await expectSuccess<{ id: string }>(tenant, staff.token, 'POST', '/groups', {
      name: unique('group'),
      description: 'Made for the contract tests.',
      roleIds: ['rol_support_agent'],
    });
    return { ids: { groupId: group.id } };
  },
  '/groups/{groupId}/members/{userId}': async ({ tenant, staff }) => {
    const group = await expectSuccess<{ id: string }>(tenant, staff.token, 'POST', '/groups', {
      name: unique('group'),
      description: 'Made for the contract tests.',
      roleIds: ['rol_support_agent'],
    });
    const member = await createStaff(tenant, { permissions: [] });
    await expectSuccess(tenant, staff.token, 'PUT', `/groups/${group.id}/members/${member.id}`);
    return { ids: { groupId: group.id, userId: member.id } };
  },
  '/access/roles/{roleId}': async ({ tenant, staff }) => {
    const role = await expectSuccess<{ id: string }>(tenant, staff.token, 'POST', '/access/roles', {
      name: unique('role'),
      description: 'Made for the contract tests.',
      permissions: ['customers:read'],
    });
    return { ids: { roleId: role.id } };
  },
  '/access/clients/{clientId}': async ({ tenant, staff }) => {
    const client = await expectSuccess<{ id: string }>(tenant, staff.token, 'POST', '/access/clients', {
      name: unique('client'),
      permissions: ['customers:read'],
    });
    return { ids: { clientId: client.id } };
  },
  '/access/users/{userId}': async ({ tenant, staff }) => {
    const user = await expectSuccess<{ id: string }>(tenant, staff.token, 'POST', '/access/users', {
      email: `${unique('invited')}@example.com`,
      displayName: 'Invited Staff',
      roleIds: ['rol_support_agent'],
    });
    return { ids: { userId: user.id } };
  },
  '/webhooks/endpoints/{endpointId}': async ({ tenant, staff }) => {
    const endpoint = await createEndpoint(tenant, receiver, { staff });
    return { ids: { endpointId: endpoint.id } };
  },
  '/webhooks/deliveries/{deliveryId}': async ({ tenant, staff }) => {
    const endpoint = await createEndpoint(tenant, receiver, { staff });
    const queued = await expectSuccess<{ id: string }>(
      tenant,
      staff.token,
      'POST',
      `/webhooks/endpoints/${endpoint.id}/test`,
    );
    // Only a settled delivery can be sent again. The queue may be minutes behind the requests the
    // fuzzer sends, so its consumer attempts this one now; the queue's own message finds it settled.
    await attemptNow(tenant, queued.id);
    const delivery = await expectSuccess<{ status: string }>(
      tenant,
      staff.token,
      'GET',
      `/webhooks/deliveries/${queued.id}`,
    );
    expect(delivery.status).toBe('DELIVERED');
    return { ids: { deliveryId: queued.id } };
  },
  '/tpps/{tppId}': async ({ tenant, staff }) => ({
    ids: { tppId: (await registerTpp(tenant, staff.token)).id },
  }),
  '/tpp-consents/{consentId}': async ({ tenant, staff }) => {
    const tpp = await registerTpp(tenant, staff.token);
    const client = await createTppClient(tenant, staff.token, tpp.id);
    const customer = await createCustomer(tenant);
    const challenge = base64UrlEncode(
      new Uint8Array(
        await crypto.subtle.digest('SHA-256', new TextEncoder().encode(unique('verifier').repeat(2))),
      ),
    );
    const consent = await expectSuccess<{ id: string }>(tenant, client.token, 'POST', '/tpp-consents', {
      customerId: customer.customerId,
      scopes: ['customers:read'],
      expiresAt: new Date(Date.now() + 30 * 24 * 60 * 60 * 1000).toISOString(),
      redirectUri: TPP_REDIRECT_URI,
      codeChallenge: challenge,
    });
    return { ids: { consentId: consent.id }, tokens: { customer: customer.token } };
  },
  '/platform/tenants/{tenantId}': async () => ({
    ids: { tenantId: (await createTenant({ tier: 'ENTERPRISE' })).id },
  }),
};

const BASE_PATH = new URL(BASE).pathname;

/** `/v2/customer/customers/{customerId}/consents` → `/customers/{customerId}`; undefined without path parameters. */
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
