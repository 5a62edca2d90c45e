import 'reflect-metadata';
import cluster from 'cluster';
import { AppConfig, ConfigError, createLogger } from '@linli/core';
import { createApiApp } from './bootstrap';
import { runClustered } from './cluster';

async function main(): Promise<void> {
  const config = AppConfig.fromEnv();
  // The primary only supervises (one worker or more, restarted if they die, started with the API's V8 flags).
  if (cluster.isPrimary) {
    const logger = createLogger(config.get('LOG_LEVEL'), 'api');
    const processes = config.get('API_PROCESSES');
    runClustered(processes, logger);
    logger.info({ config: config.toLoggable() }, `Linli API: ${processes} process${processes === 1 ? '' : 'es'} on http://localhost:${config.get('PORT')}/graphql (health: /health)`);
    return;
  }
  const app = await createApiApp();
  await app.listen(config.get('PORT'));
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
