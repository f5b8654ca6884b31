import { STEP_UP_MAX_AGE_SECONDS } from '../../platform/auth/recent-auth';
import { serviceContext } from '../../platform/http';
import { createRouter, defineRoute, jsonBody, jsonResponse, optionalJsonBody } from '../../platform/openapi';
import { pageSchema } from '../../platform/pagination';
import { CustomerParams } from '../customers/schemas';
import {
  BeneficiaryListQuerySchema,
  BeneficiaryParams,
  BeneficiarySchema,
  ConfirmBeneficiarySchema,
  CreateBeneficiarySchema,
  UpdateBeneficiarySchema,
} from './schemas';
import {
  confirmBeneficiary,
  createBeneficiary,
  deleteBeneficiary,
  getBeneficiary,
  listBeneficiaries,
  updateBeneficiary,
} from './service';

const tags = ['Beneficiaries'];
const read = { auth: 'required', tenant: true, permission: 'beneficiaries:read', selfService: true } as const;
const write = {
  auth: 'required',
  tenant: true,
  permission: 'beneficiaries:write',
  selfService: true,
} as const;
const organizationRoles =
  'An organization’s own users act by their organization role: `ADMIN_USER` and `TRANSACTION_APPROVER` add, change, confirm and delete; every employee reads.';

export function beneficiaryRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/customers/{customerId}/beneficiaries',
      operationId: 'listBeneficiaries',
      summary: "A customer's beneficiaries",
      description: `Newest first. Deleted beneficiaries are listed only with \`status=DELETED\`. ${organizationRoles}`,
      tags,
      access: read,
      errors: ['customer_erased', 'invalid_cursor'],
      request: { params: CustomerParams, query: BeneficiaryListQuerySchema },
      responses: {
        200: jsonResponse(pageSchema(BeneficiarySchema, 'BeneficiaryPage'), 'A page of beneficiaries.'),
      },
    }),
    async (c) =>
      c.json(
        await listBeneficiaries(serviceContext(c), c.req.valid('param').customerId, c.req.valid('query')),
        200,
      ),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/customers/{customerId}/beneficiaries',
      operationId: 'createBeneficiary',
      summary: 'Add a beneficiary',
      description: `The account is normalised (spaces, dashes, case) and checked for its network: SEPA \`{iban, bic?}\` in EUR with an IBAN of the SEPA scheme; SWIFT with a BIC of the country, an IBAN where the country has IBANs, any active ISO 4217 currency; FPS \`{sortCode, accountNumber}\` in GBP with the Vocalink modulus check; ACH \`{routingNumber, accountNumber}\` in USD with the ABA checksum. Each failing rule is a 422 naming its field. The same account on the same network is 409 \`beneficiary_exists\` with \`existingId\`. Added \`ACTIVE\` (trusted) when the customer’s own login authenticated at most ${STEP_UP_MAX_AGE_SECONDS} s ago (login or \`POST /auth/step-up\`); otherwise, and always for staff and API clients, \`PENDING_CONFIRMATION\` until confirmed within 24 h. The payee is then checked (VoP for SEPA, CoP for FPS): the result informs and never blocks. ${organizationRoles}`,
      tags,
      access: write,
      idempotent: true,
      errors: [
        'beneficiary_exists',
        'customer_closed',
        'customer_erased',
        'concurrent_update',
        'idempotency_key_in_use',
        'idempotency_key_reused',
      ],
      request: { params: CustomerParams, body: jsonBody(CreateBeneficiarySchema) },
      responses: { 201: jsonResponse(BeneficiarySchema, 'The beneficiary.') },
    }),
    async (c) =>
      c.json(
        await createBeneficiary(serviceContext(c), c.req.valid('param').customerId, c.req.valid('json')),
        201,
      ),
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/beneficiaries/{beneficiaryId}',
      operationId: 'getBeneficiary',
      summary: 'A beneficiary',
      description: `With the full account details. ${organizationRoles}`,
      tags,
      access: read,
      request: { params: BeneficiaryParams },
      responses: { 200: jsonResponse(BeneficiarySchema, 'The beneficiary.') },
    }),
    async (c) => c.json(await getBeneficiary(serviceContext(c), c.req.valid('param').beneficiaryId), 200),
  );

  router.openapi(
    defineRoute({
      method: 'patch',
      path: '/beneficiaries/{beneficiaryId}',
      operationId: 'updateBeneficiary',
      summary: 'Change a beneficiary’s nickname or email',
      description:
        'Only `nickname` and `email` change (null removes them); the name and the account cannot (422): delete the beneficiary and add the new one, which is checked and confirmed again.',
      tags,
      access: write,
      errors: ['beneficiary_deleted', 'customer_closed', 'customer_erased', 'concurrent_update'],
      request: { params: BeneficiaryParams, body: jsonBody(UpdateBeneficiarySchema) },
      responses: { 200: jsonResponse(BeneficiarySchema, 'The beneficiary.') },
    }),
    async (c) =>
      c.json(
        await updateBeneficiary(serviceContext(c), c.req.valid('param').beneficiaryId, c.req.valid('json')),
        200,
      ),
  );

  router.openapi(
    defineRoute({
      method: 'delete',
      path: '/beneficiaries/{beneficiaryId}',
      operationId: 'deleteBeneficiary',
      summary: 'Delete a beneficiary',
      description:
        'Leaves a `DELETED` tombstone (listed with `status=DELETED`); the account can then be added again. Deleting a deleted beneficiary answers the tombstone.',
      tags,
      access: write,
      errors: ['customer_closed', 'customer_erased', 'concurrent_update'],
      request: { params: BeneficiaryParams },
      responses: { 200: jsonResponse(BeneficiarySchema, 'The deleted beneficiary.') },
    }),
    async (c) => c.json(await deleteBeneficiary(serviceContext(c), c.req.valid('param').beneficiaryId), 200),
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/beneficiaries/{beneficiaryId}/confirm',
      operationId: 'confirmBeneficiary',
      summary: 'Confirm a pending beneficiary',
      description: `Makes it \`ACTIVE\` (trusted). Needs an authentication at most ${STEP_UP_MAX_AGE_SECONDS} s old by the customer’s own login (or its organization’s \`ADMIN_USER\` or \`TRANSACTION_APPROVER\`): staff and API clients cannot confirm. After the deadline: 409 \`confirmation_expired\`. After a payee check of \`NO_MATCH\` or \`CLOSE_MATCH\`, \`acknowledgePayeeWarning: true\` is required (422 \`payee_warning_not_acknowledged\`) and recorded in the audit log. Confirming an \`ACTIVE\` beneficiary answers it unchanged.`,
      tags,
      access: { ...write, recentAuthSeconds: STEP_UP_MAX_AGE_SECONDS },
      idempotent: true,
      errors: [
        'confirmation_expired',
        'payee_warning_not_acknowledged',
        'beneficiary_deleted',
        'customer_closed',
        'customer_erased',
        'concurrent_update',
        'idempotency_key_in_use',
        'idempotency_key_reused',
      ],
      request: { params: BeneficiaryParams, body: optionalJsonBody(ConfirmBeneficiarySchema) },
      responses: { 200: jsonResponse(BeneficiarySchema, 'The confirmed beneficiary.') },
    }),
    async (c) =>
      c.json(
        await confirmBeneficiary(
          serviceContext(c),
          c.req.valid('param').beneficiaryId,
          c.req.valid('json') ?? {},
        ),
        200,
      ),
  );

  return router;
}
