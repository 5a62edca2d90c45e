import { Field, Float, ID, InputType, Int, ObjectType } from '@nestjs/graphql';

@ObjectType('Grid', { description: '网格 grid: the part of a community one grid worker looks after.' })
export class GridDto {
  @Field(() => ID) id: string;
  @Field() communityCode: string;
  @Field({ description: 'Unique inside the community, e.g. 01.' }) code: string;
  @Field() name: string;
}

@ObjectType('Compound', { description: '小区 residential compound.' })
export class CompoundDto {
  @Field(() => ID) id: string;
  @Field() communityCode: string;
  @Field() name: string;
  @Field(() => String, { nullable: true }) address: string | null;
  @Field(() => ID, { nullable: true, description: 'The grid the compound belongs to.' }) gridId: string | null;
}

@InputType()
export class CreateGridInput {
  @Field() communityCode: string;
  @Field() code: string;
  @Field() name: string;
}

@ObjectType('Building', { description: '楼栋 building.' })
export class BuildingDto {
  @Field(() => ID) id: string;
  @Field(() => ID) compoundId: string;
  @Field() name: string;
  @Field(() => String, { nullable: true }) street: string | null;
  @Field(() => String, { nullable: true }) doorNumber: string | null;
}

@ObjectType('Dwelling', { description: '房屋 dwelling (a flat or room).' })
export class DwellingDto {
  @Field(() => ID) id: string;
  @Field(() => ID) buildingId: string;
  @Field(() => String, { nullable: true, description: '单元 unit name' }) unit: string | null;
  @Field() room: string;
  @Field(() => Int, { nullable: true }) floor: number | null;
  @Field(() => Float, { nullable: true, description: 'Floor area in square metres.' }) area: number | null;
  @Field({ description: 'Code from the dwelling_use list: OWN, RENTED, VACANT, BUSINESS.' }) use: string;
}

@InputType()
export class CreateCompoundInput {
  @Field() communityCode: string;
  @Field() name: string;
  @Field(() => String, { nullable: true }) address?: string | null;
}

@InputType()
export class CreateBuildingInput {
  @Field(() => ID) compoundId: string;
  @Field() name: string;
  @Field(() => String, { nullable: true }) street?: string | null;
  @Field(() => String, { nullable: true }) doorNumber?: string | null;
}

@InputType()
export class CreateDwellingInput {
  @Field(() => ID) buildingId: string;
  @Field(() => String, { nullable: true, description: '单元 unit name; created when new.' }) unit?: string | null;
  @Field() room: string;
  @Field(() => Int, { nullable: true }) floor?: number | null;
  @Field(() => Float, { nullable: true }) area?: number | null;
  @Field(() => String, { nullable: true, defaultValue: 'OWN' }) use?: string;
}
