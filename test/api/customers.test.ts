import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { customers } from '../../src/db/tenant';
import {
  createApiClient,
  createCustomer,
  createStaff,
  createTenant,
  database,
  individualInput,
} from '../helpers/factories';
import { call } from '../helpers/http';

describe('GET /customers/{customerId}', () => {
  it('lets a customer read itself but not another customer (404)', async () => {
    const tenant = await createTenant();
    const ada = await createCustomer(tenant);
    const bob = await createCustomer(tenant);
    const own = await call('GET', `/customers/${ada.customerId}`, { tenant: tenant.id, token: ada.token });
    expect(own.status).toBe(200);
    expect(own.body.email).toBe(ada.email);
    const other = await call('GET', `/customers/${bob.customerId}`, { tenant: tenant.id, token: ada.token });
    expect(other.status).toBe(404);
  });

  it('answers 404 for an id that does not exist', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant, 'COMPLIANCE_OFFICER');
    const response = await call('GET', '/customers/cus_01jd7w3v8m9k2q4r6t8v0x2z4b', {
      tenant: tenant.id,
      token: staff.token,
    });
    expect(response.status).toBe(404);
  });
});

describe('GET /customers', () => {
  it('pages through every customer of the tenant, newest first, and only of this tenant', async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    await createCustomer(other);
    const created = [];
    for (let i = 0; i < 5; i++) created.push((await createCustomer(tenant)).customerId);
    const staff = await createStaff(tenant);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page = await call<{ data: { id: string }[]; nextCursor: string | null }>(
        'GET',
        `/customers${query}`,
        {
          tenant: tenant.id,
          token: staff.token,
        },
      );
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((customer) => customer.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...created].reverse());
  });

  it('filters by email, status, type, time range and search text', async () => {
    const tenant = await createTenant();
    const client = await createApiClient(tenant, ['customers:read', 'customers:write']);
    const before = new Date().toISOString();
    const grace = await call<{ id: string }>('POST', '/individuals', {
      tenant: tenant.id,
      token: client.token,
      body: individualInput({ firstName: 'Grace', lastName: 'Hopper_100%' }),
    });
    await createCustomer(tenant);
    const list = async (query: string) =>
      (
        await call<{ data: { id: string }[] }>('GET', `/customers?${query}`, {
          tenant: tenant.id,
          token: client.token,
        })
      ).body.data.map((customer) => customer.id);
    const graceEmail = String((grace.body as Record<string, unknown>).email);
    expect(await list(`email=${encodeURIComponent(graceEmail.toUpperCase())}`)).toEqual([grace.body.id]);
    expect(await list('q=hopper_100%25')).toEqual([grace.body.id]);
    // `%` is taken literally: unescaped, `per%1` would match `per_1`.
    expect(await list('q=per%251')).toEqual([]);
    expect(await list('status=PENDING_EMAIL_VERIFICATION')).toHaveLength(2);
    expect(await list('status=ACTIVE')).toEqual([]);
    expect(await list('type=BUSINESS')).toEqual([]);
    expect(await list(`createdFrom=${before}`)).toHaveLength(2);
    expect(await list(`createdTo=${before}`)).toEqual([]);
  });

  it('searches whole words of name and email, case- and accent-form-insensitively, without storing them', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const name = `Ada${'é'.repeat(96)}`;
    const ada = await createCustomer(tenant, { firstName: 'Zoë', lastName: name });
    const search = async (term: string) => {
      const response = await call<{ data: { id: string }[] }>(
        'GET',
        `/customers?q=${encodeURIComponent(term)}`,
        {
          tenant: tenant.id,
          token: staff.token,
        },
      );
      expect(response.status, response.text).toBe(200);
      return response.body.data.map((customer) => customer.id);
    };
    expect(await search(name.toUpperCase())).toEqual([ada.customerId]);
    // NFKC: a decomposed ë finds the composed one.
    expect(await search('zoe\u0308')).toEqual([ada.customerId]);
    expect(await search(ada.email)).toEqual([ada.customerId]);
    // Every word must match, and words match whole: no prefixes.
    expect(await search(`Zoë Smith`)).toEqual([]);
    expect(await search(name.slice(0, 50))).toEqual([]);
    expect(await search('x'.repeat(100))).toEqual([]);

    const stored = await database(tenant)
      .select()
      .from(customers)
      .where(eq(customers.id, ada.customerId))
      .get();
    // Neither the email's `@` nor an accented letter can appear in sealed base64url text.
    expect(JSON.stringify(stored)).not.toMatch(/[@ëé]/);
  });

  it('keeps the search index with the name: a rename is found by the new name only', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const ada = await createCustomer(tenant, { lastName: 'Byron' });
    const search = async (term: string) =>
      (
        await call<{ data: { id: string }[] }>('GET', `/customers?q=${term}`, {
          tenant: tenant.id,
          token: staff.token,
        })
      ).body.data.map((customer) => customer.id);
    const patch = (body: Record<string, unknown>) =>
      call('PATCH', `/customers/${ada.customerId}`, { tenant: tenant.id, token: staff.token, body });
    expect((await patch({ occupation: 'Mathematician' })).status).toBe(200);
    expect(await search('byron')).toEqual([ada.customerId]);
    expect((await patch({ lastName: 'Lovelace' })).status).toBe(200);
    expect(await search('lovelace')).toEqual([ada.customerId]);
    expect(await search('byron')).toEqual([]);
  });

  it('is for staff only: a customer gets 403', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const response = await call('GET', '/customers', { tenant: tenant.id, token: customer.token });
    expect(response.status).toBe(403);
  });
});
