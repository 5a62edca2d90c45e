import './env';
import { AppConfig } from '../libs/core/src/config/app-config';
import { migrate } from '../apps/cli/src/migrate';

/**
 * Migrations run once for the whole suite; tests isolate their data by creating their own community.
 * Only plain modules are loaded here (no GraphQL types): globalSetup shares the process with --runInBand tests.
 */
export default async function globalSetup(): Promise<void> {
  await migrate(AppConfig.fromEnv());
}
