import { z } from '@hono/zod-openapi';
import { PasswordSchema } from '../../platform/auth/password-policy';
import { EmailSchema, PhoneSchema } from '../../platform/schemas';
import { CustomerSchema, IndividualProfileSchema } from '../customers/schemas';

export const RegistrationConsentsSchema = z
  .object({
    termsAndConditions: z
      .literal(true, 'must be accepted')
      .openapi({ description: 'Terms and conditions accepted.', example: true }),
    privacyPolicy: z
      .literal(true, 'must be accepted')
      .openapi({ description: 'Privacy policy accepted.', example: true }),
    marketing: z
      .boolean()
      .optional()
      .openapi({ description: 'Marketing communications accepted.', example: false }),
  })
  .strict()
  .openapi('RegistrationConsents');

export const RegisterIndividualSchema = IndividualProfileSchema.extend({
  email: EmailSchema,
  password: PasswordSchema,
  phone: PhoneSchema,
  consents: RegistrationConsentsSchema,
})
  .strict()
  .openapi('RegisterIndividual');
export type RegisterIndividualInput = z.infer<typeof RegisterIndividualSchema>;

export const RegisteredCustomerSchema = CustomerSchema.extend({
  userId: z.string().max(40).openapi({
    description: 'The login identity created with the customer.',
    example: 'usr_01jd7w3v8m9k2q4r6t8v0x2z4b',
  }),
}).openapi('RegisteredCustomer');

const contacts = ['EMAIL', 'PHONE'] as const;
export type VerifiableContact = (typeof contacts)[number];

const VerifiedCustomerIdSchema = z.string().max(40).openapi({
  description: 'The customer whose contact is verified; a customer may name only itself.',
  example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b',
});

export const VerificationCodeRequestSchema = z
  .object({ customerId: VerifiedCustomerIdSchema })
  .strict()
  .openapi('VerificationCodeRequest');

export const VerificationCodeConfirmationSchema = z
  .object({
    customerId: VerifiedCustomerIdSchema,
    code: z
      .string()
      .max(6)
      .regex(/^\d{6}$/, 'must be 6 digits')
      .openapi({ description: 'The 6-digit code the customer received.', example: '492817' }),
  })
  .strict()
  .openapi('VerificationCodeConfirmation');
export type VerificationCodeConfirmationInput = z.infer<typeof VerificationCodeConfirmationSchema>;

export const VerificationCodeIssuedSchema = z
  .object({
    customerId: z
      .string()
      .max(40)
      .openapi({ description: 'The customer.', example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    contact: z.enum(contacts).openapi({ description: 'The contact the code was sent to.', example: 'EMAIL' }),
    expiresAt: z
      .string()
      .max(30)
      .openapi({ description: 'When the code stops working.', example: '2026-11-25T10:10:00.000Z' }),
    resendAvailableAt: z.string().max(30).openapi({
      description: 'From when a new code may be requested; earlier requests get 429 `rate_limited`.',
      example: '2026-11-25T10:01:00.000Z',
    }),
  })
  .openapi('VerificationCodeIssued');
export type VerificationCodeIssued = z.infer<typeof VerificationCodeIssuedSchema>;
