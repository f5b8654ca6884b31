import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { idempotencyKeys } from '../../src/db/tenant';
import { sha256Hex } from '../../src/platform/crypto';
import { createStaff, createTenant, database, individualInput } from '../helpers/factories';
import { call } from '../helpers/http';

describe('Idempotency-Key', () => {
  it('replays the stored status and body with Idempotent-Replayed', async () => {
    const tenant = await createTenant();
    const input = individualInput();
    const headers = { 'Idempotency-Key': 'replay-1' };
    const first = await call('POST', '/individuals', { tenant: tenant.id, body: input, headers });
    expect(first.status).toBe(201);
    expect(first.headers.get('Idempotent-Replayed')).toBeNull();
    const second = await call('POST', '/individuals', { tenant: tenant.id, body: input, headers });
    expect(second.status).toBe(201);
    expect(second.headers.get('Idempotent-Replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('Location')).toBe(first.headers.get('Location'));
  });

  it('keeps only a keyed fingerprint of the body, which holds a password, never a bare hash', async () => {
    const tenant = await createTenant();
    const input = individualInput();
    const body = JSON.stringify(input);
    await call('POST', '/individuals', {
      tenant: tenant.id,
      body,
      headers: { 'Idempotency-Key': 'keyed-1' },
    });
    const [row] = await database(tenant)
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.tenantId, tenant.id), eq(idempotencyKeys.key, 'keyed-1')));
    expect(row?.fingerprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(row?.fingerprint).not.toBe(await sha256Hex(`POST /v2/customer/individuals\n${body}`));
  });

  it('refuses the same key with a different body (422)', async () => {
    const tenant = await createTenant();
    const headers = { 'Idempotency-Key': 'reuse-1' };
    await call('POST', '/individuals', { tenant: tenant.id, body: individualInput(), headers });
    const reused = await call('POST', '/individuals', {
      tenant: tenant.id,
      body: individualInput(),
      headers,
    });
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('idempotency_key_reused');
  });

  it('creates exactly one customer from twenty parallel requests with one key', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const input = individualInput();
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        call('POST', '/individuals', {
          tenant: tenant.id,
          token: staff.token,
          body: input,
          headers: { 'Idempotency-Key': 'parallel-1' },
        }),
      ),
    );
    const created = responses.filter((response) => response.status === 201);
    const inFlight = responses.filter((response) => response.status === 409);
    expect(created.length + inFlight.length).toBe(20);
    expect(new Set(created.map((response) => response.body.id)).size).toBe(1);
    for (const response of inFlight) expect(response.body.code).toBe('idempotency_key_in_use');
    const listed = await call<{ data: unknown[] }>(
      'GET',
      `/customers?email=${encodeURIComponent(input.email)}`,
      {
        tenant: tenant.id,
        token: staff.token,
      },
    );
    expect(listed.body.data).toHaveLength(1);
  });

  it('keeps keys private to their caller', async () => {
    const tenant = await createTenant();
    const first = await createStaff(tenant);
    const second = await createStaff(tenant);
    const headers = { 'Idempotency-Key': 'shared-name' };
    const a = await call('POST', '/individuals', {
      tenant: tenant.id,
      token: first.token,
      body: individualInput(),
      headers,
    });
    const b = await call('POST', '/individuals', {
      tenant: tenant.id,
      token: second.token,
      body: individualInput(),
      headers,
    });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.id).not.toBe(b.body.id);
  });

  it('validates the key', async () => {
    const tenant = await createTenant();
    const response = await call('POST', '/individuals', {
      tenant: tenant.id,
      body: individualInput(),
      headers: { 'Idempotency-Key': 'k'.repeat(256) },
    });
    expect(response.status).toBe(422);
    expect(response.body.errors).toEqual([expect.objectContaining({ path: 'header.Idempotency-Key' })]);
  });
});
