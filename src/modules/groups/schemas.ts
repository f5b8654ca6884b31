import { z } from '@hono/zod-openapi';
import { paginationQuery } from '../../platform/pagination';
import { EmailSchema, TimestampSchema, text } from '../../platform/schemas';
import {
  MAX_ROLES_PER_USER,
  RoleRefSchema,
  roleIds,
  StaffUserIdSchema,
  staffStatuses,
} from '../access/users/schemas';

export const GroupIdSchema = z
  .string()
  .max(40)
  .openapi({ description: 'Group id.', example: 'grp_01jd7w3v8m9k2q4r6t8v0x2z4b' });

const GroupNameSchema = text(100, 'Name, unique in the tenant (case-insensitively).', 'Night-shift support');
const GroupDescriptionSchema = text(500, 'What the group is for.', 'Support agents working 22:00–06:00.');

export const GroupSchema = z
  .object({
    id: GroupIdSchema,
    name: z.string().max(100).openapi({ description: 'Group name.', example: 'Night-shift support' }),
    description: z
      .string()
      .max(500)
      .openapi({ description: 'What the group is for.', example: 'Support agents working 22:00–06:00.' }),
    roles: z.array(RoleRefSchema).max(MAX_ROLES_PER_USER).openapi({
      description:
        'Roles every member holds through the group, on top of their own. A deleted custom role is left out: it grants nothing.',
    }),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  })
  .openapi('Group');
export type GroupView = z.infer<typeof GroupSchema>;

export const GroupListQuerySchema = z.object(paginationQuery);
export type GroupListQuery = z.infer<typeof GroupListQuerySchema>;

export const CreateGroupSchema = z
  .object({
    name: GroupNameSchema,
    description: GroupDescriptionSchema,
    roleIds: roleIds(0, 'Roles the members hold through the group.'),
  })
  .strict()
  .openapi('CreateGroup');
export type CreateGroupInput = z.infer<typeof CreateGroupSchema>;

export const UpdateGroupSchema = z
  .object({
    name: GroupNameSchema.optional(),
    description: GroupDescriptionSchema.optional(),
    roleIds: roleIds(0, 'Replaces the roles the members hold through the group.').optional(),
  })
  .strict()
  .refine(
    (value) => Object.values(value).some((field) => field !== undefined),
    'must change at least one field',
  )
  .openapi('UpdateGroup');
export type UpdateGroupInput = z.infer<typeof UpdateGroupSchema>;

export const GroupMemberSchema = z
  .object({
    userId: StaffUserIdSchema,
    email: EmailSchema,
    displayName: z
      .string()
      .max(100)
      .openapi({ description: 'The member’s display name.', example: 'Grace Hopper' }),
    status: z.enum(staffStatuses).openapi({
      description: 'The member’s status; a `DISABLED` user cannot log in, whatever its groups.',
      example: 'ACTIVE',
    }),
    addedAt: TimestampSchema.openapi({ description: 'When the user joined the group.' }),
  })
  .openapi('GroupMember');
export type GroupMemberView = z.infer<typeof GroupMemberSchema>;

export const GroupMemberListQuerySchema = z.object(paginationQuery);
export type GroupMemberListQuery = z.infer<typeof GroupMemberListQuerySchema>;
