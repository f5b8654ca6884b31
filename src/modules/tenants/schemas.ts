import { z } from '@hono/zod-openapi';
import { isWebOrigin } from '../../platform/origins';
import { capabilityCodes, TENANT_ID_MAX_LENGTH, TENANT_ID_PATTERN, tiers } from '../../platform/tenancy';
import { DocumentScannerSettingSchema } from '../documents/schemas';
import { TppSettingsSchema } from '../tpps/schemas';
import { VerificationPolicySchema, VerificationPolicyUpdateSchema } from '../verifications/schemas';
import { WebAuthnSettingsSchema } from '../webauthn/schemas';

export const TenantIdSchema = z
  .string()
  .min(2)
  .max(TENANT_ID_MAX_LENGTH)
  .regex(TENANT_ID_PATTERN, 'lower-case letters, digits and dashes, starting with a letter or digit')
  .openapi({ description: 'Tenant id (slug), sent by clients as `X-Tenant-ID`.', example: 'acme' });

const TierSchema = z.enum(tiers).openapi({ description: 'Subscription tier.', example: 'PROFESSIONAL' });
const CapabilitySchema = z
  .enum(capabilityCodes as [string, ...string[]])
  .openapi({ description: 'Capability code.', example: 'SCT02' });
const RateLimitSchema = z
  .number()
  .int()
  .min(1)
  .max(100_000)
  .openapi({ description: 'Requests per minute per principal.', example: 50, format: 'int32' });

const CorsOriginsSchema = z
  .array(
    z
      .string()
      .max(300)
      .regex(/^https?:\/\/[^/?#]+$/, 'must be an origin: scheme and host, no path')
      .refine(isWebOrigin, 'must be an origin without path: https, or http://localhost; never `*`')
      .openapi({ description: 'A web origin.', example: 'https://app.acme-bank.example' }),
  )
  .max(20)
  .openapi({
    description:
      'Web origins whose pages may call this tenant’s routes from a browser (CORS): their answers carry `Access-Control-Allow-Origin` with the page’s origin, never `*` and never with credentials.',
    example: ['https://app.acme-bank.example'],
  });

export const TenantSchema = z
  .object({
    id: TenantIdSchema,
    name: z.string().max(200).openapi({ description: 'Display name.', example: 'Acme Bank' }),
    tier: TierSchema,
    status: z
      .enum(['ACTIVE', 'SUSPENDED'])
      .openapi({ description: 'Suspended tenants answer 403.', example: 'ACTIVE' }),
    capabilities: z
      .array(CapabilitySchema)
      .max(8)
      .openapi({ description: 'Effective capabilities.', example: ['SCT01', 'SCT02', 'SCT11'] }),
    capabilityOverride: z.array(CapabilitySchema).max(8).nullable().openapi({
      description: 'Operator-set capability set replacing the tier default; null uses the default.',
      example: null,
    }),
    rateLimitPerMinute: RateLimitSchema,
    customRateLimit: RateLimitSchema.nullable().openapi({
      description: 'Operator-set limit; null uses the tier default.',
      example: null,
    }),
    d1Binding: z.string().max(64).openapi({
      description: 'Name of the D1 binding holding the tenant database.',
      example: 'TENANT_DB_ACME',
    }),
    databaseBound: z
      .boolean()
      .openapi({ description: 'Whether this deployment has that binding.', example: true }),
    webauthn: WebAuthnSettingsSchema.nullable().openapi({
      description: 'Passkey relying party; null uses the API’s own host and origin.',
      example: null,
    }),
    tpp: TppSettingsSchema.nullable().openapi({
      description: 'TPP trust anchors and certificate binding (SCT12); null: no anchors, binding optional.',
      example: null,
    }),
    corsOrigins: CorsOriginsSchema,
    verification: VerificationPolicySchema,
    issuedCallbackSecret: z.string().max(100).optional().openapi({
      description:
        'Only in the answer to the change that generated it (`verification.callbackSecret` GENERATE): the new provider callback secret, shown this once.',
      example: 'vcsec_3q2+7w4Z1x0aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456=',
    }),
    documentScanner: DocumentScannerSettingSchema.nullable().openapi({
      description: 'Malware scanner of uploaded documents (SCT11); null uses the default, `sandbox-eicar`.',
      example: null,
    }),
    createdAt: z
      .string()
      .max(30)
      .openapi({ description: 'Registration time.', example: '2026-11-25T12:00:00.000Z' }),
    updatedAt: z
      .string()
      .max(30)
      .openapi({ description: 'Last change.', example: '2026-11-25T12:00:00.000Z' }),
  })
  .openapi('Tenant');

export const CreateTenantSchema = z
  .object({
    id: TenantIdSchema,
    name: z.string().min(1).max(200).openapi({ description: 'Display name.', example: 'Acme Bank' }),
    tier: TierSchema,
    d1Binding: z
      .string()
      .regex(/^TENANT_DB_[A-Z0-9_]+$/, 'must look like TENANT_DB_<SLUG>')
      .max(64)
      .openapi({ description: 'D1 binding of the tenant database.', example: 'TENANT_DB_ACME' }),
    capabilities: z
      .array(CapabilitySchema)
      .max(8)
      .nullable()
      .optional()
      .openapi({ description: 'Capability set (CUSTOM tier).', example: ['SCT01', 'SCT11'] }),
    rateLimitPerMinute: RateLimitSchema.nullable().optional(),
  })
  .strict()
  .openapi('CreateTenant');

export const UpdateTenantSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: 'Display name.', example: 'Acme Bank plc' }),
    tier: TierSchema.optional(),
    status: z
      .enum(['ACTIVE', 'SUSPENDED'])
      .optional()
      .openapi({ description: 'Suspend or reactivate.', example: 'SUSPENDED' }),
    capabilities: z
      .array(CapabilitySchema)
      .max(8)
      .nullable()
      .optional()
      .openapi({
        description: 'Capability set; null restores the tier default.',
        example: ['SCT01', 'SCT11'],
      }),
    rateLimitPerMinute: RateLimitSchema.nullable().optional(),
    webauthn: WebAuthnSettingsSchema.nullable()
      .optional()
      .openapi({
        description: 'Passkey relying party (RP id, name, allowed origins); null restores the default.',
        example: {
          rpId: 'acme-bank.example',
          rpName: 'Acme Bank',
          origins: ['https://app.acme-bank.example'],
        },
      }),
    tpp: TppSettingsSchema.nullable()
      .optional()
      .openapi({
        description:
          'TPP settings: the QTSP certificates TPP certificates must chain to, and whether TPP tokens must be bound to their mTLS certificate; null restores the defaults.',
        example: { trustAnchors: [], requireCertificateBoundTokens: true },
      }),
    corsOrigins: CorsOriginsSchema.nullable()
      .optional()
      .openapi({
        description: 'Replaces the CORS origins; null or `[]` lets no browser page read the answers.',
        example: ['https://app.acme-bank.example'],
      }),
    verification: VerificationPolicyUpdateSchema.optional().openapi({
      description:
        'The KYC/KYB policy: the level activation requires, approvals per level (four eyes), the review interval, ongoing monitoring, and the provider callback secret’s rotation.',
      example: { approvalsRequired: { BASIC: 2 }, callbackSecret: { action: 'GENERATE' } },
    }),
    documentScanner: DocumentScannerSettingSchema.nullable().optional().openapi({
      description:
        'Malware scanner of uploaded documents: an installed scanner, or `none` (documents are `SKIPPED`); null restores the default, `sandbox-eicar`.',
      example: 'none',
    }),
  })
  .strict()
  .openapi('UpdateTenant');

export const TenantListSchema = z
  .object({ data: z.array(TenantSchema).max(1000).openapi({ description: 'Registered tenants.' }) })
  .openapi('TenantList');
