import { describe, expect, it } from 'vitest';
import { createCustomer, createStaff, createTenant } from '../helpers/factories';
import { call } from '../helpers/http';

describe('smoke', () => {
  it('serves health', async () => {
    const res = await call('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
  });

  it('registers and reads a customer', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const staff = await createStaff(tenant);
    const res = await call('GET', `/customers/${customer.customerId}`, {
      tenant: tenant.id,
      token: staff.token,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.status).toBe('PENDING_EMAIL_VERIFICATION');
  });
});
