import { z } from '@hono/zod-openapi';
import { paginationQuery } from '../../platform/pagination';
import { TimestampSchema } from '../../platform/schemas';
import { PermissionSchema } from '../access/schemas';
import { consentRevokers, consentStatuses, MAX_CONSENT_DAYS } from '../tpps/rules';
import { RedirectUriSchema, TppIdSchema } from '../tpps/schemas';

export const TppConsentIdSchema = z
  .string()
  .max(40)
  .openapi({ description: 'TPP consent id.', example: 'tcn_01jd7w3v8m9k2q4r6t8v0x2z4b' });

export const CustomerIdParamSchema = z
  .string()
  .max(40)
  .openapi({ description: 'Customer id.', example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b' });

const ScopesSchema = z
  .array(PermissionSchema)
  .min(1)
  .max(10)
  .openapi({
    description:
      'Customer self-service scopes the TPP asks for; its roles bound them (AISP: `customers:read`, `beneficiaries:read`, `documents:read`; PISP: `customers:read`, `beneficiaries:read`, `beneficiaries:write`; CBPII: `customers:read`).',
    example: ['customers:read'],
  });

export const TppConsentSchema = z
  .object({
    id: TppConsentIdSchema,
    tppId: TppIdSchema,
    clientId: z
      .string()
      .max(40)
      .openapi({ description: 'The TPP client that asked.', example: 'cli_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    customerId: CustomerIdParamSchema,
    scopes: ScopesSchema,
    status: z.enum(consentStatuses).openapi({
      description:
        '`AWAITING_AUTHORISATION` → `AUTHORISED` or `REJECTED` (refused, or the authorisation window lapsed); `AUTHORISED` → `REVOKED` or `EXPIRED`. docs/api.md maps them to UK Open Banking and Berlin Group.',
      example: 'AUTHORISED',
    }),
    statusReason: z.string().max(200).nullable().openapi({
      description:
        'Why it left its last state: `authorisation_window_lapsed`, `tpp_revoked`, `customer_closed`, …',
      example: null,
    }),
    revokedBy: z.enum(consentRevokers).nullable().openapi({
      description: 'Who revoked it (`SYSTEM`: its TPP was revoked or the customer closed).',
      example: null,
    }),
    redirectUri: RedirectUriSchema,
    state: z
      .string()
      .max(500)
      .nullable()
      .openapi({ description: 'The TPP’s `state`, handed back.', example: 'af0ifjsldkj' }),
    expiresAt: TimestampSchema.openapi({
      description: 'When it ends at the latest; tokens never outlive it.',
    }),
    authorisationExpiresAt: TimestampSchema.openapi({
      description: 'Until when the customer may authorise it (15 minutes after creation).',
    }),
    createdAt: TimestampSchema,
    statusUpdatedAt: TimestampSchema,
  })
  .openapi('TppConsent');
export type TppConsentView = z.infer<typeof TppConsentSchema>;

export const CreateTppConsentSchema = z
  .object({
    customerId: CustomerIdParamSchema,
    scopes: ScopesSchema,
    expiresAt: z.iso
      .datetime()
      .max(30)
      .openapi({
        description: `When the consent ends: in the future, at most ${MAX_CONSENT_DAYS} days away.`,
        example: '2027-03-01T00:00:00.000Z',
      }),
    redirectUri: RedirectUriSchema,
    codeChallenge: z
      .string()
      .length(43)
      .regex(/^[A-Za-z0-9_-]{43}$/, 'must be an S256 PKCE challenge: 43 base64url characters')
      .openapi({
        description: 'PKCE challenge (RFC 7636): base64url(SHA-256(code_verifier)), unpadded.',
        example: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      }),
    codeChallengeMethod: z
      .literal('S256')
      .optional()
      .openapi({ description: 'Only `S256`.', example: 'S256' }),
    state: z.string().min(1).max(500).optional().openapi({
      description: 'Opaque value handed back with the code, against CSRF.',
      example: 'af0ifjsldkj',
    }),
  })
  .strict()
  .openapi('CreateTppConsent');
export type CreateTppConsentInput = z.infer<typeof CreateTppConsentSchema>;

export const AuthorisedConsentSchema = z
  .object({
    consent: TppConsentSchema,
    code: z.string().max(128).openapi({
      description: 'One-time authorization code for `POST /oauth/token` (60 s, single use), shown once.',
      example: 'Z2l2ZW4tb25jZS1hbmQtZ29uZQ',
    }),
    redirectUri: RedirectUriSchema,
    state: z
      .string()
      .max(500)
      .nullable()
      .openapi({ description: 'The TPP’s `state`.', example: 'af0ifjsldkj' }),
  })
  .openapi('AuthorisedTppConsent');

export const TppConsentListQuerySchema = z.object({
  ...paginationQuery,
  status: z
    .enum(consentStatuses)
    .optional()
    .openapi({ description: 'Only consents in this status.', example: 'AUTHORISED' }),
});
export type TppConsentListQuery = z.infer<typeof TppConsentListQuerySchema>;
