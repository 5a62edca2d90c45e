import { Module } from '@nestjs/common';
import { CodesModule } from '@linli/codes';
import { ImportService } from './import.service';

/**
 * Bulk import of residents from legacy exports (批量导入). Needs the application's ConfigModule and DatabaseModule
 * (both come from the process that imports this module: the import CLI, later the worker).
 */
@Module({
  imports: [CodesModule],
  providers: [ImportService],
  exports: [ImportService],
})
export class ImporterModule {}
