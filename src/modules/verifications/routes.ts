import { z } from '@hono/zod-openapi';
import { serviceContext } from '../../platform/http';
import { createRouter, defineRoute, jsonBody, jsonResponse } from '../../platform/openapi';
import { CustomerParams } from '../customers/schemas';
import { receiveCallback } from './jobs';
import { completeSandboxVerification } from './sandbox-completion';
import {
  ActivationReadinessSchema,
  DecisionSchema,
  RequirementsQuerySchema,
  RequirementsSchema,
  SandboxCompletionSchema,
  SubmitVerificationSchema,
  VerificationListQuerySchema,
  VerificationListSchema,
  VerificationParamsSchema,
  VerificationSchema,
} from './schemas';
import {
  activateCustomer,
  decideVerification,
  getActivationReadiness,
  getRequirements,
  getVerification,
  listVerifications,
  submitVerification,
} from './service';

const tags = ['Verification'];

const ActivationSchema = z
  .object({
    customerId: z
      .string()
      .max(40)
      .openapi({ description: 'The customer.', example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    status: z.string().max(32).openapi({ description: 'Its status now.', example: 'ACTIVE' }),
  })
  .openapi('Activation');

const CallbackAnswerSchema = z
  .object({
    received: z.boolean().openapi({ description: 'Always true: the callback was accepted.', example: true }),
    duplicate: z.boolean().openapi({
      description: 'The same event was received before; nothing was done again.',
      example: false,
    }),
  })
  .openapi('VerificationCallbackAnswer');

export function verificationRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/customers/{customerId}/verification-requirements',
      operationId: 'getVerificationRequirements',
      summary: 'What a verification level still needs',
      description:
        'The requirements engine: what is `currentlyDue` for the level, what higher levels add (`eventuallyDue`), what is being verified and what must be provided again (`errors`). The same computation refuses a premature submit and answers the activation readiness.',
      tags,
      access: {
        auth: 'required',
        tenant: true,
        capability: 'SCT01',
        permission: 'customers:read',
        selfService: true,
      },
      errors: ['customer_erased', 'capability_not_enabled'],
      request: { params: CustomerParams, query: RequirementsQuerySchema },
      responses: { 200: jsonResponse(RequirementsSchema, 'The requirements.') },
    }),
    async (c) =>
      c.json(
        await getRequirements(serviceContext(c), c.req.valid('param').customerId, c.req.valid('query').level),
        200,
      ),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/customers/{customerId}/verifications',
      operationId: 'submitVerification',
      summary: 'Submit a verification',
      description:
        'Creates the verification (PENDING) and its job in one write and answers at once; the provider works on the verification queue, so poll the verification or subscribe to `verification.*` events. A customer may submit its own; an organization’s `ADMIN_USER` or `COMPLIANCE_OFFICER`; staff and API clients with `customers:write`. Organizations need SCT02, levels with documents (STANDARD, ENHANCED) SCT11. One open verification per customer and level (409); an ADDITIONAL_INFO_REQUIRED one is re-submitted as its next attempt.',
      tags,
      access: {
        auth: 'required',
        tenant: true,
        capability: 'SCT01',
        permission: 'customers:write',
        selfService: true,
      },
      idempotent: true,
      errors: [
        'requirements_not_met',
        'verification_in_progress',
        'capability_not_enabled',
        'customer_erased',
        'concurrent_update',
        'invalid_transition',
        'idempotency_key_in_use',
        'idempotency_key_reused',
      ],
      request: { params: CustomerParams, body: jsonBody(SubmitVerificationSchema) },
      responses: { 202: jsonResponse(VerificationSchema, 'Accepted: the verification, PENDING.') },
    }),
    async (c) =>
      c.json(
        await submitVerification(serviceContext(c), c.req.valid('param').customerId, c.req.valid('json')),
        202,
      ),
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/customers/{customerId}/verifications',
      operationId: 'listVerifications',
      summary: 'A customer’s verifications',
      tags,
      access: {
        auth: 'required',
        tenant: true,
        capability: 'SCT01',
        permission: 'customers:read',
        selfService: true,
      },
      errors: ['customer_erased', 'capability_not_enabled', 'invalid_cursor'],
      request: { params: CustomerParams, query: VerificationListQuerySchema },
      responses: { 200: jsonResponse(VerificationListSchema, 'Newest first.') },
    }),
    async (c) =>
      c.json(
        await listVerifications(serviceContext(c), c.req.valid('param').customerId, c.req.valid('query')),
        200,
      ),
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/verifications/{verificationId}',
      operationId: 'getVerification',
      summary: 'A verification, with its checks, hits and decisions',
      tags,
      access: {
        auth: 'required',
        tenant: true,
        capability: 'SCT01',
        permission: 'customers:read',
        selfService: true,
      },
      request: { params: VerificationParamsSchema },
      responses: { 200: jsonResponse(VerificationSchema, 'The verification.') },
    }),
    async (c) => c.json(await getVerification(serviceContext(c), c.req.valid('param').verificationId), 200),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/verifications/{verificationId}/decision',
      operationId: 'decideVerification',
      summary: 'Decide a verification in MANUAL_REVIEW (four eyes)',
      description:
        'By a staff user with `kyc:review` who neither submitted the verification nor belongs to the customer; API clients may not decide. Open screening hits are disposed in the same request (`hitDispositions`) and must all be disposed before an APPROVE. The tenant may require several distinct approvals per level (default 1, ENHANCED 2; `PATCH /platform/tenants/{tenantId}`, `verification.approvalsRequired`): the verification stays MANUAL_REVIEW until they are given, and a reviewer approving the same attempt twice gets 409 `approval_already_given`; one REJECT ends it. Decisions are immutable and audited; of two reviewers deciding at once one wins, the other gets 409 `concurrent_update`.',
      tags,
      access: { auth: 'required', tenant: true, capability: 'SCT01', permission: 'kyc:review' },
      idempotent: true,
      errors: [
        'four_eyes_violation',
        'approval_already_given',
        'hits_open',
        'invalid_transition',
        'concurrent_update',
        'customer_erased',
        'idempotency_key_in_use',
        'idempotency_key_reused',
      ],
      request: { params: VerificationParamsSchema, body: jsonBody(DecisionSchema) },
      responses: { 200: jsonResponse(VerificationSchema, 'The verification after the decision.') },
    }),
    async (c) =>
      c.json(
        await decideVerification(serviceContext(c), c.req.valid('param').verificationId, c.req.valid('json')),
        200,
      ),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/verifications/{verificationId}/sandbox-completion',
      operationId: 'completeSandboxVerification',
      summary: 'Complete a pending sandbox verification (development only)',
      description:
        'Plays the sandbox provider’s analyst: an IN_PROGRESS verification at the `sandbox` provider (a customer with last name `Pending` stays there) gets the outcome of `decision`, delivered as the sandbox’s signed callback through the verification queue — poll `GET /verifications/{verificationId}`. By staff or API clients with `kyc:review`. Only with `ENVIRONMENT` `development` or `test`; in production 404 and absent from the document. Any other verification: 409 `invalid_transition`.',
      tags,
      access: { auth: 'required', tenant: true, capability: 'SCT01', permission: 'kyc:review' },
      errors: ['invalid_transition', 'customer_erased', 'not_found'],
      request: { params: VerificationParamsSchema, body: jsonBody(SandboxCompletionSchema) },
      responses: {
        202: jsonResponse(VerificationSchema, 'The verification, still IN_PROGRESS; the outcome follows.'),
      },
      developmentOnly: true,
    }),
    async (c) =>
      c.json(
        await completeSandboxVerification(
          serviceContext(c),
          c.req.valid('param').verificationId,
          c.req.valid('json').decision,
        ),
        202,
      ),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/verification-providers/{provider}/callback',
      operationId: 'receiveVerificationCallback',
      summary: 'Signed callback from a verification provider',
      description:
        'For providers, not clients. The tenant is the provider account named by `account` in the callback URL registered with the provider (no header is needed). The signature is checked on the raw bytes against every active secret before anything is parsed; unsigned, wrongly signed or stale callbacks are 401. A duplicate event id is answered 200 and changes nothing; the outcome is applied by the verification queue, and one older than the last applied is recorded and ignored.',
      tags,
      access: { auth: 'none', tenant: false },
      errors: ['callback_signature_invalid'],
      request: {
        params: z.object({
          provider: z.string().max(40).openapi({ description: 'The provider’s name.', example: 'sandbox' }),
        }),
        query: z.object({
          account: z
            .string()
            .max(63)
            .optional()
            .openapi({
              param: { name: 'account', in: 'query' },
              description: 'The provider account: the tenant id for the sandbox.',
              example: 'demo-pro',
            }),
        }),
        // A plain schema, not zod: a validator would parse the body first, and the signature must be checked on the raw bytes.
        body: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                description: 'The provider’s payload, as it signed it.',
                example: { verificationId: 'ver_01jd7w3v8m9k2q4r6t8v0x2z4b', attempt: 1 },
                additionalProperties: true,
                maxProperties: 100,
              },
            },
          },
        },
      },
      responses: { 200: jsonResponse(CallbackAnswerSchema, 'Received.') },
    }),
    async (c) => {
      const rawBody = new Uint8Array(await c.req.arrayBuffer());
      const answer = await receiveCallback(
        c.env,
        c.req.valid('param').provider,
        c.req.valid('query').account,
        rawBody,
        c.req.raw.headers,
      );
      return c.json({ received: true, duplicate: answer === 'DUPLICATE' }, 200);
    },
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/customers/{customerId}/activation-readiness',
      operationId: 'getActivationReadiness',
      summary: 'Whether the customer can be activated',
      tags,
      access: {
        auth: 'required',
        tenant: true,
        capability: 'SCT01',
        permission: 'customers:read',
        selfService: true,
      },
      errors: ['customer_erased', 'capability_not_enabled'],
      request: { params: CustomerParams },
      responses: { 200: jsonResponse(ActivationReadinessSchema, 'Ready, or what is missing.') },
    }),
    async (c) =>
      c.json(await getActivationReadiness(serviceContext(c), c.req.valid('param').customerId), 200),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/customers/{customerId}/activation',
      operationId: 'activateCustomer',
      summary: 'Activate a verified customer',
      description:
        'VERIFIED → ACTIVE (event `customer.activated`) when an approved, unexpired verification of the tenant’s required level (default BASIC) and the required consents are in place; otherwise 409 `activation_not_ready` with `missing`.',
      tags,
      access: {
        auth: 'required',
        tenant: true,
        capability: 'SCT01',
        permission: 'customers:write',
        selfService: true,
      },
      idempotent: true,
      errors: [
        'activation_not_ready',
        'invalid_transition',
        'concurrent_update',
        'customer_erased',
        'capability_not_enabled',
        'idempotency_key_in_use',
        'idempotency_key_reused',
      ],
      request: { params: CustomerParams },
      responses: { 200: jsonResponse(ActivationSchema, 'The customer is ACTIVE.') },
    }),
    async (c) => c.json(await activateCustomer(serviceContext(c), c.req.valid('param').customerId), 200),
  );

  return router;
}
