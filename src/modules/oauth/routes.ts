import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { presentedCertificate } from '../../platform/auth/certificate-binding';
import { allPermissions } from '../../platform/auth/permissions';
import { ACCESS_TOKEN_LIFETIME } from '../../platform/auth/tokens';
import type { AppEnv, ServiceContext } from '../../platform/context';
import { ApiError } from '../../platform/errors';
import { serviceContext } from '../../platform/http';
import { createRouter, defineRoute, jsonResponse } from '../../platform/openapi';
import { enterTenant, issuerFor, type RouteAccess } from '../../platform/pipeline';
import { tenantDatabase } from '../../platform/tenancy';
import { certificateBinding } from '../tpps/binding';
import { type AuthenticatedClient, authenticateClient, clientCredentials } from './clients';
import {
  AuthorizationServerMetadataSchema,
  clientAuthMethods,
  grantTypes,
  IntrospectionRequestSchema,
  IntrospectionResponseSchema,
  isGrantType,
  RevocationRequestSchema,
  TokenRequestSchema,
  TokenResponseSchema,
} from './schemas';
import {
  authorizationCodeGrant,
  clientCredentialsGrant,
  introspectToken,
  refreshTokenGrant,
  revokeToken,
} from './service';

const tags = ['OAuth'];
const publicAccess = { auth: 'none', tenant: false } as const;
/**
 * The endpoints clients authenticate at: the guard charges the caller's IP its `public` token
 * before the credentials are checked, `authenticatedClient` the client's tenant bucket after.
 */
const clientAccess = { auth: 'none', tenant: false, rateLimit: { policy: 'tenant' } } satisfies RouteAccess;

/** Standard OAuth libraries send no tenant header: the client id names the tenant. */
const optionalTenantHeader = {
  name: 'X-Tenant-ID',
  in: 'header' as const,
  required: false,
  description: 'Optional on /oauth/*: the tenant is the client’s. If sent, it must name the client’s tenant.',
  schema: {
    type: 'string' as const,
    maxLength: 64,
    pattern: '^[a-z0-9][a-z0-9-]{1,62}$',
    example: 'demo-pro',
  },
};

const formBody = <T>(schema: T) => ({
  required: true,
  content: { 'application/x-www-form-urlencoded': { schema } },
});

/**
 * Authenticates the calling client, then makes its tenant the request's: the client's rate
 * limit applies, logs name the tenant, and services get an ordinary context acting as the client.
 */
async function authenticatedClient(
  c: Context<AppEnv>,
  form: { client_id?: string; client_secret?: string },
): Promise<{ client: AuthenticatedClient; ctx: ServiceContext; issuer: string }> {
  const client = await authenticateClient(
    c.env,
    clientCredentials(c.req.header('Authorization'), form),
    c.req.header('X-Tenant-ID'),
  );
  await enterTenant(
    c,
    {
      tenant: client.tenant,
      db: tenantDatabase(c.env, client.tenant),
      principal: {
        type: 'client',
        id: client.clientId,
        permissions: new Set(client.permissions),
        amr: ['client_secret'],
        authTime: Math.floor(Date.now() / 1000),
      },
    },
    clientAccess,
  );
  // Token responses and introspection results are credentials: never cached (RFC 6749 §5.1).
  c.header('Cache-Control', 'no-store');
  return { client, ctx: serviceContext(c), issuer: issuerFor(c.env, c.req.url) };
}

/** RFC 8414 metadata; served at both discovery locations so OIDC-first libraries find it too. */
function authorizationServerMetadata(issuer: string) {
  return {
    issuer,
    token_endpoint: `${issuer}/oauth/token`,
    introspection_endpoint: `${issuer}/oauth/introspect`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    service_documentation: `${issuer}/docs`,
    grant_types_supported: [...grantTypes],
    response_types_supported: ['code'],
    token_endpoint_auth_methods_supported: clientAuthMethods,
    introspection_endpoint_auth_methods_supported: clientAuthMethods,
    revocation_endpoint_auth_methods_supported: clientAuthMethods,
    code_challenge_methods_supported: ['S256'],
    scopes_supported: allPermissions,
  };
}

function serveMetadata(
  router: OpenAPIHono<AppEnv>,
  route: { path: string; operationId: string; summary: string; description: string },
): void {
  router.openapi(
    defineRoute({
      method: 'get',
      ...route,
      tags,
      access: publicAccess,
      responses: { 200: jsonResponse(AuthorizationServerMetadataSchema, 'Authorization server metadata.') },
    }),
    (c) => {
      c.header('Cache-Control', 'public, max-age=300');
      return c.json(authorizationServerMetadata(issuerFor(c.env, c.req.url)), 200);
    },
  );
}

const metadataDescription =
  'Issuer `<origin>/v2/customer`. There is no browser authorization endpoint: authorization codes are minted when a customer authorises a TPP consent, and are exchanged at the token endpoint with PKCE S256. No ID tokens are issued.';

/** RFC 8414 §3: the well-known path is inserted before the issuer's path, so it lives outside the base path. */
export function oauthMetadataRoutes() {
  const router = createRouter();
  serveMetadata(router, {
    path: '/.well-known/oauth-authorization-server/v2/customer',
    operationId: 'getAuthorizationServerMetadata',
    summary: 'OAuth 2.0 authorization server metadata (RFC 8414)',
    description: metadataDescription,
  });
  return router;
}

export function oauthRoutes() {
  const router = createRouter();

  serveMetadata(router, {
    path: '/.well-known/openid-configuration',
    operationId: 'getOpenIdConfiguration',
    summary: 'OpenID Connect discovery document',
    description: `The RFC 8414 metadata at the OpenID Connect discovery location, for libraries that discover there first. ${metadataDescription}`,
  });

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/oauth/token',
      operationId: 'issueToken',
      summary: 'OAuth 2.0 token endpoint',
      description: `RFC 6749 grants \`client_credentials\` (the client acts for itself), \`authorization_code\` with PKCE S256 (the client acts for the customer who consented; codes are single use and valid 60 s) and \`refresh_token\` (rotating: each refresh token is single use, and presenting a spent one revokes the grant). Access tokens live ${ACCESS_TOKEN_LIFETIME}; refresh tokens 30 days idle, 90 days at most. Client authentication with \`client_secret_basic\` or \`client_secret_post\`. A TPP's client calling over mTLS (Cloudflare API Shield) with one of its TPP's registered, valid certificates gets access tokens bound to it (RFC 8705 §3, \`cnf.x5t#S256\`), which every route then refuses without that certificate; where the tenant makes binding mandatory (\`settings.tpp.requireCertificateBoundTokens\`), a TPP client without such a certificate is refused (\`certificate_binding_required\`). Errors carry the RFC 6749 members \`error\` and \`error_description\` beside the problem members.`,
      tags,
      access: clientAccess,
      parameters: [optionalTenantHeader],
      errors: [
        'invalid_request',
        'invalid_client',
        'invalid_grant',
        'invalid_scope',
        'unauthorized_client',
        'unsupported_grant_type',
        'certificate_binding_required',
        'tenant_suspended',
        'tenant_unavailable',
      ],
      request: { body: formBody(TokenRequestSchema) },
      responses: { 200: jsonResponse(TokenResponseSchema, 'Tokens.') },
    }),
    async (c) => {
      const form = c.req.valid('form');
      const grantType = form.grant_type;
      if (!isGrantType(grantType)) {
        throw new ApiError('unsupported_grant_type', {
          detail: `Supported grant types: ${grantTypes.join(', ')}.`,
        });
      }
      const { client, ctx, issuer } = await authenticatedClient(c, form);
      if (!client.grantTypes.includes(grantType)) {
        throw new ApiError('unauthorized_client', {
          detail: `The client may not use the ${grantType} grant.`,
        });
      }
      // Decided before any grant is spent: a refused binding leaves the code or refresh token live.
      const binding = await certificateBinding(ctx, client, presentedCertificate(c.req.raw.cf));
      const tokens =
        grantType === 'client_credentials'
          ? await clientCredentialsGrant(ctx, client, form.scope, issuer, binding)
          : grantType === 'authorization_code'
            ? await authorizationCodeGrant(ctx, client, form, issuer, binding)
            : await refreshTokenGrant(ctx, client, form, issuer, binding);
      return c.json(tokens, 200);
    },
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/oauth/introspect',
      operationId: 'introspectToken',
      summary: 'OAuth 2.0 token introspection (RFC 7662)',
      description:
        'Tells the calling client whether one of its own access or refresh tokens is live, and what it grants. Tokens of other clients, expired, revoked or unknown tokens are all `{"active": false}`. A revoked token is inactive here at once, in every location (the revocation is read from the database, not from a cache).',
      tags,
      access: clientAccess,
      parameters: [optionalTenantHeader],
      errors: ['invalid_request', 'invalid_client', 'tenant_suspended', 'tenant_unavailable'],
      request: { body: formBody(IntrospectionRequestSchema) },
      responses: { 200: jsonResponse(IntrospectionResponseSchema, 'The token’s state.') },
    }),
    async (c) => {
      const form = c.req.valid('form');
      const { client, ctx, issuer } = await authenticatedClient(c, form);
      return c.json(await introspectToken(ctx, client, form.token, issuer), 200);
    },
  );

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/oauth/revoke',
      operationId: 'revokeToken',
      summary: 'OAuth 2.0 token revocation (RFC 7009)',
      description:
        'Every token this server issues can be revoked; `token_type_hint` is ignored. Revoking a refresh token or an access token of an `authorization_code` grant revokes the whole grant; revoking a `client_credentials` access token revokes that token alone. Refresh tokens stop at once and introspection answers `{"active": false}` at once; other routes refuse a revoked access token at once in the location that revoked it and within 60 seconds everywhere else (a revocation mark in KV). Invalid, expired or already revoked tokens answer 200 too. A token of another client is refused (`unauthorized_client`).',
      tags,
      access: clientAccess,
      parameters: [optionalTenantHeader],
      errors: [
        'invalid_request',
        'invalid_client',
        'unauthorized_client',
        'tenant_suspended',
        'tenant_unavailable',
      ],
      request: { body: formBody(RevocationRequestSchema) },
      responses: { 200: { description: 'Revoked, or nothing to revoke.' } },
    }),
    async (c) => {
      const form = c.req.valid('form');
      const { client, ctx, issuer } = await authenticatedClient(c, form);
      await revokeToken(ctx, client, form.token, issuer);
      return c.body(null, 200);
    },
  );

  return router;
}
