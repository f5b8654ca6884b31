import { z } from '@hono/zod-openapi';
import { allPermissions } from '../../platform/auth/permissions';
import { paginationQuery } from '../../platform/pagination';
import { TimestampSchema, text } from '../../platform/schemas';
import { capabilityCodes, tiers } from '../../platform/tenancy';

export const PermissionSchema = z
  .enum(allPermissions, {
    error: (issue) =>
      `'${String(issue.input)}' is not in the permission catalogue (GET /v2/customer/access/permissions)`,
  })
  .openapi({ description: 'A permission of the catalogue.', example: 'customers:read' });

/** Duplicates are accepted and dropped; the bound leaves room for them. */
const PermissionListSchema = z
  .array(PermissionSchema)
  .max(allPermissions.length * 2)
  .openapi({
    description: 'Permissions from the catalogue (`GET /access/permissions`).',
    example: ['customers:read', 'kyc:review'],
  });

const PermissionEntrySchema = z
  .object({
    name: PermissionSchema,
    description: z
      .string()
      .max(200)
      .openapi({ description: 'What the permission allows.', example: 'Read customers, their profiles…' }),
  })
  .openapi('PermissionEntry');

export const PermissionCatalogueSchema = z
  .object({
    data: z
      .array(PermissionEntrySchema)
      .max(allPermissions.length)
      .openapi({ description: 'Every permission, in catalogue order.' }),
    nextCursor: z
      .null()
      .openapi({ description: 'Always null: the catalogue fits in one page.', example: null }),
  })
  .openapi('PermissionCatalogue');

// ---- roles

export const RoleIdSchema = z
  .string()
  .max(40)
  .openapi({ description: 'Role id.', example: 'rol_01jd7w3v8m9k2q4r6t8v0x2z4b' });

const RoleNameSchema = text(100, 'Name, unique in the tenant (case-insensitively).', 'Fraud analyst');
const RoleDescriptionSchema = text(500, 'What the role is for.', 'Reads customers and reviews KYC.');

export const RoleSchema = z
  .object({
    id: RoleIdSchema,
    name: z.string().max(100).openapi({ description: 'Role name.', example: 'Fraud analyst' }),
    description: z
      .string()
      .max(500)
      .openapi({ description: 'What the role is for.', example: 'Reads customers and reviews KYC.' }),
    permissions: z
      .array(PermissionSchema)
      .max(allPermissions.length)
      .openapi({ description: 'The permissions the role grants.', example: ['customers:read'] }),
    builtIn: z.boolean().openapi({
      description: 'Built-in roles are defined by the platform and read-only.',
      example: false,
    }),
    createdAt: TimestampSchema.nullable().openapi({ description: 'Null for built-in roles.' }),
    updatedAt: TimestampSchema.nullable().openapi({ description: 'Null for built-in roles.' }),
  })
  .openapi('Role');
export type RoleView = z.infer<typeof RoleSchema>;

export const CreateRoleSchema = z
  .object({ name: RoleNameSchema, description: RoleDescriptionSchema, permissions: PermissionListSchema })
  .strict()
  .openapi('CreateRole');
export type CreateRoleInput = z.infer<typeof CreateRoleSchema>;

export const UpdateRoleSchema = z
  .object({
    name: RoleNameSchema.optional(),
    description: RoleDescriptionSchema.optional(),
    permissions: PermissionListSchema.optional(),
  })
  .strict()
  .refine((input) => Object.values(input).some((value) => value !== undefined), {
    message: 'name one field to change at least',
  })
  .openapi('UpdateRole');
export type UpdateRoleInput = z.infer<typeof UpdateRoleSchema>;

export const RoleListQuerySchema = z.object(paginationQuery);
export type RoleListQuery = z.infer<typeof RoleListQuerySchema>;

// ---- API clients

export const ClientIdSchema = z.string().max(40).openapi({
  description: 'API client id (the OAuth `client_id`).',
  example: 'cli_01jd7w3v8m9k2q4r6t8v0x2z4b',
});

const clientStatuses = ['ACTIVE', 'REVOKED'] as const;

export const ClientSchema = z
  .object({
    id: ClientIdSchema,
    name: z
      .string()
      .max(100)
      .openapi({ description: 'Name of the client.', example: 'Core banking back-end' }),
    permissions: z
      .array(PermissionSchema)
      .max(allPermissions.length)
      .openapi({
        description: 'What the client may be granted at `/oauth/token` (`scope`).',
        example: ['customers:read', 'customers:write'],
      }),
    status: z.enum(clientStatuses).openapi({
      description: 'REVOKED is final: the client can no longer authenticate.',
      example: 'ACTIVE',
    }),
    secretRotatedAt: TimestampSchema.nullable().openapi({
      description: 'When the secret was last rotated; null while the first secret is in use.',
    }),
    revokedAt: TimestampSchema.nullable().openapi({ description: 'When the client was revoked.' }),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  })
  .openapi('ApiClient');
export type ClientView = z.infer<typeof ClientSchema>;

export const ClientWithSecretSchema = ClientSchema.extend({
  clientSecret: z.string().max(128).openapi({
    description:
      'The client secret, shown this once: only its hash is stored. Use it with `client_secret_basic` or `client_secret_post` at `/oauth/token`.',
    example: 'fcs_q5oZk1c8y3mJb0Xv7tR2wN4hL6pD9sA1eF3gH5jK7lM',
  }),
}).openapi('ApiClientWithSecret');
export type ClientWithSecretView = z.infer<typeof ClientWithSecretSchema>;

export const CreateClientSchema = z
  .object({
    name: text(100, 'Name of the client, for people.', 'Core banking back-end'),
    permissions: PermissionListSchema,
  })
  .strict()
  .openapi('CreateApiClient');
export type CreateClientInput = z.infer<typeof CreateClientSchema>;

export const ClientListQuerySchema = z.object({
  ...paginationQuery,
  status: z
    .enum(clientStatuses)
    .optional()
    .openapi({ description: 'Only clients in this status.', example: 'ACTIVE' }),
});
export type ClientListQuery = z.infer<typeof ClientListQuerySchema>;

// ---- the caller

export const MeSchema = z
  .object({
    principal: z
      .object({
        type: z
          .enum(['USER', 'CLIENT'])
          .openapi({ description: 'A user (staff or customer) or an API client.', example: 'USER' }),
        id: z.string().max(40).openapi({
          description: 'User id or client id (the token’s `sub`).',
          example: 'usr_01jd7w3v8m9k2q4r6t8v0x2z4b',
        }),
        kind: z
          .enum(['STAFF', 'CUSTOMER'])
          .nullable()
          .openapi({ description: 'For users: staff or customer. Null for clients.', example: 'STAFF' }),
        name: z.string().max(200).openapi({
          description: 'Display name of the user, or name of the client.',
          example: 'Grace Hopper',
        }),
        email: z.string().max(254).nullable().openapi({
          description: 'Login email of a user; null for clients.',
          example: 'grace.hopper@example.com',
        }),
        customerId: z.string().max(40).nullable().openapi({
          description: 'The customer a customer user acts for; null otherwise.',
          example: null,
        }),
        sessionId: z.string().max(40).nullable().openapi({
          description: 'The login session of a user; null for clients.',
          example: 'ses_01jd7w3v8m9k2q4r6t8v0x2z4b',
        }),
      })
      .openapi('MePrincipal'),
    tenant: z
      .object({
        id: z.string().max(64).openapi({ description: 'Tenant id.', example: 'demo-pro' }),
        name: z.string().max(200).openapi({ description: 'Tenant name.', example: 'Demo Professional' }),
        tier: z.enum(tiers).openapi({ description: 'Subscription tier.', example: 'PROFESSIONAL' }),
      })
      .openapi('MeTenant'),
    roles: z
      .array(
        z
          .object({
            id: RoleIdSchema,
            name: z.string().max(100).openapi({ description: 'Role name.', example: 'TENANT_ADMIN' }),
            builtIn: z.boolean().openapi({ description: 'Whether it is a built-in role.', example: true }),
          })
          .openapi('MeRole'),
      )
      .max(100)
      .openapi({
        description:
          'The roles the user holds, with its name and email read at most 30 s ago (at once after a change this worker made). Empty for API clients, which are granted permissions directly.',
      }),
    permissions: z
      .array(PermissionSchema)
      .max(allPermissions.length)
      .openapi({
        description:
          'Effective permissions: those of the access token (`scope`). After a role change they follow at the next refresh.',
        example: ['customers:read', 'kyc:review'],
      }),
    capabilities: z
      .array(z.enum(capabilityCodes))
      .max(capabilityCodes.length)
      .openapi({ description: "The tenant's enabled capabilities.", example: ['SCT01', 'SCT02', 'SCT11'] }),
    amr: z
      .array(z.string().max(32))
      .max(10)
      .openapi({
        description: 'How the principal authenticated (the token’s `amr`).',
        example: ['pwd', 'otp'],
      }),
    authTime: TimestampSchema.openapi({
      description: 'When it last authenticated: login or step-up for users, /oauth/token for clients.',
    }),
  })
  .openapi('Me');
export type MeView = z.infer<typeof MeSchema>;
