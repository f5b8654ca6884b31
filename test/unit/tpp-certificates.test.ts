import { describe, expect, it } from 'vitest';
import {
  createTestCa,
  createTppCertificate,
  type TppCertificateOptions,
} from '../../scripts/lib/tpp-certificates';
import {
  type CertificateCheck,
  certificateDers,
  checkCertificate,
  fingerprintOf,
} from '../../src/modules/tpps/certificates';
import { expiryNoticesDue } from '../../src/modules/tpps/rules';
import { ApiError } from '../../src/platform/errors';
import { pemForms } from '../helpers/certificates';

const DAY_MS = 86_400_000;

async function checked(options: TppCertificateOptions = {}, check: Partial<CertificateCheck> = {}) {
  const certificate = await createTppCertificate(options);
  return checkCertificate({
    certificate: certificate.pem,
    roles: ['AISP'],
    authorizationNumber: certificate.organizationIdentifier,
    trustAnchors: [],
    now: new Date(),
    ...check,
  });
}

async function refusal(options: TppCertificateOptions = {}, check: Partial<CertificateCheck> = {}) {
  try {
    await checked(options, check);
  } catch (error) {
    if (error instanceof ApiError) return error.code;
    throw error;
  }
  throw new Error('the certificate was accepted');
}

describe('TPP certificate checks', () => {
  it('reads the facts of a QWAC with two roles, by OID', async () => {
    const { facts, pem } = await checked({ roles: ['PSP_AI', 'PSP_PI'] }, { roles: ['AISP', 'PISP'] });
    expect(facts).toMatchObject({
      qcType: 'QWAC',
      psd2Roles: ['PSP_AI', 'PSP_PI'],
      ncaId: 'GB-FCA',
      ncaName: 'Financial Conduct Authority',
      trust: 'UNVERIFIED',
      warnings: [],
    });
    expect(facts.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(facts.organizationIdentifier).toMatch(/^PSDGB-FCA-\d+$/);
    expect(facts.subject).toContain('CN=tpp.example.test');
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
  });

  it('reads one role and all four roles (no role of the sequence is skipped)', async () => {
    const one = await checked({ roles: ['PSP_IC'], qcType: 'eseal' }, { roles: ['CBPII'] });
    expect(one.facts).toMatchObject({ qcType: 'QSEALC', psd2Roles: ['PSP_IC'] });
    const four = await checked(
      { roles: ['PSP_AS', 'PSP_PI', 'PSP_AI', 'PSP_IC'] },
      { roles: ['AISP', 'PISP', 'CBPII'] },
    );
    expect(four.facts.psd2Roles).toEqual(['PSP_AI', 'PSP_AS', 'PSP_IC', 'PSP_PI']);
  });

  it('gives one fingerprint for the four forms of one certificate', async () => {
    const certificate = await createTppCertificate();
    const forms = pemForms(certificate.pem);
    const expected = await fingerprintOf(certificate.der);
    for (const form of [certificate.pem, forms.crlf, forms.oneLine, forms.bare, forms.percentEncoded]) {
      const [der] = certificateDers(form);
      expect(await fingerprintOf(der as Uint8Array)).toBe(expected);
    }
    const { facts } = await checkCertificate({
      certificate: forms.percentEncoded,
      roles: ['AISP'],
      authorizationNumber: certificate.organizationIdentifier.toLowerCase(),
      trustAnchors: [],
      now: new Date(),
    });
    expect(facts.sha256).toBe(expected);
  });

  it('refuses what is not a certificate', async () => {
    for (const text of [
      'AAAA',
      // Base64 letters whose length leaves no whole byte (found by the fuzzer: it was a 500).
      'a',
      'abcde',
      'not base64 at all!',
      '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----',
      '%E0%A4%A',
    ]) {
      await expect(
        checkCertificate({
          certificate: text,
          roles: [],
          authorizationNumber: 'x',
          trustAnchors: [],
          now: new Date(),
        }),
      ).rejects.toMatchObject({ code: 'certificate_unparseable' });
    }
  });

  it('refuses an expired and a not yet valid certificate, and warns when renewal is due', async () => {
    expect(
      await refusal({
        notBefore: new Date(Date.now() - 400 * DAY_MS),
        notAfter: new Date(Date.now() - DAY_MS),
      }),
    ).toBe('certificate_expired');
    expect(
      await refusal({
        notBefore: new Date(Date.now() + DAY_MS),
        notAfter: new Date(Date.now() + 300 * DAY_MS),
      }),
    ).toBe('certificate_not_yet_valid');
    const soon = await checked({ notAfter: new Date(Date.now() + 10 * DAY_MS) });
    expect(soon.facts.warnings).toEqual(['certificate_expires_soon']);
  });

  it('compares validity with the request time, not the wall clock', async () => {
    const certificate = await createTppCertificate();
    await expect(
      checkCertificate({
        certificate: certificate.pem,
        roles: ['AISP'],
        authorizationNumber: certificate.organizationIdentifier,
        trustAnchors: [],
        now: new Date(Date.now() + 400 * DAY_MS),
      }),
    ).rejects.toMatchObject({ code: 'certificate_expired' });
  });

  it('refuses a certificate without QCStatements and one without the PSD2 statement', async () => {
    expect(await refusal({ withoutQcStatements: true })).toBe('certificate_not_qualified');
    expect(await refusal({ withoutPsd2Statement: true })).toBe('certificate_missing_psd2_roles');
  });

  it('refuses a role whose name disagrees with its OID', async () => {
    expect(await refusal({ roles: [{ role: 'PSP_AI', name: 'PSP_AS' }] })).toBe('certificate_role_mismatch');
  });

  it('refuses a requested role the certificate lacks', async () => {
    expect(await refusal({ roles: ['PSP_AI'] }, { roles: ['AISP', 'PISP'] })).toBe('role_not_in_certificate');
  });

  it('refuses another organizationIdentifier and another NCA id', async () => {
    expect(await refusal({}, { authorizationNumber: 'PSDGB-FCA-000000' })).toBe(
      'organization_identifier_mismatch',
    );
    expect(
      await refusal({ organizationIdentifier: 'NOT-A-PSD-ID' }, { authorizationNumber: 'NOT-A-PSD-ID' }),
    ).toBe('organization_identifier_mismatch');
    expect(await refusal({ ncaId: 'DE-BAFIN' })).toBe('nca_mismatch');
  });

  it('chains to a trust anchor of the tenant, or refuses', async () => {
    const ca = await createTestCa();
    const trusted = await checked({ ca }, { trustAnchors: [ca.pem] });
    expect(trusted.facts.trust).toBe('VERIFIED');
    const other = await createTestCa('Another QTSP');
    expect(await refusal({ ca }, { trustAnchors: [other.pem] })).toBe('certificate_untrusted');
  });

  it('chains through an intermediate given after the leaf', async () => {
    const root = await createTestCa('Root');
    const intermediate = await createTestCa('Issuing CA', root);
    const leaf = await createTppCertificate({ ca: intermediate });
    const { facts } = await checkCertificate({
      certificate: `${leaf.pem}\n${intermediate.pem}`,
      roles: ['AISP'],
      authorizationNumber: leaf.organizationIdentifier,
      trustAnchors: [root.pem],
      now: new Date(),
    });
    expect(facts.trust).toBe('VERIFIED');
    await expect(
      checkCertificate({
        certificate: leaf.pem,
        roles: ['AISP'],
        authorizationNumber: leaf.organizationIdentifier,
        trustAnchors: [root.pem],
        now: new Date(),
      }),
    ).rejects.toMatchObject({ code: 'certificate_untrusted' });
  });
});

describe('expiry notices', () => {
  it('are due at 30, 7 and 1 days before expiry', () => {
    expect([45, 30, 29.5, 7.01, 7, 2, 1, 0.2].map(expiryNoticesDue)).toEqual([0, 1, 1, 1, 2, 2, 3, 3]);
  });
});
