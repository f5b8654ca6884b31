import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { type OperationBudget, operationBudgets } from '../../scripts/bench/budgets.ts';
import { type Counted, counted } from '../helpers/counted';
import { createCustomer, createStaff, createTenant, randomIp, type TestSession } from '../helpers/factories';
import { verifiableCustomer } from '../helpers/verifications';

function expectWithin(route: keyof typeof operationBudgets, { status, answered }: Counted, ok = 200) {
  expect(status, route).toBe(ok);
  const budget: OperationBudget = operationBudgets[route];
  const spent = { d1Queries: answered.d1Queries, doCalls: answered.doCalls, kvReads: answered.kvReads };
  for (const key of Object.keys(budget) as (keyof OperationBudget)[]) {
    expect(spent[key], `${route}: ${JSON.stringify(spent)}`).toBeLessThanOrEqual(budget[key]);
  }
}

/**
 * Each route is called once to reach the steady state a busy isolate is in (its buckets leased,
 * the token's marks remembered, the tenant cached), then counted.
 */
describe('store operations per request (scripts/bench/budgets.ts)', () => {
  it('GET /health makes no store operation', async () => {
    const ip = randomIp();
    await counted('GET', '/health', { ip });
    expectWithin('GET /health', await counted('GET', '/health', { ip }));
  });

  it('a second GET /me makes no store operation; a customer read one D1 query', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const { customerId } = await createCustomer(tenant);
    const as = { ip: randomIp(), tenant: tenant.id, token: staff.token };
    await counted('GET', '/me', as);
    expectWithin('GET /me', await counted('GET', '/me', as));
    expectWithin('GET /customers/{customerId}', await counted('GET', `/customers/${customerId}`, as));
  });

  it.each([
    ['a built-in role', 'TENANT_ADMIN' as const],
    ['a custom role', { permissions: ['customers:read' as const, 'documents:read' as const] }],
  ])(
    'a login with %s makes two D1 round trips and no Durable Object call; a refresh one of each',
    async (_, role) => {
      const tenant = await createTenant();
      const staff = await createStaff(tenant, role);
      const ip = randomIp();
      const login = () =>
        counted('POST', '/auth/login', {
          ip,
          tenant: tenant.id,
          body: { email: staff.email, password: staff.password, accountType: 'STAFF' },
        });
      await login();
      const loggedIn = await login();
      expectWithin('POST /auth/login', loggedIn);
      // From an address whose buckets this isolate holds leased: no rate-limiter call either.
      expect(loggedIn.answered.doCalls).toBe(0);
      const refresh = (session: Record<string, unknown>) =>
        counted('POST', '/auth/refresh', {
          ip,
          tenant: tenant.id,
          body: { refreshToken: (session as unknown as TestSession).refreshToken },
        });
      const refreshed = await refresh(loggedIn.body);
      const again = await refresh(refreshed.body);
      expectWithin('POST /auth/refresh', again);
      // The roles were read in those round trips: the token carries what they grant.
      if (typeof role !== 'string') {
        const { scope } = decodeJwt(String(again.body.accessToken));
        expect(String(scope).split(' ').sort()).toEqual([...role.permissions].sort());
      }
    },
  );

  it('a customer login reads no roles: a customer holds its role by being one', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const ip = randomIp();
    const login = () =>
      counted('POST', '/auth/login', {
        ip,
        tenant: tenant.id,
        body: { email: customer.email, password: customer.password, accountType: 'CUSTOMER' },
      });
    await login();
    const loggedIn = await login();
    expectWithin('POST /auth/login', loggedIn);
    // The reservation, its user read and three second factors; the session, failures cleared, audit, outbox.
    expect(loggedIn.answered.d1Statements).toBe(5 + 4);
  });

  it('a login from an address not seen before makes one rate-limit Durable Object call', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    // The anonymous caller's tenant quota and the login bucket live in the address's one object.
    const loggedIn = await counted('POST', '/auth/login', {
      ip: randomIp(),
      tenant: tenant.id,
      body: { email: staff.email, password: staff.password, accountType: 'STAFF' },
    });
    expect(loggedIn.status).toBe(200);
    expect(loggedIn.doCallsByBinding.RATE_LIMITER).toBe(1);
  });

  it('adding a beneficiary makes four D1 round trips and no other store operation', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const { customerId } = await createCustomer(tenant);
    const as = { ip: randomIp(), tenant: tenant.id, token: staff.token };
    const add = (iban: string) =>
      counted('POST', `/customers/${customerId}/beneficiaries`, {
        ...as,
        body: {
          name: 'Grace Hopper',
          type: 'INDIVIDUAL',
          country: 'DE',
          network: 'SEPA',
          currency: 'EUR',
          account: { iban },
        },
      });
    await add('DE89370400440532013000');
    const added = await add('DE02120300000000202051');
    expectWithin('POST /customers/{customerId}/beneficiaries', added, 201);
  });

  it('submitting a verification makes seven D1 round trips at most, its handovers included, no other store operation', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const as = { ip: randomIp(), tenant: tenant.id, token: staff.token };
    // One open verification per customer and level: each submit is for a customer of its own.
    const submit = async () => {
      const { customerId } = await verifiableCustomer(tenant);
      return counted('POST', `/customers/${customerId}/verifications`, { ...as, body: { level: 'BASIC' } });
    };
    await submit();
    expectWithin('POST /customers/{customerId}/verifications', await submit(), 202);
  });
});
