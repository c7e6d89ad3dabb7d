// The fixed set of permissions a role can hold, and the roles every project starts with.
export const PERMISSIONS = [
  'projects:admin',
  'users:read',
  'users:approve',
  'users:write',
  'roles:write',
  'rules:read',
  'rules:write',
  'events:read',
  'notifications:admin',
  'sounds:write',
  'buckets:write',
  'audit:read',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export const PERMISSION_DESCRIPTIONS: Record<Permission, string> = {
  'projects:admin': 'change the project itself (settings, stats)',
  'users:read': 'list users and pending registrations',
  'users:approve': 'approve pending users and assign or change their roles',
  'users:write': 'suspend and reactivate users',
  'roles:write': 'create, change and delete roles',
  'rules:read': 'list and test rules',
  'rules:write': 'create, change and delete rules',
  'events:read': 'list events and their outcome',
  'notifications:admin': "read every user's receipts",
  'sounds:write': 'upload and delete sounds',
  'buckets:write': 'create transfer buckets and set thresholds',
  'audit:read': 'read and export the audit log',
};

export const BUILT_IN_ROLES: ReadonlyArray<{ name: string; description: string; permissions: Permission[] }> =
  [
    { name: 'admin', description: 'Everything inside the project', permissions: [...PERMISSIONS] },
    {
      name: 'rule_manager',
      description: 'Manages rules, sounds and buckets',
      permissions: ['rules:read', 'rules:write', 'events:read', 'sounds:write', 'buckets:write'],
    },
    { name: 'member', description: 'Receives notifications', permissions: [] },
  ];

export const ADMIN_ROLE = 'admin';

export const isPermission = (value: string): value is Permission =>
  (PERMISSIONS as readonly string[]).includes(value);
