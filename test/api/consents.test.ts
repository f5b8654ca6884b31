import { describe, expect, it } from 'vitest';
import { createCustomer, createStaff, createTenant } from '../helpers/factories';
import { call } from '../helpers/http';
import { expectProblem } from '../helpers/problems';

interface Consent {
  id: string;
  type: string;
  status: string;
  version: string;
  ip: string | null;
  userAgent: string | null;
}

describe('customer consents', () => {
  it('records registration consents with version, IP and User-Agent', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const list = await call<{ data: Consent[] }>('GET', `/customers/${customer.customerId}/consents`, {
      tenant: tenant.id,
      token: customer.token,
    });
    expect(list.status).toBe(200);
    expect(list.body.data.map((consent) => consent.type).sort()).toEqual([
      'PRIVACY_POLICY',
      'TERMS_AND_CONDITIONS',
    ]);
    expect(list.body.data.every((consent) => consent.status === 'GRANTED' && consent.version === '1.0')).toBe(
      true,
    );
    expect(list.body.data[0]?.ip).toMatch(/^10\./);
  });

  it('lets a customer grant marketing, supersede it with a new version and withdraw it, keeping the history', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const base = `/customers/${customer.customerId}/consents`;
    const as = { tenant: tenant.id, token: customer.token };
    const first = await call<Consent>('POST', base, { ...as, body: { type: 'MARKETING', version: '1.0' } });
    expect(first.status).toBe(201);
    const second = await call<Consent>('POST', base, {
      ...as,
      body: { type: 'MARKETING', version: '2.0' },
      headers: { 'User-Agent': 'FinCoreApp/3.1 (iOS)' },
    });
    expect(second.body).toMatchObject({
      status: 'GRANTED',
      version: '2.0',
      userAgent: 'FinCoreApp/3.1 (iOS)',
    });
    const withdrawn = await call<Consent>('DELETE', `${base}/${second.body.id}`, as);
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.body.status).toBe('WITHDRAWN');
    expectProblem(await call('DELETE', `${base}/${second.body.id}`, as), 409, 'consent_not_in_force');

    const history = await call<{ data: Consent[] }>('GET', base, as);
    const marketing = history.body.data.filter((consent) => consent.type === 'MARKETING');
    expect(marketing.map((consent) => [consent.version, consent.status])).toEqual([
      ['2.0', 'WITHDRAWN'],
      ['1.0', 'SUPERSEDED'],
    ]);
  });

  it('refuses to withdraw a required consent (409) and validates the grant', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const base = `/customers/${customer.customerId}/consents`;
    const as = { tenant: tenant.id, token: customer.token };
    const list = await call<{ data: Consent[] }>('GET', base, as);
    const terms = list.body.data.find((consent) => consent.type === 'TERMS_AND_CONDITIONS');
    expectProblem(await call('DELETE', `${base}/${terms?.id}`, as), 409, 'consent_not_withdrawable');

    const unknownType = await call('POST', base, { ...as, body: { type: 'EVERYTHING', version: '1' } });
    expectProblem(unknownType, 422, 'validation_failed');
    expect(unknownType.body.errors).toEqual([expect.objectContaining({ path: 'type' })]);
    const past = await call('POST', base, {
      ...as,
      body: { type: 'MARKETING', version: '1', expiresAt: '2020-01-01T00:00:00Z' },
    });
    expect(past.body.errors).toEqual([expect.objectContaining({ path: 'expiresAt' })]);
  });

  it('keeps customers to their own consents and lets staff act with the permission', async () => {
    const tenant = await createTenant();
    const ada = await createCustomer(tenant);
    const bob = await createCustomer(tenant);
    expectProblem(
      await call('GET', `/customers/${bob.customerId}/consents`, { tenant: tenant.id, token: ada.token }),
      404,
      'not_found',
    );
    const agent = await createStaff(tenant, 'SUPPORT_AGENT');
    const granted = await call('POST', `/customers/${bob.customerId}/consents`, {
      tenant: tenant.id,
      token: agent.token,
      body: { type: 'DATA_PROCESSING', version: '1.1' },
    });
    expect(granted.status).toBe(201);
  });
});
