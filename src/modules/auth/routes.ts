import { z } from '@hono/zod-openapi';
import { requireUserPrincipal } from '../../platform/auth/principal';
import { STEP_UP_MAX_AGE_SECONDS } from '../../platform/auth/recent-auth';
import { noStore, serviceContext } from '../../platform/http';
import { createRouter, defineRoute, jsonBody, jsonResponse } from '../../platform/openapi';
import { pageSchema } from '../../platform/pagination';
import { completeMfaLogin, login } from './login';
import {
  changePassword,
  passwordTokenLifetimeMs,
  RESET_REQUESTS_PER_HOUR,
  requestPasswordReset,
  resetPassword,
} from './passwords';
import {
  AccessTokenSchema,
  LoginResultSchema,
  LoginSchema,
  MfaVerifySchema,
  PasswordChangeSchema,
  PasswordForgotSchema,
  PasswordResetSchema,
  RefreshSchema,
  SessionIdSchema,
  SessionListQuerySchema,
  SessionSchema,
  StepUpSchema,
  TokenPairSchema,
} from './schemas';
import { endSession, listSessions, refreshSession, revokeOwnSession, revokeUserSessions } from './sessions';
import { stepUp } from './step-up';

const tags = ['Authentication'];

export function authRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/auth/login',
      operationId: 'login',
      summary: 'Log in with email and password',
      description:
        'Answers with tokens, or with an MFA challenge when the user has a second factor. Staff send `accountType: STAFF`: staff and customers are separate email namespaces. Unknown emails get the same answer, after the same work, as wrong passwords. Five failures within 15 minutes lock the account for 15 minutes, however many attempts run at once: each attempt reserves a slot before the password is checked, and once the five are taken every attempt, the right password included, gets 423 unchecked. Logins are also limited per IP. Not idempotent by key: tokens are never stored for replays.',
      tags,
      access: { auth: 'none', tenant: true, rateLimit: { policy: 'login' } },
      errors: ['invalid_credentials', 'account_locked', 'account_disabled'],
      request: { body: jsonBody(LoginSchema) },
      responses: { 200: jsonResponse(LoginResultSchema, 'Tokens, or an MFA challenge.') },
    }),
    async (c) => c.json(await login(serviceContext(c), c.req.valid('json')), 200, noStore),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/auth/mfa/verify',
      operationId: 'verifyMfa',
      summary: 'Complete a login with a second factor',
      description:
        'TOTP code, recovery code (each single use) or passkey assertion. Failures count towards the account lockout and are limited per IP.',
      tags,
      access: { auth: 'none', tenant: true, rateLimit: { policy: 'code-verification' } },
      errors: [
        'invalid_mfa_token',
        'invalid_mfa_code',
        'mfa_method_not_enrolled',
        'passkey_clone_suspected',
        'account_locked',
      ],
      request: { body: jsonBody(MfaVerifySchema) },
      responses: { 200: jsonResponse(TokenPairSchema, 'The tokens of the new session.') },
    }),
    async (c) => c.json(await completeMfaLogin(serviceContext(c), c.req.valid('json')), 200, noStore),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/auth/refresh',
      operationId: 'refreshTokens',
      summary: 'Exchange a refresh token for a new pair',
      description:
        'The refresh token is spent: a second use revokes the whole session (`refresh_token_reused`), except that requests within 10 seconds of the first (a client racing itself) all receive the same successor.',
      tags,
      access: { auth: 'none', tenant: true },
      errors: ['invalid_refresh_token', 'refresh_token_reused'],
      request: { body: jsonBody(RefreshSchema) },
      responses: { 200: jsonResponse(TokenPairSchema, 'The rotated pair.') },
    }),
    async (c) =>
      c.json(await refreshSession(serviceContext(c), c.req.valid('json').refreshToken), 200, noStore),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/auth/logout',
      operationId: 'logout',
      summary: 'End the current session',
      description:
        'The refresh token stops working at once; access tokens of the session are refused at once in this location and within 60 seconds everywhere.',
      tags,
      access: { auth: 'required', tenant: true, userSession: true },
      responses: { 204: { description: 'The session has ended (or had already).' } },
    }),
    async (c) => {
      const user = requireUserPrincipal(c.get('principal'));
      await endSession(serviceContext(c), user.id, user.sessionId, 'LOGOUT');
      return c.body(null, 204);
    },
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/auth/logout-all',
      operationId: 'logoutAll',
      summary: 'End all sessions of the user',
      description: 'Every session of the calling user ends, this one included.',
      tags,
      access: { auth: 'required', tenant: true, userSession: true },
      responses: { 204: { description: 'All sessions have ended.' } },
    }),
    async (c) => {
      const user = requireUserPrincipal(c.get('principal'));
      await revokeUserSessions(serviceContext(c), user.id, 'LOGOUT_ALL');
      return c.body(null, 204);
    },
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/auth/sessions',
      operationId: 'listSessions',
      summary: "List the caller's live sessions",
      tags,
      access: { auth: 'required', tenant: true, userSession: true },
      errors: ['invalid_cursor'],
      request: { query: SessionListQuerySchema },
      responses: {
        200: jsonResponse(pageSchema(SessionSchema, 'SessionPage'), 'A page of sessions, newest first.'),
      },
    }),
    async (c) => {
      const user = requireUserPrincipal(c.get('principal'));
      return c.json(await listSessions(serviceContext(c), user, c.req.valid('query')), 200);
    },
  );

  router.openapi(
    defineRoute({
      method: 'delete',
      path: '/auth/sessions/{sessionId}',
      operationId: 'revokeSession',
      summary: 'End one of the caller’s sessions',
      tags,
      access: { auth: 'required', tenant: true, userSession: true },
      request: { params: z.object({ sessionId: SessionIdSchema }) },
      responses: { 204: { description: 'The session has ended.' } },
    }),
    async (c) => {
      const user = requireUserPrincipal(c.get('principal'));
      await revokeOwnSession(serviceContext(c), user.id, c.req.valid('param').sessionId, 'REVOKED_BY_USER');
      return c.body(null, 204);
    },
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/auth/step-up',
      operationId: 'stepUp',
      summary: 'Prove the user again for a sensitive operation',
      description:
        'Returns an access token with a fresh `auth_time`, as operations marked `x-step-up` require (at most 5 minutes old). With a second factor enrolled it must be used; the password alone is accepted only without one. Failures count towards the lockout.',
      tags,
      access: {
        auth: 'required',
        tenant: true,
        userSession: true,
        rateLimit: { policy: 'code-verification' },
      },
      errors: [
        'invalid_credentials',
        'invalid_mfa_code',
        'mfa_method_not_enrolled',
        'passkey_clone_suspected',
        'step_up_method_not_allowed',
        'account_locked',
      ],
      request: { body: jsonBody(StepUpSchema) },
      responses: { 200: jsonResponse(AccessTokenSchema, 'The stepped-up access token.') },
    }),
    async (c) => {
      const user = requireUserPrincipal(c.get('principal'));
      return c.json(await stepUp(serviceContext(c), user, c.req.valid('json')), 200, noStore);
    },
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/auth/password/change',
      operationId: 'changePassword',
      summary: 'Change the password',
      description:
        'Needs the current password (failures count towards the lockout) and an authentication at most 5 minutes old (`POST /auth/step-up`). The new password must pass the policy. Every other session of the user ends; this one stays. Not idempotent by key: the body holds passwords, which are never stored for replays.',
      tags,
      access: { auth: 'required', tenant: true, recentAuthSeconds: STEP_UP_MAX_AGE_SECONDS },
      errors: ['invalid_credentials', 'account_locked'],
      request: { body: jsonBody(PasswordChangeSchema) },
      responses: { 204: { description: 'The password has changed.' } },
    }),
    async (c) => {
      const user = requireUserPrincipal(c.get('principal'));
      await changePassword(serviceContext(c), user, c.req.valid('json'));
      return c.body(null, 204);
    },
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/auth/password/forgot',
      operationId: 'forgotPassword',
      summary: 'Ask for a password reset',
      description: `Always 202, sent before the email is even looked up, so neither the answer nor its timing tells whether an account exists. The account is looked up among \`accountType\` accounts only (customers by default). For an active account the tenant receives a \`notification.requested\` event (template \`PASSWORD_RESET\`) whose single-use token works for ${passwordTokenLifetimeMs.PASSWORD_RESET / 60_000} minutes with \`POST /auth/password/reset\`; a newer token voids older ones. Limited per IP, and to ${RESET_REQUESTS_PER_HOUR} messages per account and hour.`,
      tags,
      access: { auth: 'none', tenant: true, rateLimit: { policy: 'password-reset' } },
      idempotent: true,
      errors: ['idempotency_key_in_use', 'idempotency_key_reused'],
      request: { body: jsonBody(PasswordForgotSchema) },
      responses: { 202: { description: 'Accepted; a message follows if the account exists.' } },
    }),
    async (c) => {
      const ctx = serviceContext(c);
      ctx.waitUntil(
        requestPasswordReset(ctx, c.req.valid('json')).catch((error: unknown) =>
          ctx.logger.error('password_reset_request_failed', {
            error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
          }),
        ),
      );
      return c.body(null, 202);
    },
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/auth/password/reset',
      operationId: 'resetPassword',
      summary: 'Set a new password with an emailed token',
      description:
        'Takes the token of a password reset, a staff invitation or an administrator’s credential reset. The token works once; a password refused by the policy does not spend it. The account is unlocked and every session of the user ends: log in with the new password. Not idempotent by key: the body holds a password.',
      tags,
      access: { auth: 'none', tenant: true, rateLimit: { policy: 'password-reset' } },
      errors: ['invalid_password_token'],
      request: { body: jsonBody(PasswordResetSchema) },
      responses: { 204: { description: 'The password is set.' } },
    }),
    async (c) => {
      await resetPassword(serviceContext(c), c.req.valid('json'));
      return c.body(null, 204);
    },
  );

  return router;
}
