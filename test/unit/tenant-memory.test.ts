import { describe, expect, it } from 'vitest';
import { unexpired } from '../../src/platform/auth/tokens';
import { newId } from '../../src/platform/ids';
import { TenantMemory, tenantChanged } from '../../src/platform/tenant-memory';

/** A memory of reads that count how often they ran; tenant ids are fresh, memories are per isolate. */
function counting(ttlMs = 1_000) {
  const memory = new TenantMemory<string>({ ttlMs, tenants: 2, entriesPerTenant: 2 });
  const reads = { count: 0 };
  const read = (value: string) => async () => {
    reads.count += 1;
    return value;
  };
  return { memory, reads, read, tenant: () => newId('request') };
}

describe('TenantMemory', () => {
  it('answers from memory within its lifetime and reads again after it', async () => {
    const { memory, reads, read, tenant } = counting();
    const t = tenant();
    expect(await memory.through(t, 'k', read('first'), 0)).toBe('first');
    expect(await memory.through(t, 'k', read('second'), 999)).toBe('first');
    expect(reads.count).toBe(1);
    expect(await memory.through(t, 'k', read('third'), 1_000)).toBe('third');
    expect(reads.count).toBe(2);
  });

  it('forgets a tenant at its change, and only that tenant', async () => {
    const { memory, reads, read, tenant } = counting();
    const [changed, other] = [tenant(), tenant()];
    await memory.through(changed, 'k', read('old'), 0);
    await memory.through(other, 'k', read('kept'), 0);
    tenantChanged(changed);
    expect(await memory.through(changed, 'k', read('new'), 1)).toBe('new');
    expect(await memory.through(other, 'k', read('unused'), 1)).toBe('kept');
    expect(reads.count).toBe(3);
  });

  it('does not keep a read that a change of the tenant overtook', async () => {
    const { memory, read, tenant } = counting();
    const t = tenant();
    const racing = memory.through(t, 'k', async () => {
      tenantChanged(t);
      return 'read before the change landed';
    });
    await racing;
    expect(await memory.through(t, 'k', read('after the change'))).toBe('after the change');
  });

  it('keeps nothing of a read that failed', async () => {
    const { memory, reads, read, tenant } = counting();
    const t = tenant();
    await expect(
      memory.through(t, 'k', async () => {
        throw new Error('gone');
      }),
    ).rejects.toThrow('gone');
    expect(await memory.through(t, 'k', read('found'))).toBe('found');
    expect(reads.count).toBe(1);
  });

  it('is bounded per tenant and in tenants', async () => {
    const { memory, reads, read, tenant } = counting();
    const [a, b, c] = [tenant(), tenant(), tenant()];
    for (const key of ['k1', 'k2', 'k3']) await memory.through(a, key, read(key), 0);
    await memory.through(a, 'k1', read('k1 again'), 0);
    expect(reads.count).toBe(4);
    await memory.through(b, 'k', read('b'), 0);
    await memory.through(c, 'k', read('c'), 0);
    expect(await memory.through(a, 'k3', read('a forgotten'), 0)).toBe('a forgotten');
  });
});

describe('unexpired (a token verified before)', () => {
  it('holds until the second of `exp`, as jose checks it', () => {
    expect(unexpired({ exp: 100 }, 99)).toBe(true);
    expect(unexpired({ exp: 100 }, 100)).toBe(false);
  });
});
