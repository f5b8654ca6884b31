import { z } from '@hono/zod-openapi';
import { PASSWORD_MAX_LENGTH, PasswordSchema } from '../../platform/auth/password-policy';
import { paginationQuery } from '../../platform/pagination';
import { AccountTypeSchema, EmailSchema, TimestampSchema } from '../../platform/schemas';
import { secondFactorMethods } from './second-factors';

const SESSION_ID_EXAMPLE = 'ses_01jd7w3v8m9k2q4r6t8v0x2z4b';

export const SessionIdSchema = z
  .string()
  .max(40)
  .openapi({ description: 'Session id.', example: SESSION_ID_EXAMPLE });

/** Any string up to the policy's maximum: login checks the password, it does not re-judge it. */
const PresentedPasswordSchema = z
  .string()
  .min(1)
  .max(PASSWORD_MAX_LENGTH)
  .openapi({ description: 'The account password.', example: 'correct-horse-battery-staple' });

const CodeSchema = z
  .string()
  .trim()
  .min(6)
  .max(32)
  .openapi({ description: 'A 6-digit TOTP code or a recovery code.', example: '492039' });

const WebAuthnCredentialSchema = z.record(z.string().max(64), z.unknown()).openapi('WebAuthnAssertion', {
  description:
    'The authentication response of `navigator.credentials.get()` as JSON (what @simplewebauthn/browser `startAuthentication` returns), for a challenge from `POST /auth/webauthn/authentication/options`.',
  example: { id: 'c2VjcmV0', rawId: 'c2VjcmV0', type: 'public-key', response: {} },
});

/** The proof fields of a second factor: `code` for TOTP and recovery codes, `credential` for passkeys. */
const secondFactorProof = {
  code: CodeSchema.optional(),
  credential: WebAuthnCredentialSchema.optional(),
};

export const LoginSchema = z
  .object({ email: EmailSchema, password: PresentedPasswordSchema, accountType: AccountTypeSchema })
  .strict()
  .openapi('Login');
export type LoginInput = z.infer<typeof LoginSchema>;

export const TokenPairSchema = z
  .object({
    accessToken: z.string().max(4096).openapi({
      description: 'ES256 JWT for `Authorization: Bearer`, valid for `expiresIn` seconds.',
      example: 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiYXQrand0In0.e30.sig',
    }),
    refreshToken: z
      .string()
      .max(256)
      .openapi({
        description:
          'Opaque, single use: exchange it at `POST /auth/refresh` for a new pair. Valid 30 days from its last use, at most 90 days from login.',
        example: `${SESSION_ID_EXAMPLE}.3.8Jx0pQwB3m1kZc9yT7uV5rS2nL4hG6fD0aE8iK3oP1q`,
      }),
    tokenType: z.literal('Bearer').openapi({ description: 'Always `Bearer`.', example: 'Bearer' }),
    expiresIn: z
      .number()
      .int()
      .min(1)
      .max(900)
      .openapi({ description: 'Lifetime of the access token in seconds.', example: 600, format: 'int32' }),
    sessionId: SessionIdSchema,
  })
  .openapi('TokenPair');
export type TokenPairView = z.infer<typeof TokenPairSchema>;

const MfaChallengeSchema = z
  .object({
    mfaRequired: z.literal(true).openapi({ description: 'A second factor is needed.', example: true }),
    mfaToken: z.string().max(2048).openapi({
      description: 'Pass to `POST /auth/mfa/verify` with a second factor within 5 minutes.',
      example: 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIiwidHlwIjoibWZhK2p3dCJ9.e30.sig',
    }),
    methods: z
      .array(z.enum(secondFactorMethods))
      .max(secondFactorMethods.length)
      .openapi({
        description: 'The second factors the user has enrolled.',
        example: ['TOTP', 'RECOVERY_CODE'],
      }),
  })
  .openapi('MfaChallenge');

export const LoginResultSchema = z.union([TokenPairSchema, MfaChallengeSchema]).openapi('LoginResult', {
  description: 'Tokens, or an MFA challenge when the user has a second factor enrolled.',
});
export type LoginResultView = z.infer<typeof LoginResultSchema>;

function requireProofFor<
  T extends { method: string; code?: string; credential?: unknown; password?: string },
>(value: T, ctx: z.RefinementCtx) {
  const needed =
    value.method === 'WEBAUTHN' ? 'credential' : value.method === 'PASSWORD' ? 'password' : 'code';
  if (value[needed as keyof T] === undefined) {
    ctx.addIssue({ code: 'custom', path: [needed], message: `is required for method ${value.method}` });
  }
}

export const MfaVerifySchema = z
  .object({
    mfaToken: z
      .string()
      .min(1)
      .max(2048)
      .openapi({ description: 'From the login answer.', example: 'eyJhbGciOiJFUzI1NiJ9.e30.sig' }),
    method: z.enum(secondFactorMethods).openapi({ description: 'The second factor used.', example: 'TOTP' }),
    ...secondFactorProof,
  })
  .strict()
  .superRefine(requireProofFor)
  .openapi('MfaVerify');
export type MfaVerifyInput = z.infer<typeof MfaVerifySchema>;

export const RefreshSchema = z
  .object({
    refreshToken: z
      .string()
      .min(1)
      .max(256)
      .openapi({
        description: 'The refresh token of the last pair.',
        example: `${SESSION_ID_EXAMPLE}.3.8Jx0pQwB3m1kZc9yT7uV5rS2nL4hG6fD0aE8iK3oP1q`,
      }),
  })
  .strict()
  .openapi('Refresh');

export const StepUpSchema = z
  .object({
    method: z.enum(['PASSWORD', ...secondFactorMethods]).openapi({
      description: 'How the user proves itself again; PASSWORD only without 2FA.',
      example: 'TOTP',
    }),
    password: PresentedPasswordSchema.optional(),
    ...secondFactorProof,
  })
  .strict()
  .superRefine(requireProofFor)
  .openapi('StepUp');
export type StepUpInput = z.infer<typeof StepUpSchema>;

export const AccessTokenSchema = z
  .object({
    accessToken: TokenPairSchema.shape.accessToken,
    tokenType: TokenPairSchema.shape.tokenType,
    expiresIn: TokenPairSchema.shape.expiresIn,
    authTime: TimestampSchema.openapi({
      description: 'The fresh authentication time, also the token’s `auth_time`.',
      example: '2026-11-25T10:00:00.000Z',
    }),
  })
  .openapi('SteppedUpToken');
export type AccessTokenView = z.infer<typeof AccessTokenSchema>;

export const SessionSchema = z
  .object({
    id: SessionIdSchema,
    device: z
      .string()
      .max(120)
      .openapi({ description: 'Browser and OS from the User-Agent.', example: 'Firefox on macOS' }),
    userAgent: z.string().max(512).nullable().openapi({
      description: 'The User-Agent at login.',
      example: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:133.0) Gecko/20100101 Firefox/133.0',
    }),
    ip: z.string().max(64).nullable().openapi({ description: 'Client IP at login.', example: '203.0.113.7' }),
    amr: z
      .array(z.string().max(16))
      .max(10)
      .openapi({
        description: 'RFC 8176 methods of the last authentication.',
        example: ['pwd', 'otp', 'mfa'],
      }),
    createdAt: TimestampSchema.openapi({ description: 'Login time.', example: '2026-11-25T10:00:00.000Z' }),
    lastUsedAt: TimestampSchema.openapi({
      description: 'Last refresh or step-up.',
      example: '2026-11-25T10:20:00.000Z',
    }),
    current: z
      .boolean()
      .openapi({ description: 'Whether this is the session of the calling token.', example: true }),
  })
  .openapi('Session');
export type SessionView = z.infer<typeof SessionSchema>;

export const SessionListQuerySchema = z.object(paginationQuery);
export type SessionListQuery = z.infer<typeof SessionListQuerySchema>;

export const PasswordChangeSchema = z
  .object({
    currentPassword: PresentedPasswordSchema.openapi({
      description: 'The password in use now.',
      example: 'correct-horse-battery-staple',
    }),
    newPassword: PasswordSchema,
  })
  .strict()
  .openapi('PasswordChange');
export type PasswordChangeInput = z.infer<typeof PasswordChangeSchema>;

export const PasswordForgotSchema = z
  .object({ email: EmailSchema, accountType: AccountTypeSchema })
  .strict()
  .openapi('PasswordForgot');
export type PasswordForgotInput = z.infer<typeof PasswordForgotSchema>;

export const PasswordResetSchema = z
  .object({
    token: z.string().min(1).max(64).openapi({
      description:
        'The token of a `notification.requested` event (password reset, staff invitation or credential reset).',
      example: 'hV3x9Q0bJm2kTq7yW1cZr5uN8aL4sE6dF0gH2iK3oP1',
    }),
    newPassword: PasswordSchema,
  })
  .strict()
  .openapi('PasswordReset');
export type PasswordResetInput = z.infer<typeof PasswordResetSchema>;
