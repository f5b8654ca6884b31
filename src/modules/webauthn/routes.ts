import { z } from '@hono/zod-openapi';
import { requireUserPrincipal } from '../../platform/auth/principal';
import { STEP_UP_MAX_AGE_SECONDS } from '../../platform/auth/recent-auth';
import { noStore, serviceContext } from '../../platform/http';
import { createRouter, defineRoute, jsonBody, jsonResponse } from '../../platform/openapi';
import { TokenPairSchema } from '../auth/schemas';
import {
  AuthenticationOptionsRequestSchema,
  AuthenticationVerifySchema,
  CredentialIdSchema,
  PasskeyCreationOptionsSchema,
  PasskeyListSchema,
  PasskeyRequestOptionsSchema,
  PasskeySchema,
  RegistrationVerifySchema,
} from './schemas';
import {
  authenticationOptions,
  listPasskeys,
  registrationOptions,
  removePasskey,
  signInWithPasskey,
  verifyRegistration,
} from './service';

const tags = ['Authentication'];
export function passkeyRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/auth/webauthn/registration/options',
      operationId: 'passkeyRegistrationOptions',
      summary: 'Start enrolling a passkey',
      description:
        'Creation options for `navigator.credentials.create()`, with a challenge bound to the calling user, single use and valid for 5 minutes. A passkey can sign in on its own, so enrolling one needs an authentication at most 5 minutes old (login or step-up), like changing the password. The relying party (id, name, origins) comes from the tenant’s settings, by default this API’s host. Not idempotent by key: every call issues a new challenge.',
      tags,
      access: { auth: 'required', tenant: true, recentAuthSeconds: STEP_UP_MAX_AGE_SECONDS },
      errors: ['passkey_limit_reached'],
      responses: { 200: jsonResponse(PasskeyCreationOptionsSchema, 'Options for the browser.') },
    }),
    async (c) => {
      const user = requireUserPrincipal(c.get('principal'));
      return c.json(await registrationOptions(serviceContext(c), user), 200, noStore);
    },
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/auth/webauthn/registration/verify',
      operationId: 'passkeyRegistrationVerify',
      summary: 'Finish enrolling a passkey',
      description:
        'Verifies the browser’s registration response against the challenge issued to this user (spent by this call, right or wrong) and the tenant’s RP id and origins, and stores the passkey. From then on WEBAUTHN is one of the user’s second factors, and the passkey can sign in without a password. At most 10 passkeys per user. Needs an authentication at most 5 minutes old, like the options: the challenge lives 5 minutes too, so an options call at the edge of the window cannot stretch it.',
      tags,
      access: { auth: 'required', tenant: true, recentAuthSeconds: STEP_UP_MAX_AGE_SECONDS },
      idempotent: true,
      errors: [
        'invalid_passkey_registration',
        'passkey_limit_reached',
        'passkey_already_registered',
        'idempotency_key_in_use',
        'idempotency_key_reused',
      ],
      request: { body: jsonBody(RegistrationVerifySchema) },
      responses: { 201: jsonResponse(PasskeySchema, 'The new passkey.') },
    }),
    async (c) => {
      const user = requireUserPrincipal(c.get('principal'));
      return c.json(await verifyRegistration(serviceContext(c), user, c.req.valid('json')), 201);
    },
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/auth/webauthn/authentication/options',
      operationId: 'passkeyAuthenticationOptions',
      summary: 'Get a challenge to sign in or prove a second factor with a passkey',
      description:
        'Request options for `navigator.credentials.get()`; the challenge is single use and valid for 5 minutes. Three uses: (1) passwordless sign-in, anonymous, with `{}` for discoverable passkeys or `{email}` to list that user’s passkeys, then `POST /auth/webauthn/authentication/verify`; (2) the second step of a login, with the login’s `{mfaToken}`, then `POST /auth/mfa/verify` with `method: WEBAUTHN`; (3) step-up, with the user’s access token and `{}`, then `POST /auth/step-up` with `method: WEBAUTHN`. In (2) and (3) the challenge is bound to that user. Not idempotent by key: every call issues a new challenge.',
      tags,
      access: { auth: 'optional', tenant: true, userSession: true },
      errors: ['invalid_mfa_token', 'mfa_method_not_enrolled'],
      request: { body: jsonBody(AuthenticationOptionsRequestSchema) },
      responses: { 200: jsonResponse(PasskeyRequestOptionsSchema, 'Options for the browser.') },
    }),
    async (c) => c.json(await authenticationOptions(serviceContext(c), c.req.valid('json')), 200, noStore),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/auth/webauthn/authentication/verify',
      operationId: 'passkeySignIn',
      summary: 'Sign in with a passkey (passwordless)',
      description:
        'Verifies an assertion for a sign-in challenge (spent by this call, right or wrong) and opens a session. User verification (PIN or biometrics) is required, so the tokens’ `amr` is `["pop","user","mfa"]`. A signature counter that does not grow blocks the passkey (`passkey_clone_suspected`, audited, event `passkey.clone_suspected`). Limited per IP like login. Not idempotent by key: tokens are never stored for replays.',
      tags,
      access: { auth: 'none', tenant: true, rateLimit: { policy: 'login' } },
      errors: ['invalid_passkey', 'passkey_clone_suspected', 'account_locked', 'account_disabled'],
      request: { body: jsonBody(AuthenticationVerifySchema) },
      responses: { 200: jsonResponse(TokenPairSchema, 'The tokens of the new session.') },
    }),
    async (c) => c.json(await signInWithPasskey(serviceContext(c), c.req.valid('json')), 200, noStore),
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/auth/webauthn/credentials',
      operationId: 'listPasskeys',
      summary: "List the caller's passkeys",
      tags,
      access: { auth: 'required', tenant: true, userSession: true },
      responses: { 200: jsonResponse(PasskeyListSchema, 'Every passkey of the user, newest first.') },
    }),
    async (c) => {
      const user = requireUserPrincipal(c.get('principal'));
      return c.json(await listPasskeys(serviceContext(c), user), 200);
    },
  );

  router.openapi(
    defineRoute({
      method: 'delete',
      path: '/auth/webauthn/credentials/{credentialId}',
      operationId: 'removePasskey',
      summary: 'Remove one of the caller’s passkeys',
      description:
        'Removing a passkey removes a second factor, so it needs an authentication at most 5 minutes old (login or step-up). Removing the last one leaves WEBAUTHN unenrolled.',
      tags,
      access: { auth: 'required', tenant: true, recentAuthSeconds: STEP_UP_MAX_AGE_SECONDS },
      request: { params: z.object({ credentialId: CredentialIdSchema }) },
      responses: { 204: { description: 'The passkey has been removed.' } },
    }),
    async (c) => {
      const user = requireUserPrincipal(c.get('principal'));
      await removePasskey(serviceContext(c), user, c.req.valid('param').credentialId);
      return c.body(null, 204);
    },
  );

  return router;
}
