import { Field, ID, ObjectType } from '@nestjs/graphql';
import { JSONObjectScalar } from '@linli/core';

@ObjectType('FieldChange')
export class FieldChangeDto {
  @Field() field: string;
  @Field(() => String, { nullable: true, description: 'Old value as JSON text.' }) old: string | null;
  @Field(() => String, { nullable: true, description: 'New value as JSON text.' }) new: string | null;
}

@ObjectType('HistoryEntry', { description: 'One recorded change: who, when, what, why.' })
export class HistoryEntryDto {
  @Field(() => ID) id: string;
  @Field(() => ID, { nullable: true }) residentId: string | null;
  @Field(() => ID, { nullable: true }) householdId: string | null;
  @Field() operation: string;
  @Field() actor: string;
  @Field(() => String, { nullable: true }) requestId: string | null;
  @Field(() => String, { nullable: true }) reason: string | null;
  @Field(() => [FieldChangeDto]) changes: FieldChangeDto[];
  @Field() occurredAt: Date;
}

@ObjectType('DuplicateCandidate', { description: 'A record that may be the same person.' })
export class DuplicateCandidateDto {
  @Field(() => ID) residentId: string;
  @Field({ description: '0..1; higher is more likely the same person.' }) score: number;
  @Field(() => [String], { description: 'Why: SAME_NAME_AND_BIRTH_DATE, SIMILAR_PINYIN_SAME_BIRTH_DATE, SAME_HOUSEHOLD, FORMER_NAME, ID_NUMBER_ONE_CHAR_APART, DIFFERENT_VALID_ID_NUMBERS.' })
  reasons: string[];
  @Field(() => JSONObjectScalar, { nullable: true }) details?: Record<string, unknown>;
}
