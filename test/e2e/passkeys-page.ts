/*
 * The script of the e2e page (bundled by esbuild with @simplewebauthn/browser): what a tenant's
 * web app does, served at the API's own origin so that origin is the relying party's. The test
 * drives it through `globalThis.passkeyPage`.
 */
import {
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  startAuthentication,
  startRegistration,
} from '@simplewebauthn/browser';

export interface Answer {
  status: number;
  body: Record<string, unknown> | null;
}

async function api(
  tenant: string,
  method: 'GET' | 'POST',
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<Answer> {
  const response = await fetch(`/v2/customer${path}`, {
    method,
    headers: {
      'X-Tenant-ID': tenant,
      ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
      ...(options.body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

/** The API's options are the JSON these types describe; a refusal fails the test with the problem. */
function options<T>(answer: Answer): T {
  if (answer.status !== 200 || !answer.body) throw new Error(`options refused: ${JSON.stringify(answer)}`);
  return answer.body as T;
}

async function assertion(tenant: string, body: Record<string, unknown>, token?: string) {
  const optionsJSON = options<PublicKeyCredentialRequestOptionsJSON>(
    await api(tenant, 'POST', '/auth/webauthn/authentication/options', { body, token }),
  );
  return startAuthentication({ optionsJSON });
}

const passkeyPage = {
  login: (tenant: string, email: string, password: string) =>
    api(tenant, 'POST', '/auth/login', { body: { email, password } }),

  async enrol(tenant: string, token: string, name: string): Promise<Answer> {
    const optionsJSON = options<PublicKeyCredentialCreationOptionsJSON>(
      await api(tenant, 'POST', '/auth/webauthn/registration/options', { token }),
    );
    const credential = await startRegistration({ optionsJSON });
    return api(tenant, 'POST', '/auth/webauthn/registration/verify', { token, body: { credential, name } });
  },

  /** Passwordless: the browser offers the discoverable passkeys of this origin's RP id. */
  async signIn(tenant: string): Promise<Answer> {
    const credential = await assertion(tenant, {});
    return api(tenant, 'POST', '/auth/webauthn/authentication/verify', { body: { credential } });
  },

  async secondFactor(tenant: string, mfaToken: string): Promise<Answer> {
    const credential = await assertion(tenant, { mfaToken });
    return api(tenant, 'POST', '/auth/mfa/verify', { body: { mfaToken, method: 'WEBAUTHN', credential } });
  },

  list: (tenant: string, token: string) => api(tenant, 'GET', '/auth/webauthn/credentials', { token }),
};

export type PasskeyPage = typeof passkeyPage;

Object.assign(globalThis, { passkeyPage });
