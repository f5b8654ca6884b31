import { z } from '@hono/zod-openapi';
import { isWebOrigin } from '../../platform/origins';
import { AccountTypeSchema, EmailSchema, TimestampSchema, text } from '../../platform/schemas';

/** At most this many passkeys per user, so the listing is always a single page. */
export const MAX_PASSKEYS_PER_USER = 10;

const CREDENTIAL_ID_EXAMPLE = 'KEbWNCc7NgaYnUyrNeFGX9_3Y-8oJ3KwzjnaiD1d1LU';
const CHALLENGE_EXAMPLE = 'm3ZSXk3sxEk7-RUvr3B7JJuTQqFcq2S7shR1TZkfGEc';

function base64url(maxLength: number, description: string, example: string) {
  return z
    .string()
    .min(1)
    .max(maxLength)
    .regex(/^[A-Za-z0-9_-]+$/, 'must be base64url without padding')
    .openapi({ description, example });
}

/** WebAuthn caps credential ids at 1023 bytes: 1364 base64url characters. */
export const CredentialIdSchema = base64url(
  1364,
  'WebAuthn credential id (base64url), as `PublicKeyCredential.id` in the browser.',
  CREDENTIAL_ID_EXAMPLE,
);

const TransportsSchema = z
  .array(z.string().max(32).openapi({ description: 'A transport.', example: 'internal' }))
  .max(10)
  .openapi({
    description:
      'How the browser can reach the authenticator (`usb`, `nfc`, `ble`, `hybrid`, `internal`, …).',
    example: ['internal', 'hybrid'],
  });

const CredentialDescriptorSchema = z
  .object({
    id: CredentialIdSchema,
    type: z.string().max(16).openapi({ description: 'Always `public-key`.', example: 'public-key' }),
    transports: TransportsSchema.optional(),
  })
  .openapi('PasskeyDescriptor');

/** IANA COSE algorithm identifiers are signed 16-bit values in practice. */
const CoseAlgorithmSchema = z.number().int().min(-65_536).max(65_535);

// ---------------------------------------------------------------------------------------------
// Relying-party configuration (operator API: tenant settings)

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** WebAuthn binds a passkey to the RP id; browsers accept it only on that host or its subdomains. */
function isWithinRpId(origin: string, rpId: string): boolean {
  const host = new URL(origin).hostname;
  return host === rpId || host.endsWith(`.${rpId}`);
}

export const WebAuthnSettingsSchema = z
  .object({
    rpId: z
      .string()
      .max(253)
      .regex(HOSTNAME, 'must be a lower-case domain name without scheme or port')
      .openapi({
        description:
          "Relying party id: the domain passkeys are bound to, the host of the tenant's web origins or a parent domain of it. Changing it makes existing passkeys unusable.",
        example: 'acme-bank.example',
      }),
    rpName: text(100, 'Name the authenticator shows; defaults to the tenant name.', 'Acme Bank').optional(),
    origins: z
      .array(
        z
          .string()
          .max(300)
          .refine(isWebOrigin, 'must be an origin without path: https, or http://localhost')
          .openapi({
            description: 'A web origin allowed to use the passkeys.',
            example: 'https://app.acme-bank.example',
          }),
      )
      .min(1)
      .max(10)
      .openapi({
        description: 'Origins whose pages may register and use passkeys (`clientDataJSON.origin`).',
        example: ['https://app.acme-bank.example'],
      }),
  })
  .strict()
  .superRefine((value, ctx) => {
    value.origins.forEach((origin, index) => {
      if (isWebOrigin(origin) && !isWithinRpId(origin, value.rpId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['origins', index],
          message: `is not on ${value.rpId} or one of its subdomains`,
        });
      }
    });
  })
  .openapi('WebAuthnSettings', {
    description:
      "The tenant's WebAuthn relying party. Unset, passkeys are bound to the API's own host and origin (`localhost` in development).",
  });
export type WebAuthnSettings = z.infer<typeof WebAuthnSettingsSchema>;

// ---------------------------------------------------------------------------------------------
// Options handed to the browser

const ChallengeSchema = base64url(
  128,
  'Random challenge (base64url), single use, valid for 5 minutes.',
  CHALLENGE_EXAMPLE,
);
const TimeoutSchema = z.number().int().min(1).max(600_000).openapi({
  description: 'How long the browser waits for the user, in ms.',
  example: 300_000,
  format: 'int32',
});
const UserVerificationSchema = z.enum(['required', 'preferred', 'discouraged']).openapi({
  description:
    'Whether the authenticator must verify the user (PIN, biometrics): required for passwordless sign-in, discouraged for a second factor.',
  example: 'required',
});

export const PasskeyCreationOptionsSchema = z
  .object({
    challenge: ChallengeSchema,
    rp: z
      .object({
        id: z
          .string()
          .max(253)
          .optional()
          .openapi({ description: 'Relying party id.', example: 'acme-bank.example' }),
        name: z.string().max(100).openapi({ description: 'Relying party name.', example: 'Acme Bank' }),
      })
      .openapi({ description: 'The relying party (the tenant).' }),
    user: z
      .object({
        id: base64url(
          128,
          'Opaque user handle (base64url of the user id).',
          'dXNyXzAxamQ3dzN2OG05azJxNHI2dDh2MHgyejRi',
        ),
        name: z.string().max(320).openapi({ description: 'The login email.', example: 'ada@example.com' }),
        displayName: z.string().max(200).openapi({ description: 'Display name.', example: 'Ada Lovelace' }),
      })
      .openapi({ description: 'The account the passkey is for.' }),
    pubKeyCredParams: z
      .array(
        z.object({
          type: z
            .literal('public-key')
            .openapi({ description: 'Always `public-key`.', example: 'public-key' }),
          alg: CoseAlgorithmSchema.openapi({
            description: 'COSE algorithm id.',
            example: -7,
            format: 'int32',
          }),
        }),
      )
      .max(10)
      .openapi({ description: 'Accepted key algorithms, preferred first: EdDSA, ES256, RS256.' }),
    timeout: TimeoutSchema.optional(),
    attestation: z
      .enum(['none', 'indirect', 'direct', 'enterprise'])
      .optional()
      .openapi({ description: 'Always `none`: no authenticator attestation is requested.', example: 'none' }),
    excludeCredentials: z.array(CredentialDescriptorSchema).max(MAX_PASSKEYS_PER_USER).optional().openapi({
      description: 'Passkeys the user already has, so the same authenticator is not enrolled twice.',
    }),
    authenticatorSelection: z
      .object({
        authenticatorAttachment: z
          .enum(['platform', 'cross-platform'])
          .optional()
          .openapi({ description: 'Kind of authenticator wanted.', example: 'platform' }),
        residentKey: z.enum(['discouraged', 'preferred', 'required']).optional().openapi({
          description: 'Discoverable credential wanted (passwordless sign-in).',
          example: 'preferred',
        }),
        requireResidentKey: z
          .boolean()
          .optional()
          .openapi({ description: 'Legacy form of `residentKey`.', example: false }),
        userVerification: UserVerificationSchema.optional(),
      })
      .optional()
      .openapi({ description: 'What the authenticator must be able to do.' }),
    extensions: z
      .object({
        credProps: z
          .boolean()
          .optional()
          .openapi({ description: 'Asks whether the credential is discoverable.', example: true }),
      })
      .optional()
      .openapi({ description: 'WebAuthn extensions.' }),
    hints: z
      .array(z.string().max(32).openapi({ description: 'A hint.', example: 'client-device' }))
      .max(3)
      .optional()
      .openapi({ description: 'Preferred authenticator kinds.', example: [] }),
  })
  .openapi('PasskeyCreationOptions', {
    description:
      'Pass to `navigator.credentials.create()` (e.g. `startRegistration({ optionsJSON })` of @simplewebauthn/browser).',
  });

export const PasskeyRequestOptionsSchema = z
  .object({
    challenge: ChallengeSchema,
    rpId: z
      .string()
      .max(253)
      .optional()
      .openapi({ description: 'Relying party id.', example: 'acme-bank.example' }),
    allowCredentials: z.array(CredentialDescriptorSchema).max(MAX_PASSKEYS_PER_USER).optional().openapi({
      description:
        "The user's passkeys when the user is known; absent or empty lets the user pick a discoverable one.",
    }),
    timeout: TimeoutSchema.optional(),
    userVerification: UserVerificationSchema.optional(),
  })
  .openapi('PasskeyRequestOptions', {
    description:
      'Pass to `navigator.credentials.get()` (e.g. `startAuthentication({ optionsJSON })` of @simplewebauthn/browser).',
  });

export const AuthenticationOptionsRequestSchema = z
  .object({
    email: EmailSchema.optional().openapi({
      description:
        'Passwordless sign-in only: lists that user’s passkeys in `allowCredentials` (an unknown email gets an empty list). Omit for discoverable passkeys.',
      example: 'ada@example.com',
    }),
    accountType: AccountTypeSchema,
    mfaToken: z.string().min(1).max(2048).optional().openapi({
      description:
        'Login second step: the `mfaToken` of the login answer; the challenge is bound to that user, for `POST /auth/mfa/verify`.',
      example: 'eyJhbGciOiJFUzI1NiJ9.e30.sig',
    }),
  })
  .strict()
  .refine((value) => !(value.email && value.mfaToken), {
    message: 'give either email or mfaToken, not both',
    path: ['email'],
  })
  .openapi('PasskeyAuthenticationOptionsRequest');
export type AuthenticationOptionsRequest = z.infer<typeof AuthenticationOptionsRequestSchema>;

// ---------------------------------------------------------------------------------------------
// Responses of the browser

const ClientExtensionResultsSchema = z.record(z.string().max(64), z.unknown()).openapi({
  description: 'Client extension outputs (`getClientExtensionResults()`).',
  example: { credProps: { rk: true } },
});
const ClientDataJsonSchema = base64url(
  4096,
  'The client data (base64url JSON with type, challenge and origin).',
  'eyJ0eXBlIjoid2ViYXV0aG4uZ2V0In0',
);
const AttachmentSchema = z
  .enum(['platform', 'cross-platform'])
  .optional()
  .openapi({ description: 'Kind of authenticator used.', example: 'platform' });

const RegistrationResponseSchema = z
  .object({
    id: CredentialIdSchema,
    rawId: CredentialIdSchema,
    type: z.literal('public-key').openapi({ description: 'Always `public-key`.', example: 'public-key' }),
    response: z
      .object({
        clientDataJSON: ClientDataJsonSchema,
        attestationObject: base64url(32_768, 'CBOR attestation object (base64url).', 'o2NmbXRkbm9uZQ'),
        authenticatorData: base64url(16_384, 'Authenticator data (base64url).', 'SZYN5YgO').optional(),
        transports: TransportsSchema.optional(),
        publicKeyAlgorithm: CoseAlgorithmSchema.optional().openapi({
          description: 'COSE algorithm of the new key.',
          example: -7,
          format: 'int32',
        }),
        publicKey: base64url(
          16_384,
          'SubjectPublicKeyInfo of the new key (base64url).',
          'MFkwEwYH',
        ).optional(),
      })
      .openapi({ description: 'The attestation response.' }),
    authenticatorAttachment: AttachmentSchema,
    clientExtensionResults: ClientExtensionResultsSchema,
  })
  .openapi('PasskeyRegistrationResponse', {
    description:
      'The result of `navigator.credentials.create()` as JSON (what @simplewebauthn/browser `startRegistration` returns).',
  });

export const AuthenticationResponseSchema = z
  .object({
    id: CredentialIdSchema,
    rawId: CredentialIdSchema,
    type: z.literal('public-key').openapi({ description: 'Always `public-key`.', example: 'public-key' }),
    response: z
      .object({
        clientDataJSON: ClientDataJsonSchema,
        authenticatorData: base64url(16_384, 'Authenticator data (base64url).', 'SZYN5YgOjGh0NBcP'),
        signature: base64url(8192, 'Signature over authenticator data and client data hash.', 'MEUCIQ'),
        userHandle: base64url(128, 'The user handle of a discoverable passkey.', 'dXNyXzAx').optional(),
      })
      .openapi({ description: 'The assertion response.' }),
    authenticatorAttachment: AttachmentSchema,
    clientExtensionResults: ClientExtensionResultsSchema,
  })
  .openapi('PasskeyAuthenticationResponse', {
    description:
      'The result of `navigator.credentials.get()` as JSON (what @simplewebauthn/browser `startAuthentication` returns).',
  });
export type AuthenticationResponse = z.infer<typeof AuthenticationResponseSchema>;

export const RegistrationVerifySchema = z
  .object({
    credential: RegistrationResponseSchema,
    name: text(100, 'A name for the passkey; defaults to browser and OS.', 'MacBook Touch ID').optional(),
  })
  .strict()
  .openapi('PasskeyRegistrationVerify');
export type RegistrationVerifyInput = z.infer<typeof RegistrationVerifySchema>;

export const AuthenticationVerifySchema = z
  .object({ credential: AuthenticationResponseSchema })
  .strict()
  .openapi('PasskeyAuthenticationVerify');
export type AuthenticationVerifyInput = z.infer<typeof AuthenticationVerifySchema>;

// ---------------------------------------------------------------------------------------------
// Passkeys of the user

export const PasskeySchema = z
  .object({
    id: CredentialIdSchema,
    name: z
      .string()
      .max(120)
      .openapi({ description: 'Name given at enrolment.', example: 'Chrome on macOS' }),
    deviceType: z.enum(['singleDevice', 'multiDevice']).openapi({
      description:
        '`multiDevice`: a synced passkey (e.g. in a password manager); `singleDevice`: bound to one authenticator.',
      example: 'multiDevice',
    }),
    backedUp: z
      .boolean()
      .openapi({ description: 'Whether the passkey is currently backed up (synced).', example: true }),
    transports: TransportsSchema,
    aaguid: z.string().max(36).openapi({
      description: 'Authenticator model (AAGUID); all zeros when the authenticator does not say.',
      example: 'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4',
    }),
    createdAt: TimestampSchema.openapi({
      description: 'Enrolment time.',
      example: '2026-11-25T10:00:00.000Z',
    }),
    lastUsedAt: TimestampSchema.nullable().openapi({
      description: 'Last accepted sign-in or second factor.',
      example: '2026-11-25T10:20:00.000Z',
    }),
    cloneSuspectedAt: TimestampSchema.nullable().openapi({
      description:
        'When a signature counter went backwards (a copy of the key may exist); from then on the passkey is refused. Remove it and enrol a new one.',
      example: null,
    }),
  })
  .openapi('Passkey');
export type PasskeyView = z.infer<typeof PasskeySchema>;

export const PasskeyListSchema = z
  .object({
    data: z
      .array(PasskeySchema)
      .max(MAX_PASSKEYS_PER_USER)
      .openapi({ description: `The user's passkeys, newest first (at most ${MAX_PASSKEYS_PER_USER}).` }),
    nextCursor: z
      .null()
      .openapi({ description: 'Always null: every passkey fits in one page.', example: null }),
  })
  .openapi('PasskeyList');
