import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CodeListEntryEntity } from './entities/code-list-entry.entity';
import { DivisionEntity, GridEntity } from './entities/division.entity';
import { CodesService } from './codes.service';
import { CodesResolver } from './codes.resolver';

/** Reference data: national code lists, divisions and grids. */
@Module({
  imports: [TypeOrmModule.forFeature([CodeListEntryEntity, DivisionEntity, GridEntity])],
  providers: [CodesService, CodesResolver],
  exports: [CodesService],
})
export class CodesModule {}
