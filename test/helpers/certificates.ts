import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import { oids, type Psd2Role } from '../../src/modules/tpps/certificates';
import { sha256Hex } from '../../src/platform/crypto';

/*
 * eIDAS test certificates made at test time inside workerd, so any date, role set or defect can
 * be asked for. Not issued by a QTSP: a test CA signs them. ECDSA signatures are randomised, so
 * tests assert on parsed facts, never on bytes.
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

function qcStatementsDer(options: TppCertificateOptions): ArrayBuffer {
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
            new asn1js.Utf8String({ value: options.ncaId ?? 'GB-FCA' }),
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
}

/** A QWAC (or QSealC) of a TPP, valid from yesterday for a year unless told otherwise. */
export async function createTppCertificate(options: TppCertificateOptions = {}): Promise<TestTppCertificate> {
  const ca = options.ca ?? (await createTestCa());
  const keys = await keyPair();
  const organizationIdentifier = options.organizationIdentifier ?? authorizationNumber();
  const certificate = await x509.X509CertificateGenerator.create({
    subject: `C=GB, O=Example TPP Ltd, 2.5.4.97=${organizationIdentifier}, CN=tpp.example.test`,
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
        : [new x509.Extension(oids.qcStatements, false, qcStatementsDer(options))]),
    ],
  });
  const der = new Uint8Array(certificate.rawData);
  return {
    pem: certificate.toString('pem'),
    der,
    sha256: await sha256Hex(der),
    ca,
    organizationIdentifier,
  };
}

/** The same certificate in the other forms clients send: CRLF, one line, bare base64, percent-encoded. */
export function pemForms(pem: string): {
  crlf: string;
  oneLine: string;
  bare: string;
  percentEncoded: string;
} {
  const lf = pem.replace(/\r\n/g, '\n').trim();
  const body = lf.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return {
    crlf: `${lf.replace(/\n/g, '\r\n')}\r\n`,
    oneLine: lf.replace(/\n/g, ' '),
    bare: body,
    percentEncoded: encodeURIComponent(`${lf}\n`),
  };
}
