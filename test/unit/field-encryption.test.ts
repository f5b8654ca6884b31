import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { decryptField, encryptField } from '../../src/platform/field-encryption';

const context = { tenantId: 'tenant-a', purpose: 'webhook-secret', subjectId: 'whe_1' };

describe('field encryption', () => {
  it('round-trips, in the v1 format, with a fresh IV every time', async () => {
    const first = await encryptField(env, context, 'whsec_secret');
    const second = await encryptField(env, context, 'whsec_secret');
    expect(first).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(first).not.toBe(second);
    expect(first).not.toContain('secret');
    expect(await decryptField(env, context, first)).toBe('whsec_secret');
    expect(await decryptField(env, context, second)).toBe('whsec_secret');
  });

  it('does not decrypt under another tenant, purpose or subject', async () => {
    const ciphertext = await encryptField(env, context, 'whsec_secret');
    for (const other of [
      { ...context, tenantId: 'tenant-b' },
      { ...context, purpose: 'totp-seed' },
      { ...context, subjectId: 'whe_2' },
    ]) {
      await expect(decryptField(env, other, ciphertext)).rejects.toThrow();
    }
  });

  it('refuses a tampered or unknown ciphertext', async () => {
    const ciphertext = await encryptField(env, context, 'whsec_secret');
    const [version, iv, data] = ciphertext.split('.') as [string, string, string];
    const flipped = `${data.slice(0, -2)}${data.at(-2) === 'A' ? 'B' : 'A'}${data.at(-1)}`;
    await expect(decryptField(env, context, `${version}.${iv}.${flipped}`)).rejects.toThrow();
    await expect(decryptField(env, context, `v2.${iv}.${data}`)).rejects.toThrow(/known version/);
    await expect(decryptField(env, context, 'whsec_secret')).rejects.toThrow(/known version/);
  });
});
