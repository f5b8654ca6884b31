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
