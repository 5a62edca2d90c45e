import 'reflect-metadata';
import { AppConfig, ConfigError, createLogger } from '@linli/core';
import { createApiApp } from './bootstrap';

async function main(): Promise<void> {
  const config = AppConfig.fromEnv();
  const logger = createLogger(config.get('LOG_LEVEL'), 'api');
  const app = await createApiApp();
  await app.listen(config.get('PORT'));
  logger.info({ config: config.toLoggable() }, `Linli API listening: http://localhost:${config.get('PORT')}/graphql (health: /health)`);
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
