import { Args, ID, Info, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { GraphQLResolveInfo } from 'graphql';
import { Allow, Ctx, GraphQLContextValue, Permission, RequestContext, requestContextOf, selects, today } from '@linli/core';
import { ageOn } from '../tags/tags.service';
import { DivisionDto, CodesService } from '@linli/codes';
import { DwellingDto, PlacesService } from '@linli/places';
import { ResidenceDto, ResidentConnection, ResidentDto } from '../dtos/resident.dto';
import { HouseholdDto, HouseholdMemberDto } from '../dtos/household.dto';
import { TagDto } from '../dtos/tag.dto';
import { HistoryEntryDto } from '../dtos/history.dto';
import {
  AddResidentInput, MergeResidentsInput, MoveResidentInput, RecordDeathInput, RecordMoveOutInput, ResidentFilter, ResidentPatchInput,
} from '../dtos/inputs';
import { IdempotencyService } from '../idempotency/idempotency.service';
import { HistoryService } from '../history/history.service';
import { HouseholdsService } from '../households/households.service';
import { ResidentEventsService } from './resident-events.service';
import { ResidentsService, toResidentDto } from './residents.service';
import { prefetchedOf } from './prefetched';
import { toHistoryDto } from '../history/history.dto-mapper';

const KEY = { type: () => String, nullable: true, description: 'Same key and input return the first result; same key, other input is refused.' };

@Resolver(() => ResidentDto)
export class ResidentsResolver {
  constructor(
    private readonly residentsService: ResidentsService,
    private readonly events: ResidentEventsService,
    private readonly households: HouseholdsService,
    private readonly idempotency: IdempotencyService,
    private readonly history: HistoryService,
    private readonly places: PlacesService,
    private readonly codes: CodesService,
  ) {}

  @Allow(Permission.READ_REGISTER)
  @Query(() => ResidentDto, { nullable: true, description: 'A resident by uid; a merged uid answers with the survivor.' })
  resident(@Ctx() ctx: RequestContext, @Args('id', { type: () => ID }) id: string) {
    return this.residentsService.get(ctx, id);
  }

  @Allow(Permission.READ_REGISTER)
  @Query(() => ResidentDto, { nullable: true, description: 'A live resident by ID number (15 or 18 digits).' })
  residentByIdNumber(@Ctx() ctx: RequestContext, @Args('idNumber') idNumber: string) {
    return this.residentsService.byIdNumber(ctx, idNumber);
  }

  @Allow(Permission.READ_REGISTER)
  @Query(() => ResidentConnection)
  residents(
    @Ctx() ctx: RequestContext,
    @Args('filter', { type: () => ResidentFilter, nullable: true }) filter: ResidentFilter | null,
    @Args('first', { type: () => Int, defaultValue: 50 }) first: number,
    @Args('after', { type: () => String, nullable: true }) after: string | null,
    @Info() info: GraphQLResolveInfo,
  ) {
    return this.residentsService.list(ctx, filter, first, after, {
      count: selects(info, 'totalCount'),
      prefetch: { household: selects(info, 'edges.node.household') || selects(info, 'edges.node.membership'), tags: selects(info, 'edges.node.tags') },
    });
  }

  @Allow(Permission.READ_REGISTER)
  @Query(() => [HistoryEntryDto], { description: 'Every recorded change of a resident, oldest first.' })
  async residentHistory(@Ctx() ctx: RequestContext, @Args('residentId', { type: () => ID }) residentId: string) {
    const visible = await this.residentsService.get(ctx, residentId, 'residentId');
    return visible ? (await this.history.forResident(visible.id)).map(toHistoryDto) : [];
  }

  @Allow(Permission.WRITE_REGISTER)
  @Mutation(() => ResidentDto, { description: 'Records a new resident (birth, move-in, first registration).' })
  addResident(@Ctx() ctx: RequestContext, @Args('input') input: AddResidentInput, @Args('idempotencyKey', KEY) key?: string) {
    return this.idempotency.run(ctx, key, 'addResident', input, async (m) => toResidentDto(await this.events.addResident(m, ctx, input)));
  }

  @Allow(Permission.WRITE_REGISTER)
  @Mutation(() => ResidentDto, { description: 'Corrects or updates personal fields; refused with VERSION_CONFLICT if the record changed since expectedVersion.' })
  updateResident(
    @Ctx() ctx: RequestContext,
    @Args('id', { type: () => ID }) id: string,
    @Args('expectedVersion', { type: () => Int }) expectedVersion: number,
    @Args('patch') patch: ResidentPatchInput,
    @Args('reason', { type: () => String, nullable: true }) reason?: string,
    @Args('idempotencyKey', KEY) key?: string,
  ) {
    return this.idempotency.run(ctx, key, 'updateResident', { id, expectedVersion, patch, reason }, async (m) =>
      toResidentDto(await this.events.updateResident(m, ctx, id, expectedVersion, patch, reason)));
  }

  @Allow(Permission.WRITE_REGISTER)
  @Mutation(() => ResidentDto, { description: '居住地变更: change of residence.' })
  moveResident(@Ctx() ctx: RequestContext, @Args('input') input: MoveResidentInput, @Args('idempotencyKey', KEY) key?: string) {
    return this.idempotency.run(ctx, key, 'moveResident', input, async (m) => toResidentDto(await this.events.moveResident(m, ctx, input)));
  }

  @Allow(Permission.WRITE_REGISTER)
  @Mutation(() => ResidentDto, { description: '迁出: the resident leaves the community.' })
  recordMoveOut(@Ctx() ctx: RequestContext, @Args('input') input: RecordMoveOutInput, @Args('idempotencyKey', KEY) key?: string) {
    return this.idempotency.run(ctx, key, 'recordMoveOut', input, async (m) => toResidentDto(await this.events.recordMoveOut(m, ctx, input)));
  }

  @Allow(Permission.WRITE_REGISTER)
  @Mutation(() => ResidentDto, { description: '死亡登记.' })
  recordDeath(@Ctx() ctx: RequestContext, @Args('input') input: RecordDeathInput, @Args('idempotencyKey', KEY) key?: string) {
    return this.idempotency.run(ctx, key, 'recordDeath', input, async (m) => toResidentDto(await this.events.recordDeath(m, ctx, input)));
  }

  @Allow(Permission.WRITE_REGISTER)
  @Mutation(() => ResidentDto, { description: 'Merges a duplicate record into the survivor; returns the survivor.' })
  mergeResidents(@Ctx() ctx: RequestContext, @Args('input') input: MergeResidentsInput, @Args('idempotencyKey', KEY) key?: string) {
    return this.idempotency.run(ctx, key, 'mergeResidents', input, async (m) => toResidentDto(await this.events.mergeResidents(m, ctx, input)));
  }

  // Field resolvers of Resident that run once per row take graphql-js's plain (source, args, context) arguments
  // instead of parameter decorators: Nest then binds them as they are instead of wrapping each call in its async
  // parameter pipeline, so they answer synchronously (household and tags when the page's statement prefetched them).
  @ResolveField(() => Int, { description: 'Age in whole years today (or at death).' })
  age(r: ResidentDto): number {
    return ageOn(r.birthDate, r.deceasedOn ?? today());
  }

  @ResolveField(() => HouseholdMemberDto, { nullable: true, description: 'Current household membership.' })
  membership(@Ctx() ctx: RequestContext, @Parent() r: ResidentDto) {
    return this.residentsService.membershipOf(ctx, r.id);
  }

  @ResolveField(() => HouseholdDto, { nullable: true, description: 'Current household.' })
  household(r: ResidentDto, _args: unknown, context: GraphQLContextValue) {
    const prefetched = prefetchedOf(r)?.household;
    return prefetched !== undefined ? prefetched : this.householdOf(requestContextOf(context), r);
  }

  private async householdOf(ctx: RequestContext, r: ResidentDto): Promise<HouseholdDto | null> {
    const membership = await this.residentsService.membershipOf(ctx, r.id);
    return membership ? this.households.byId(ctx, membership.householdId) : null;
  }

  @ResolveField(() => ResidenceDto, { nullable: true, description: 'Current residence.' })
  residence(@Ctx() ctx: RequestContext, @Parent() r: ResidentDto) {
    return this.residentsService.residenceOf(ctx, r.id);
  }

  @ResolveField(() => [TagDto], { description: 'Current tags, manual and derived.' })
  tags(r: ResidentDto, _args: unknown, context: GraphQLContextValue) {
    return prefetchedOf(r)?.tags ?? this.residentsService.tagsOf(requestContextOf(context), r);
  }

  @ResolveField(() => DivisionDto, { nullable: true })
  community(r: ResidentDto) {
    return this.codes.division(r.communityCode) ?? null;
  }
}

@Resolver(() => HouseholdMemberDto)
export class HouseholdMemberResolver {
  constructor(private readonly residents: ResidentsService) {}

  @ResolveField(() => ResidentDto, { nullable: true })
  resident(@Ctx() ctx: RequestContext, @Parent() m: HouseholdMemberDto) {
    return this.residents.byId(ctx, m.residentId);
  }
}

@Resolver(() => ResidenceDto)
export class ResidenceResolver {
  constructor(private readonly places: PlacesService) {}

  @ResolveField(() => DwellingDto, { nullable: true })
  dwelling(@Ctx() ctx: RequestContext, @Parent() r: ResidenceDto) {
    return this.places.dwellingOf(ctx, r.dwellingId);
  }
}
