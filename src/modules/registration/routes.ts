import { serviceContext } from '../../platform/http';
import { createRouter, defineRoute, jsonBody, jsonResponse } from '../../platform/openapi';
import { CustomerSchema } from '../customers/schemas';
import {
  CODE_LIFETIME_MS,
  confirmVerificationCode,
  issueVerificationCode,
  MAX_CODE_ATTEMPTS,
  RESEND_INTERVAL_MS,
} from './contact-verification';
import {
  RegisteredCustomerSchema,
  RegisterIndividualSchema,
  type VerifiableContact,
  VerificationCodeConfirmationSchema,
  VerificationCodeIssuedSchema,
  VerificationCodeRequestSchema,
} from './schemas';
import { registerIndividual } from './service';

const tags = ['Registration'];

export function registrationRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/individuals',
      operationId: 'registerIndividual',
      summary: 'Register an individual (B2C) customer',
      description:
        'Public self-registration (anonymous, rate-limited per IP) or by staff and API clients with `customers:write`. The customer starts in `PENDING_EMAIL_VERIFICATION` with a login for its email.',
      tags,
      access: { auth: 'optional', tenant: true, capability: 'SCT01', permission: 'customers:write' },
      idempotent: true,
      errors: ['email_taken', 'idempotency_key_in_use', 'idempotency_key_reused'],
      request: { body: jsonBody(RegisterIndividualSchema) },
      responses: { 201: jsonResponse(RegisteredCustomerSchema, 'The new customer and its user id.') },
    }),
    async (c) => {
      const customer = await registerIndividual(serviceContext(c), c.req.valid('json'));
      c.header('Location', `/v2/customer/customers/${customer.id}`);
      return c.json(customer, 201);
    },
  );

  for (const contact of ['EMAIL', 'PHONE'] as const) addContactVerificationRoutes(router, contact);
  return router;
}

/** Paths and operationIds spelled out, so a search for either finds its route. */
const verificationRoutes = {
  EMAIL: {
    request: { path: '/registration/email-verification', operationId: 'requestEmailVerification' },
    confirm: { path: '/registration/email-verification/confirm', operationId: 'confirmEmailVerification' },
    noun: 'email address',
    via: 'an email (template `EMAIL_VERIFICATION`, channel `EMAIL`)',
    onConfirm:
      'sets `emailVerified` and moves a `PENDING_EMAIL_VERIFICATION` customer to `REGISTERED` (`customer.status_changed`)',
  },
  PHONE: {
    request: { path: '/registration/phone-verification', operationId: 'requestPhoneVerification' },
    confirm: { path: '/registration/phone-verification/confirm', operationId: 'confirmPhoneVerification' },
    noun: 'phone number',
    via: 'a text message (template `PHONE_VERIFICATION`, channel `SMS`)',
    onConfirm: 'sets `phoneVerified`; the status does not change',
  },
} as const;

/**
 * Both contacts follow one flow: the customer itself (self-service) or staff and clients with
 * `customers:write` ask for a code, then confirm it.
 */
function addContactVerificationRoutes(router: ReturnType<typeof createRouter>, contact: VerifiableContact) {
  const { request, confirm, noun, via, onConfirm } = verificationRoutes[contact];
  const access = {
    auth: 'required',
    tenant: true,
    capability: 'SCT01',
    permission: 'customers:write',
    selfService: true,
  } as const;
  const cannotVerify = [
    'customer_closed',
    'contact_already_verified',
    ...(contact === 'PHONE' ? (['no_phone_number'] as const) : []),
  ] as const;

  router.openapi(
    defineRoute({
      method: 'post',
      ...request,
      summary: `Send a code to verify the customer's ${noun}`,
      description: `Sends a new 6-digit code, valid ${CODE_LIFETIME_MS / 60_000} minutes, through a \`notification.requested\` event for ${via}: the tenant's webhook receiver delivers it. A new code voids the previous one. At most one code per ${RESEND_INTERVAL_MS / 1000} seconds per customer and contact; earlier requests get 429 \`rate_limited\` with \`Retry-After\`. A ${noun} already verified → 409 \`contact_already_verified\`, a closed customer → 409 \`customer_closed\`${contact === 'PHONE' ? ', no phone number in the profile → 409 `no_phone_number`' : ''}.`,
      tags,
      access,
      idempotent: true,
      errors: [
        'not_found',
        ...cannotVerify,
        'customer_erased',
        'idempotency_key_in_use',
        'idempotency_key_reused',
      ],
      request: { body: jsonBody(VerificationCodeRequestSchema) },
      responses: { 202: jsonResponse(VerificationCodeIssuedSchema, 'The code is on its way.') },
    }),
    async (c) => {
      const { customerId } = c.req.valid('json');
      return c.json(await issueVerificationCode(serviceContext(c), contact, customerId), 202);
    },
  );

  router.openapi(
    defineRoute({
      method: 'post',
      ...confirm,
      summary: `Confirm the customer's ${noun} with its code`,
      description: `A right code ${onConfirm}, emits \`customer.contact_verified\` and answers with the customer. A wrong code → 422 \`invalid_code\` with \`attemptsRemaining\`; after ${MAX_CODE_ATTEMPTS} wrong attempts, or once expired, the code is void and a new one must be requested. Limited per IP against guessing.`,
      tags,
      access: { ...access, rateLimit: { policy: 'code-verification' } },
      idempotent: true,
      errors: [
        'not_found',
        ...cannotVerify,
        'concurrent_update',
        'customer_erased',
        'invalid_code',
        'idempotency_key_in_use',
        'idempotency_key_reused',
      ],
      request: { body: jsonBody(VerificationCodeConfirmationSchema) },
      responses: { 200: jsonResponse(CustomerSchema, 'The customer with its contact verified.') },
    }),
    async (c) => c.json(await confirmVerificationCode(serviceContext(c), contact, c.req.valid('json')), 200),
  );
}
