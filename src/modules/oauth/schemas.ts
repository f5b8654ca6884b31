import { z } from '@hono/zod-openapi';

export const grantTypes = ['client_credentials', 'authorization_code', 'refresh_token'] as const;
export type GrantType = (typeof grantTypes)[number];

export function isGrantType(value: string): value is GrantType {
  return (grantTypes as readonly string[]).includes(value);
}

export const clientAuthMethods = ['client_secret_basic', 'client_secret_post'];

const clientIdField = z
  .string()
  .max(64)
  .optional()
  .openapi({ description: 'For `client_secret_post`.', example: 'cli_01jd7w3v8m9k2q4r6t8v0x2z4b' });

const clientSecretField = z
  .string()
  .max(128)
  .optional()
  .openapi({ description: 'For `client_secret_post`.', example: 'fcs_4kq9y…' });

export const TokenRequestSchema = z
  .object({
    grant_type: z.string().max(64).openapi({
      description: '`client_credentials`, `authorization_code` or `refresh_token`.',
      example: 'client_credentials',
    }),
    scope: z.string().max(2000).optional().openapi({
      description:
        'Space-separated permissions requested. `client_credentials`: defaults to all the client may have. `refresh_token`: a subset of the grant’s scope, which it defaults to.',
      example: 'customers:read customers:write',
    }),
    code: z.string().max(128).optional().openapi({
      description: '`authorization_code`: the code, single use, valid 60 s.',
      example: 'Qm9vdHN0cmFwIGNvZGUgZm9yIGRvY3VtZW50YXRpb24gb25seQ',
    }),
    redirect_uri: z.string().max(2000).optional().openapi({
      description: '`authorization_code`: exactly the redirect URI the code was issued for.',
      example: 'https://tpp.example.com/callback',
    }),
    code_verifier: z.string().max(128).optional().openapi({
      description: '`authorization_code`: the PKCE verifier whose S256 challenge the code is bound to.',
      example: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
    }),
    refresh_token: z.string().max(256).optional().openapi({
      description: '`refresh_token`: the current refresh token of the grant.',
      example: 'ses_01jd7w3v8m9k2q4r6t8v0x2z4b.k9v2Xq…',
    }),
    client_id: clientIdField,
    client_secret: clientSecretField,
  })
  .openapi('TokenRequest');

export const TokenResponseSchema = z
  .object({
    access_token: z
      .string()
      .max(4096)
      .openapi({ description: 'ES256 JWT access token.', example: 'eyJhbGciOiJFUzI1NiIs…' }),
    token_type: z.literal('Bearer').openapi({ description: 'Always `Bearer`.', example: 'Bearer' }),
    expires_in: z
      .number()
      .int()
      .min(1)
      .max(3600)
      .openapi({ description: 'Lifetime in seconds.', example: 600, format: 'int32' }),
    refresh_token: z.string().max(256).optional().openapi({
      description:
        '`authorization_code` and `refresh_token` grants: the next refresh token. Each is single use; presenting a spent one revokes the grant.',
      example: 'ses_01jd7w3v8m9k2q4r6t8v0x2z4b.k9v2Xq…',
    }),
    scope: z
      .string()
      .max(2000)
      .openapi({ description: 'Granted permissions.', example: 'customers:read customers:write' }),
  })
  .openapi('TokenResponse');

export type TokenResponse = z.infer<typeof TokenResponseSchema>;

/** RFC 7662 and RFC 7009 take the same form: the token, an optional hint and the client's credentials. */
const presentedTokenRequest = (name: string) =>
  z
    .object({
      token: z.string().min(1).max(4096).openapi({
        description: 'An access token or refresh token issued to the calling client.',
        example: 'eyJhbGciOiJFUzI1NiIs…',
      }),
      token_type_hint: z.string().max(64).optional().openapi({
        description:
          '`access_token` or `refresh_token`. Accepted and ignored: the server recognises the token by its form.',
        example: 'refresh_token',
      }),
      client_id: clientIdField,
      client_secret: clientSecretField,
    })
    .openapi(name);

export const IntrospectionRequestSchema = presentedTokenRequest('IntrospectionRequest');
export const RevocationRequestSchema = presentedTokenRequest('RevocationRequest');

const epochSeconds = (description: string) =>
  z
    .number()
    .int()
    .min(0)
    .max(253_402_300_799)
    .optional()
    .openapi({ description, example: 1_795_000_000, format: 'int64' });

export const IntrospectionResponseSchema = z
  .object({
    active: z.boolean().openapi({
      description:
        'Whether the token is live and was issued to the calling client. Everything else is only present when true.',
      example: true,
    }),
    scope: z
      .string()
      .max(2000)
      .optional()
      .openapi({ description: 'Granted permissions.', example: 'customers:read' }),
    client_id: z.string().max(64).optional().openapi({
      description: 'The client the token was issued to.',
      example: 'cli_01jd7w3v8m9k2q4r6t8v0x2z4b',
    }),
    token_type: z
      .literal('Bearer')
      .optional()
      .openapi({ description: 'For access tokens: `Bearer`. Absent for refresh tokens.', example: 'Bearer' }),
    sub: z.string().max(64).optional().openapi({
      description: 'The customer user a grant acts for, or the client itself for `client_credentials`.',
      example: 'usr_01jd7w3v8m9k2q4r6t8v0x2z4b',
    }),
    exp: epochSeconds(
      'Expiry, seconds since the epoch. For refresh tokens: the grant’s idle or absolute limit.',
    ),
    iat: epochSeconds('Issue time, seconds since the epoch. For refresh tokens: when the grant began.'),
    iss: z
      .string()
      .max(200)
      .optional()
      .openapi({ description: 'Issuer.', example: 'https://api.example.com/v2/customer' }),
    aud: z
      .string()
      .max(200)
      .optional()
      .openapi({ description: 'Audience (access tokens).', example: 'https://api.example.com/v2/customer' }),
    jti: z
      .string()
      .max(64)
      .optional()
      .openapi({ description: 'Token id (access tokens).', example: 'jti_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    tid: z.string().max(64).optional().openapi({ description: 'The tenant.', example: 'demo-pro' }),
    sid: z.string().max(64).optional().openapi({
      description: 'The grant’s session (authorization_code grants).',
      example: 'ses_01jd7w3v8m9k2q4r6t8v0x2z4b',
    }),
    cus: z.string().max(64).optional().openapi({
      description: 'The customer the token acts for (authorization_code grants).',
      example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b',
    }),
    cnf: z
      .object({
        'x5t#S256': z.string().max(64).openapi({
          description: 'base64url SHA-256 of the client certificate the token is bound to.',
          example: 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2',
        }),
      })
      .optional()
      .openapi({
        description:
          'RFC 8705 §3.2: the access token is bound to this client certificate; it is refused on any request that does not present it over mTLS.',
      }),
  })
  .openapi('TokenIntrospection');

export type IntrospectionResponse = z.infer<typeof IntrospectionResponseSchema>;

const urlField = (description: string, example: string) =>
  z.string().max(2000).openapi({ description, example });

const stringList = (description: string, example: string[]) =>
  z.array(z.string().max(64)).max(32).openapi({ description, example });

export const AuthorizationServerMetadataSchema = z
  .object({
    issuer: urlField(
      'Issuer identifier; equals `iss` in every token.',
      'https://api.example.com/v2/customer',
    ),
    token_endpoint: urlField('Token endpoint.', 'https://api.example.com/v2/customer/oauth/token'),
    introspection_endpoint: urlField(
      'RFC 7662 introspection endpoint.',
      'https://api.example.com/v2/customer/oauth/introspect',
    ),
    revocation_endpoint: urlField(
      'RFC 7009 revocation endpoint.',
      'https://api.example.com/v2/customer/oauth/revoke',
    ),
    jwks_uri: urlField(
      'Public keys that verify access tokens.',
      'https://api.example.com/v2/customer/.well-known/jwks.json',
    ),
    service_documentation: urlField('API reference.', 'https://api.example.com/v2/customer/docs'),
    grant_types_supported: stringList('Grant types.', [...grantTypes]),
    response_types_supported: stringList('Response types of the authorization codes.', ['code']),
    token_endpoint_auth_methods_supported: stringList(
      'Client authentication at the token endpoint.',
      clientAuthMethods,
    ),
    introspection_endpoint_auth_methods_supported: stringList(
      'Client authentication at the introspection endpoint.',
      clientAuthMethods,
    ),
    revocation_endpoint_auth_methods_supported: stringList(
      'Client authentication at the revocation endpoint.',
      clientAuthMethods,
    ),
    code_challenge_methods_supported: stringList('PKCE methods; S256 only.', ['S256']),
    scopes_supported: stringList('Scopes: the permission catalogue.', ['customers:read', 'customers:write']),
  })
  .openapi('AuthorizationServerMetadata');
