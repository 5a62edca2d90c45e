import './env';
import { AppConfig } from '@linli/core';
import { migrate } from '../apps/cli/src/migrate';

/** Migrations run once for the whole suite; tests isolate their data by creating their own community. */
export default async function globalSetup(): Promise<void> {
  await migrate(AppConfig.fromEnv());
}
