import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig, createLogger, PgListener } from '@linli/core';
import { AuthService } from './auth.service';

/** The channel the triggers of migration 1765200000000 announce on: a session id, or `*` for every principal. */
export const PRINCIPALS_CHANNEL = 'linli_principals';

/**
 * Makes a revoked session, a disabled account or client, or a changed department or access policy take effect in
 * this process as soon as the change commits, whichever process, CLI or SQL session made it: LISTENs on
 * PRINCIPALS_CHANNEL and tells AuthService what to forget. While the connection is down, the principal cache's own
 * bound (a few seconds) still applies; at every gap (connection lost, LISTEN in effect again) everything cached is
 * dropped, since announcements made meanwhile are lost.
 */
@Injectable()
export class PrincipalChanges implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly listener: PgListener;

  constructor(auth: AuthService, config: AppConfig) {
    this.listener = new PgListener({
      url: config.get('DATABASE_URL'),
      channel: PRINCIPALS_CHANNEL,
      // Named per process, so an operator can tell which API process a listening connection belongs to.
      applicationName: `linli-principals-${process.pid}`,
      what: 'principal change listener',
      logger: createLogger(config.get('LOG_LEVEL'), 'principal-changes'),
      onNotify: (payload) => auth.forget(!payload || payload === '*' ? null : payload),
      onGap: () => auth.forget(null),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.listener.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.listener.stop();
  }

  /** Whether this process is listening for announcements now. */
  get listening(): boolean {
    return this.listener.listening;
  }
}
