import { describe, expect, it } from 'vitest';
import { tokenBinding } from '../../src/modules/tpps/rules';
import {
  bindingHolds,
  certificateThumbprint,
  presentedCertificate,
} from '../../src/platform/auth/certificate-binding';

const SHA256 = 'af363dc85bc942a892d3cee9796190fdb36d89cd588a4f1cb17c74a943439714';
const verified = {
  certPresented: '1',
  certVerified: 'SUCCESS',
  certRevoked: '0',
  certFingerprintSHA256: SHA256,
};

describe('the client certificate of a connection', () => {
  it('is the fingerprint Cloudflare verified, and nothing else', () => {
    expect(presentedCertificate({ tlsClientAuth: verified })).toBe(SHA256);
    expect(
      presentedCertificate({ tlsClientAuth: { ...verified, certFingerprintSHA256: SHA256.toUpperCase() } }),
    ).toBe(SHA256);
    for (const cf of [
      undefined,
      {},
      { tlsClientAuth: null },
      { tlsClientAuth: { ...verified, certPresented: '0' } },
      { tlsClientAuth: { ...verified, certVerified: 'NONE' } },
      { tlsClientAuth: { ...verified, certVerified: 'FAILED:self signed certificate' } },
      { tlsClientAuth: { ...verified, certRevoked: '1' } },
      { tlsClientAuth: { ...verified, certFingerprintSHA256: '' } },
      { tlsClientAuth: { ...verified, certFingerprintSHA256: `${SHA256}00` } },
      { tlsClientAuth: { ...verified, certFingerprintSHA256: 42 } },
    ]) {
      expect(presentedCertificate(cf)).toBeUndefined();
    }
  });

  it('has the RFC 8705 thumbprint: the same digest in base64url', () => {
    expect(certificateThumbprint(SHA256)).toBe('rzY9yFvJQqiS087peWGQ_bNtic1Yik8csXx0qUNDlxQ');
  });

  it('lets an unbound token through anywhere and a bound one only with its certificate', () => {
    const cnf = { 'x5t#S256': certificateThumbprint(SHA256) };
    expect(bindingHolds(undefined, undefined)).toBe(true);
    expect(bindingHolds(undefined, SHA256)).toBe(true);
    expect(bindingHolds(cnf, SHA256)).toBe(true);
    expect(bindingHolds(cnf, undefined)).toBe(false);
    expect(bindingHolds(cnf, SHA256.replace('a', 'b'))).toBe(false);
  });
});

describe('the binding /oauth/token gives a TPP client', () => {
  it('binds to a registered certificate, refuses without one only where mandatory', () => {
    expect(tokenBinding({ registeredCertificatePresented: true, required: false })).toBe('BIND');
    expect(tokenBinding({ registeredCertificatePresented: true, required: true })).toBe('BIND');
    expect(tokenBinding({ registeredCertificatePresented: false, required: false })).toBe('UNBOUND');
    expect(tokenBinding({ registeredCertificatePresented: false, required: true })).toBe('REFUSE');
  });
});
