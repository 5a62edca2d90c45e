import { Permission } from '@linli/core';

/**
 * Roles of people and systems. Administrators, security officers and auditors are separate roles with no
 * overlap (MLPS 2.0 level 3): none of them reads the register.
 */
export enum Role {
  COMMUNITY_WORKER = 'COMMUNITY_WORKER',
  STREET_STAFF = 'STREET_STAFF',
  DISTRICT_STAFF = 'DISTRICT_STAFF',
  DEPARTMENT = 'DEPARTMENT',
  ADMISSION_OFFICE = 'ADMISSION_OFFICE',
  AUDITOR = 'AUDITOR',
  SECURITY_OFFICER = 'SECURITY_OFFICER',
  ADMINISTRATOR = 'ADMINISTRATOR',
}

const P = Permission;

/** The one table of what each role may do. Deny by default: a permission not listed here is refused. */
export const ROLE_PERMISSIONS: Record<Role, Permission[]> = {
  [Role.COMMUNITY_WORKER]: [P.READ_REFERENCE, P.READ_REGISTER, P.WRITE_REGISTER, P.WRITE_PLACES, P.READ_STATISTICS, P.IMPORT, P.MANAGE_SYNC],
  [Role.STREET_STAFF]: [P.READ_REFERENCE, P.READ_REGISTER, P.READ_STATISTICS],
  [Role.DISTRICT_STAFF]: [P.READ_REFERENCE, P.READ_REGISTER, P.READ_STATISTICS],
  [Role.DEPARTMENT]: [P.READ_REFERENCE, P.READ_REGISTER, P.READ_STATISTICS, P.WRITE_OWN_LINE_TAGS],
  [Role.ADMISSION_OFFICE]: [P.READ_REFERENCE, P.READ_STATISTICS],
  [Role.AUDITOR]: [P.READ_REFERENCE, P.READ_AUDIT],
  [Role.SECURITY_OFFICER]: [P.READ_REFERENCE, P.MANAGE_SECURITY],
  [Role.ADMINISTRATOR]: [P.READ_REFERENCE, P.MANAGE_IDENTITIES, P.MANAGE_SYNC],
};

/** Roles whose write jurisdiction equals their read jurisdiction; everyone else writes nothing in the register. */
export const WRITING_ROLES = new Set<Role>([Role.COMMUNITY_WORKER]);
