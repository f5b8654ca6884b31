import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditEvents, events, webhookEndpoints } from '../../src/db/tenant';
import { eventCatalogue } from '../../src/platform/events';
import { createApiClient, createStaff, createTenant, database } from '../helpers/factories';
import { call } from '../helpers/http';
import { expectProblem } from '../helpers/problems';
import { createEndpoint, installReceiver } from '../helpers/webhooks';

const receiver = installReceiver();
const permission = 'webhooks:admin';

describe('POST /webhooks/endpoints', () => {
  it('registers an endpoint and shows its whsec_ secret once, stored encrypted', async () => {
    const tenant = await createTenant();
    const client = await createApiClient(tenant, [permission]);
    const response = await call<Record<string, unknown> & { id: string; secret: string }>(
      'POST',
      '/webhooks/endpoints',
      {
        tenant: tenant.id,
        token: client.token,
        body: {
          url: 'https://hooks.example.com/fincore',
          events: ['customer.created', 'customer.created', 'session.revoked'],
          description: 'Core banking sync',
        },
      },
    );
    expect(response.status, response.text).toBe(201);
    expect(response.headers.get('Cache-Control')).toBe('no-store');
    expect(response.headers.get('Location')).toBe(`/v2/customer/webhooks/endpoints/${response.body.id}`);
    expect(response.body).toMatchObject({
      url: 'https://hooks.example.com/fincore',
      events: ['customer.created', 'session.revoked'],
      description: 'Core banking sync',
      enabled: true,
      disabledReason: null,
      failingSince: null,
      previousSecretExpiresAt: null,
    });
    expect(response.body.id).toMatch(/^whe_/);
    // Standard Webhooks: whsec_ and base64 of 32 random bytes.
    expect(response.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    const row = await database(tenant)
      .select()
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.id, response.body.id))
      .get();
    expect(row?.secret).toMatch(/^v1\./);
    expect(row?.secret).not.toContain(response.body.secret.slice(6));

    const read = await call('GET', `/webhooks/endpoints/${response.body.id}`, {
      tenant: tenant.id,
      token: client.token,
    });
    expect(read.status).toBe(200);
    expect(read.body).not.toHaveProperty('secret');
    expect(read.text).not.toContain(response.body.secret.slice(6));

    const audit = await database(tenant)
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.tenantId, tenant.id), eq(auditEvents.targetId, response.body.id)));
    expect(audit.map((entry) => entry.action)).toEqual(['webhook_endpoint.created']);
    expect(JSON.stringify(audit)).not.toContain(response.body.secret.slice(6));
  });

  it('accepts ["*"] but not * mixed with event types, unknown types or an empty list (422)', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const post = (events: unknown) =>
      call('POST', '/webhooks/endpoints', {
        tenant: tenant.id,
        token: staff.token,
        body: { url: 'https://hooks.example.com/', events },
      });
    expect((await post(['*'])).body.events).toEqual(['*']);
    for (const events of [['*', 'customer.created'], ['customer.exploded'], [], 'customer.created']) {
      const response = await post(events);
      expectProblem(response, 422, 'validation_failed');
      expect(JSON.stringify(response.body.errors)).toContain('events');
    }
    expectProblem(
      await call('POST', '/webhooks/endpoints', {
        tenant: tenant.id,
        token: staff.token,
        body: { url: 'https://hooks.example.com/', events: ['*'], secret: 'mine' },
      }),
      422,
      'validation_failed',
    );
  });

  it('refuses URLs to forbidden hosts with 422 webhook_url_not_allowed, one per range', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const refusals: [url: string, reason: string][] = [
      ['http://hooks.example.com/', 'must use https'],
      ['https://10.0.0.1/', 'private network address'],
      ['https://172.16.5.4/', 'private network address'],
      ['https://192.168.0.1/', 'private network address'],
      ['https://127.0.0.1/', 'loopback'],
      ['https://[::1]/', 'loopback'],
      ['https://169.254.169.254/', 'link-local'],
      ['https://[fe80::1]/', 'link-local'],
      ['https://100.64.0.1/', 'carrier-grade NAT'],
      ['https://[fd00::1]/', 'unique-local'],
      ['https://0.0.0.0/', 'unspecified'],
      ['https://[::ffff:10.0.0.1]/', 'private network address'],
      ['https://0x7f000001/', 'loopback'],
      ['https://localhost/', 'local machine'],
      ['http://localhost:8080/', 'must use https'],
      ['https://svc.localhost/', 'local machine'],
    ];
    for (const [url, reason] of refusals) {
      const response = await call('POST', '/webhooks/endpoints', {
        tenant: tenant.id,
        token: staff.token,
        body: { url, events: ['*'] },
      });
      expectProblem(response, 422, 'webhook_url_not_allowed');
      expect(response.body.detail, url).toContain(reason);
      expect(response.body.errors).toEqual([{ path: 'url', message: expect.stringContaining(reason) }]);
    }
  });

  it('allows at most 20 endpoints per tenant (409)', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const post = () =>
      call('POST', '/webhooks/endpoints', {
        tenant: tenant.id,
        token: staff.token,
        body: { url: 'https://hooks.example.com/', events: ['*'] },
      });
    for (let i = 0; i < 20; i++) expect((await post()).status).toBe(201);
    expectProblem(await post(), 409, 'webhook_endpoint_limit_reached');
  });
});

describe('GET /webhooks/endpoints', () => {
  it("pages through the tenant's endpoints, newest first, and only this tenant's", async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    await createEndpoint(other, receiver);
    const staff = await createStaff(tenant);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await createEndpoint(tenant, receiver, { staff })).id);
    const first = await call<{ data: { id: string }[]; nextCursor: string | null }>(
      'GET',
      '/webhooks/endpoints?limit=2',
      { tenant: tenant.id, token: staff.token },
    );
    expect(first.status).toBe(200);
    expect(first.text).not.toContain('whsec_');
    const second = await call<{ data: { id: string }[]; nextCursor: string | null }>(
      'GET',
      `/webhooks/endpoints?limit=2&cursor=${first.body.nextCursor}`,
      { tenant: tenant.id, token: staff.token },
    );
    expect([...first.body.data, ...second.body.data].map((endpoint) => endpoint.id)).toEqual(ids.reverse());
    expect(second.body.nextCursor).toBeNull();
  });
});

describe('PATCH /webhooks/endpoints/{endpointId}', () => {
  it('changes events, description and URL, and disables with an event', async () => {
    const tenant = await createTenant();
    const endpoint = await createEndpoint(tenant, receiver);
    const patch = (body: unknown) =>
      call<Record<string, unknown>>('PATCH', `/webhooks/endpoints/${endpoint.id}`, {
        tenant: tenant.id,
        token: endpoint.staff.token,
        body,
      });
    const changed = await patch({
      events: ['customer.created'],
      description: 'CRM',
      url: 'https://crm.example.com/in',
    });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.body).toMatchObject({
      events: ['customer.created'],
      description: 'CRM',
      url: 'https://crm.example.com/in',
    });

    const disabled = await patch({ enabled: false });
    expect(disabled.body).toMatchObject({ enabled: false, disabledReason: 'MANUAL' });
    const outbox = await database(tenant)
      .select()
      .from(events)
      .where(and(eq(events.tenantId, tenant.id), eq(events.type, 'webhook_endpoint.disabled')));
    expect(outbox.map((row) => row.data)).toEqual([{ endpointId: endpoint.id, reason: 'MANUAL' }]);

    const enabled = await patch({ enabled: true, description: null });
    expect(enabled.body).toMatchObject({ enabled: true, disabledReason: null, description: null });
  });

  it('checks a new URL like a new endpoint, and wants at least one field', async () => {
    const tenant = await createTenant();
    const endpoint = await createEndpoint(tenant, receiver);
    const patch = (body: unknown) =>
      call('PATCH', `/webhooks/endpoints/${endpoint.id}`, {
        tenant: tenant.id,
        token: endpoint.staff.token,
        body,
      });
    expectProblem(await patch({ url: 'https://192.168.1.1/' }), 422, 'webhook_url_not_allowed');
    expectProblem(await patch({}), 422, 'validation_failed');
  });
});

describe('DELETE /webhooks/endpoints/{endpointId}', () => {
  it('deletes the endpoint and its delivery log', async () => {
    const tenant = await createTenant();
    const endpoint = await createEndpoint(tenant, receiver);
    const options = { tenant: tenant.id, token: endpoint.staff.token };
    const test = await call<{ id: string }>('POST', `/webhooks/endpoints/${endpoint.id}/test`, options);
    expect((await call('DELETE', `/webhooks/endpoints/${endpoint.id}`, options)).status).toBe(204);
    expectProblem(await call('GET', `/webhooks/endpoints/${endpoint.id}`, options), 404, 'not_found');
    expectProblem(await call('GET', `/webhooks/deliveries/${test.body.id}`, options), 404, 'not_found');
  });
});

describe('POST /webhooks/endpoints/{endpointId}/rotate-secret', () => {
  it('issues a new secret and keeps the old one signing for 24 h', async () => {
    const tenant = await createTenant();
    const endpoint = await createEndpoint(tenant, receiver);
    const before = Date.now();
    const rotated = await call<{ secret: string; previousSecretExpiresAt: string }>(
      'POST',
      `/webhooks/endpoints/${endpoint.id}/rotate-secret`,
      { tenant: tenant.id, token: endpoint.staff.token },
    );
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.headers.get('Cache-Control')).toBe('no-store');
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(endpoint.secret);
    const overlap = Date.parse(rotated.body.previousSecretExpiresAt) - before;
    expect(overlap).toBeGreaterThan(23.9 * 3_600_000);
    expect(overlap).toBeLessThanOrEqual(24 * 3_600_000 + 60_000);
  });
});

describe('POST /webhooks/endpoints/{endpointId}/test', () => {
  it('refuses a disabled endpoint (409)', async () => {
    const tenant = await createTenant();
    const endpoint = await createEndpoint(tenant, receiver);
    const options = { tenant: tenant.id, token: endpoint.staff.token };
    await call('PATCH', `/webhooks/endpoints/${endpoint.id}`, { ...options, body: { enabled: false } });
    expectProblem(
      await call('POST', `/webhooks/endpoints/${endpoint.id}/test`, options),
      409,
      'webhook_endpoint_disabled',
    );
  });
});

describe('the event catalogue in the OpenAPI document', () => {
  it('publishes every event type as an OpenAPI 3.1 webhook with its envelope and data schema', async () => {
    const response = await call<{
      webhooks: Record<string, { post: Record<string, unknown> }>;
      components: { schemas: Record<string, { properties: Record<string, unknown>; required: string[] }> };
    }>('GET', '/openapi.json');
    expect(response.status).toBe(200);
    const { webhooks, components } = response.body;
    expect(Object.keys(webhooks).sort()).toEqual(Object.keys(eventCatalogue).sort());
    for (const type of Object.keys(eventCatalogue)) {
      const operation = webhooks[type]?.post as {
        requestBody: { content: { 'application/json': { schema: { $ref: string } } } };
        parameters: { name: string; in: string }[];
      };
      const ref = operation.requestBody.content['application/json'].schema.$ref;
      const schema = components.schemas[ref.replace('#/components/schemas/', '')];
      expect(schema?.required, type).toEqual(
        expect.arrayContaining(['id', 'type', 'createdAt', 'tenantId', 'data']),
      );
      expect(schema?.properties.type, type).toMatchObject({ enum: [type] });
      expect(operation.parameters.map((parameter) => `${parameter.in}:${parameter.name}`)).toEqual([
        'header:webhook-id',
        'header:webhook-timestamp',
        'header:webhook-signature',
      ]);
    }
    expect(components.schemas.CustomerCreatedEvent?.properties.data).toMatchObject({
      properties: { customerId: expect.any(Object), status: expect.any(Object) },
    });
  });
});
