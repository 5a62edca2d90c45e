import { Client } from 'pg';
import { Logger } from 'pino';

export interface PgListenerOptions {
  /** The database to listen on (DATABASE_URL). */
  url: string;
  /** A plain lower-case identifier: it is written into the LISTEN statement as it is. */
  channel: string;
  /** Names the connection in pg_stat_activity, so an operator can tell whose it is (include the process id). */
  applicationName: string;
  /** Written in log lines: what lost its connection. */
  what: string;
  logger: Logger;
  /** An announcement on the channel, with its payload. */
  onNotify: (payload: string) => void;
  /**
   * Announcements may have been missed: the connection was lost, or LISTEN has just taken effect (at start and after
   * every reconnection; anything announced before it was not heard). The owner catches up from the database.
   */
  onGap: () => void;
  /** Wait before reconnecting (default 1 s). */
  reconnectMs?: number;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * A LISTEN connection that stays listening: on its own connection (LISTEN needs a session, not a pooled client), and
 * reconnected after a PostgreSQL restart, a failover or a terminated backend. NOTIFY is not queued for a session that
 * is not there, so every gap (loss, and each time LISTEN takes effect) is reported to the owner, who catches up.
 * `start` does not fail when the database is unreachable: it keeps trying in the background.
 */
export class PgListener {
  private client: Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Connections already handled as lost ('error' and 'end' may both come). */
  private readonly gone = new WeakSet<Client>();

  constructor(private readonly options: PgListenerOptions) {
    if (!CHANNEL.test(options.channel)) throw new Error(`not a plain channel name: ${options.channel}`);
  }

  /** Whether LISTEN is in effect now. */
  get listening(): boolean {
    return this.client !== null;
  }

  /** Connects and listens; on failure, retries in the background (resolves either way). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const { url, channel, applicationName, onNotify } = this.options;
    const client = new Client({ connectionString: url, application_name: applicationName });
    client.on('notification', (n) => {
      if (n.channel === channel) onNotify(n.payload ?? '');
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, null));
    try {
      await client.connect();
      await client.query(`LISTEN ${channel}`);
    } catch (err) {
      this.lost(client, err);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.options.onGap();
  }

  private lost(client: Client, err: unknown): void {
    // Only the current connection (or a failed attempt while there is none) counts; a replaced one is ignored.
    if (this.stopped || this.gone.has(client) || (this.client !== client && this.client !== null)) return;
    this.gone.add(client);
    this.client = null;
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    this.options.onGap();
    if (this.timer) return;
    this.options.logger.warn({ err: err instanceof Error ? err.message : err ? String(err) : 'connection ended' }, `${this.options.what} lost its connection; retrying`);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, this.options.reconnectMs ?? 1_000);
  }
}
