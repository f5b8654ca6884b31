/** The permission catalogue: every route's permission comes from here. */
export const permissionCatalogue = {
  'customers:read': 'Read customers, their profiles, consents and exports',
  'customers:write': 'Create and change customers, their status and consents',
  'customers:erase': "Erase customers' personal data (GDPR Art. 17)",
  'customers:hold': 'Place and release legal holds, which keep a customer from being erased',
  'kyc:review': 'Decide on KYC/KYB verifications',
  'documents:read': "Read customers' documents",
  'documents:write': 'Upload and delete documents',
  'beneficiaries:read': "Read customers' beneficiaries",
  'beneficiaries:write': 'Create, confirm and delete beneficiaries',
  'groups:read': 'Read groups and their members',
  'groups:write': 'Manage groups and members holding no more than the caller holds',
  'access:read': 'Read roles, staff users and API clients',
  'access:admin': 'Manage roles, staff users and API clients holding no more than the caller holds',
  'tpp:admin': 'Manage third-party providers and their consents',
  'webhooks:admin':
    'Manage webhook endpoints and deliveries. One receiving `notification.requested` (or `*`) gets live codes and tokens, as strong as TENANT_ADMIN: subscribing or moving one needs every permission',
  'events:read': "Read the tenant's event log",
  'audit:read': 'Read the audit log',
} as const;

export type Permission = keyof typeof permissionCatalogue;
export const allPermissions = Object.keys(permissionCatalogue) as Permission[];

export function isPermission(value: string): value is Permission {
  return Object.hasOwn(permissionCatalogue, value);
}

export interface BuiltInRole {
  id: string;
  name: string;
  description: string;
  permissions: readonly Permission[];
}

export const builtInRoles = {
  TENANT_ADMIN: {
    id: 'rol_tenant_admin',
    name: 'TENANT_ADMIN',
    description: 'Full control of the tenant',
    permissions: allPermissions,
  },
  COMPLIANCE_OFFICER: {
    id: 'rol_compliance_officer',
    name: 'COMPLIANCE_OFFICER',
    description: 'Reviews verifications and reads everything a review needs',
    permissions: [
      'customers:read',
      'customers:hold',
      'kyc:review',
      'documents:read',
      'beneficiaries:read',
      'events:read',
      'audit:read',
    ],
  },
  SUPPORT_AGENT: {
    id: 'rol_support_agent',
    name: 'SUPPORT_AGENT',
    description: 'Helps customers with their profiles and documents',
    permissions: ['customers:read', 'customers:write', 'documents:read', 'beneficiaries:read'],
  },
  CUSTOMER: {
    id: 'rol_customer',
    name: 'CUSTOMER',
    description: 'A customer acting on its own record (self-service); no staff permissions',
    permissions: [],
  },
} as const satisfies Record<string, BuiltInRole>;

export type BuiltInRoleName = keyof typeof builtInRoles;

export function builtInRoleById(roleId: string): BuiltInRole | undefined {
  return Object.values(builtInRoles).find((role) => role.id === roleId);
}
