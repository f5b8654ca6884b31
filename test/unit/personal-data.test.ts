import { env } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { customerKeys } from '../../src/db/tenant';
import { seal, unseal, unwrapCustomerKey } from '../../src/platform/personal-data';
import { tenantChanged } from '../../src/platform/tenant-memory';
import { createTenant, database, seedOrganization, type TestTenant } from '../helpers/factories';

/** A customer made as the API makes one, and its data key as stored: wrapped. */
async function storedKey(tenant: TestTenant) {
  const customerId = await seedOrganization(tenant);
  const row = await database(tenant)
    .select({ wrappedKey: customerKeys.wrappedKey })
    .from(customerKeys)
    .where(and(eq(customerKeys.tenantId, tenant.id), eq(customerKeys.customerId, customerId)))
    .get();
  if (!row) throw new Error(`no key for ${customerId}`);
  return { customerId, wrappedKey: row.wrappedKey };
}

const unwrap = (tenant: TestTenant, customerId: string, wrappedKey: string) =>
  unwrapCustomerKey(env.FIELD_ENCRYPTION_KEY, tenant.id, customerId, wrappedKey);

describe('unwrapped customer keys', () => {
  it('are remembered per stored wrapped key and forgotten at a commit of the tenant (an erasure is one)', async () => {
    const tenant = await createTenant();
    const { customerId, wrappedKey } = await storedKey(tenant);
    const first = await unwrap(tenant, customerId, wrappedKey);
    expect(await unwrap(tenant, customerId, wrappedKey)).toBe(first);

    tenantChanged(tenant.id);
    const after = await unwrap(tenant, customerId, wrappedKey);
    expect(after).not.toBe(first);
    expect(after).toEqual(first);
  });

  it('open only the customer and tenant they were wrapped for, remembered or not', async () => {
    const [tenant, other] = await Promise.all([createTenant(), createTenant()]);
    const genuine = await storedKey(tenant);
    const elsewhere = await storedKey(tenant);
    await unwrap(tenant, genuine.customerId, genuine.wrappedKey);

    await expect(unwrap(tenant, elsewhere.customerId, genuine.wrappedKey)).rejects.toThrow(
      /does not decrypt/,
    );
    await expect(unwrap(other, genuine.customerId, genuine.wrappedKey)).rejects.toThrow(/does not decrypt/);
    const [version, iv, ciphertext] = genuine.wrappedKey.split('.') as [string, string, string];
    const tampered = [
      version,
      iv,
      `${ciphertext.slice(0, -2)}${ciphertext.endsWith('AA') ? 'BB' : 'AA'}`,
    ].join('.');
    await expect(unwrap(tenant, genuine.customerId, tampered)).rejects.toThrow(/does not decrypt/);
  });

  it('open what a fresh unwrap of the same key sealed', async () => {
    const tenant = await createTenant();
    const { customerId, wrappedKey } = await storedKey(tenant);
    const remembered = await unwrap(tenant, customerId, wrappedKey);
    const sealed = await seal(remembered, tenant.id, 'test-purpose', { name: 'Ada' });
    tenantChanged(tenant.id);
    const fresh = await unwrap(tenant, customerId, wrappedKey);
    expect(fresh).not.toBe(remembered);
    expect(await unseal(fresh, tenant.id, 'test-purpose', sealed)).toEqual({ name: 'Ada' });
    await expect(unseal(fresh, tenant.id, 'another-purpose', sealed)).rejects.toThrow(/does not decrypt/);
  });
});
