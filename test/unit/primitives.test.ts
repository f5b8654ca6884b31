import { describe, expect, it } from 'vitest';
import { hashPassword, PBKDF2_ITERATIONS, verifyPassword } from '../../src/platform/auth/passwords';
import { ApiError } from '../../src/platform/errors';
import { isId, newId } from '../../src/platform/ids';
import { decodeCursor, encodeCursor, toPage } from '../../src/platform/pagination';
import { backoffSeconds } from '../../src/platform/queues';
import { ageOn } from '../../src/platform/schemas';

describe('ids', () => {
  it('are prefixed, well-formed and ordered by creation time', () => {
    const earlier = newId('customer', 1_700_000_000_000);
    const later = newId('customer', 1_700_000_000_001);
    expect(earlier).toMatch(/^cus_[0-9a-z]{26}$/);
    expect(isId('customer', earlier)).toBe(true);
    expect(isId('user', earlier)).toBe(false);
    expect(earlier < later).toBe(true);
  });

  it('made in one millisecond, across refills of the random pool, never repeat', () => {
    const ids = Array.from({ length: 2_000 }, () => newId('request', 1_700_000_000_000));
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids.map((id) => id.slice(0, 14))).size).toBe(1);
    expect(ids.every((id) => isId('request', id))).toBe(true);
  });
});

describe('passwords', () => {
  it('use PBKDF2-SHA256 at 100,000 iterations, the most production Workers allow', async () => {
    expect(PBKDF2_ITERATIONS).toBe(100_000);
    const hash = await hashPassword('correct-horse-battery-staple');
    expect(hash).toMatch(/^pbkdf2-sha256\$100000\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await verifyPassword('correct-horse-battery-staple', hash)).toEqual({
      valid: true,
      needsRehash: false,
    });
    expect((await verifyPassword('correct-horse-battery-stapl', hash)).valid).toBe(false);
  });

  it('flag hashes made with weaker parameters for rehashing', async () => {
    const hash = await hashPassword('correct-horse-battery-staple');
    const weaker = hash.replace('$100000$', '$1000$');
    expect((await verifyPassword('correct-horse-battery-staple', weaker)).needsRehash).toBe(true);
    expect((await verifyPassword('x', 'garbage')).valid).toBe(false);
  });
});

describe('pagination cursors', () => {
  it('round-trip and refuse foreign cursors', () => {
    const cursor = encodeCursor('cus_01jd7w3v8m9k2q4r6t8v0x2z4b');
    expect(decodeCursor(cursor, 'cus')).toBe('cus_01jd7w3v8m9k2q4r6t8v0x2z4b');
    expect(() => decodeCursor(cursor, 'usr')).toThrow(ApiError);
    expect(() => decodeCursor('%%%', 'cus')).toThrow(ApiError);
    expect(decodeCursor(undefined, 'cus')).toBeUndefined();
  });

  it('give a next cursor only when another page exists', () => {
    const rows = [{ id: 'cus_3' }, { id: 'cus_2' }, { id: 'cus_1' }];
    expect(toPage(rows, 2).data).toHaveLength(2);
    expect(decodeCursor(toPage(rows, 2).nextCursor ?? undefined, 'cus')).toBe('cus_2');
    expect(toPage(rows, 3).nextCursor).toBeNull();
  });
});

describe('age', () => {
  it('counts whole years up to the birthday', () => {
    const today = new Date('2026-11-25T10:00:00Z');
    expect(ageOn('2008-11-25', today)).toBe(18);
    expect(ageOn('2008-11-26', today)).toBe(17);
    expect(ageOn('2008-12-01', today)).toBe(17);
  });
});

describe('queue backoff', () => {
  it('grows exponentially with jitter and stays within the 12 h queue delay cap', () => {
    for (let attempt = 1; attempt < 30; attempt++) {
      const delay = backoffSeconds(attempt);
      expect(delay).toBeGreaterThanOrEqual(30);
      expect(delay).toBeLessThanOrEqual(43_200);
    }
    expect(backoffSeconds(10)).toBeGreaterThan(backoffSeconds(1));
  });
});
