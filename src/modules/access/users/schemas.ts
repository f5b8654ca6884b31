import { z } from '@hono/zod-openapi';
import { paginationQuery } from '../../../platform/pagination';
import { EmailSchema, TimestampSchema, text } from '../../../platform/schemas';

export const staffStatuses = ['ACTIVE', 'DISABLED'] as const;

export const MAX_ROLES_PER_USER = 20;

export const StaffUserIdSchema = z
  .string()
  .max(40)
  .openapi({ description: 'User id of a staff user.', example: 'usr_01jd7w3v8m9k2q4r6t8v0x2z4b' });

const RoleIdSchema = z
  .string()
  .min(1)
  .max(40)
  .openapi({ description: 'A built-in or custom role of the tenant.', example: 'rol_support_agent' });

const StatusSchema = z.enum(staffStatuses).openapi({
  description: '`DISABLED` users cannot log in and have no sessions.',
  example: 'ACTIVE',
});

const DisplayNameSchema = text(100, 'Name shown in the back office and audit views.', 'Grace Hopper');

export const RoleRefSchema = z
  .object({
    id: RoleIdSchema,
    name: z.string().max(100).openapi({ description: 'Role name.', example: 'SUPPORT_AGENT' }),
  })
  .openapi('RoleRef');

export const StaffUserSchema = z
  .object({
    id: StaffUserIdSchema,
    email: EmailSchema,
    displayName: DisplayNameSchema,
    status: StatusSchema,
    roles: z
      .array(RoleRefSchema)
      .max(MAX_ROLES_PER_USER)
      .openapi({ description: 'Roles granted; the user has the union of their permissions.' }),
    passwordSetupPending: z.boolean().openapi({
      description:
        'The user has been invited, or had their credentials reset, and has not chosen a password yet.',
      example: false,
    }),
    lockedUntil: TimestampSchema.nullable().openapi({
      description: 'Set while logins are locked after repeated failures.',
      example: null,
    }),
    passwordChangedAt: TimestampSchema.nullable().openapi({
      description: 'When the user last chose a password.',
      example: '2026-11-25T10:00:00.000Z',
    }),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  })
  .openapi('StaffUser');
export type StaffUserView = z.infer<typeof StaffUserSchema>;

export const StaffUserListQuerySchema = z.object({
  ...paginationQuery,
  status: StatusSchema.optional(),
  roleId: z
    .string()
    .max(40)
    .optional()
    .openapi({ description: 'Only users with this role.', example: 'rol_support_agent' }),
  q: z
    .string()
    .trim()
    .min(2)
    .max(100)
    .optional()
    .openapi({ description: 'Search in display name and email.', example: 'hopper' }),
});
export type StaffUserListQuery = z.infer<typeof StaffUserListQuerySchema>;

/** A list of roles to grant, to a staff user or to a group's members. */
export function roleIds(minItems: number, description: string) {
  return z
    .array(RoleIdSchema)
    .min(minItems)
    .max(MAX_ROLES_PER_USER)
    .openapi({
      description: `${description} Built-in (\`rol_tenant_admin\`, \`rol_compliance_officer\`, \`rol_support_agent\`) or custom role ids; you can grant only permissions you hold yourself.`,
      example: ['rol_support_agent'],
    });
}

export const InviteStaffUserSchema = z
  .object({
    email: EmailSchema,
    displayName: DisplayNameSchema,
    roleIds: roleIds(1, 'Roles to grant.'),
  })
  .strict()
  .openapi('InviteStaffUser');
export type InviteStaffUserInput = z.infer<typeof InviteStaffUserSchema>;

export const ResetStaffCredentialsSchema = z
  .object({
    resetSecondFactors: z.boolean().optional().openapi({
      description:
        'Also remove the user’s second factors (TOTP with its recovery codes and any pending enrolment, every passkey), for a lost or stolen device: the new password then logs in alone, and the user enrols again. Default `false`: the factors stay and are asked for after the new password.',
      example: true,
    }),
  })
  .strict()
  .openapi('ResetStaffCredentials');
export type ResetStaffCredentialsInput = z.infer<typeof ResetStaffCredentialsSchema>;

export const UpdateStaffUserSchema = z
  .object({
    status: StatusSchema.optional(),
    roleIds: roleIds(0, 'Replaces the user’s roles.').optional(),
    displayName: DisplayNameSchema.optional(),
  })
  .strict()
  .refine((value) => Object.keys(value).length > 0, 'must change at least one field')
  .openapi('UpdateStaffUser');
export type UpdateStaffUserInput = z.infer<typeof UpdateStaffUserSchema>;
