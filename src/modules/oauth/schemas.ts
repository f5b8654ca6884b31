import { z } from '@hono/zod-openapi';

export const TokenRequestSchema = z
  .object({
    grant_type: z
      .string()
      .max(64)
      .openapi({ description: 'OAuth grant type.', example: 'client_credentials' }),
    scope: z.string().max(2000).optional().openapi({
      description: 'Space-separated permissions requested; defaults to all the client may have.',
      example: 'customers:read customers:write',
    }),
    client_id: z
      .string()
      .max(64)
      .optional()
      .openapi({ description: 'For `client_secret_post`.', example: 'cli_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    client_secret: z
      .string()
      .max(128)
      .optional()
      .openapi({ description: 'For `client_secret_post`.', example: 'fcs_4kq9y…' }),
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
    scope: z
      .string()
      .max(2000)
      .openapi({ description: 'Granted permissions.', example: 'customers:read customers:write' }),
  })
  .openapi('TokenResponse');
