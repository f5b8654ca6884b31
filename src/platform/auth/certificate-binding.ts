import { base64UrlEncode, hexDecode } from '../crypto';

/*
 * Certificate-bound access tokens (RFC 8705 §3). Cloudflare terminates TLS: when the zone asks
 * for client certificates (API Shield mTLS, or Access), it verifies the certificate against the
 * CAs uploaded to it and hands the worker its facts in `request.cf.tlsClientAuth`. The worker
 * never sees the TLS handshake, so these facts are all a binding can rest on.
 */

/** The fields of Cloudflare's `request.cf.tlsClientAuth` a binding reads. */
interface TlsClientAuth {
  certPresented?: unknown;
  certVerified?: unknown;
  certRevoked?: unknown;
  certFingerprintSHA256?: unknown;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The SHA-256 fingerprint (lower-case hex of the DER) of the client certificate Cloudflare
 * verified on this connection; undefined without one, or when it failed verification or is
 * revoked. Anything else in `cf` (a request without mTLS carries placeholders) means none.
 */
export function presentedCertificate(cf: unknown): string | undefined {
  const auth = (cf as { tlsClientAuth?: TlsClientAuth } | undefined)?.tlsClientAuth;
  if (auth?.certPresented !== '1' || auth.certVerified !== 'SUCCESS' || auth.certRevoked === '1') {
    return undefined;
  }
  const fingerprint = typeof auth.certFingerprintSHA256 === 'string' ? auth.certFingerprintSHA256 : '';
  const normalised = fingerprint.replaceAll(':', '').toLowerCase();
  return SHA256_HEX.test(normalised) ? normalised : undefined;
}

/** RFC 8705 §3.1 `x5t#S256`: the same SHA-256 digest, in base64url. */
export function certificateThumbprint(sha256Hex: string): string {
  return base64UrlEncode(hexDecode(sha256Hex));
}

export interface CertificateConfirmation {
  'x5t#S256': string;
}

/** A token may be used: unbound anywhere, bound only with the very certificate it names. */
export function bindingHolds(
  cnf: CertificateConfirmation | undefined,
  presentedSha256: string | undefined,
): boolean {
  if (cnf === undefined) return true;
  return presentedSha256 !== undefined && certificateThumbprint(presentedSha256) === cnf['x5t#S256'];
}
