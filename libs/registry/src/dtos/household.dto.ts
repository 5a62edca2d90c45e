import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { ConnectionType } from '@linli/core';

@ObjectType('Household', { description: '户 household.' })
export class HouseholdDto {
  @Field(() => ID) id: string;
  @Field({ description: '户号 household number' }) householdNumber: string;
  @Field({ description: 'Code from household_kind.' }) kind: string;
  @Field(() => String, { nullable: true, description: 'Code from registration_type (GA/T 2000.27).' }) registrationType: string | null;
  @Field() registeredAddress: string;
  @Field() communityCode: string;
  @Field(() => ID, { nullable: true }) dwellingId: string | null;
  @Field() status: string;
  @Field(() => Int) version: number;
}

@ObjectType('HouseholdsConnection')
export class HouseholdConnection extends ConnectionType(HouseholdDto, 'Household') {}

@ObjectType('HouseholdMember', { description: 'Membership of a resident in a household.' })
export class HouseholdMemberDto {
  @Field(() => ID) id: string;
  @Field(() => ID) householdId: string;
  @Field(() => ID) residentId: string;
  @Field({ description: 'GB/T 4761 relationship to the head; 02 is the head.' }) relationship: string;
  @Field() isHead: boolean;
  @Field() fromDate: string;
  @Field(() => String, { nullable: true }) toDate: string | null;
}
