import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CodesModule } from '@linli/codes';
import { PlacesModule } from '@linli/places';
import { ResidenceEntity, ResidentEntity } from './entities/resident.entity';
import { HouseholdEntity, HouseholdMemberEntity } from './entities/household.entity';
import { HouseholdTagEntity, ResidentTagEntity, TagDefinitionEntity } from './entities/tag.entities';
import { ChangeHistoryEntity } from './entities/history.entity';
import { RegisterStore } from './residents/register.store';
import { ResidentsService } from './residents/residents.service';
import { ResidentEventsService } from './residents/resident-events.service';
import { HouseholdMemberResolver, ResidenceResolver, ResidentsResolver } from './residents/residents.resolver';
import { HouseholdsService } from './households/households.service';
import { HouseholdsResolver } from './households/households.resolver';
import { TagsService } from './tags/tags.service';
import { TagsResolver } from './tags/tags.resolver';
import { HistoryService } from './history/history.service';
import { DuplicatesService } from './duplicates/duplicates.service';
import { DuplicatesResolver, TagChangePayloadResolver } from './duplicates/duplicates.resolver';
import { IdempotencyService } from './idempotency/idempotency.service';
import { StatisticsService } from './statistics/statistics.service';
import { StatisticsResolver } from './statistics/statistics.resolver';

/** The shared register: residents, households, tags, history and duplicates. */
@Module({
  imports: [
    CodesModule,
    PlacesModule,
    TypeOrmModule.forFeature([
      ResidentEntity, ResidenceEntity, HouseholdEntity, HouseholdMemberEntity, TagDefinitionEntity, ResidentTagEntity, HouseholdTagEntity, ChangeHistoryEntity,
    ]),
  ],
  providers: [
    RegisterStore, ResidentsService, ResidentEventsService, HouseholdsService, TagsService, HistoryService, DuplicatesService, IdempotencyService, StatisticsService, StatisticsResolver,
    ResidentsResolver, HouseholdMemberResolver, ResidenceResolver, HouseholdsResolver, TagsResolver, DuplicatesResolver, TagChangePayloadResolver,
  ],
  exports: [ResidentsService, ResidentEventsService, HouseholdsService, TagsService, HistoryService, RegisterStore],
})
export class RegistryModule {}
