import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Allow, Ctx, Permission, RequestContext } from '@linli/core';
import { PlacesService } from './places.service';
import { BuildingDto, CompoundDto, CreateBuildingInput, CreateCompoundInput, CreateDwellingInput, CreateGridInput, DwellingDto, GridDto } from './dtos/place.dto';

@Resolver()
export class PlacesResolver {
  constructor(private readonly places: PlacesService) {}

  @Allow(Permission.READ_REGISTER, Permission.WRITE_PLACES)
  @Query(() => [GridDto], { description: 'Grids (网格) of a community.' })
  grids(@Ctx() ctx: RequestContext, @Args('communityCode') communityCode: string) {
    return this.places.grids(ctx, communityCode);
  }

  @Allow(Permission.WRITE_PLACES)
  @Mutation(() => GridDto)
  createGrid(@Ctx() ctx: RequestContext, @Args('input') input: CreateGridInput) {
    return this.places.createGrid(ctx, input);
  }

  @Allow(Permission.WRITE_PLACES)
  @Mutation(() => CompoundDto, { description: 'Puts a compound into a grid of its community; gridId null takes it out of any grid.' })
  setCompoundGrid(
    @Ctx() ctx: RequestContext,
    @Args('compoundId', { type: () => ID }) compoundId: string,
    @Args('gridId', { type: () => ID, nullable: true }) gridId: string | null,
  ) {
    return this.places.setCompoundGrid(ctx, compoundId, gridId ?? null);
  }

  @Allow(Permission.READ_REGISTER, Permission.WRITE_PLACES)
  @Query(() => [CompoundDto], { description: 'Compounds (小区) of a community.' })
  compounds(@Ctx() ctx: RequestContext, @Args('communityCode') communityCode: string) {
    return this.places.compounds(ctx, communityCode);
  }

  @Allow(Permission.READ_REGISTER, Permission.WRITE_PLACES)
  @Query(() => [BuildingDto], { description: 'Buildings (楼栋) of a compound.' })
  buildings(@Ctx() ctx: RequestContext, @Args('compoundId', { type: () => ID }) compoundId: string) {
    return this.places.buildings(ctx, compoundId);
  }

  @Allow(Permission.READ_REGISTER, Permission.WRITE_PLACES)
  @Query(() => [DwellingDto], { description: 'Dwellings (房屋) of a building.' })
  dwellings(@Ctx() ctx: RequestContext, @Args('buildingId', { type: () => ID }) buildingId: string) {
    return this.places.dwellings(ctx, buildingId);
  }

  @Allow(Permission.WRITE_PLACES)
  @Mutation(() => CompoundDto)
  createCompound(@Ctx() ctx: RequestContext, @Args('input') input: CreateCompoundInput) {
    return this.places.createCompound(ctx, input);
  }

  @Allow(Permission.WRITE_PLACES)
  @Mutation(() => BuildingDto)
  createBuilding(@Ctx() ctx: RequestContext, @Args('input') input: CreateBuildingInput) {
    return this.places.createBuilding(ctx, input);
  }

  @Allow(Permission.WRITE_PLACES)
  @Mutation(() => DwellingDto, { description: 'Creates a dwelling, or returns the one already at that building, unit and room.' })
  async createDwelling(@Ctx() ctx: RequestContext, @Args('input') input: CreateDwellingInput) {
    const [dto] = await this.places.toDwellingDtos([await this.places.createDwelling(ctx, input)]);
    return dto;
  }
}
