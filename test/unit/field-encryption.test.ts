import { describe, expect, it } from 'vitest';
import { base64Encode, base64UrlDecode, base64UrlEncode } from '../../src/platform/crypto';
import {
  decryptField,
  encryptField,
  type FieldContext,
  fieldDigest,
} from '../../src/platform/field-encryption';

function randomRootKey(): string {
  return base64Encode(crypto.getRandomValues(new Uint8Array(32)));
}

const context: FieldContext = {
  rootKey: randomRootKey(),
  tenantId: 'acme',
  purpose: 'totp-secret',
  recordId: 'usr_01jd7w3v8m9k2q4r6t8v0x2z4b',
};

describe('field encryption', () => {
  it('round-trips through a versioned AES-GCM format with a fresh 96-bit IV each time', async () => {
    const first = await encryptField(context, 'JBSWY3DPEHPK3PXP');
    const second = await encryptField(context, 'JBSWY3DPEHPK3PXP');
    expect(first).toMatch(/^v1\.[\w-]{16}\.[\w-]+$/);
    expect(base64UrlDecode(first.split('.')[1] as string)).toHaveLength(12);
    expect(second).not.toBe(first);
    expect(first).not.toContain('JBSWY3DPEHPK3PXP');
    expect(await decryptField(context, first)).toBe('JBSWY3DPEHPK3PXP');
    expect(await decryptField(context, second)).toBe('JBSWY3DPEHPK3PXP');
    expect(await decryptField(context, await encryptField(context, ''))).toBe('');
  });

  it('does not decrypt under another tenant, purpose, record or root key', async () => {
    const stored = await encryptField(context, 'secret');
    for (const other of [
      { ...context, tenantId: 'globex' },
      { ...context, purpose: 'national-id' },
      { ...context, recordId: 'usr_someone_else' },
      { ...context, rootKey: randomRootKey() },
    ]) {
      await expect(decryptField(other, stored)).rejects.toThrow(/does not decrypt/);
    }
  });

  it('detects tampering and refuses unknown formats', async () => {
    const stored = await encryptField(context, 'secret');
    const [version, iv, ciphertext] = stored.split('.') as [string, string, string];
    const bytes = base64UrlDecode(ciphertext);
    bytes[0] = (bytes[0] as number) ^ 1;
    await expect(decryptField(context, [version, iv, base64UrlEncode(bytes)].join('.'))).rejects.toThrow(
      /does not decrypt/,
    );
    for (const malformed of [`v2.${iv}.${ciphertext}`, `${stored}.extra`, 'secret', '']) {
      await expect(decryptField(context, malformed)).rejects.toThrow(/Not a v1 encrypted field/);
    }
  });

  it('refuses a root key that is not 32 bytes', async () => {
    const short = { ...context, rootKey: base64Encode(new Uint8Array(16)) };
    await expect(encryptField(short, 'secret')).rejects.toThrow(/32 bytes/);
  });
});

describe('field digests', () => {
  it('are deterministic per context and differ across records, purposes, tenants and keys', async () => {
    const digest = await fieldDigest(context, 'k3m9q7tz2a');
    expect(digest).toMatch(/^[\w-]{43}$/);
    expect(await fieldDigest(context, 'k3m9q7tz2a')).toBe(digest);
    expect(await fieldDigest(context, 'k3m9q7tz2b')).not.toBe(digest);
    for (const other of [
      { ...context, tenantId: 'globex' },
      { ...context, purpose: 'recovery-code' },
      { ...context, recordId: 'usr_someone_else' },
      { ...context, rootKey: randomRootKey() },
    ]) {
      expect(await fieldDigest(other, 'k3m9q7tz2a')).not.toBe(digest);
    }
  });
});
