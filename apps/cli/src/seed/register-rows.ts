/**
 * Rows of the demo district as generated in memory, one interface per table (column names in camelCase).
 * Keys are generated client-side from a seeded stream, so a household, its members and their tags can be linked
 * before anything is written, and reruns produce the same keys.
 */

export interface GridRow {
  id: string;
  communityCode: string;
  code: string;
  name: string;
}

export interface CompoundRow {
  id: string;
  communityCode: string;
  gridId: string | null;
  name: string;
  address: string;
}

export interface BuildingRow {
  id: string;
  compoundId: string;
  name: string;
  street: string;
  doorNumber: string;
}

export interface BuildingUnitRow {
  id: string;
  buildingId: string;
  name: string;
}

export type DwellingUse = 'OWN' | 'RENTED' | 'VACANT' | 'BUSINESS';

export interface DwellingRow {
  id: string;
  buildingId: string;
  unitId: string | null;
  room: string;
  floor: number | null;
  /** Square metres with two decimals, as text (numeric(8,2)). */
  area: string;
  use: DwellingUse;
}

export interface HouseholdRow {
  id: string;
  householdNumber: string;
  kind: 'FAMILY' | 'COLLECTIVE';
  registrationType: string | null;
  registeredAddress: string;
  communityCode: string;
  dwellingId: string;
}

export interface ResidentRow {
  id: string;
  idNumber: string;
  name: string;
  namePinyin: string;
  /** '1' male, '2' female (GB/T 2261.1), matching the parity of the ID number's sequence. */
  sex: '1' | '2';
  birthDate: string;
  ethnicity: string;
  politicalStatus: string;
  education: string | null;
  maritalStatus: string;
  employment: string | null;
  phone: string | null;
  populationType: 'REGISTERED' | 'FLOATING';
  householdRelation: 'TOGETHER' | 'AWAY' | 'RESIDENT_ONLY';
  communityCode: string;
}

export interface HouseholdMemberRow {
  householdId: string;
  residentId: string;
  relationship: string;
  fromDate: string;
}

export interface ResidenceRow {
  residentId: string;
  dwellingId: string;
  kind: 'OWNER' | 'TENANT' | 'RELATIVE' | 'COLLECTIVE' | 'OTHER';
  movedInOn: string;
}

/** Attributes of a manual tag: plain JSON that satisfies the tag's attribute schema. */
export type TagAttributes = Record<string, string | number | boolean>;

export interface ResidentTagRow {
  residentId: string;
  tagCode: string;
  attributes: TagAttributes;
  validFrom: string;
}

export interface HouseholdTagRow {
  householdId: string;
  tagCode: string;
  attributes: TagAttributes;
  validFrom: string;
}

/** Everything written in one household's transaction: the household, its members and their current facts. */
export interface HouseholdBundle {
  household: HouseholdRow;
  residents: ResidentRow[];
  members: HouseholdMemberRow[];
  residences: ResidenceRow[];
  residentTags: ResidentTagRow[];
  householdTags: HouseholdTagRow[];
}

export interface CommunityPlaces {
  grids: GridRow[];
  compounds: CompoundRow[];
  buildings: BuildingRow[];
  units: BuildingUnitRow[];
  dwellings: DwellingRow[];
}

export interface CommunityData {
  communityCode: string;
  places: CommunityPlaces;
  households: HouseholdBundle[];
}
