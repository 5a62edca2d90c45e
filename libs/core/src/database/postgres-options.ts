import { DataSourceOptions } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { QueryCounter } from './query-counter';

/** Connection options shared by the app, the CLI tools and the migration runner. Schema changes only by migration. */
export function postgresOptions(config: AppConfig): DataSourceOptions {
  return {
    type: 'postgres',
    url: config.get('DATABASE_URL'),
    synchronize: false,
    migrationsRun: false,
    logging: false,
    logger: QueryCounter.shared,
    extra: { max: config.get('DATABASE_POOL_SIZE'), application_name: 'linli' },
  };
}
