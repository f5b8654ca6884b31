import { createRoute, OpenAPIHono, type RouteConfig, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { readConfig } from '../env';
import { permissionCatalogue } from './auth/permissions';
import { ACCESS_TOKEN_LIFETIME } from './auth/tokens';
import type { AppEnv } from './context';
import { ApiError, fieldErrorsFromZod, OAUTH_ROUTES, problemLimits, validationError } from './errors';
import { idempotency } from './idempotency';
import { guard, type RouteAccess, refusesApiClients } from './pipeline';
import { type ProblemCode, problemTypes } from './problems';
import { rateLimitPolicies, routePolicies } from './rate-limit/policies';
import { requiredTiers, TENANT_ID_MAX_LENGTH, TENANT_ID_PATTERN } from './tenancy';

export const ProblemSchema = z
  .object({
    type: z.string().max(200).openapi({
      description: 'URI of the problem type; GET it for a description.',
      example: '/v2/customer/problems/validation_failed',
    }),
    title: z
      .string()
      .max(200)
      .openapi({ description: 'Short summary of the problem type.', example: 'Validation failed' }),
    status: z
      .number()
      .int()
      .min(100)
      .max(599)
      .openapi({ description: 'HTTP status code.', example: 422, format: 'int32' }),
    detail: z.string().max(problemLimits.detail).openapi({
      description: 'What went wrong in this occurrence.',
      example: 'email: Invalid email address',
    }),
    code: z
      .string()
      .max(64)
      .openapi({ description: 'Stable snake_case code of the problem type.', example: 'validation_failed' }),
    instance: z
      .string()
      .max(problemLimits.instance)
      .openapi({ description: 'The request path.', example: '/v2/customer/individuals' }),
    requestId: z.string().max(64).openapi({
      description: 'Id of the request, also in `X-Request-Id`.',
      example: 'req_01jd7w3v8m9k2q4r6t8v0x2z4b',
    }),
    errors: z
      .array(
        z.object({
          path: z
            .string()
            .max(problemLimits.errorPath)
            .openapi({ description: 'Dotted path of the failing field.', example: 'address.country' }),
          message: z
            .string()
            .max(problemLimits.errorMessage)
            .openapi({ description: 'Why the field failed.', example: 'Invalid country code' }),
        }),
      )
      .max(problemLimits.errors)
      .optional()
      .openapi({ description: 'Failing fields, for validation problems.' }),
    capability: z
      .string()
      .max(8)
      .optional()
      .openapi({ description: 'For `capability_not_enabled`: the missing capability.', example: 'SCT02' }),
    requiredTiers: z
      .array(z.string().max(16))
      .max(4)
      .optional()
      .openapi({
        description: 'For `capability_not_enabled`: tiers that include it.',
        example: ['PROFESSIONAL', 'ENTERPRISE', 'CUSTOM'],
      }),
    maxAgeSeconds: z.number().int().min(0).max(86_400).optional().openapi({
      description: 'For `step_up_required`: how recent the authentication must be, in seconds.',
      example: 300,
      format: 'int32',
    }),
    allowed: z
      .array(z.string().max(32))
      .max(20)
      .optional()
      .openapi({
        description: 'For `invalid_transition`: the statuses allowed from the current one.',
        example: ['SUSPENDED', 'CLOSED'],
      }),
    permission: z.string().max(64).optional().openapi({
      description: 'For `forbidden`: the permission the route needs.',
      example: 'customers:read',
    }),
    organizationRoles: z
      .array(z.string().max(32))
      .max(4)
      .optional()
      .openapi({
        description:
          'For `forbidden` to an organization’s own user: the organization roles the operation takes.',
        example: ['ADMIN_USER'],
      }),
    existingId: z.string().max(40).optional().openapi({
      description:
        'For `beneficiary_exists` and `document_duplicate`: the beneficiary or document that already holds the account or these bytes.',
      example: 'ben_01jd7w3v8m9k2q4r6t8v0x2z4b',
    }),
    detectedType: z.string().max(100).nullable().optional().openapi({
      description:
        'For `unsupported_media_type` on an upload: the type the bytes are (null when unknown, e.g. text or HTML).',
      example: 'application/x-msdownload',
    }),
    missing: z
      .array(
        z.object({
          requirement: z
            .string()
            .max(120)
            .openapi({ description: 'A requirement id.', example: 'document.PROOF_OF_ADDRESS' }),
          kind: z.string().max(32).openapi({ description: 'Its kind.', example: 'DOCUMENT' }),
          subject: z
            .string()
            .max(40)
            .openapi({ description: 'Whom it is about.', example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
        }),
      )
      .max(500)
      .optional()
      .openapi({ description: 'For `requirements_not_met` and `activation_not_ready`: what is due.' }),
    permissions: z
      .array(z.string().max(64))
      .max(100)
      .optional()
      .openapi({
        description:
          'For `permission_not_held`: the permissions the caller would grant, or the target holds, that the caller does not hold.',
        example: ['kyc:review'],
      }),
  })
  .openapi('Problem', { description: 'An RFC 9457 problem details object.' });

/** What `problemResponse` in errors.ts sends on /oauth/*: the problem plus the RFC 6749 members, as JSON. */
const OAuthProblemSchema = ProblemSchema.extend({
  error: z.string().max(64).openapi({
    description:
      'RFC 6749 error code: `invalid_request`, `invalid_client`, `invalid_grant`, `invalid_scope`, `unauthorized_client`, `unsupported_grant_type`, `server_error` or `temporarily_unavailable`.',
    example: 'invalid_client',
  }),
  error_description: z
    .string()
    .max(problemLimits.detail)
    .openapi({ description: 'Human-readable detail (RFC 6749).', example: 'Client authentication failed.' }),
}).openapi('OAuthProblem', { description: 'An RFC 9457 problem that is also an RFC 6749 error response.' });

const problemContent = { 'application/problem+json': { schema: ProblemSchema } };
const oauthProblemContent = { 'application/json': { schema: OAuthProblemSchema } };

const retryAfterHeader = {
  'Retry-After': {
    description: 'Seconds until the request may be retried.',
    schema: { type: 'integer' as const, format: 'int32', minimum: 0, maximum: 86_400 },
  },
};

function problemResponse(status: number, codes: ProblemCode[], oauth: boolean, cors: ResponseHeaders) {
  const headers = {
    ...rateLimitHeaders,
    ...cors,
    ...(status === 429 || status === 423 ? retryAfterHeader : {}),
  };
  return {
    description: codes.map((code) => `\`${code}\`: ${problemTypes[code].description}`).join(' '),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    content: oauth ? oauthProblemContent : problemContent,
  };
}

/** Every problem a route can answer with, from its access rules plus the route's own `errors`. */
function errorResponses(
  access: RouteAccess,
  extra: readonly ProblemCode[],
  hasBody: boolean,
  hasParams: boolean,
  oauth: boolean,
  cors: ResponseHeaders,
) {
  const codes: ProblemCode[] = ['validation_failed', 'internal_error', 'rate_limited'];
  if (access.tenant) {
    codes.push(
      'tenant_required',
      'malformed_request',
      'tenant_not_found',
      'tenant_suspended',
      'tenant_unavailable',
    );
  }
  if (access.auth === 'required' || access.auth === 'optional' || access.auth === 'platform-admin') {
    codes.push('authentication_required', 'invalid_token');
    if (access.tenant) codes.push('tenant_mismatch');
  }
  if (access.capability) codes.push('capability_not_enabled');
  if (access.permission) codes.push('forbidden');
  if (access.actsOn) codes.push('permission_not_held');
  // Third parties acting for a customer cannot step up, API clients unless exempt cannot either.
  if (access.recentAuthSeconds !== undefined) codes.push('step_up_required', 'user_session_required');
  if (access.userSession) codes.push('user_session_required');
  if (hasParams) codes.push('not_found');
  if (hasBody) codes.push('malformed_request', 'payload_too_large', 'unsupported_media_type');
  const byStatus = new Map<number, ProblemCode[]>();
  for (const code of new Set([...codes, ...extra])) {
    const status = problemTypes[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, grouped]) => [status, problemResponse(status, grouped, oauth, cors)]),
  );
}

type ResponseHeaders = Record<string, { description: string; schema: { type: 'string'; maxLength: number } }>;

/**
 * `Access-Control-Allow-Origin` as src/platform/cors.ts sends it: on the answers of routes that
 * know their tenant (X-Tenant-ID, or the OAuth client's), to the origins that tenant lists.
 */
function corsHeaders(servesBrowsers: boolean): ResponseHeaders {
  return {
    'Access-Control-Allow-Origin': {
      description: servesBrowsers
        ? 'The page’s `Origin`, when the tenant lists it in its CORS origins (operator `PATCH /platform/tenants/{tenantId}`); absent otherwise. Never `*`; never with credentials.'
        : 'Never sent: the route names no tenant whose origins could be allowed, so pages of other origins cannot read it.',
      schema: { type: 'string', maxLength: 300 },
    },
  };
}

/** Sent by every route, on its problem responses too: the quota bucket the request was charged to. */
const rateLimitHeaders = {
  'RateLimit-Policy': {
    description:
      'The quota policy: `"<policy>";q=<requests>;w=<seconds>`, the policy being the tenant’s tier (`"starter"`, …) or `"public"`.',
    schema: { type: 'string' as const, maxLength: 200 },
  },
  RateLimit: {
    description: 'Remaining quota: `"<policy>";r=<remaining>;t=<seconds until full>`.',
    schema: { type: 'string' as const, maxLength: 200 },
  },
};

/** The OAuth 2.0 client-credentials scheme: a tenant back end's token from /oauth/token. */
export const CLIENT_CREDENTIALS_SCHEME = 'clientCredentials';
export const TOKEN_PATH = '/v2/customer/oauth/token';

export const parameters = {
  tenant: { $ref: '#/components/parameters/TenantId' },
  idempotencyKey: { $ref: '#/components/parameters/IdempotencyKey' },
};

type AccessRoute = RouteConfig & {
  access: RouteAccess;
  /**
   * Takes `Idempotency-Key`: `true` through the middleware, which fingerprints the body as text;
   * `'in-handler'` where the body is not text (an upload): the handler reads the body and calls
   * `runIdempotently` with a fingerprint of its own.
   */
  idempotent?: boolean | 'in-handler';
  /** Problems specific to the route (409 `email_taken`, …), beyond those its access rules imply. */
  errors?: readonly ProblemCode[];
  /**
   * A local tool (the inbox): in production it answers 404 like an unknown path, before any
   * credential is looked at, and the served document leaves it out (`withoutDevelopmentOnly`).
   * `test` serves it, so the contract gates cover it like every other route.
   */
  developmentOnly?: boolean;
};

/** The extension marking a development-only operation in the document. */
export const DEVELOPMENT_ONLY = 'x-development-only';

const developmentOnlyGuard: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (readConfig(c.env).environment === 'production') {
    throw new ApiError('not_found', { detail: `No route matches ${c.req.method} ${c.req.path}.` });
  }
  await next();
};

type OpenApiDocument = ReturnType<OpenAPIHono<AppEnv>['getOpenAPI31Document']>;

/** The document production serves: no operation marked development-only, nor a tag left without one. */
export function withoutDevelopmentOnly(document: OpenApiDocument): OpenApiDocument {
  const paths = Object.entries(document.paths ?? {}).flatMap(([path, item]) => {
    const kept = Object.entries(item).filter(
      ([, operation]) => !(operation && typeof operation === 'object' && DEVELOPMENT_ONLY in operation),
    );
    return kept.length > 0 ? [[path, Object.fromEntries(kept)]] : [];
  });
  const usedTags = new Set(
    paths.flatMap(([, item]) =>
      Object.values(item as Record<string, { tags?: string[] }>).flatMap(
        (operation) => operation?.tags ?? [],
      ),
    ),
  );
  return {
    ...document,
    paths: Object.fromEntries(paths),
    tags: document.tags?.filter((tag) => usedTags.has(tag.name)),
  };
}

/**
 * Declares a route with its access rules: the guard middleware enforces them and the OpenAPI
 * document shows them (`security`, `x-capability`, `x-permissions`, `x-step-up`,
 * `x-user-session-required`, `x-rate-limit`, `x-acts-on`, tenant header, every error).
 */
export function defineRoute<R extends AccessRoute>(
  config: R,
): Omit<R, 'access' | 'idempotent' | 'errors' | 'developmentOnly'> {
  const { access, idempotent, errors = [], developmentOnly, ...route } = config;
  if (access.actsOn?.in === 'path' && !route.path.includes(`{${access.actsOn.name}}`)) {
    throw new Error(`${route.path} acts on {${access.actsOn.name}}, which is not one of its path parameters`);
  }
  const hasBody = Boolean(route.request?.body);
  const hasParams = Boolean(route.request?.params);
  const oauth = route.path.startsWith(OAUTH_ROUTES);
  const cors = corsHeaders(access.tenant || oauth);
  const security = securityRequirements(access);
  const responses = Object.fromEntries(
    Object.entries(route.responses).map(([status, response]) => [
      status,
      !('$ref' in response)
        ? { ...response, headers: { ...rateLimitHeaders, ...cors, ...response.headers } }
        : response,
    ]),
  );
  return createRoute({
    ...route,
    security,
    parameters: [
      ...(access.tenant ? [parameters.tenant] : []),
      ...(idempotent ? [parameters.idempotencyKey] : []),
      ...(route.parameters ?? []),
    ],
    middleware: [
      ...(developmentOnly ? [developmentOnlyGuard] : []),
      guard(access),
      ...(idempotent === true ? [idempotency()] : []),
    ],
    responses: {
      ...errorResponses(access, errors, hasBody, hasParams, oauth, cors),
      ...responses,
    },
    ...(access.capability
      ? { 'x-capability': { code: access.capability, requiredTiers: requiredTiers(access.capability) } }
      : {}),
    ...(access.permission
      ? { 'x-permissions': { anyOf: [access.permission], selfService: Boolean(access.selfService) } }
      : {}),
    ...(access.recentAuthSeconds !== undefined
      ? {
          'x-step-up': {
            maxAgeSeconds: access.recentAuthSeconds,
            ...(access.apiClientsSkipRecentAuth ? { apiClientsExempt: true } : {}),
          },
        }
      : {}),
    ...(refusesApiClients(access) ? { 'x-user-session-required': true } : {}),
    'x-rate-limit': rateLimitExtension(access),
    ...(access.actsOn ? { 'x-acts-on': access.actsOn } : {}),
    ...(developmentOnly ? { [DEVELOPMENT_ONLY]: true } : {}),
  }) as Omit<R, 'access' | 'idempotent' | 'errors' | 'developmentOnly'>;
}

/**
 * `security` of an operation. A token of the tenant's API clients (OAuth client credentials) is
 * listed beside the bearer token wherever clients are served, with the permission it must carry
 * as its scope, so the document and the reference page's Authorize dialog show what a back end
 * can call; routes on a user's own login refuse clients and list only the bearer token.
 */
function securityRequirements(access: RouteAccess): Record<string, string[]>[] {
  if (access.auth === 'platform-admin') return [{ platformAdmin: [] }];
  if (access.auth !== 'required' && access.auth !== 'optional') return [];
  const requirements: Record<string, string[]>[] = [{ bearerAuth: [] }];
  if (!refusesApiClients(access)) {
    requirements.push({ [CLIENT_CREDENTIALS_SCHEME]: access.permission ? [access.permission] : [] });
  }
  return access.auth === 'optional' ? [...requirements, {}] : requirements;
}

/** The buckets a request of the route takes `cost` tokens from, in the order it takes them. */
function rateLimitExtension(access: RouteAccess) {
  const { policies, cost } = routePolicies(access.tenant, access.rateLimit);
  return {
    cost,
    buckets: policies.map((policy) => {
      const { per, capacity, windowSeconds } = rateLimitPolicies[policy];
      return { policy, per, capacity, windowSeconds };
    }),
  };
}

/** Every router of the app: validation failures become the one problem shape. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw validationError(
          fieldErrorsFromZod(result.error, result.target === 'json' ? undefined : result.target),
        );
      }
    },
  });
}

export function registerComponents(app: OpenAPIHono<AppEnv>): void {
  const registry = app.openAPIRegistry;
  registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: `ES256 access token from /auth/login, /auth/refresh or /oauth/token. Issued and verified per RFC8725 (JWT best current practices): the algorithm is pinned to ES256, \`kid\` selects the key, \`iss\`, \`aud\` and \`exp\` are checked, and tokens live at most ${ACCESS_TOKEN_LIFETIME}.`,
  });
  registry.registerComponent('securitySchemes', CLIENT_CREDENTIALS_SCHEME, {
    type: 'oauth2',
    description: `A tenant API client's access token (client_secret_basic or client_secret_post at \`${TOKEN_PATH}\`; the client id names its tenant, so no \`X-Tenant-ID\` is needed there). The same ES256 JWT as \`bearerAuth\` (RFC8725 practices, at most ${ACCESS_TOKEN_LIFETIME}); an empty scope asks for every permission the client holds. No refresh token (RFC 6749 §4.4.3): ask again when it expires.`,
    flows: {
      clientCredentials: {
        // Relative: OpenAPI 3.1 resolves it against the server URL, so every deployment's
        // document names its own token endpoint.
        tokenUrl: TOKEN_PATH,
        scopes: { ...permissionCatalogue },
      },
    },
  });
  registry.registerComponent('securitySchemes', 'platformAdmin', {
    type: 'http',
    scheme: 'bearer',
    description: "The platform operator's admin token (secret PLATFORM_ADMIN_TOKEN).",
  });
  registry.registerComponent('parameters', 'TenantId', {
    name: 'X-Tenant-ID',
    in: 'header',
    required: true,
    description: 'The tenant (fintech) the request is for.',
    schema: {
      type: 'string',
      maxLength: TENANT_ID_MAX_LENGTH,
      pattern: TENANT_ID_PATTERN.source,
      example: 'demo-pro',
    },
  });
  registry.registerComponent('parameters', 'IdempotencyKey', {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description: 'Makes the request safe to retry: a replay within 24 h returns the stored answer.',
    schema: { type: 'string', minLength: 1, maxLength: 255, example: '5f0c3a2e-1f7b-4d0e-9f4c-3c2a1b0d9e8f' },
  });
}

export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

export function jsonBody<T extends z.ZodType>(schema: T) {
  return { required: true, content: { 'application/json': { schema } } };
}

/** A body the route also takes absent, for options added to a route that had none: read as `{}`. */
export function optionalJsonBody<T extends z.ZodType>(schema: T) {
  return { required: false, content: { 'application/json': { schema } } };
}
