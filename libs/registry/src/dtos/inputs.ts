import { Field, ID, InputType, Int } from '@nestjs/graphql';
import { JSONObjectScalar } from '@linli/core';
import { IdNumberStatusEnum, ResidentStatusEnum } from './resident.dto';

/** The personal fields of a resident, shared by addResident, registerHousehold and imports. */
@InputType()
export class ResidentFieldsInput {
  @Field({ defaultValue: 'RESIDENT_ID', description: 'Code from id_type.' }) idType: string;
  @Field(() => String, { nullable: true, description: '15- or 18-digit IDs are normalised to 18 digits, upper-case X.' }) idNumber?: string | null;
  @Field() name: string;
  @Field(() => String, { nullable: true }) formerName?: string | null;
  @Field(() => String, { nullable: true, description: 'GB/T 2261.1; derived from the ID number when omitted.' }) sex?: string | null;
  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD; derived from the ID number when omitted.' }) birthDate?: string | null;
  @Field(() => String, { nullable: true }) ethnicity?: string | null;
  @Field(() => String, { nullable: true }) politicalStatus?: string | null;
  @Field(() => String, { nullable: true }) education?: string | null;
  @Field(() => String, { nullable: true }) maritalStatus?: string | null;
  @Field(() => String, { nullable: true }) employment?: string | null;
  @Field(() => String, { nullable: true }) phone?: string | null;
  @Field({ defaultValue: 'REGISTERED', description: 'Code from population_type.' }) populationType: string;
  @Field(() => String, { nullable: true, description: 'Code from household_relation.' }) householdRelation?: string | null;
}

@InputType()
export class ResidenceInput {
  @Field(() => ID) dwellingId: string;
  @Field({ defaultValue: 'OWNER', description: 'Code from residence_kind.' }) kind: string;
  @Field({ description: 'YYYY-MM-DD' }) movedInOn: string;
}

@InputType()
export class MembershipInput {
  @Field(() => ID) householdId: string;
  @Field({ description: 'GB/T 4761 relationship to the head (not 02: use changeHouseholdHead).' }) relationship: string;
  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD; today when omitted.' }) fromDate?: string | null;
}

@InputType()
export class AddResidentInput {
  @Field(() => ResidentFieldsInput) resident: ResidentFieldsInput;
  @Field(() => String, { nullable: true, description: 'Community keeping the record; taken from the dwelling or household when omitted.' })
  communityCode?: string | null;
  @Field(() => ResidenceInput, { nullable: true }) residence?: ResidenceInput | null;
  @Field(() => MembershipInput, { nullable: true }) household?: MembershipInput | null;
  @Field(() => String, { nullable: true }) reason?: string | null;
}

@InputType({ description: 'Only the fields given are changed; null clears an optional field.' })
export class ResidentPatchInput {
  @Field(() => String, { nullable: true }) idType?: string | null;
  @Field(() => String, { nullable: true }) idNumber?: string | null;
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true }) formerName?: string | null;
  @Field(() => String, { nullable: true }) sex?: string | null;
  @Field(() => String, { nullable: true }) birthDate?: string | null;
  @Field(() => String, { nullable: true }) ethnicity?: string | null;
  @Field(() => String, { nullable: true }) politicalStatus?: string | null;
  @Field(() => String, { nullable: true }) education?: string | null;
  @Field(() => String, { nullable: true }) maritalStatus?: string | null;
  @Field(() => String, { nullable: true }) employment?: string | null;
  @Field(() => String, { nullable: true }) phone?: string | null;
  @Field(() => String, { nullable: true }) populationType?: string | null;
  @Field(() => String, { nullable: true }) householdRelation?: string | null;
  @Field(() => String, { nullable: true, description: 'Correct the community keeping the record (e.g. out of a retired division).' })
  communityCode?: string | null;
}

@InputType()
export class MoveResidentInput {
  @Field(() => ID) residentId: string;
  @Field(() => Int, { nullable: true }) expectedVersion?: number | null;
  @Field(() => ResidenceInput) residence: ResidenceInput;
  @Field(() => String, { nullable: true }) reason?: string | null;
}

@InputType()
export class RecordMoveOutInput {
  @Field(() => ID) residentId: string;
  @Field(() => Int, { nullable: true }) expectedVersion?: number | null;
  @Field({ description: 'YYYY-MM-DD' }) movedOutOn: string;
  @Field(() => String, { nullable: true }) destination?: string | null;
  @Field() reason: string;
  @Field(() => ID, { nullable: true, description: 'Required when the resident heads a household that keeps other members.' })
  newHeadResidentId?: string | null;
}

@InputType()
export class RecordDeathInput {
  @Field(() => ID) residentId: string;
  @Field(() => Int, { nullable: true }) expectedVersion?: number | null;
  @Field({ description: 'YYYY-MM-DD' }) deceasedOn: string;
  @Field(() => String, { nullable: true }) reason?: string | null;
  @Field(() => ID, { nullable: true, description: 'Required when the deceased headed a household that keeps other members.' })
  newHeadResidentId?: string | null;
}

@InputType()
export class NewMemberInput {
  @Field(() => ID, { nullable: true, description: 'An existing resident…' }) residentId?: string | null;
  @Field(() => ResidentFieldsInput, { nullable: true, description: '…or a new one.' }) resident?: ResidentFieldsInput | null;
  @Field({ description: 'GB/T 4761 relationship to the head; exactly one member has 02 (户主).' }) relationship: string;
}

@InputType()
export class RegisterHouseholdInput {
  @Field() householdNumber: string;
  @Field({ defaultValue: 'FAMILY' }) kind: string;
  @Field(() => String, { nullable: true }) registrationType?: string | null;
  @Field() registeredAddress: string;
  @Field() communityCode: string;
  @Field(() => ID, { nullable: true, description: 'Where the household lives; members get a residence there.' }) dwellingId?: string | null;
  @Field({ defaultValue: 'OWNER' }) residenceKind: string;
  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD; today when omitted.' }) fromDate?: string | null;
  @Field(() => [NewMemberInput]) members: NewMemberInput[];
  @Field(() => String, { nullable: true }) reason?: string | null;
}

@InputType()
export class RelationshipChangeInput {
  @Field(() => ID) residentId: string;
  @Field() relationship: string;
}

@InputType()
export class ChangeHouseholdHeadInput {
  @Field(() => ID) householdId: string;
  @Field(() => Int, { nullable: true }) expectedVersion?: number | null;
  @Field(() => ID) newHeadResidentId: string;
  @Field({ description: 'Relationship of the former head to the new head (GB/T 4761).' }) formerHeadRelationship: string;
  @Field(() => [RelationshipChangeInput], { nullable: true, description: 'Other members re-labelled relative to the new head.' })
  relationships?: RelationshipChangeInput[] | null;
  @Field() reason: string;
}

@InputType()
export class AssignTagInput {
  @Field(() => ID, { nullable: true }) residentId?: string | null;
  @Field(() => ID, { nullable: true }) householdId?: string | null;
  @Field() tagCode: string;
  @Field(() => JSONObjectScalar, { nullable: true }) attributes?: Record<string, unknown> | null;
  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD; today when omitted.' }) validFrom?: string | null;
  @Field(() => String, { nullable: true }) reason?: string | null;
}

@InputType()
export class RemoveTagInput {
  @Field(() => ID, { nullable: true }) residentId?: string | null;
  @Field(() => ID, { nullable: true }) householdId?: string | null;
  @Field() tagCode: string;
  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD; today when omitted.' }) validTo?: string | null;
  @Field() reason: string;
}

@InputType()
export class MergeResidentsInput {
  @Field(() => ID, { description: 'The duplicate record; it becomes a redirect to the survivor.' }) duplicateId: string;
  @Field(() => ID) survivorId: string;
  @Field() reason: string;
}

@InputType()
export class ResidentFilter {
  @Field(() => String, { nullable: true, description: 'Division code; the whole subtree is searched.' }) divisionCode?: string | null;
  @Field(() => ID, { nullable: true, description: 'Residents living in the compounds of this grid (网格).' }) gridId?: string | null;
  @Field(() => ID, { nullable: true }) compoundId?: string | null;
  @Field(() => ID, { nullable: true }) buildingId?: string | null;
  @Field(() => ID, { nullable: true }) dwellingId?: string | null;
  @Field(() => [String], { nullable: true, description: 'Residents holding all of these tags (manual or derived).' }) tags?: string[] | null;
  @Field(() => Int, { nullable: true }) ageMin?: number | null;
  @Field(() => Int, { nullable: true }) ageMax?: number | null;
  @Field(() => String, { nullable: true }) sex?: string | null;
  @Field(() => String, { nullable: true }) populationType?: string | null;
  @Field(() => String, { nullable: true }) namePrefix?: string | null;
  @Field(() => [ResidentStatusEnum], { nullable: true, description: 'ACTIVE when omitted.' }) statuses?: ResidentStatusEnum[] | null;
  @Field(() => IdNumberStatusEnum, { nullable: true }) idNumberStatus?: IdNumberStatusEnum | null;
  @Field(() => Boolean, { nullable: true, description: 'true: only records in quarantine (waiting to be fixed); false: only clean ones.' })
  quarantined?: boolean | null;
}

@InputType()
export class HouseholdFilter {
  @Field(() => String, { nullable: true }) divisionCode?: string | null;
  @Field(() => String, { nullable: true }) kind?: string | null;
  @Field(() => [String], { nullable: true }) tags?: string[] | null;
  @Field(() => String, { nullable: true, description: 'ACTIVE when omitted.' }) status?: string | null;
}
