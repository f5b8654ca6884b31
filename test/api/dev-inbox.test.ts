import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import worker from '../../src/index';
import {
  adminHeaders,
  createCustomer,
  createStaff,
  createTenant,
  type TestTenant,
} from '../helpers/factories';
import { BASE, call } from '../helpers/http';
import { expectProblem } from '../helpers/problems';

interface Inbox {
  data: { eventId: string; createdAt: string; message: Record<string, string> }[];
}

function inbox(tenant: TestTenant, recipient?: string) {
  const query = new URLSearchParams({ tenant: tenant.id, ...(recipient ? { recipient } : {}) });
  return call<Inbox>('GET', `/dev/inbox?${query}`, { headers: adminHeaders() });
}

/** The worker's fetch handler with ENVIRONMENT set, as `wrangler deploy --env production` sets it. */
async function fetchAs(
  environment: 'production' | 'test',
  path: string,
  headers: Record<string, string> = {},
) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(`${BASE}${path}`, { headers }),
    { ...env, ENVIRONMENT: environment },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

describe('the local inbox (GET /dev/inbox)', () => {
  it('shows the code an email verification sent, which then confirms the email', async () => {
    const tenant = await createTenant();
    const customer = await createCustomer(tenant);
    const requested = await call('POST', '/registration/email-verification', {
      tenant: tenant.id,
      token: customer.token,
      body: { customerId: customer.customerId },
    });
    expect(requested.status, requested.text).toBe(202);

    const listed = await inbox(tenant, customer.email);
    expect(listed.status, listed.text).toBe(200);
    expect(listed.headers.get('Cache-Control')).toBe('no-store');
    expect(listed.body.data).toHaveLength(1);
    const [entry] = listed.body.data;
    expect(entry?.message).toMatchObject({
      channel: 'EMAIL',
      template: 'EMAIL_VERIFICATION',
      recipient: customer.email,
      customerId: customer.customerId,
    });
    expect(entry?.message.code).toMatch(/^\d{6}$/);

    const confirmed = await call('POST', '/registration/email-verification/confirm', {
      tenant: tenant.id,
      token: customer.token,
      body: { customerId: customer.customerId, code: entry?.message.code },
    });
    expect(confirmed.status, confirmed.text).toBe(200);
  });

  it('shows a staff invitation token, newest message first, and only the tenant asked for', async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    const admin = await createStaff(tenant);
    const email = `invitee-${crypto.randomUUID()}@example.com`;
    const invited = await call('POST', '/access/users', {
      tenant: tenant.id,
      token: admin.token,
      body: { email, displayName: 'Invitee', roleIds: ['rol_support_agent'] },
    });
    expect(invited.status, invited.text).toBe(201);
    await createCustomer(other);

    const listed = await inbox(tenant);
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.data[0]?.message).toMatchObject({ template: 'STAFF_INVITATION', recipient: email });
    expect(listed.body.data[0]?.message.token).toEqual(expect.any(String));
    expect((await inbox(other)).body.data.map(({ message }) => message.recipient)).not.toContain(email);
  });

  it('answers 404 for an unknown tenant', async () => {
    const response = await call('GET', '/dev/inbox?tenant=no-such-tenant', { headers: adminHeaders() });
    await expectProblem(response, 404, 'not_found');
  });

  it('does not exist in production: 404 before the operator token is read, and absent from the document', async () => {
    const tenant = await createTenant();
    for (const headers of [adminHeaders(), {}]) {
      const response = await fetchAs('production', `/dev/inbox?tenant=${tenant.id}`, headers);
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ code: 'not_found' });
    }
    const production = await (await fetchAs('production', '/openapi.json')).json<OpenApi>();
    expect(production.paths['/v2/customer/dev/inbox']).toBeUndefined();
    expect(production.tags.map((tag) => tag.name)).not.toContain('Development');
    const test = await (await fetchAs('test', '/openapi.json')).json<OpenApi>();
    expect(test.paths['/v2/customer/dev/inbox']?.get).toMatchObject({ 'x-development-only': true });
  });
});

interface OpenApi {
  paths: Record<string, Record<string, unknown>>;
  tags: { name: string }[];
}
