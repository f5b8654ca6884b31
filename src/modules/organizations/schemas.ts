import { z } from '@hono/zod-openapi';
import { PasswordSchema } from '../../platform/auth/password-policy';
import { paginationQuery } from '../../platform/pagination';
import {
  CountrySchema,
  DateSchema,
  EmailSchema,
  PhoneSchema,
  TimestampSchema,
  text,
} from '../../platform/schemas';
import { LeiSchema, OrganizationProfileSchema } from '../customers/schemas';
import { RegistrationConsentsSchema } from '../registration/schemas';

const OrganizationIdSchema = z
  .string()
  .max(40)
  .openapi({ description: 'The organization’s customer id.', example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b' });

const PersonIdSchema = z
  .string()
  .max(40)
  .openapi({ description: 'A person in the organization.', example: 'per_01jd7w3v8m9k2q4r6t8v0x2z4b' });

export const OrganizationParamsSchema = z.object({ organizationId: OrganizationIdSchema });
export const PersonParamsSchema = z.object({
  organizationId: OrganizationIdSchema,
  personId: PersonIdSchema,
});
export const PeopleQuerySchema = z.object({ ...paginationQuery });
export type PeopleQuery = z.infer<typeof PeopleQuerySchema>;

export const organizationRoles = [
  'ADMIN_USER',
  'COMPLIANCE_OFFICER',
  'TRANSACTION_APPROVER',
  'EMPLOYEE',
] as const;

const OrganizationRoleSchema = z.enum(organizationRoles).openapi('OrganizationRole', {
  description:
    'What an employee may do for the organization. Every employee logs in as the organization and may read it, its directors, shareholders and employees. `ADMIN_USER` may also change them: the business profile, directors, shareholders and employees (invite, change roles, remove); an organization always keeps at least one. `COMPLIANCE_OFFICER`, `TRANSACTION_APPROVER` and `EMPLOYEE` only read on these routes; the tenant’s own systems (a payments product deciding who approves transfers, say) learn the roles from this listing and the `organization.member_*` events.',
  example: 'EMPLOYEE',
});

const firstName = text(100, 'Given name.', 'Grace');
const lastName = text(100, 'Family name.', 'Hopper');
const position = text(100, 'Job title in the organization.', 'Chief Financial Officer');

const OrganizationAdminSchema = z
  .object({
    email: EmailSchema.openapi({
      description: 'The administrator’s login email; unique in the tenant.',
      example: 'grace.hopper@analytical-engines.example',
    }),
    password: PasswordSchema,
    firstName,
    lastName,
    phone: PhoneSchema,
    position,
  })
  .strict()
  .openapi('OrganizationAdmin', {
    description: 'The first employee: gets the organization role `ADMIN_USER` and a login.',
  });

export const RegisterOrganizationSchema = OrganizationProfileSchema.extend({
  email: EmailSchema.openapi({
    description: 'The organization’s contact email; verification codes go here.',
    example: 'finance@analytical-engines.example',
  }),
  phone: PhoneSchema,
  admin: OrganizationAdminSchema,
  consents: RegistrationConsentsSchema,
})
  .strict()
  .openapi('RegisterOrganization');
export type RegisterOrganizationInput = z.infer<typeof RegisterOrganizationSchema>;

export const UpdateOrganizationSchema = OrganizationProfileSchema.partial()
  .extend({ phone: PhoneSchema.optional() })
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, 'must change at least one field')
  .openapi('UpdateOrganization', {
    description:
      'Fields to change on the business profile; absent fields stay as they are. A new phone number must be verified again. Email changes are not accepted here.',
  });
export type UpdateOrganizationInput = z.infer<typeof UpdateOrganizationSchema>;

const directorRoles = [
  'MANAGING_DIRECTOR',
  'EXECUTIVE_DIRECTOR',
  'NON_EXECUTIVE_DIRECTOR',
  'BOARD_MEMBER',
] as const;

const isPep = z.boolean().openapi({
  description: 'Politically exposed person (FATF): calls for enhanced due diligence.',
  example: false,
});

const personFields = {
  firstName,
  lastName,
  dateOfBirth: DateSchema.optional(),
  nationality: CountrySchema.optional(),
  isPep,
};

const directorFields = {
  ...personFields,
  role: z.enum(directorRoles).openapi({ description: 'Role on the board.', example: 'MANAGING_DIRECTOR' }),
};

export const CreateDirectorSchema = z.object(directorFields).strict().openapi('CreateDirector');
export type CreateDirectorInput = z.infer<typeof CreateDirectorSchema>;

const personCommon = {
  id: PersonIdSchema,
  createdAt: TimestampSchema,
};

// Built from the fields, not by extending the strict input: its `additionalProperties: false`
// would make `id` and `createdAt` invalid in the document.
export const DirectorSchema = z.object({ ...directorFields, ...personCommon }).openapi('Director');
export type DirectorView = z.infer<typeof DirectorSchema>;

const ownershipPercentage = z
  .number()
  .gt(0)
  .max(100)
  .multipleOf(0.01)
  .openapi({ description: 'Share of ownership in percent, to 2 decimals.', example: 30 });

const IndividualShareholderFields = z.object({
  type: z.literal('INDIVIDUAL').openapi({ description: 'A natural person.', example: 'INDIVIDUAL' }),
  ...personFields,
  ownershipPercentage,
});

const CorporateShareholderFields = z.object({
  type: z.literal('CORPORATE').openapi({ description: 'Another legal entity.', example: 'CORPORATE' }),
  legalName: text(200, 'Registered legal name of the shareholder.', 'Babbage Holdings plc'),
  registrationNumber: text(50, 'Its registration number.', '01234567').optional(),
  incorporationCountry: CountrySchema.openapi({
    description: 'Its country of incorporation, ISO 3166-1 alpha-2.',
    example: 'GB',
  }),
  lei: LeiSchema.optional(),
  ownershipPercentage,
});

export const CreateShareholderSchema = z
  .discriminatedUnion('type', [
    IndividualShareholderFields.strict().openapi('CreateIndividualShareholder'),
    CorporateShareholderFields.strict().openapi('CreateCorporateShareholder'),
  ])
  .openapi('CreateShareholder', {
    description: 'A person or entity holding shares; the total of all stakes may not pass 100 %.',
  });
export type CreateShareholderInput = z.infer<typeof CreateShareholderSchema>;

const shareholderOutput = {
  ...personCommon,
  isUbo: z.boolean().openapi({
    description: 'Ultimate beneficial owner: holds 25 % or more (EU AMLD threshold).',
    example: true,
  }),
};

export const ShareholderSchema = z
  .discriminatedUnion('type', [
    IndividualShareholderFields.extend(shareholderOutput).openapi('IndividualShareholder'),
    CorporateShareholderFields.extend(shareholderOutput).openapi('CorporateShareholder'),
  ])
  .openapi('Shareholder');
export type ShareholderView = z.infer<typeof ShareholderSchema>;

const employeeFields = {
  firstName,
  lastName,
  phone: PhoneSchema.optional(),
  position: position.optional(),
  role: OrganizationRoleSchema,
};

const employeeEmail = EmailSchema.openapi({
  description:
    'The employee’s login email; unique among the tenant’s customer logins (staff are another namespace).',
  example: 'ada.king@analytical-engines.example',
});

export const InviteEmployeeSchema = z
  .object({ email: employeeEmail, ...employeeFields })
  .strict()
  .openapi('InviteEmployee', {
    description: 'A new employee: gets a login for `email` and chooses its password with an emailed token.',
  });
export type InviteEmployeeInput = z.infer<typeof InviteEmployeeSchema>;

export const UpdateEmployeeSchema = z
  .object(employeeFields)
  .partial()
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, 'must change at least one field')
  .openapi('UpdateEmployee', {
    description:
      'Fields to change; absent fields stay as they are. The email is the employee’s login and is not changed here.',
  });
export type UpdateEmployeeInput = z.infer<typeof UpdateEmployeeSchema>;

/** What `organization_people.details` holds for an employee. */
export type EmployeeDetails = Pick<
  InviteEmployeeInput,
  'email' | 'firstName' | 'lastName' | 'phone' | 'position'
>;

export const EmployeeSchema = z
  .object({
    ...employeeFields,
    email: employeeEmail,
    id: PersonIdSchema,
    userId: z.string().max(40).openapi({
      description: 'The employee’s login (a customer user of the organization).',
      example: 'usr_01jd7w3v8m9k2q4r6t8v0x2z4b',
    }),
    passwordSetupPending: z.boolean().openapi({
      description: 'Invited and has not chosen a password yet, so cannot log in.',
      example: false,
    }),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  })
  .openapi('Employee');
export type EmployeeView = z.infer<typeof EmployeeSchema>;
