import { Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { ConnectionType } from '@linli/core';

export enum ResidentStatusEnum { ACTIVE = 'ACTIVE', MOVED_OUT = 'MOVED_OUT', DECEASED = 'DECEASED', MERGED = 'MERGED' }
export enum IdNumberStatusEnum { VALID = 'VALID', QUARANTINED = 'QUARANTINED', NONE = 'NONE' }
registerEnumType(ResidentStatusEnum, { name: 'ResidentStatus' });
registerEnumType(IdNumberStatusEnum, {
  name: 'IdNumberStatus',
  description: 'QUARANTINED: kept from a legacy source although the ID number fails validation; fix it with updateResident.',
});

/**
 * 居民 resident as clients see it. Coded fields carry codes of the named code list (see `codeList`).
 * Internal columns (pinyin index, source) are not exposed.
 */
@ObjectType('Resident')
export class ResidentDto {
  @Field(() => ID, { description: 'Stable uid of the person.' }) id: string;
  @Field({ description: 'Code from id_type.' }) idType: string;
  @Field(() => String, { nullable: true }) idNumber: string | null;
  @Field(() => IdNumberStatusEnum) idNumberStatus: IdNumberStatusEnum;
  @Field(() => String, { nullable: true }) quarantineReason: string | null;
  @Field() name: string;
  @Field(() => String, { nullable: true, description: '曾用名 former name' }) formerName: string | null;
  @Field({ description: 'GB/T 2261.1 code.' }) sex: string;
  @Field() birthDate: string;
  @Field(() => String, { nullable: true, description: 'GB/T 3304 code.' }) ethnicity: string | null;
  @Field(() => String, { nullable: true, description: 'GB/T 4762 code.' }) politicalStatus: string | null;
  @Field(() => String, { nullable: true, description: 'GB/T 4658 code.' }) education: string | null;
  @Field(() => String, { nullable: true, description: 'GB/T 2261.2 code.' }) maritalStatus: string | null;
  @Field(() => String, { nullable: true, description: 'GB/T 2261.4 code.' }) employment: string | null;
  @Field(() => String, { nullable: true }) phone: string | null;
  @Field({ description: 'Code from population_type.' }) populationType: string;
  @Field(() => String, { nullable: true, description: 'Code from household_relation (人户关系).' }) householdRelation: string | null;
  @Field({ description: 'The community that keeps this record.' }) communityCode: string;
  @Field(() => ResidentStatusEnum) status: ResidentStatusEnum;
  @Field(() => String, { nullable: true }) movedOutOn: string | null;
  @Field(() => String, { nullable: true }) moveOutReason: string | null;
  @Field(() => String, { nullable: true }) moveOutDestination: string | null;
  @Field(() => String, { nullable: true }) deceasedOn: string | null;
  @Field(() => ID, { nullable: true, description: 'Set on a merged record: the survivor.' }) mergedIntoId: string | null;
  @Field(() => ID, { nullable: true, description: 'Set when the requested id was merged into this record (a redirect).' })
  redirectedFromId?: string | null;
  @Field(() => Int, { description: 'Optimistic-lock version; pass it back as expectedVersion.' }) version: number;
  @Field() createdAt: Date;
  @Field() updatedAt: Date;
}

@ObjectType('ResidentsConnection')
export class ResidentConnection extends ConnectionType(ResidentDto, 'Resident') {}

@ObjectType('Residence', { description: '居住 where a resident lives.' })
export class ResidenceDto {
  @Field(() => ID) id: string;
  @Field(() => ID) dwellingId: string;
  @Field({ description: 'Code from residence_kind.' }) kind: string;
  @Field() movedInOn: string;
  @Field(() => String, { nullable: true }) movedOutOn: string | null;
  @Field() source: string;
}
