import { Args, ID, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Allow, Ctx, Permission, RequestContext } from '@linli/core';
import { DwellingDto, PlacesService } from '@linli/places';
import { HouseholdConnection, HouseholdDto, HouseholdMemberDto } from '../dtos/household.dto';
import { TagDto } from '../dtos/tag.dto';
import { HistoryEntryDto } from '../dtos/history.dto';
import { ChangeHouseholdHeadInput, HouseholdFilter, RegisterHouseholdInput } from '../dtos/inputs';
import { IdempotencyService } from '../idempotency/idempotency.service';
import { HistoryService } from '../history/history.service';
import { toHistoryDto } from '../history/history.dto-mapper';
import { HouseholdsService, toHouseholdDto } from './households.service';

const KEY = { type: () => String, nullable: true, description: 'Same key and input return the first result; same key, other input is refused.' };

@Resolver(() => HouseholdDto)
export class HouseholdsResolver {
  constructor(
    private readonly householdsService: HouseholdsService,
    private readonly idempotency: IdempotencyService,
    private readonly history: HistoryService,
    private readonly places: PlacesService,
  ) {}

  @Allow(Permission.READ_REGISTER)
  @Query(() => HouseholdDto, { nullable: true })
  household(@Ctx() ctx: RequestContext, @Args('id', { type: () => ID }) id: string) {
    return this.householdsService.get(ctx, id);
  }

  @Allow(Permission.READ_REGISTER)
  @Query(() => HouseholdConnection)
  households(
    @Ctx() ctx: RequestContext,
    @Args('filter', { type: () => HouseholdFilter, nullable: true }) filter: HouseholdFilter | null,
    @Args('first', { type: () => Int, defaultValue: 50 }) first: number,
    @Args('after', { type: () => String, nullable: true }) after: string | null,
  ) {
    return this.householdsService.list(ctx, filter, first, after);
  }

  @Allow(Permission.READ_REGISTER)
  @Query(() => [HistoryEntryDto])
  async householdHistory(@Ctx() ctx: RequestContext, @Args('householdId', { type: () => ID }) householdId: string) {
    const visible = await this.householdsService.get(ctx, householdId);
    return visible ? (await this.history.forHousehold(visible.id)).map(toHistoryDto) : [];
  }

  @Allow(Permission.WRITE_REGISTER)
  @Mutation(() => HouseholdDto, { description: '立户: registers a household with its members (new or existing residents) and dwelling.' })
  registerHousehold(@Ctx() ctx: RequestContext, @Args('input') input: RegisterHouseholdInput, @Args('idempotencyKey', KEY) key?: string) {
    return this.idempotency.run(ctx, key, 'registerHousehold', input, async (m) => toHouseholdDto(await this.householdsService.registerHousehold(m, ctx, input)));
  }

  @Allow(Permission.WRITE_REGISTER)
  @Mutation(() => HouseholdDto, { description: '变更户主.' })
  changeHouseholdHead(@Ctx() ctx: RequestContext, @Args('input') input: ChangeHouseholdHeadInput, @Args('idempotencyKey', KEY) key?: string) {
    return this.idempotency.run(ctx, key, 'changeHouseholdHead', input, async (m) => toHouseholdDto(await this.householdsService.changeHouseholdHead(m, ctx, input)));
  }

  @ResolveField(() => [HouseholdMemberDto], { description: 'Current members, head first.' })
  members(@Ctx() ctx: RequestContext, @Parent() h: HouseholdDto) {
    return this.householdsService.membersOf(ctx, h.id);
  }

  @ResolveField(() => [TagDto])
  tags(@Ctx() ctx: RequestContext, @Parent() h: HouseholdDto) {
    return this.householdsService.tagsOf(ctx, h.id);
  }

  @ResolveField(() => DwellingDto, { nullable: true })
  dwelling(@Ctx() ctx: RequestContext, @Parent() h: HouseholdDto) {
    return h.dwellingId ? this.places.dwellingOf(ctx, h.dwellingId) : null;
  }
}
