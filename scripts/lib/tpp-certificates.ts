import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import {
  certificateRoleOf,
  ORGANIZATION_IDENTIFIER,
  oids,
  type Psd2Role,
  type TppRole,
  tppRoles,
} from '../../src/modules/tpps/certificates';
import { sha256Hex } from '../../src/platform/crypto';

/*
 * eIDAS-style TPP certificates, for the tests (inside workerd, so any date, role set or defect can
 * be asked for) and for `npm run tpp:certificate` (Node): WebCrypto and @peculiar/x509 only, which
 * both runtimes have. Not issued by a QTSP: a test CA signs them, so the API accepts them with
 * `trust: UNVERIFIED` unless the tenant lists that CA as a trust anchor. ECDSA signatures are
 * randomised, so tests assert on parsed facts, never on bytes.
 */

const DAY_MS = 86_400_000;
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface TestCa {
  certificate: x509.X509Certificate;
  pem: string;
  keys: CryptoKeyPair;
}

function keyPair(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

/** A CA: a self-signed root, or an intermediate when `issuer` signs it. */
export async function createTestCa(name = 'FinCore Test QTSP CA', issuer?: TestCa): Promise<TestCa> {
  const keys = await keyPair();
  const common = {
    signingAlgorithm: ALGORITHM,
    notBefore: new Date(Date.now() - DAY_MS),
    notAfter: new Date(Date.now() + 3650 * DAY_MS),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  };
  const subject = `C=GB, O=FinCore Test QTSP, CN=${name}`;
  const certificate = issuer
    ? await x509.X509CertificateGenerator.create({
        ...common,
        subject,
        issuer: issuer.certificate.subject,
        publicKey: keys.publicKey,
        signingKey: issuer.keys.privateKey,
      })
    : await x509.X509CertificateGenerator.createSelfSigned({ ...common, name: subject, keys });
  return { certificate, pem: certificate.toString('pem'), keys };
}

export interface TppCertificateOptions {
  /** Roles by their PSD2 name; `name` overrides the name written beside the OID. */
  roles?: (Psd2Role | { role: Psd2Role; name: string })[];
  organizationIdentifier?: string;
  /** The subject's O and CN. */
  organizationName?: string;
  commonName?: string;
  /** The NCA id of the PSD2 statement; by default the one the organizationIdentifier names. */
  ncaId?: string;
  ncaName?: string;
  qcType?: 'web' | 'eseal';
  /** Leave the QCStatements extension out entirely. */
  withoutQcStatements?: boolean;
  /** Leave the PSD2 statement out of the QCStatements. */
  withoutPsd2Statement?: boolean;
  notBefore?: Date;
  notAfter?: Date;
  /** The CA that signs it; a fresh one when absent. */
  ca?: TestCa;
}

const statement = (id: string, info?: asn1js.AsnType) =>
  new asn1js.Sequence({
    value: [new asn1js.ObjectIdentifier({ value: id }), ...(info ? [info] : [])],
  });

/** The country and NCA id an organizationIdentifier names; the FCA's for one of no PSD form. */
function issuingNca(organizationIdentifier: string): { country: string; ncaId: string } {
  const parts = ORGANIZATION_IDENTIFIER.exec(organizationIdentifier.toUpperCase());
  return parts
    ? { country: parts[1] as string, ncaId: `${parts[1]}-${parts[2]}` }
    : { country: 'GB', ncaId: 'GB-FCA' };
}

function qcStatementsDer(options: TppCertificateOptions, organizationIdentifier: string): ArrayBuffer {
  const roles = (options.roles ?? ['PSP_AI', 'PSP_PI']).map((entry) =>
    typeof entry === 'string' ? { role: entry, name: entry } : entry,
  );
  const statements = [
    statement(oids.qcCompliance),
    statement(
      oids.qcType,
      new asn1js.Sequence({
        value: [
          new asn1js.ObjectIdentifier({
            value: options.qcType === 'eseal' ? oids.qcTypeEseal : oids.qcTypeWeb,
          }),
        ],
      }),
    ),
  ];
  if (!options.withoutPsd2Statement) {
    statements.push(
      statement(
        oids.psd2Statement,
        new asn1js.Sequence({
          value: [
            new asn1js.Sequence({
              value: roles.map(
                ({ role, name }) =>
                  new asn1js.Sequence({
                    value: [
                      new asn1js.ObjectIdentifier({ value: oids.roles[role] }),
                      new asn1js.Utf8String({ value: name }),
                    ],
                  }),
              ),
            }),
            new asn1js.Utf8String({ value: options.ncaName ?? 'Financial Conduct Authority' }),
            new asn1js.Utf8String({ value: options.ncaId ?? issuingNca(organizationIdentifier).ncaId }),
          ],
        }),
      ),
    );
  }
  return new asn1js.Sequence({ value: statements }).toBER();
}

/** A random authorisation number of the FCA, so TPPs of one test file never collide. */
export function authorizationNumber(): string {
  return `PSDGB-FCA-${Math.floor(Math.random() * 1e9)}`;
}

export interface TestTppCertificate {
  pem: string;
  der: Uint8Array;
  /** Lower-case hex SHA-256 of the DER: its fingerprint, as Cloudflare's mTLS facts give it. */
  sha256: string;
  ca: TestCa;
  organizationIdentifier: string;
  /** The key of the certificate, for a TLS client that presents it. */
  privateKey: CryptoKey;
}

/** A QWAC (or QSealC) of a TPP, valid from yesterday for a year unless told otherwise. */
export async function createTppCertificate(options: TppCertificateOptions = {}): Promise<TestTppCertificate> {
  const ca = options.ca ?? (await createTestCa());
  const keys = await keyPair();
  const organizationIdentifier = options.organizationIdentifier ?? authorizationNumber();
  const certificate = await x509.X509CertificateGenerator.create({
    // As JSON, so a name with a comma stays one attribute.
    subject: [
      { C: [issuingNca(organizationIdentifier).country] },
      { O: [options.organizationName ?? 'Example TPP Ltd'] },
      { [oids.organizationIdentifier]: [organizationIdentifier] },
      { CN: [options.commonName ?? 'tpp.example.test'] },
    ],
    issuer: ca.certificate.subject,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: ALGORITHM,
    notBefore: options.notBefore ?? new Date(Date.now() - DAY_MS),
    notAfter: options.notAfter ?? new Date(Date.now() + 365 * DAY_MS),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      ...(options.withoutQcStatements
        ? []
        : [new x509.Extension(oids.qcStatements, false, qcStatementsDer(options, organizationIdentifier))]),
    ],
  });
  const der = new Uint8Array(certificate.rawData);
  return {
    pem: certificate.toString('pem'),
    der,
    sha256: await sha256Hex(der),
    ca,
    organizationIdentifier,
    privateKey: keys.privateKey,
  };
}

/** What `npm run tpp:certificate` takes, as `parseArgs` hands it over. */
export interface CertificateArguments {
  roles?: string;
  'authorization-number'?: string;
  organization?: string;
  'common-name'?: string;
  'nca-name'?: string;
  'qc-type'?: string;
  days?: string;
}

/**
 * The certificate the script's arguments ask for, refusing what the API would refuse the
 * certificate for (an unknown role, an organizationIdentifier not of the PSD form) with a message
 * that names the argument.
 */
export function certificateOptionsOf(args: CertificateArguments, now = new Date()): TppCertificateOptions {
  const roles = (args.roles ?? 'AISP').split(',').map((role) => role.trim().toUpperCase());
  const unknown = roles.filter((role) => !(tppRoles as readonly string[]).includes(role));
  if (unknown.length > 0) {
    throw new Error(
      `--roles: ${unknown.join(', ') || 'none'}; give some of ${tppRoles.join(', ')}, comma-separated.`,
    );
  }
  const organizationIdentifier = (args['authorization-number'] ?? authorizationNumber()).trim().toUpperCase();
  if (!ORGANIZATION_IDENTIFIER.test(organizationIdentifier)) {
    throw new Error(
      `--authorization-number: ${organizationIdentifier} is not PSD + country + NCA + number, like PSDGB-FCA-123456.`,
    );
  }
  const qcType = args['qc-type'] ?? 'web';
  if (qcType !== 'web' && qcType !== 'eseal') throw new Error('--qc-type: web (a QWAC) or eseal (a QSealC).');
  const days = Number(args.days ?? 365);
  if (!Number.isInteger(days) || days < 1 || days > 3650)
    throw new Error('--days: a whole number from 1 to 3650.');
  return {
    roles: [...new Set(roles as TppRole[])].map((role) => certificateRoleOf[role]),
    organizationIdentifier,
    organizationName: args.organization,
    commonName: args['common-name'],
    ncaName: args['nca-name'],
    qcType,
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + days * DAY_MS),
  };
}
