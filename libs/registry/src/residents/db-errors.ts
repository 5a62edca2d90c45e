import { DomainError, ErrorCode } from '@linli/core';

interface PgError {
  code?: string;
  constraint?: string;
}

/**
 * Turns constraint violations that races can still produce (after the services' own checks) into typed errors.
 * Anything else is rethrown unchanged and reported as an internal error.
 */
export function translateDbError(err: unknown): never {
  const pg = (err as { driverError?: PgError }).driverError ?? (err as PgError);
  switch (pg?.constraint) {
    case 'resident_id_number_live':
      throw new DomainError(ErrorCode.ID_NUMBER_TAKEN, '该证件号码已登记', 'This ID number is already registered', { field: 'idNumber' });
    case 'household_household_number_key':
      throw new DomainError(ErrorCode.HOUSEHOLD_NUMBER_TAKEN, '该户号已存在', 'This household number already exists', { field: 'input.householdNumber' });
    case 'household_member_current':
      throw DomainError.invalidState('该居民已是另一户的成员', 'The resident is already a member of another household');
    case 'household_one_current_head':
    case 'household_exactly_one_head':
      throw new DomainError(ErrorCode.HOUSEHOLD_HEAD_REQUIRED, '每户必须有且只有一名户主', 'A household must have exactly one head');
    case 'residence_current':
      throw DomainError.invalidState('该居民已有当前居住地', 'The resident already has a current residence');
    default:
      throw err;
  }
}
