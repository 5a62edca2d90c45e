import pino, { Logger } from 'pino';
import { LoggerService } from '@nestjs/common';

/** Paths that may carry personal data; pino replaces them before a line is written. */
export const REDACTED_PATHS = [
  'idNumber', '*.idNumber', '*.name', 'phone', '*.phone', 'variables', '*.variables', 'body', '*.body',
  'req.headers.authorization', 'password', '*.password',
];

export function createLogger(level: string, name: string): Logger {
  return pino({ name, level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } });
}

/** Bridges Nest's logger interface to pino so framework messages are structured too. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) { this.logger.info({ context }, String(message)); }
  error(message: unknown, trace?: string, context?: string) { this.logger.error({ context, trace }, String(message)); }
  warn(message: unknown, context?: string) { this.logger.warn({ context }, String(message)); }
  debug(message: unknown, context?: string) { this.logger.debug({ context }, String(message)); }
  verbose(message: unknown, context?: string) { this.logger.trace({ context }, String(message)); }
}
