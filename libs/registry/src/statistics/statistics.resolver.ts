import { Args, Query, Resolver } from '@nestjs/graphql';
import { Allow, Ctx, Permission, RequestContext } from '@linli/core';
import { ResidentFilter } from '../dtos/inputs';
import { StatisticsService } from './statistics.service';
import { StatisticsDimension, StatisticsResultDto } from './statistics.dto';

@Resolver()
export class StatisticsResolver {
  constructor(private readonly stats: StatisticsService) {}

  @Allow(Permission.READ_STATISTICS)
  @Query(() => StatisticsResultDto, { description: 'Counts of residents grouped by up to three dimensions, inside your jurisdiction.' })
  statistics(
    @Ctx() ctx: RequestContext,
    @Args('groupBy', { type: () => [StatisticsDimension] }) groupBy: StatisticsDimension[],
    @Args('filter', { type: () => ResidentFilter, nullable: true }) filter: ResidentFilter | null,
  ) {
    return this.stats.statistics(ctx, groupBy, filter);
  }
}
