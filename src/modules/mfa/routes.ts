import { requireUserPrincipal } from '../../platform/auth/principal';
import { STEP_UP_MAX_AGE_SECONDS } from '../../platform/auth/recent-auth';
import { noStore, serviceContext } from '../../platform/http';
import { createRouter, defineRoute, jsonBody, jsonResponse } from '../../platform/openapi';
import { RecoveryCodesSchema, TotpConfirmSchema, TotpEnrolmentSchema } from './schemas';
import { confirmTotpEnrolment, regenerateRecoveryCodes, removeTotp, startTotpEnrolment } from './service';

const tags = ['Authentication'];

/*
 * None of these routes is `idempotent`: their answers hold a TOTP secret or recovery codes, which
 * must not be kept anywhere for replays.
 */
export function mfaRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/auth/mfa/totp',
      operationId: 'startTotpEnrolment',
      summary: 'Start enrolling a TOTP authenticator app',
      description:
        'Returns a new secret and its `otpauth://` URI (show it as a QR code). Nothing changes for logins until `POST /auth/mfa/totp/confirm` proves the app has it; starting again replaces a pending secret. A second factor guards every later login and step-up, so adding one needs an authentication at most 5 minutes old (login or `POST /auth/step-up`), like removing one.',
      tags,
      access: { auth: 'required', tenant: true, recentAuthSeconds: STEP_UP_MAX_AGE_SECONDS },
      errors: ['totp_already_enrolled'],
      responses: { 200: jsonResponse(TotpEnrolmentSchema, 'The pending enrolment.') },
    }),
    async (c) => {
      const user = requireUserPrincipal(c.get('principal'));
      return c.json(await startTotpEnrolment(serviceContext(c), user), 200, noStore);
    },
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/auth/mfa/totp/confirm',
      operationId: 'confirmTotpEnrolment',
      summary: 'Confirm the TOTP authenticator and turn 2FA on',
      description:
        'With a current code from the app, the pending secret becomes the user’s second factor: from now on logins answer with an MFA challenge. Returns 10 single-use recovery codes, shown this once. Needs an authentication at most 5 minutes old, like the start; after a step-up the pending secret is still there to confirm.',
      tags,
      access: { auth: 'required', tenant: true, recentAuthSeconds: STEP_UP_MAX_AGE_SECONDS },
      errors: ['totp_already_enrolled', 'totp_enrolment_not_started'],
      request: { body: jsonBody(TotpConfirmSchema) },
      responses: { 200: jsonResponse(RecoveryCodesSchema, '2FA is on; the recovery codes.') },
    }),
    async (c) => {
      const user = requireUserPrincipal(c.get('principal'));
      return c.json(await confirmTotpEnrolment(serviceContext(c), user, c.req.valid('json')), 200, noStore);
    },
  );

  router.openapi(
    defineRoute({
      method: 'delete',
      path: '/auth/mfa/totp',
      operationId: 'removeTotp',
      summary: 'Remove the TOTP authenticator',
      description:
        'Turns TOTP off and voids its recovery codes. Needs a step-up (`POST /auth/step-up`) at most 5 minutes old.',
      tags,
      access: { auth: 'required', tenant: true, recentAuthSeconds: STEP_UP_MAX_AGE_SECONDS },
      errors: ['mfa_method_not_enrolled'],
      responses: { 204: { description: 'TOTP and its recovery codes are gone.' } },
    }),
    async (c) => {
      await removeTotp(serviceContext(c), requireUserPrincipal(c.get('principal')));
      return c.body(null, 204);
    },
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/auth/mfa/recovery-codes',
      operationId: 'regenerateRecoveryCodes',
      summary: 'Replace the recovery codes',
      description:
        'Issues 10 new single-use recovery codes, shown this once; all earlier ones stop working. Needs TOTP enrolled and a step-up at most 5 minutes old.',
      tags,
      access: { auth: 'required', tenant: true, recentAuthSeconds: STEP_UP_MAX_AGE_SECONDS },
      errors: ['mfa_method_not_enrolled'],
      responses: { 200: jsonResponse(RecoveryCodesSchema, 'The new recovery codes.') },
    }),
    async (c) => {
      const user = requireUserPrincipal(c.get('principal'));
      return c.json(await regenerateRecoveryCodes(serviceContext(c), user), 200, noStore);
    },
  );

  return router;
}
