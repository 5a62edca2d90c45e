import { Field, ID, ObjectType, registerEnumType } from '@nestjs/graphql';

export enum CodeListNameEnum {
  SEX = 'sex',
  ETHNICITY = 'ethnicity',
  RELATIONSHIP = 'relationship',
  POLITICAL_STATUS = 'political_status',
  EDUCATION = 'education',
  MARITAL_STATUS = 'marital_status',
  EMPLOYMENT = 'employment',
  REGISTRATION_TYPE = 'registration_type',
  HOUSEHOLD_KIND = 'household_kind',
  POPULATION_TYPE = 'population_type',
  HOUSEHOLD_RELATION = 'household_relation',
  ID_TYPE = 'id_type',
  RESIDENCE_KIND = 'residence_kind',
  DWELLING_USE = 'dwelling_use',
}
registerEnumType(CodeListNameEnum, { name: 'CodeListName', description: 'A national or platform code list (代码表).' });

@ObjectType('CodeEntry', { description: 'One entry of a code list, with its validity period.' })
export class CodeEntryDto {
  @Field() code: string;
  @Field({ description: 'Chinese name (中文名称)' }) nameZh: string;
  @Field() nameEn: string;
  @Field(() => String, { nullable: true }) parentCode: string | null;
  @Field() validFrom: string;
  @Field(() => String, { nullable: true }) validTo: string | null;
}

@ObjectType('Division', { description: '行政区划 administrative division (12-digit statistical code).' })
export class DivisionDto {
  @Field(() => ID) code: string;
  @Field() name: string;
  @Field() level: string;
  @Field(() => String, { nullable: true }) parentCode: string | null;
  @Field({ description: 'True where the code is generated for the demo and not an official code.' }) synthetic: boolean;
  @Field() validFrom: string;
  @Field(() => String, { nullable: true }) validTo: string | null;
}
