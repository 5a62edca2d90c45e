import { NestExpressApplication } from '@nestjs/platform-express';

/** The API's HTTP settings (also applied by bench:query's register-only server, so the two compare like for like). */
export function configureHttp(app: NestExpressApplication): void {
  app.useBodyParser('json', { limit: '1mb' });
  // Responses are never cached (no-store), so Express need not hash every body for an ETag.
  app.set('etag', false);
  app.enableShutdownHooks();
}
