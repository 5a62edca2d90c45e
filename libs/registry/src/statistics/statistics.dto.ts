import { Field, Int, ObjectType, registerEnumType } from '@nestjs/graphql';

export enum StatisticsDimension {
  COMMUNITY = 'COMMUNITY',
  TOWNSHIP = 'TOWNSHIP',
  TAG = 'TAG',
  SEX = 'SEX',
  AGE_BAND = 'AGE_BAND',
  POPULATION_TYPE = 'POPULATION_TYPE',
  HOUSEHOLD_KIND = 'HOUSEHOLD_KIND',
}
registerEnumType(StatisticsDimension, { name: 'StatisticsDimension', description: 'AGE_BAND: 0-14, 15-59, 60-79, 80+.' });

@ObjectType('StatisticsCell')
export class StatisticsCellDto {
  @Field(() => [String], { description: 'One key per groupBy dimension, in the same order.' }) keys: string[];
  @Field(() => Int, { nullable: true, description: 'Null when suppressed.' }) count: number | null;
  @Field() suppressed: boolean;
}

@ObjectType('StatisticsResult', { description: 'Counts instead of surveys (统计代替填表). Small cells are suppressed for those not entitled to the records.' })
export class StatisticsResultDto {
  @Field(() => [StatisticsDimension]) dimensions: StatisticsDimension[];
  @Field(() => [StatisticsCellDto]) cells: StatisticsCellDto[];
  @Field(() => Int, { nullable: true, description: 'Residents matching the filter (null when suppressed).' }) total: number | null;
  @Field(() => Int, { description: 'Cells with fewer residents than this are suppressed (0: none).' }) suppressedBelow: number;
}
