import { z } from '@hono/zod-openapi';
import { RECOVERY_CODE_COUNT } from './recovery-codes';

export const TotpEnrolmentSchema = z
  .object({
    secret: z
      .string()
      .max(64)
      .regex(/^[A-Z2-7]+$/)
      .openapi({
        description:
          'The shared secret in base32 (RFC 4648), for typing into an authenticator app that cannot scan the QR code.',
        example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
      }),
    otpauthUri: z
      .string()
      .max(2048)
      .regex(/^otpauth:\/\/totp\//)
      .openapi({
        description:
          'Key URI for authenticator apps, to show as a QR code: TOTP, SHA1, 6 digits, 30 s; the issuer is the tenant’s name, the account the user’s email.',
        example:
          'otpauth://totp/Acme%20Bank:ada%40example.com?issuer=Acme%20Bank&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30',
      }),
  })
  .openapi('TotpEnrolment', {
    description: 'A pending TOTP enrolment: confirm it with a code from the app to turn 2FA on.',
  });
export type TotpEnrolmentView = z.infer<typeof TotpEnrolmentSchema>;

export const TotpConfirmSchema = z
  .object({
    code: z
      .string()
      .trim()
      .max(6)
      .regex(/^\d{6}$/, 'must be the 6-digit code the authenticator app shows')
      .openapi({ description: 'The current code of the newly added secret.', example: '492039' }),
  })
  .strict()
  .openapi('TotpConfirm');
export type TotpConfirmInput = z.infer<typeof TotpConfirmSchema>;

export const RecoveryCodesSchema = z
  .object({
    recoveryCodes: z
      .array(
        z
          .string()
          .max(11)
          .regex(/^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/)
          .openapi({ description: 'A single-use recovery code.', example: 'k3m9q-7tz2a' }),
      )
      .max(RECOVERY_CODE_COUNT)
      .openapi({
        description:
          'Shown this once and stored only as digests: each works once in place of a TOTP code (`method: RECOVERY_CODE`). Any earlier codes no longer work.',
        example: [
          'k3m9q-7tz2a',
          'x8c4v-n1p0d',
          'r5w2j-h6y3e',
          'b7f1s-q9m4t',
          'z2k8g-c5v0w',
          'p4n6x-a3r7h',
          'e9t1y-j2b8k',
          'm0d5q-s7f3z',
          'v6h2c-w4x9n',
          'g1a8p-t3e5r',
        ],
      }),
  })
  .openapi('RecoveryCodes');
export type RecoveryCodesView = z.infer<typeof RecoveryCodesSchema>;
