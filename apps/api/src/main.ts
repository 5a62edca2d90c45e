import 'reflect-metadata';
import cluster from 'cluster';
import { AppConfig, ConfigError, createLogger } from '@linli/core';
import { createApiApp } from './bootstrap';
import { runClustered } from './cluster';

async function main(): Promise<void> {
  const config = AppConfig.fromEnv();
  const logger = createLogger(config.get('LOG_LEVEL'), 'api');
  const processes = config.get('API_PROCESSES');
  if (processes > 1 && cluster.isPrimary) {
    runClustered(processes, logger);
    logger.info({ config: config.toLoggable() }, `Linli API: ${processes} processes on http://localhost:${config.get('PORT')}/graphql (health: /health)`);
    return;
  }
  const app = await createApiApp();
  await app.listen(config.get('PORT'));
  if (processes === 1) logger.info({ config: config.toLoggable() }, `Linli API listening: http://localhost:${config.get('PORT')}/graphql (health: /health)`);
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
