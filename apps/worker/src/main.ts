import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import Redis from 'ioredis';
import { AppConfig, ConfigError, createLogger, PinoNestLogger, REDIS } from '@linli/core';
import { WorkerModule } from './worker.module';

/** Boots without HTTP, checks both connections, and shuts down cleanly on SIGTERM / SIGINT. */
async function main(): Promise<void> {
  const config = AppConfig.fromEnv();
  const logger = createLogger(config.get('LOG_LEVEL'), 'worker');
  const app = await NestFactory.createApplicationContext(WorkerModule, { logger: new PinoNestLogger(logger), abortOnError: false });
  app.enableShutdownHooks();
  await app.get(DataSource).query('SELECT 1');
  await app.get<Redis>(REDIS).ping();
  logger.info('Linli worker ready: PostgreSQL and Redis connected, sync hub running');
}

main().catch((err) => {
  // Configuration problems (environment, target files) are printed as they are: file, line, problem.
  console.error(err instanceof ConfigError || (err instanceof Error && err.name !== 'Error') ? err.message : err instanceof Error ? err.message : err);
  process.exit(1);
});
