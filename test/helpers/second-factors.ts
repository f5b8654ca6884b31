import { type TOTP, URI } from 'otpauth';
import { expect } from 'vitest';
import { SoftwareAuthenticator } from './authenticator';
import type { TestTenant } from './factories';
import { call } from './http';

/**
 * Enrols TOTP through the API, with otpauth as the authenticator app; returns the app, the secret
 * and the recovery codes shown. It confirms with the current step's code: should the step end
 * before the worker checks it, the previous step is accepted too.
 */
export async function enrolTotp(tenant: TestTenant, user: { accessToken: string }) {
  const started = await call<{ secret: string; otpauthUri: string }>('POST', '/auth/mfa/totp', {
    tenant: tenant.id,
    token: user.accessToken,
  });
  expect(started.status, started.text).toBe(200);
  const app = URI.parse(started.body.otpauthUri) as TOTP;
  const confirmed = await call<{ recoveryCodes: string[] }>('POST', '/auth/mfa/totp/confirm', {
    tenant: tenant.id,
    token: user.accessToken,
    body: { code: app.generate() },
  });
  expect(confirmed.status, confirmed.text).toBe(200);
  return { app, secret: started.body.secret, recoveryCodes: confirmed.body.recoveryCodes };
}

/** Enrols a passkey through both registration routes, with a software authenticator. */
export async function enrolPasskey(
  tenant: TestTenant,
  user: { accessToken: string },
): Promise<{ id: string; authenticator: SoftwareAuthenticator }> {
  const authenticator = await SoftwareAuthenticator.create();
  const options = await call<Parameters<SoftwareAuthenticator['register']>[0]>(
    'POST',
    '/auth/webauthn/registration/options',
    { tenant: tenant.id, token: user.accessToken },
  );
  expect(options.status, options.text).toBe(200);
  const registered = await call<{ id: string }>('POST', '/auth/webauthn/registration/verify', {
    tenant: tenant.id,
    token: user.accessToken,
    body: { credential: await authenticator.register(options.body) },
  });
  expect(registered.status, registered.text).toBe(201);
  return { id: registered.body.id, authenticator };
}
