import { Client } from 'pg';
import { Logger } from 'pino';

/** Connections with no lock held are closed after this long, so an idle or stopping worker keeps no extra session. */
const IDLE_CLOSE_MS = 2000;

/**
 * The per-(target, record) delivery locks: two deliveries of one record never go to the target at the same time.
 *
 * Within this process a set of held keys decides (PostgreSQL advisory locks are re-entrant within one session, so
 * they cannot tell two batches of this process apart). Across worker processes PostgreSQL session advisory locks
 * decide; they live on one connection of their own, outside the pool, so a batch does not hold a pooled connection
 * while it waits for the target. When this process dies, PostgreSQL drops its session and with it the locks.
 */
export class RecordLocks {
  private readonly held = new Set<string>();
  private client: Promise<Client> | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly connectionString: string, private readonly logger: Logger) {}

  /** Takes every key it can, at once; returns those now held by the caller. */
  async tryLock(keys: string[]): Promise<Set<string>> {
    const fresh = [...new Set(keys)].filter((k) => !this.held.has(k));
    // Reserved before the first await, so a batch of this process that starts meanwhile sees them as taken.
    for (const k of fresh) this.held.add(k);
    this.cancelIdleClose();
    if (fresh.length === 0) {
      this.scheduleIdleClose();
      return new Set();
    }
    try {
      const { rows } = await this.serially(async () => (await this.connection()).query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock(k) AS locked FROM unnest($1::bigint[]) WITH ORDINALITY AS u(k, n) ORDER BY n', [fresh],
      ));
      const got = new Set<string>();
      fresh.forEach((k, i) => {
        if (rows[i]?.locked) got.add(k);
        else this.held.delete(k);
      });
      return got;
    } catch (err) {
      for (const k of fresh) this.held.delete(k);
      this.scheduleIdleClose();
      throw err;
    }
  }

  /** Releases keys taken by `tryLock`. */
  async unlock(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    try {
      await this.serially(async () => {
        const client = await this.client;
        if (client) await client.query('SELECT pg_advisory_unlock(k) FROM unnest($1::bigint[]) AS k', [keys]);
      });
    } catch (err) {
      // A lock left behind on a live session would hold its record forever: drop the session, which releases all
      // of its locks (deliveries still in flight in this process stay protected by the in-process set).
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not release delivery locks; reconnecting');
      await this.drop();
    } finally {
      for (const k of keys) this.held.delete(k);
      this.scheduleIdleClose();
    }
  }

  /** Closes the connection (the worker is stopping); locks still held are released by PostgreSQL. */
  async close(): Promise<void> {
    this.cancelIdleClose();
    await this.drop();
  }

  /** One statement at a time on the lock connection (batches of all targets share it). */
  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private connection(): Promise<Client> {
    this.client ??= (async () => {
      const client = new Client({ connectionString: this.connectionString, application_name: 'linli-delivery-locks' });
      // A lost connection loses its locks: forget it, the next batch connects again.
      client.on('error', (err) => {
        this.logger.warn({ err: err.message }, 'delivery lock connection lost');
        void this.drop();
      });
      try {
        await client.connect();
      } catch (err) {
        this.client = null;
        throw err;
      }
      return client;
    })();
    return this.client;
  }

  private async drop(): Promise<void> {
    const pending = this.client;
    this.client = null;
    const client = await pending?.catch(() => null);
    await client?.end().catch(() => undefined);
  }

  private scheduleIdleClose(): void {
    if (this.held.size > 0 || this.idleTimer || !this.client) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.held.size === 0) void this.drop();
    }, IDLE_CLOSE_MS);
    this.idleTimer.unref();
  }

  private cancelIdleClose(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}
