import { expect } from 'vitest';
import {
  createTppCertificate,
  type TestTppCertificate,
  type TppCertificateOptions,
} from '../../scripts/lib/tpp-certificates';
import { certificateRoleOf, type TppRole } from '../../src/modules/tpps/certificates';
import { type TestTenant, unique } from './factories';
import { call } from './http';

export const TPP_REDIRECT_URI = 'https://tpp.example.com/callback';

export interface TestTpp {
  id: string;
  authorizationNumber: string;
  certificate: TestTppCertificate;
}

/** A TPP registered through `POST /tpps` by `token` (a `tpp:admin` holder). */
export async function registerTpp(
  tenant: TestTenant,
  token: string,
  options: { roles?: TppRole[]; certificate?: TppCertificateOptions } = {},
): Promise<TestTpp> {
  const roles = options.roles ?? ['AISP'];
  const certificate = await createTppCertificate({
    roles: roles.map((role) => certificateRoleOf[role]),
    ...options.certificate,
  });
  const response = await call<{ id: string }>('POST', '/tpps', {
    tenant: tenant.id,
    token,
    body: {
      name: unique('Example Money'),
      legalName: 'Example TPP Ltd',
      authorizationNumber: certificate.organizationIdentifier,
      roles,
      certificate: certificate.pem,
      redirectUris: [TPP_REDIRECT_URI],
    },
  });
  expect(response.status, response.text).toBe(201);
  return { id: response.body.id, authorizationNumber: certificate.organizationIdentifier, certificate };
}

export interface TestTppClient {
  id: string;
  clientSecret: string;
  /** Its client-credentials access token. */
  token: string;
}

/** An OAuth client of the TPP through `POST /tpps/{tppId}/clients`, and its client-credentials token. */
export async function createTppClient(
  tenant: TestTenant,
  token: string,
  tppId: string,
): Promise<TestTppClient> {
  const created = await call<{ id: string; clientSecret: string }>('POST', `/tpps/${tppId}/clients`, {
    tenant: tenant.id,
    token,
    body: { name: 'Example Money production' },
  });
  expect(created.status, created.text).toBe(201);
  const issued = await call<{ access_token: string }>('POST', '/oauth/token', {
    form: {
      grant_type: 'client_credentials',
      client_id: created.body.id,
      client_secret: created.body.clientSecret,
    },
  });
  expect(issued.status, issued.text).toBe(200);
  return { ...created.body, token: issued.body.access_token };
}

/**
 * `request.cf` of a connection on which Cloudflare verified the client certificate with this
 * fingerprint (API Shield mTLS); `overrides` model a failed or revoked one.
 */
export function mtls(sha256: string, overrides: Record<string, string> = {}): Record<string, unknown> {
  return {
    tlsClientAuth: {
      certPresented: '1',
      certVerified: 'SUCCESS',
      certRevoked: '0',
      certFingerprintSHA256: sha256,
      ...overrides,
    },
  };
}
