import { Args, ID, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Allow, Ctx, Permission, RequestContext } from '@linli/core';
import { DuplicateCandidateDto } from '../dtos/history.dto';
import { ResidentDto } from '../dtos/resident.dto';
import { TagChangePayload } from '../dtos/payloads';
import { HouseholdDto } from '../dtos/household.dto';
import { IdempotencyService } from '../idempotency/idempotency.service';
import { ResidentsService } from '../residents/residents.service';
import { HouseholdsService } from '../households/households.service';
import { DuplicatesService } from './duplicates.service';

@Resolver(() => DuplicateCandidateDto)
export class DuplicatesResolver {
  constructor(
    private readonly duplicates: DuplicatesService,
    private readonly residents: ResidentsService,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Allow(Permission.READ_REGISTER)
  @Query(() => [DuplicateCandidateDto], { description: 'Records that may be the same person, best first, with the reasons.' })
  possibleDuplicates(@Ctx() ctx: RequestContext, @Args('residentId', { type: () => ID }) residentId: string) {
    return this.duplicates.candidates(ctx, residentId);
  }

  @Allow(Permission.WRITE_REGISTER)
  @Mutation(() => Boolean, { description: 'Remembers that two records are different people; the pair is not suggested again.' })
  markNotDuplicate(
    @Ctx() ctx: RequestContext,
    @Args('residentId', { type: () => ID }) residentId: string,
    @Args('otherResidentId', { type: () => ID }) otherResidentId: string,
    @Args('reason', { type: () => String, nullable: true }) reason?: string,
    @Args('idempotencyKey', { type: () => String, nullable: true }) key?: string,
  ) {
    return this.idempotency.run(ctx, key, 'markNotDuplicate', { residentId, otherResidentId, reason }, (m) =>
      this.duplicates.markNotDuplicate(m, ctx, residentId, otherResidentId, reason));
  }

  @ResolveField(() => ResidentDto, { nullable: true })
  resident(@Ctx() ctx: RequestContext, @Parent() c: DuplicateCandidateDto) {
    return this.residents.byId(ctx, c.residentId);
  }
}

@Resolver(() => TagChangePayload)
export class TagChangePayloadResolver {
  constructor(private readonly residents: ResidentsService, private readonly households: HouseholdsService) {}

  @ResolveField(() => ResidentDto, { nullable: true })
  resident(@Ctx() ctx: RequestContext, @Parent() p: TagChangePayload) {
    return p.residentId ? this.residents.byId(ctx, p.residentId) : null;
  }

  @ResolveField(() => HouseholdDto, { nullable: true })
  household(@Ctx() ctx: RequestContext, @Parent() p: TagChangePayload) {
    return p.householdId ? this.households.byId(ctx, p.householdId) : null;
  }
}
