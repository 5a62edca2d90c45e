import type { FieldAccess } from '@linli/core';

/**
 * Field entitlements (minimum necessary, PIPL Art. 6 / 34). Keys are `Type.field` of the GraphQL schema; a
 * sensitive field absent from a policy is refused, a field marked MASKED comes back masked.
 * Fields not in SENSITIVE_FIELDS (ids, versions, status, codes of the community) need only READ_REGISTER.
 */
export const SENSITIVE_FIELDS = new Set([
  'Resident.idNumber', 'Resident.name', 'Resident.formerName', 'Resident.phone', 'Resident.birthDate', 'Resident.age', 'Resident.sex',
  'Resident.ethnicity', 'Resident.politicalStatus', 'Resident.education', 'Resident.maritalStatus', 'Resident.employment',
  'Resident.populationType', 'Resident.householdRelation', 'Resident.residence', 'Resident.household', 'Resident.membership',
  'Resident.tags', 'Resident.moveOutDestination', 'Resident.moveOutReason', 'Resident.quarantineReason',
  'Household.registeredAddress', 'Household.householdNumber', 'Household.members', 'Household.tags', 'Household.dwelling',
  'Tag.attributes', 'HistoryEntry.changes', 'DuplicateCandidate.resident',
]);

/** Types whose presence in a query means personal data is read: such queries state a purpose and are audited. */
export const PERSONAL_TYPES = new Set(['Resident', 'ResidentsConnection', 'ResidentEdge', 'Household', 'HouseholdsConnection', 'HouseholdEdge', 'TagChangePayload', 'SyncDryRun', 'SyncDeadLetterPage', 'SyncStatus', 'HouseholdMember', 'Residence', 'HistoryEntry', 'DuplicateCandidate', 'Tag', 'StatisticsResult']);

/** Fields that can be masked, and how. */
export const MASKABLE_FIELDS = new Set(['Resident.idNumber', 'Resident.name', 'Resident.formerName', 'Resident.phone', 'Household.registeredAddress', 'Resident.birthDate']);

export interface PolicySeed {
  subject: string;
  fields: Record<string, FieldAccess>;
  tags: string[] | null;
  purposes: string[];
  minStatisticsCell: number;
}

const ALL_CLEAR = Object.fromEntries([...SENSITIVE_FIELDS].map((f) => [f, 'CLEAR' as const]));
const NON_SENSITIVE_PERSON = {
  'Resident.sex': 'CLEAR', 'Resident.age': 'CLEAR', 'Resident.populationType': 'CLEAR', 'Resident.tags': 'CLEAR',
  'Resident.household': 'CLEAR', 'Resident.membership': 'CLEAR', 'Household.householdNumber': 'CLEAR', 'Household.members': 'CLEAR',
  'Household.tags': 'CLEAR', 'DuplicateCandidate.resident': 'CLEAR',
} as const;

/** All tags but those of grid governance (L4, visible to that line only) */
const COMMUNITY_TAGS = [
  'LOW_INCOME', 'LOW_INCOME_MEMBER', 'DISABLED', 'AGED_80_PLUS', 'ELDERLY_LIVING_ALONE', 'EMPTY_NEST_ELDERLY', 'PARTY_MEMBER', 'VETERAN',
  'FLOATING', 'CHILDBEARING_AGE_WOMAN', 'LOST_ONLY_CHILD', 'CHILD_IN_DIFFICULTY', 'HARD_TO_EMPLOY',
];

export const POLICY_SEEDS: PolicySeed[] = [
  {
    subject: 'role:COMMUNITY_WORKER', fields: ALL_CLEAR, tags: COMMUNITY_TAGS,
    purposes: ['RESIDENT_SERVICE', 'DATA_MAINTENANCE', 'CERTIFICATE', 'VISIT'], minStatisticsCell: 0,
  },
  {
    subject: 'role:STREET_STAFF',
    fields: { ...NON_SENSITIVE_PERSON, 'Resident.name': 'MASKED', 'Resident.idNumber': 'MASKED', 'Resident.phone': 'MASKED', 'Resident.birthDate': 'MASKED', 'Household.registeredAddress': 'MASKED' },
    tags: COMMUNITY_TAGS.filter((t) => t !== 'CHILD_IN_DIFFICULTY'), purposes: ['SUPERVISION', 'EMERGENCY_RESPONSE'], minStatisticsCell: 5,
  },
  {
    subject: 'role:DISTRICT_STAFF',
    fields: { 'Resident.sex': 'CLEAR', 'Resident.age': 'CLEAR', 'Resident.populationType': 'CLEAR', 'Resident.name': 'MASKED', 'Resident.idNumber': 'MASKED' },
    tags: ['AGED_80_PLUS', 'CHILDBEARING_AGE_WOMAN', 'FLOATING', 'PARTY_MEMBER'], purposes: ['PLANNING', 'SUPERVISION'], minStatisticsCell: 5,
  },
  { subject: 'role:ADMISSION_OFFICE', fields: {}, tags: [], purposes: ['PLANNING'], minStatisticsCell: 5 },
  {
    subject: 'department:CIVIL_AFFAIRS',
    fields: {
      ...NON_SENSITIVE_PERSON, 'Resident.name': 'CLEAR', 'Resident.idNumber': 'CLEAR', 'Resident.birthDate': 'CLEAR', 'Resident.phone': 'MASKED',
      'Resident.maritalStatus': 'CLEAR', 'Resident.employment': 'CLEAR', 'Household.registeredAddress': 'MASKED', 'Tag.attributes': 'CLEAR',
    },
    tags: ['LOW_INCOME', 'LOW_INCOME_MEMBER', 'CHILD_IN_DIFFICULTY', 'AGED_80_PLUS', 'DISABLED'],
    purposes: ['MINIMUM_INCOME_REVIEW', 'SOCIAL_ASSISTANCE'], minStatisticsCell: 5,
  },
  {
    subject: 'department:PUBLIC_SECURITY',
    fields: {
      ...NON_SENSITIVE_PERSON, 'Resident.name': 'CLEAR', 'Resident.formerName': 'CLEAR', 'Resident.idNumber': 'CLEAR', 'Resident.birthDate': 'CLEAR',
      'Resident.phone': 'CLEAR', 'Resident.ethnicity': 'CLEAR', 'Resident.residence': 'CLEAR', 'Household.registeredAddress': 'CLEAR', 'Tag.attributes': 'CLEAR',
    },
    tags: ['FLOATING'], purposes: ['FLOATING_POPULATION_REGISTRATION', 'RESIDENCE_PERMIT'], minStatisticsCell: 5,
  },
  {
    subject: 'department:HEALTH',
    fields: { ...NON_SENSITIVE_PERSON, 'Resident.name': 'MASKED', 'Resident.idNumber': 'MASKED', 'Resident.birthDate': 'CLEAR', 'Resident.maritalStatus': 'CLEAR' },
    tags: ['CHILDBEARING_AGE_WOMAN', 'LOST_ONLY_CHILD', 'AGED_80_PLUS'], purposes: ['FAMILY_PLANNING_SERVICE', 'PUBLIC_HEALTH'], minStatisticsCell: 5,
  },
  {
    subject: 'department:DISABILITY_FEDERATION',
    fields: { ...NON_SENSITIVE_PERSON, 'Resident.name': 'CLEAR', 'Resident.idNumber': 'CLEAR', 'Resident.birthDate': 'CLEAR', 'Resident.phone': 'MASKED', 'Tag.attributes': 'CLEAR' },
    tags: ['DISABLED'], purposes: ['DISABILITY_SERVICE'], minStatisticsCell: 5,
  },
  {
    subject: 'department:ELDERLY_AFFAIRS',
    fields: { ...NON_SENSITIVE_PERSON, 'Resident.name': 'CLEAR', 'Resident.idNumber': 'MASKED', 'Resident.birthDate': 'CLEAR', 'Resident.phone': 'CLEAR', 'Tag.attributes': 'CLEAR' },
    tags: ['AGED_80_PLUS', 'ELDERLY_LIVING_ALONE', 'EMPTY_NEST_ELDERLY'], purposes: ['ELDERLY_CARE', 'OLD_AGE_ALLOWANCE'], minStatisticsCell: 5,
  },
  {
    subject: 'department:GRID_GOVERNANCE',
    fields: { ...NON_SENSITIVE_PERSON, 'Resident.name': 'CLEAR', 'Resident.idNumber': 'CLEAR', 'Resident.phone': 'CLEAR', 'Resident.residence': 'CLEAR', 'Tag.attributes': 'CLEAR' },
    tags: ['GRID_KEY_PERSON', 'FLOATING'], purposes: ['GRID_GOVERNANCE'], minStatisticsCell: 5,
  },
];

export interface DepartmentSeed {
  code: string;
  nameZh: string;
  nameEn: string;
  /** The tag owner line this department owns (tag_definition.owner_line). */
  line: string;
  jurisdiction: string[];
}

const HAISHU = '330203000000';
export const DEPARTMENT_SEEDS: DepartmentSeed[] = [
  { code: 'CIVIL_AFFAIRS', nameZh: '海曙区民政局', nameEn: 'Civil Affairs Bureau', line: 'CIVIL_AFFAIRS', jurisdiction: [HAISHU] },
  { code: 'PUBLIC_SECURITY', nameZh: '宁波市公安局海曙分局', nameEn: 'Public Security Sub-bureau', line: 'PUBLIC_SECURITY', jurisdiction: [HAISHU] },
  { code: 'HEALTH', nameZh: '海曙区卫生健康局', nameEn: 'Health Bureau', line: 'HEALTH', jurisdiction: [HAISHU] },
  { code: 'DISABILITY_FEDERATION', nameZh: '海曙区残疾人联合会', nameEn: 'Disabled Persons\' Federation', line: 'DISABILITY_FEDERATION', jurisdiction: [HAISHU] },
  { code: 'ELDERLY_AFFAIRS', nameZh: '海曙区老龄办', nameEn: 'Office for Elderly Affairs', line: 'ELDERLY_AFFAIRS', jurisdiction: [HAISHU] },
  { code: 'GRID_GOVERNANCE', nameZh: '海曙区社会治理中心', nameEn: 'Grid Governance Centre', line: 'GRID_GOVERNANCE', jurisdiction: [HAISHU] },
];
