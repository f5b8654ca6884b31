import { z } from '@hono/zod-openapi';
import { paginationQuery } from '../../platform/pagination';
import { TimestampSchema, text } from '../../platform/schemas';
import { PermissionSchema } from '../access/schemas';
import { isCertificateText, MAX_CHAIN_LENGTH, psd2Roles, tppRoles } from './certificates';
import { tppStatuses } from './rules';

export const TppIdSchema = z
  .string()
  .max(40)
  .openapi({ description: 'TPP id.', example: 'tpp_01jd7w3v8m9k2q4r6t8v0x2z4b' });

const TppRoleSchema = z.enum(tppRoles).openapi({
  description:
    'PSD2 role the TPP acts in: `AISP` (account information, certificate role PSP_AI), `PISP` (payment initiation, PSP_PI), `CBPII` (card-based funds confirmation, PSP_IC).',
  example: 'AISP',
});

/** A PEM chain of five certificates is about 5 × 2 KiB; the bound leaves room for large keys. */
const CERTIFICATE_MAX_LENGTH = 32_768;

export const CertificateTextSchema = z
  .string()
  .min(1)
  .max(CERTIFICATE_MAX_LENGTH)
  .openapi({
    description: `The TPP's eIDAS QWAC or QSealC: PEM (LF or CRLF, or flattened onto one line; a chain of at most ${MAX_CHAIN_LENGTH} with the leaf first), bare base64 of one DER certificate, or percent-encoded PEM. Each form gives the same fingerprint.`,
    example: '-----BEGIN CERTIFICATE-----\nMIIB…\n-----END CERTIFICATE-----\n',
  });

function isHttpsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.hash === '' && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

export const RedirectUriSchema = z
  .string()
  .max(500)
  .refine(isHttpsUrl, 'must be an https URL without fragment or credentials')
  .openapi({
    description: 'Where the customer is sent back with the code; compared exactly.',
    example: 'https://tpp.example.com/callback',
  });

const RedirectUrisSchema = z
  .array(RedirectUriSchema)
  .min(1)
  .max(10)
  .openapi({
    description: 'The TPP’s redirect URIs; a consent names exactly one of them.',
    example: ['https://tpp.example.com/callback'],
  });

export const TppCertificateSchema = z
  .object({
    id: z
      .string()
      .max(40)
      .openapi({ description: 'Certificate id.', example: 'crt_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    sha256: z.string().max(64).openapi({
      description:
        'Lower-case hex SHA-256 of the DER certificate (its fingerprint; `x5t#S256` is the same digest in base64url).',
      example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    }),
    serialNumber: z.string().max(128).openapi({ description: 'Serial number, hex.', example: '01a2b3c4' }),
    subject: z.string().max(1000).openapi({
      description: 'Subject distinguished name.',
      example: 'C=GB, O=Example TPP Ltd, 2.5.4.97=PSDGB-FCA-123456, CN=tpp.example.com',
    }),
    issuer: z.string().max(1000).openapi({
      description: 'Issuer distinguished name (the QTSP).',
      example: 'C=GB, O=Example QTSP, CN=Example QTSP CA',
    }),
    notBefore: TimestampSchema.openapi({ description: 'Valid from.' }),
    notAfter: TimestampSchema.openapi({ description: 'Valid until.' }),
    qcType: z.enum(['QWAC', 'QSEALC']).openapi({
      description: 'From QcType: `QWAC` (web) or `QSEALC` (eseal).',
      example: 'QWAC',
    }),
    psd2Roles: z
      .array(z.enum(psd2Roles))
      .max(4)
      .openapi({
        description: 'PSD2 roles of the certificate, read by OID (ETSI TS 119 495).',
        example: ['PSP_AI', 'PSP_PI'],
      }),
    trust: z.enum(['VERIFIED', 'UNVERIFIED']).openapi({
      description:
        '`VERIFIED`: it chains to one of the tenant’s trust anchors. `UNVERIFIED`: the tenant has none configured, so it was accepted on its own facts only.',
      example: 'VERIFIED',
    }),
    warnings: z
      .array(z.enum(['certificate_expires_soon']))
      .max(1)
      .openapi({
        description: '`certificate_expires_soon`: less than 30 days remain; add the renewal.',
        example: [],
      }),
    createdAt: TimestampSchema,
  })
  .openapi('TppCertificate');
export type TppCertificateView = z.infer<typeof TppCertificateSchema>;

export const TppSchema = z
  .object({
    id: TppIdSchema,
    name: z.string().max(200).openapi({ description: 'Trading name.', example: 'Example Money' }),
    legalName: z.string().max(200).openapi({ description: 'Legal name.', example: 'Example TPP Ltd' }),
    authorizationNumber: z.string().max(100).openapi({
      description: 'The organizationIdentifier of its certificates: PSD, country, NCA, authorisation number.',
      example: 'PSDGB-FCA-123456',
    }),
    ncaId: z
      .string()
      .max(20)
      .openapi({ description: 'Its national competent authority.', example: 'GB-FCA' }),
    ncaName: z.string().max(200).nullable().openapi({
      description: 'The NCA’s name, from the certificate.',
      example: 'Financial Conduct Authority',
    }),
    roles: z
      .array(TppRoleSchema)
      .max(3)
      .openapi({ description: 'Roles it is registered for.', example: ['AISP'] }),
    scopes: z
      .array(PermissionSchema)
      .max(10)
      .openapi({
        description: 'The customer self-service scopes its roles allow it to ask a customer for.',
        example: ['beneficiaries:read', 'customers:read', 'documents:read'],
      }),
    redirectUris: RedirectUrisSchema,
    status: z.enum(tppStatuses).openapi({
      description:
        '`ACTIVE`; `SUSPENDED` (its tokens stop, it can get none); `REVOKED` (final: its clients and consents end).',
      example: 'ACTIVE',
    }),
    statusReason: z
      .string()
      .max(500)
      .nullable()
      .openapi({ description: 'Why it is suspended or revoked.', example: null }),
    certificates: z
      .array(TppCertificateSchema)
      .max(50)
      .openapi({ description: 'Its certificates, newest first.' }),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  })
  .openapi('Tpp');
export type TppView = z.infer<typeof TppSchema>;

export const CreateTppSchema = z
  .object({
    name: text(200, 'Trading name.', 'Example Money'),
    legalName: text(200, 'Legal name.', 'Example TPP Ltd'),
    authorizationNumber: text(
      100,
      'Its authorisation as its certificate’s organizationIdentifier states it.',
      'PSDGB-FCA-123456',
    ),
    roles: z
      .array(TppRoleSchema)
      .min(1)
      .max(3)
      .openapi({ description: 'Roles to register for; each must be in the certificate.', example: ['AISP'] }),
    certificate: CertificateTextSchema,
    redirectUris: RedirectUrisSchema,
  })
  .strict()
  .openapi('CreateTpp');
export type CreateTppInput = z.infer<typeof CreateTppSchema>;

export const UpdateTppSchema = z
  .object({
    name: text(200, 'Trading name.', 'Example Money').optional(),
    redirectUris: RedirectUrisSchema.optional(),
    status: z.enum(tppStatuses).optional().openapi({
      description: 'New status: `ACTIVE` ⇄ `SUSPENDED`, either → `REVOKED` (final).',
      example: 'SUSPENDED',
    }),
    statusReason: text(
      500,
      'Why; required with `SUSPENDED` and `REVOKED`.',
      'NCA withdrew the authorisation',
    ).optional(),
  })
  .strict()
  .refine(
    (input) => input.status === undefined || input.status === 'ACTIVE' || input.statusReason !== undefined,
    {
      message: 'a reason is required to suspend or revoke',
      path: ['statusReason'],
    },
  )
  .openapi('UpdateTpp');
export type UpdateTppInput = z.infer<typeof UpdateTppSchema>;

export const AddCertificateSchema = z
  .object({ certificate: CertificateTextSchema })
  .strict()
  .openapi('AddTppCertificate');

export const CreateTppClientSchema = z
  .object({ name: text(100, 'Name of the client, for people.', 'Example Money production') })
  .strict()
  .openapi('CreateTppClient');

export const TppListQuerySchema = z.object({
  ...paginationQuery,
  status: z
    .enum(tppStatuses)
    .optional()
    .openapi({ description: 'Only TPPs in this status.', example: 'ACTIVE' }),
});
export type TppListQuery = z.infer<typeof TppListQuerySchema>;

const PEM_ANCHOR = z
  .string()
  .min(1)
  .max(CERTIFICATE_MAX_LENGTH)
  .refine(isCertificateText, 'must be PEM X.509 certificates')
  .openapi({
    description: 'A trust anchor: a QTSP root (or issuing CA) certificate, PEM.',
    example: '-----BEGIN CERTIFICATE-----\nMIIB…\n-----END CERTIFICATE-----\n',
  });

/** The tenant's TPP settings, set by the operator (`PATCH /platform/tenants/{tenantId}`, `tpp`). */
export const TppSettingsSchema = z
  .object({
    trustAnchors: z.array(PEM_ANCHOR).max(20).default([]).openapi({
      description:
        'QTSP certificates TPP certificates must chain to; none: certificates are accepted on their facts (`trust: UNVERIFIED`).',
    }),
    requireCertificateBoundTokens: z.boolean().default(false).openapi({
      description:
        'TPP clients get tokens only over mTLS with one of their registered certificates (RFC 8705).',
      example: false,
    }),
  })
  .strict()
  .openapi('TppSettings');
export type TppSettings = z.infer<typeof TppSettingsSchema>;
