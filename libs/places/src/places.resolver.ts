import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Ctx, RequestContext } from '@linli/core';
import { PlacesService } from './places.service';
import { BuildingDto, CompoundDto, CreateBuildingInput, CreateCompoundInput, CreateDwellingInput, DwellingDto } from './dtos/place.dto';

@Resolver()
export class PlacesResolver {
  constructor(private readonly places: PlacesService) {}

  @Query(() => [CompoundDto], { description: 'Compounds (小区) of a community.' })
  compounds(@Ctx() _ctx: RequestContext, @Args('communityCode') communityCode: string) {
    return this.places.compounds(communityCode);
  }

  @Query(() => [BuildingDto], { description: 'Buildings (楼栋) of a compound.' })
  buildings(@Ctx() _ctx: RequestContext, @Args('compoundId', { type: () => ID }) compoundId: string) {
    return this.places.buildings(compoundId);
  }

  @Query(() => [DwellingDto], { description: 'Dwellings (房屋) of a building.' })
  dwellings(@Ctx() _ctx: RequestContext, @Args('buildingId', { type: () => ID }) buildingId: string) {
    return this.places.dwellings(buildingId);
  }

  @Mutation(() => CompoundDto)
  createCompound(@Ctx() ctx: RequestContext, @Args('input') input: CreateCompoundInput) {
    return this.places.createCompound(ctx, input);
  }

  @Mutation(() => BuildingDto)
  createBuilding(@Ctx() ctx: RequestContext, @Args('input') input: CreateBuildingInput) {
    return this.places.createBuilding(ctx, input);
  }

  @Mutation(() => DwellingDto, { description: 'Creates a dwelling, or returns the one already at that building, unit and room.' })
  async createDwelling(@Ctx() ctx: RequestContext, @Args('input') input: CreateDwellingInput) {
    const [dto] = await this.places.toDwellingDtos([await this.places.createDwelling(ctx, input)]);
    return dto;
  }
}
