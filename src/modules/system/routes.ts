import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from '@hono/zod-openapi';
import { readConfig } from '../../env';
import { publicJwks } from '../../platform/auth/tokens';
import type { AppEnv } from '../../platform/context';
import { createRouter, defineRoute, withoutDevelopmentOnly } from '../../platform/openapi';
import { issuerFor } from '../../platform/pipeline';
import { healthBody } from './health';

const publicAccess = { auth: 'none', tenant: false } as const;

const HealthSchema = z
  .object({
    status: z.literal('ok').openapi({ description: 'Always `ok` while the worker answers.', example: 'ok' }),
    time: z
      .string()
      .max(30)
      .openapi({ description: 'Server time, ISO 8601 UTC.', example: '2026-11-25T12:00:00.000Z' }),
  })
  .openapi('Health');

const JwkSchema = z
  .object({
    kty: z.string().max(8).openapi({ description: 'Key type.', example: 'EC' }),
    crv: z.string().max(16).openapi({ description: 'Curve.', example: 'P-256' }),
    x: z.string().max(64).openapi({
      description: 'X coordinate, base64url.',
      example: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
    }),
    y: z.string().max(64).openapi({
      description: 'Y coordinate, base64url.',
      example: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
    }),
    kid: z
      .string()
      .max(64)
      .openapi({ description: 'Key id, as in the token header.', example: 'key-2026-11-25' }),
    alg: z.string().max(8).openapi({ description: 'Algorithm.', example: 'ES256' }),
    use: z.string().max(8).openapi({ description: 'Key use.', example: 'sig' }),
  })
  .openapi('Jwk');

const JwksSchema = z
  .object({
    keys: z
      .array(JwkSchema)
      .max(4)
      .openapi({ description: 'Current key first, then the previous during rotation.' }),
  })
  .openapi('Jwks');

export function systemRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/health',
      operationId: 'getHealth',
      summary: 'Liveness',
      description: 'Answers while the worker runs; needs no tenant and touches no binding.',
      tags: ['Discovery'],
      access: publicAccess,
      responses: {
        200: { description: 'The worker is up.', content: { 'application/json': { schema: HealthSchema } } },
      },
    }),
    (c) => c.json(healthBody(), 200),
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/.well-known/jwks.json',
      operationId: 'getJwks',
      summary: 'Public signing keys',
      description:
        'The ES256 keys that verify access tokens: the current key and, during rotation, the previous.',
      tags: ['Discovery'],
      access: publicAccess,
      responses: {
        200: { description: 'JSON Web Key Set.', content: { 'application/json': { schema: JwksSchema } } },
      },
    }),
    async (c) => {
      c.header('Cache-Control', 'public, max-age=300');
      return c.json((await publicJwks(c.env)) as z.infer<typeof JwksSchema>, 200);
    },
  );

  return router;
}

/**
 * The contract's version, not the package's (docs/api.md, Versions): its major is the base path's
 * `/v2`, and a release that adds to the contract raises the minor.
 */
const API_VERSION = '2.1.0';

const documentCache = new Map<string, ReturnType<OpenAPIHono<AppEnv>['getOpenAPI31Document']>>();

/** Wording for the server entry: OWASP's inventory rule looks for local/test/production. */
const serverEnvironment = {
  development: 'local development',
  test: 'test',
  production: 'production',
} as const;

/** Serves the OpenAPI 3.1 document of every route the app mounts; built once per isolate and origin. */
export function openApiDocument(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    defineRoute({
      method: 'get',
      path: '/v2/customer/openapi.json',
      operationId: 'getOpenApiDocument',
      summary: 'This OpenAPI document',
      description:
        'OpenAPI 3.1 description of every route this deployment serves; `/v2/customer/docs` renders it.',
      tags: ['Discovery'],
      access: publicAccess,
      responses: {
        200: {
          description: 'OpenAPI 3.1 document.',
          content: {
            'application/json': {
              schema: z.record(z.string(), z.unknown()).openapi({ description: 'OpenAPI document.' }),
            },
          },
        },
      },
    }),
    (c) => {
      const issuer = issuerFor(c.env, c.req.url);
      const { environment } = readConfig(c.env);
      const cacheKey = `${environment} ${issuer}`;
      let document = documentCache.get(cacheKey);
      if (!document) {
        document = app.getOpenAPI31Document({
          openapi: '3.1.0',
          info: {
            title: 'FinCore Customer API',
            version: API_VERSION,
            description:
              'Multi-tenant customer lifecycle API: registration, authentication, KYC/KYB, profiles, documents, beneficiaries, access control and TPP consents. Errors are RFC 9457 problem+json; see `/v2/customer/problems/{code}`.',
            contact: { name: 'FinCore Customer API reference', url: `${issuer}/docs` },
            license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
          },
          servers: [
            {
              url: new URL(issuer).origin,
              description: `This deployment (${serverEnvironment[environment]})`,
              'x-internal': false,
            },
          ],
          tags: [
            { name: 'Discovery', description: 'Health, documents, keys and problem types.' },
            { name: 'Platform', description: 'Operator routes: the tenant registry.' },
            { name: 'OAuth', description: 'OAuth 2.0 authorization server.' },
            { name: 'Registration', description: 'Customer self-registration and contact verification.' },
            {
              name: 'Authentication',
              description: 'Login, sessions, step-up, second factors and passwords.',
            },
            { name: 'Profiles', description: 'Customers, their status and consents.' },
            {
              name: 'Access control',
              description: 'The caller, permissions, roles, staff users and API clients.',
            },
            {
              name: 'Webhooks',
              description:
                'Endpoints that receive events, their deliveries and attempts; under `webhooks`, every event a receiver can get.',
            },
            {
              name: 'Development',
              description: 'Local tools, served only outside production (`x-development-only`).',
            },
          ],
        });
        if (environment === 'production') document = withoutDevelopmentOnly(document);
        documentCache.set(cacheKey, document);
      }
      return c.json(document as unknown as Record<string, unknown>, 200);
    },
  );
}
