import { Field, ObjectType } from '@nestjs/graphql';
import { JSONObjectScalar } from '@linli/core';

@ObjectType('TagDefinition', { description: 'A special group (特殊人群标签).' })
export class TagDefinitionDto {
  @Field() code: string;
  @Field() nameZh: string;
  @Field() nameEn: string;
  @Field() ownerLine: string;
  @Field({ description: 'L1 public … L4 highly sensitive.' }) sensitivity: string;
  @Field() subject: string;
  @Field({ description: 'MANUAL (assigned by a worker) or RULE (computed, never typed in).' }) derivation: string;
  @Field(() => JSONObjectScalar) attributeSchema: Record<string, unknown>;
}

@ObjectType('Tag', { description: 'A tag held by a resident or household. Derived tags have no attributes and are computed.' })
export class TagDto {
  @Field() code: string;
  @Field() nameZh: string;
  @Field() nameEn: string;
  @Field() sensitivity: string;
  @Field() derived: boolean;
  @Field(() => JSONObjectScalar) attributes: Record<string, unknown>;
  @Field(() => String, { nullable: true }) validFrom: string | null;
  @Field(() => String, { nullable: true }) validTo: string | null;
}
