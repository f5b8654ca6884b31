// tsyringe, which @peculiar/x509 loads, throws at module load without the Reflect polyfill:
// without this import first the Worker does not start.
import 'reflect-metadata';
import { X509Certificate } from '@peculiar/x509';
import * as asn1js from 'asn1js';
import { base64Decode, base64Encode, base64UrlEncode, sha256Hex } from '../../platform/crypto';
import { ApiError } from '../../platform/errors';
import type { ProblemCode } from '../../platform/problems';

/*
 * eIDAS certificates of PSD2 third parties (ETSI TS 119 495, EN 319 412-5): parsing, and one
 * rule per problem code. Everything here is a function of the certificate, the request and the
 * clock; nothing reads storage, so test/unit/tpp-certificates.test.ts covers every rule.
 */

/** The roles a TPP registers for, and the PSD2 role in its certificate each one needs. */
export const tppRoles = ['AISP', 'PISP', 'CBPII'] as const;
export type TppRole = (typeof tppRoles)[number];

export const psd2Roles = ['PSP_AS', 'PSP_PI', 'PSP_AI', 'PSP_IC'] as const;
export type Psd2Role = (typeof psd2Roles)[number];

export const certificateRoleOf: Record<TppRole, Psd2Role> = {
  AISP: 'PSP_AI',
  PISP: 'PSP_PI',
  CBPII: 'PSP_IC',
};

/** Roles are read by OID (ETSI TS 119 495 §5.1); the name beside it is only cross-checked. */
const roleByOid: Record<string, Psd2Role> = {
  '0.4.0.19495.1.1': 'PSP_AS',
  '0.4.0.19495.1.2': 'PSP_PI',
  '0.4.0.19495.1.3': 'PSP_AI',
  '0.4.0.19495.1.4': 'PSP_IC',
};

export const oids = {
  qcStatements: '1.3.6.1.5.5.7.1.3',
  qcCompliance: '0.4.0.1862.1.1',
  qcType: '0.4.0.1862.1.6',
  qcTypeEseal: '0.4.0.1862.1.6.2',
  qcTypeWeb: '0.4.0.1862.1.6.3',
  psd2Statement: '0.4.0.19495.2',
  organizationIdentifier: '2.5.4.97',
  roles: Object.fromEntries(Object.entries(roleByOid).map(([oid, role]) => [role, oid])) as Record<
    Psd2Role,
    string
  >,
} as const;

/** A QWAC identifies a website (and a TLS client); a QSealC seals data. */
export type QcType = 'QWAC' | 'QSEALC';

/** `PSD` + country + `-` + NCA id + `-` + the PSP's authorisation number (ETSI TS 119 495 §5.2.1). */
export const ORGANIZATION_IDENTIFIER = /^PSD([A-Z]{2})-([A-Z]{2,8})-(.+)$/;

/** A chain longer than this is not a TPP certificate and its walk is not worth the CPU. */
export const MAX_CHAIN_LENGTH = 5;
/** Renew within this many days: the answer carries a warning. */
export const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 86_400_000;

const refuse = (code: ProblemCode, detail: string) => new ApiError(code, { detail });

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([^-]*)-----END CERTIFICATE-----/g;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const PERCENT_ENCODED = /%[0-9A-Fa-f]{2}/;

/**
 * The DER certificates a submitted text holds, leaf first, whatever form it came in: PEM with
 * LF or CRLF, PEM flattened onto one line, bare base64 of one certificate, or PEM
 * percent-encoded as proxies forward it (nginx `$ssl_client_escaped_cert`). Comparing
 * certificates as strings is how the same certificate fails in production: only the DER counts.
 */
export function certificateDers(text: string): Uint8Array[] {
  let input = text.trim();
  if (PERCENT_ENCODED.test(input)) {
    try {
      input = decodeURIComponent(input);
    } catch {
      throw refuse('certificate_unparseable', 'The certificate has malformed percent-encoding.');
    }
  }
  const bodies = input.includes('-----BEGIN')
    ? [...input.matchAll(PEM_BLOCK)].map((match) => match[1] ?? '')
    : [input];
  if (bodies.length === 0) {
    throw refuse('certificate_unparseable', 'No `-----BEGIN CERTIFICATE-----` block was found.');
  }
  if (bodies.length > MAX_CHAIN_LENGTH) {
    throw refuse(
      'certificate_unparseable',
      `At most ${MAX_CHAIN_LENGTH} certificates (the leaf, then its issuers) are accepted.`,
    );
  }
  return bodies.map((body) => {
    const base64 = body.replace(/\s+/g, '');
    const der = BASE64.test(base64) ? decodedOrNull(base64) : null;
    if (!der) throw refuse('certificate_unparseable', 'The certificate is not base64-encoded DER.');
    return der;
  });
}

/** The bytes of a base64 text, or null where its length leaves no whole byte (`a`, `abcde`). */
function decodedOrNull(base64: string): Uint8Array | null {
  try {
    return base64Decode(base64);
  } catch {
    return null;
  }
}

/** One-line-per-64-characters PEM of a DER certificate: the canonical form that is stored. */
export function toPem(der: Uint8Array): string {
  const lines = base64Encode(der).match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

function parse(der: Uint8Array): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (error) {
    throw new ApiError('certificate_unparseable', {
      detail: 'The certificate does not parse as X.509 (DER).',
      cause: error,
    });
  }
}

/** Whether the text holds certificates that parse: what a trust anchor setting must be. */
export function isCertificateText(text: string): boolean {
  try {
    certificateDers(text).forEach(parse);
    return true;
  } catch {
    return false;
  }
}

/** Lower-case hex SHA-256 of the DER, as Cloudflare's `certFingerprintSHA256` writes it. */
export function fingerprintOf(der: Uint8Array): Promise<string> {
  return sha256Hex(der);
}

/** RFC 8705 `x5t#S256`: base64url of the same digest. */
export function thumbprintOfFingerprint(fingerprint: string): string {
  const bytes = new Uint8Array(fingerprint.match(/.{2}/g)?.map((pair) => Number.parseInt(pair, 16)) ?? []);
  return base64UrlEncode(bytes);
}

export interface Psd2Statement {
  roles: { oid: string; name: string | null; role: Psd2Role | null }[];
  ncaName: string | null;
  ncaId: string | null;
}

export interface QcStatements {
  compliance: boolean;
  types: string[];
  psd2: Psd2Statement | null;
}

function children(node: asn1js.AsnType | undefined): asn1js.AsnType[] {
  if (node instanceof asn1js.Sequence) return node.valueBlock.value;
  throw new Error('expected a SEQUENCE');
}

function oidOf(node: asn1js.AsnType | undefined): string {
  if (node instanceof asn1js.ObjectIdentifier) return node.valueBlock.toString();
  throw new Error('expected an OBJECT IDENTIFIER');
}

function textOf(node: asn1js.AsnType | undefined): string | null {
  if (node === undefined) return null;
  if (node instanceof asn1js.Utf8String || node instanceof asn1js.PrintableString) {
    return node.valueBlock.value;
  }
  throw new Error('expected a UTF8String');
}

/** RFC 3739 `QCStatements`, with the ETSI statements PSD2 needs. Throws on malformed DER. */
export function parseQcStatements(der: ArrayBuffer): QcStatements {
  const { result, offset } = asn1js.fromBER(der);
  if (offset === -1) throw new Error('qcStatements: invalid DER');
  const out: QcStatements = { compliance: false, types: [], psd2: null };
  for (const statement of children(result)) {
    const [id, info] = children(statement);
    const statementId = oidOf(id);
    if (statementId === oids.qcCompliance) out.compliance = true;
    if (statementId === oids.qcType && info) out.types = children(info).map(oidOf);
    if (statementId === oids.psd2Statement && info) {
      const [roles, ncaName, ncaId] = children(info);
      out.psd2 = {
        roles: children(roles).map((entry) => {
          const [oid, name] = children(entry);
          const roleOid = oidOf(oid);
          return { oid: roleOid, name: textOf(name), role: roleByOid[roleOid] ?? null };
        }),
        ncaName: textOf(ncaName),
        ncaId: textOf(ncaId),
      };
    }
  }
  return out;
}

/** Whether `issuer` signed `subject`; a key the runtime cannot use signed nothing. */
async function signedBy(subject: X509Certificate, issuer: X509Certificate): Promise<boolean> {
  if (subject.issuer !== issuer.subject) return false;
  try {
    return await subject.verify({ publicKey: issuer.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}

/**
 * Whether the leaf chains to one of the anchors: each certificate signed by the next one given,
 * or by an anchor, which ends the walk. Bounded by the chain's length.
 */
async function chainsTo(chain: X509Certificate[], anchors: X509Certificate[]): Promise<boolean> {
  for (let index = 0; index < chain.length; index++) {
    const certificate = chain[index] as X509Certificate;
    for (const anchor of anchors) if (await signedBy(certificate, anchor)) return true;
    const next = chain[index + 1];
    if (!next || !(await signedBy(certificate, next))) return false;
  }
  return false;
}

export interface CertificateFacts {
  sha256: string;
  serialNumber: string;
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  qcType: QcType;
  psd2Roles: Psd2Role[];
  organizationIdentifier: string;
  ncaName: string | null;
  ncaId: string;
  /** `VERIFIED` when the tenant's trust anchors vouch for it; `UNVERIFIED` when it has none. */
  trust: 'VERIFIED' | 'UNVERIFIED';
  warnings: string[];
}

export interface CertificateCheck {
  /** The certificate as submitted, in any of the accepted forms. */
  certificate: string;
  /** The roles the TPP is (to be) registered for: each must be in the certificate. */
  roles: readonly TppRole[];
  /** The TPP's authorisation number; the certificate's organizationIdentifier must equal it. */
  authorizationNumber: string;
  /** PEM certificates of the tenant's trust anchors; none means the facts alone are checked. */
  trustAnchors: readonly string[];
  now: Date;
}

/** The normalised authorisation number: what `organizationIdentifier` is compared with. */
export function normaliseAuthorizationNumber(value: string): string {
  return value.trim().toUpperCase();
}

function qcTypeOf(statements: QcStatements): QcType | null {
  if (statements.types.includes(oids.qcTypeWeb)) return 'QWAC';
  if (statements.types.includes(oids.qcTypeEseal)) return 'QSEALC';
  return null;
}

/**
 * Checks a TPP certificate against the rules of ETSI TS 119 495 and the TPP's registration, in
 * the order of the problem codes in docs/api.md, and returns the facts it was accepted on.
 */
export async function checkCertificate(
  check: CertificateCheck,
): Promise<{ facts: CertificateFacts; pem: string }> {
  const ders = certificateDers(check.certificate);
  const chain = ders.map(parse);
  const leaf = chain[0] as X509Certificate;
  const leafDer = ders[0] as Uint8Array;

  const now = check.now.getTime();
  if (now < leaf.notBefore.getTime()) {
    throw refuse(
      'certificate_not_yet_valid',
      `The certificate is valid from ${leaf.notBefore.toISOString()}.`,
    );
  }
  if (now > leaf.notAfter.getTime()) {
    throw refuse('certificate_expired', `The certificate expired at ${leaf.notAfter.toISOString()}.`);
  }

  const extension = leaf.getExtension(oids.qcStatements);
  let statements: QcStatements;
  try {
    if (!extension) throw new Error('no qcStatements');
    statements = parseQcStatements(extension.value);
  } catch {
    throw refuse('certificate_not_qualified', 'The certificate has no readable QCStatements extension.');
  }
  const qcType = qcTypeOf(statements);
  if (!statements.compliance || !qcType) {
    throw refuse(
      'certificate_not_qualified',
      'The QCStatements must declare QcCompliance and a QcType of `web` (QWAC) or `eseal` (QSealC).',
    );
  }
  const held = statements.psd2?.roles.filter((role) => role.role !== null) ?? [];
  if (!statements.psd2 || held.length === 0) {
    throw refuse('certificate_missing_psd2_roles', 'The certificate carries no PSD2 statement with a role.');
  }
  const misnamed = held.filter((role) => role.name !== null && role.name !== role.role);
  if (misnamed.length > 0) {
    throw refuse(
      'certificate_role_mismatch',
      `Role names disagree with their OIDs: ${misnamed.map((role) => `${role.oid} is ${role.role}, named ${role.name}`).join('; ')}.`,
    );
  }
  const certificateRoles = [...new Set(held.map((role) => role.role as Psd2Role))].sort();
  const missing = check.roles.filter((role) => !certificateRoles.includes(certificateRoleOf[role]));
  if (missing.length > 0) {
    throw refuse(
      'role_not_in_certificate',
      `The certificate lacks the PSD2 role of ${missing.map((role) => `${role} (${certificateRoleOf[role]})`).join(', ')}.`,
    );
  }

  const organizationIdentifier = normaliseAuthorizationNumber(
    leaf.subjectName.getField(oids.organizationIdentifier)[0] ?? '',
  );
  const parts = ORGANIZATION_IDENTIFIER.exec(organizationIdentifier);
  if (!parts || organizationIdentifier !== normaliseAuthorizationNumber(check.authorizationNumber)) {
    throw refuse(
      'organization_identifier_mismatch',
      `The subject's organizationIdentifier (${organizationIdentifier || 'none'}) must be the authorisation number, in the form PSDGB-FCA-123456.`,
    );
  }
  const ncaId = `${parts[1]}-${parts[2]}`;
  if (statements.psd2.ncaId?.trim().toUpperCase() !== ncaId) {
    throw refuse(
      'nca_mismatch',
      `The PSD2 statement names NCA ${statements.psd2.ncaId ?? 'none'}, the organizationIdentifier ${ncaId}.`,
    );
  }

  let trust: CertificateFacts['trust'] = 'UNVERIFIED';
  if (check.trustAnchors.length > 0) {
    const anchors = check.trustAnchors.flatMap((anchor) => certificateDers(anchor).map(parse));
    if (!(await chainsTo(chain, anchors))) {
      throw refuse(
        'certificate_untrusted',
        'The certificate does not chain to a trust anchor of this tenant.',
      );
    }
    trust = 'VERIFIED';
  }

  const daysLeft = (leaf.notAfter.getTime() - now) / DAY_MS;
  return {
    pem: toPem(leafDer),
    facts: {
      sha256: await fingerprintOf(leafDer),
      serialNumber: leaf.serialNumber,
      subject: leaf.subject,
      issuer: leaf.issuer,
      notBefore: leaf.notBefore.toISOString(),
      notAfter: leaf.notAfter.toISOString(),
      qcType,
      psd2Roles: certificateRoles,
      organizationIdentifier,
      ncaName: statements.psd2.ncaName,
      ncaId,
      trust,
      warnings: daysLeft < EXPIRY_WARNING_DAYS ? ['certificate_expires_soon'] : [],
    },
  };
}
