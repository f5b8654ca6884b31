import { ApiError } from '../../platform/errors';
import { createRouter, defineRoute, jsonResponse } from '../../platform/openapi';
import { issuerFor } from '../../platform/pipeline';
import { consumeRateLimit } from '../../platform/rate-limit/limiter';
import { authenticateClient, clientCredentials } from './clients';
import { TokenRequestSchema, TokenResponseSchema } from './schemas';
import { clientCredentialsGrant } from './service';

const supportedGrants = ['client_credentials'];

export function oauthRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/oauth/token',
      operationId: 'issueToken',
      summary: 'OAuth 2.0 token endpoint',
      description:
        'RFC 6749. Client authentication with `client_secret_basic` or `client_secret_post`. The tenant is derived from the client, so `X-Tenant-ID` is optional (if sent, it must be the client’s tenant). Errors carry the RFC 6749 members `error` and `error_description` beside the problem members.',
      tags: ['OAuth'],
      access: { auth: 'none', tenant: false },
      errors: [
        'invalid_request',
        'invalid_client',
        'invalid_scope',
        'unsupported_grant_type',
        'rate_limited',
      ],
      request: {
        body: {
          required: true,
          content: { 'application/x-www-form-urlencoded': { schema: TokenRequestSchema } },
        },
      },
      responses: {
        200: jsonResponse(TokenResponseSchema, 'An access token.'),
      },
    }),
    async (c) => {
      const form = c.req.valid('form');
      if (!supportedGrants.includes(form.grant_type)) {
        throw new ApiError('unsupported_grant_type', {
          detail: `Supported grant types: ${supportedGrants.join(', ')}.`,
        });
      }
      const client = await authenticateClient(
        c.env,
        clientCredentials(c.req.header('Authorization'), form),
        c.req.header('X-Tenant-ID'),
      );
      const { headers } = await consumeRateLimit(
        c.env,
        client.tenant.tier.toLowerCase(),
        `${client.tenant.id}:${client.clientId}`,
        {
          capacity: client.tenant.rateLimitPerMinute,
          windowSeconds: 60,
        },
      );
      c.set('rateLimitHeaders', headers);
      c.header('Cache-Control', 'no-store');
      return c.json(
        await clientCredentialsGrant(c.env, client, form.scope, issuerFor(c.env, c.req.url)),
        200,
      );
    },
  );

  return router;
}
