import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import { AppConfig, createLogger } from '@linli/core';
import { AuthService } from './auth.service';

/** The channel the triggers of migration 1765200000000 announce on: a session id, or `*` for every principal. */
export const PRINCIPALS_CHANNEL = 'linli_principals';
const RECONNECT_MS = 1_000;

/**
 * Makes a revoked session, a disabled account or client, or a changed department or access policy take effect in
 * this process as soon as the change commits, whichever process, CLI or SQL session made it: LISTENs on
 * PRINCIPALS_CHANNEL and tells AuthService what to forget. While the connection is down, the principal cache's own
 * bound (a few seconds) still applies; when it comes back everything cached is dropped, since announcements made
 * meanwhile are lost.
 */
@Injectable()
export class PrincipalChanges implements OnApplicationBootstrap, OnApplicationShutdown {
  private client: Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly logger;

  constructor(private readonly auth: AuthService, private readonly config: AppConfig) {
    this.logger = createLogger(config.get('LOG_LEVEL'), 'principal-changes');
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  /** Whether this process is listening for announcements now. */
  get listening(): boolean {
    return this.client !== null;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    // Named per process, so an operator can tell which API process a listening connection belongs to.
    const client = new Client({ connectionString: this.config.get('DATABASE_URL'), application_name: `linli-principals-${process.pid}` });
    client.on('notification', (n) => {
      if (n.channel === PRINCIPALS_CHANNEL) this.auth.forget(!n.payload || n.payload === '*' ? null : n.payload);
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, null));
    try {
      await client.connect();
      await client.query(`LISTEN ${PRINCIPALS_CHANNEL}`);
    } catch (err) {
      this.lost(client, err);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    // Anything announced before LISTEN took effect was missed.
    this.auth.forget(null);
  }

  private lost(client: Client, err: unknown): void {
    if (this.stopped || (this.client !== client && this.client !== null)) return;
    this.client = null;
    this.auth.forget(null);
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    if (this.timer) return;
    this.logger.warn({ err: err instanceof Error ? err.message : err ? String(err) : 'connection ended' }, 'principal change listener lost its connection; retrying');
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, RECONNECT_MS);
  }
}
