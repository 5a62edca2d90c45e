import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CodesModule } from '@linli/codes';
import { BuildingEntity, BuildingUnitEntity, CompoundEntity, DwellingEntity } from './entities/place.entities';
import { PlacesService } from './places.service';
import { PlacesResolver } from './places.resolver';

/** Places: grid, compound → building → unit → dwelling. */
@Module({
  imports: [CodesModule, TypeOrmModule.forFeature([CompoundEntity, BuildingEntity, BuildingUnitEntity, DwellingEntity])],
  providers: [PlacesService, PlacesResolver],
  exports: [PlacesService],
})
export class PlacesModule {}
