import { describe, expect, it } from 'vitest';
import { certificateOptionsOf, createTestCa, createTppCertificate } from '../../scripts/lib/tpp-certificates';
import { adminHeaders, createStaff, createTenant } from '../helpers/factories';
import { call } from '../helpers/http';
import { TPP_REDIRECT_URI } from '../helpers/tpps';

/*
 * `npm run tpp:certificate` turns its arguments into options with certificateOptionsOf and signs
 * with its development CA; here the same two steps run in workerd and the API judges the result.
 */

describe('npm run tpp:certificate', () => {
  it('makes a certificate POST /tpps accepts for the roles and NCA it was asked for', async () => {
    const tenant = await createTenant({ tier: 'ENTERPRISE' });
    const admin = await createStaff(tenant);
    const ca = await createTestCa('FinCore Development QTSP CA');
    const authorizationNumber = `PSDDE-BAFIN-${crypto.randomUUID().slice(0, 8).toUpperCase()}`;
    const certificate = await createTppCertificate({
      ...certificateOptionsOf({
        roles: 'aisp, PISP',
        'authorization-number': authorizationNumber.toLowerCase(),
        organization: 'Beispiel, Zahlungen GmbH',
        'nca-name': 'Bundesanstalt für Finanzdienstleistungsaufsicht',
        days: '30',
      }),
      ca,
    });
    // Unverified until the tenant lists the development CA as a trust anchor, then verified.
    const anchors = await call('PATCH', `/platform/tenants/${tenant.id}`, {
      headers: adminHeaders(),
      body: { tpp: { trustAnchors: [ca.pem], requireCertificateBoundTokens: false } },
    });
    expect(anchors.status, anchors.text).toBe(200);
    const created = await call('POST', '/tpps', {
      tenant: tenant.id,
      token: admin.token,
      body: {
        name: 'Beispiel Pay',
        legalName: 'Beispiel, Zahlungen GmbH',
        authorizationNumber,
        roles: ['AISP', 'PISP'],
        certificate: certificate.pem,
        redirectUris: [TPP_REDIRECT_URI],
      },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      roles: ['AISP', 'PISP'],
      ncaId: 'DE-BAFIN',
      ncaName: 'Bundesanstalt für Finanzdienstleistungsaufsicht',
      certificates: [
        {
          qcType: 'QWAC',
          psd2Roles: ['PSP_AI', 'PSP_PI'],
          subject: expect.stringContaining(`C=DE, O=Beispiel\\, Zahlungen GmbH`),
          trust: 'VERIFIED',
          // 30 days from yesterday: within the renewal warning.
          warnings: ['certificate_expires_soon'],
        },
      ],
    });
  });

  it('refuses arguments the API would refuse the certificate for, naming the argument', () => {
    expect(() => certificateOptionsOf({ roles: 'AISP,PSP_AI' })).toThrow(/^--roles: PSP_AI;/);
    expect(() => certificateOptionsOf({ 'authorization-number': 'FCA-123456' })).toThrow(
      /^--authorization-number:/,
    );
    expect(() => certificateOptionsOf({ 'qc-type': 'tls' })).toThrow(/^--qc-type:/);
    expect(() => certificateOptionsOf({ days: '0' })).toThrow(/^--days:/);
    expect(() => certificateOptionsOf({ days: '1.5' })).toThrow(/^--days:/);
    expect(certificateOptionsOf({ 'qc-type': 'eseal' })).toMatchObject({
      roles: ['PSP_AI'],
      qcType: 'eseal',
      organizationIdentifier: expect.stringMatching(/^PSDGB-FCA-\d+$/),
    });
  });
});
