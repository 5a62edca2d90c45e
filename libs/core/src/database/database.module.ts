import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { ConfigModule } from '../config/config.module';
import { postgresOptions } from './postgres-options';

/** The TypeORM connection for Nest processes. Entities are registered by each feature module (autoLoadEntities). */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      imports: [ConfigModule],
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({ ...postgresOptions(config), autoLoadEntities: true }),
    }),
  ],
})
export class DatabaseModule {}
