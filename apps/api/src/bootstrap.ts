import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppConfig, createLogger, PinoNestLogger } from '@linli/core';
import { AppModule } from './app.module';
import { configureHttp } from './http';

/** Creates the API application (used by main.ts and by the end-to-end tests). */
export async function createApiApp(): Promise<INestApplication> {
  const config = AppConfig.fromEnv();
  const logger = createLogger(config.get('LOG_LEVEL'), 'api');
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { logger: new PinoNestLogger(logger), bodyParser: true, abortOnError: false });
  configureHttp(app);
  return app;
}
