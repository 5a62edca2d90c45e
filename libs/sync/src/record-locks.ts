import { createHash } from 'crypto';
import { Client } from 'pg';
import { Logger } from 'pino';

/** Connections with no lock held are closed after this long, so an idle or stopping worker keeps no extra session. */
const IDLE_CLOSE_MS = 2000;

interface LockRequest {
  keys: string[];
  resolve: (locked: boolean[]) => void;
  reject: (err: unknown) => void;
}

/** A PostgreSQL advisory lock key (bigint, as text) for the given parts: the same parts, the same lock everywhere. */
export function advisoryKey(...parts: string[]): string {
  return createHash('sha256').update(parts.join('|')).digest().readBigInt64BE(0).toString();
}

/**
 * The per-(target, record) delivery locks: two deliveries of one record never go to the target at the same time.
 *
 * Within this process a set of held keys decides (PostgreSQL advisory locks are re-entrant within one session, so
 * they cannot tell two batches of this process apart). Across worker processes PostgreSQL session advisory locks
 * decide; they live on one connection of their own, outside the pool, so a batch does not hold a pooled connection
 * while it waits for the target. When this process dies, PostgreSQL drops its session and with it the locks.
 *
 * The connection runs one statement at a time, so requests that arrive while it is busy are merged: all waiting
 * releases go in one statement, then all waiting lock requests in another.
 */
export class RecordLocks {
  private readonly held = new Set<string>();
  private client: Promise<Client> | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private pendingLocks: LockRequest[] = [];
  private pendingReleases: string[] = [];
  private pumping = false;

  constructor(private readonly connectionString: string, private readonly logger: Logger) {}

  /** Takes every key it can; returns those now held by the caller. */
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
      const locked = await new Promise<boolean[]>((resolve, reject) => {
        this.pendingLocks.push({ keys: fresh, resolve, reject });
        this.pump();
      });
      const got = new Set<string>();
      fresh.forEach((k, i) => {
        if (locked[i]) got.add(k);
        else this.held.delete(k);
      });
      return got;
    } catch (err) {
      for (const k of fresh) this.held.delete(k);
      this.scheduleIdleClose();
      throw err;
    }
  }

  /**
   * Releases keys taken by `tryLock`. The caller is done with them now; the session lets go of them with the next
   * statement. A batch of this process that takes one of them before that only raises the session's count for it
   * (advisory locks count per session), so the release that follows leaves it held for that batch.
   */
  unlock(keys: string[]): void {
    if (keys.length === 0) return;
    for (const k of keys) this.held.delete(k);
    this.pendingReleases.push(...keys);
    this.pump();
  }

  /** Closes the connection (the worker is stopping); locks still held are released by PostgreSQL. */
  async close(): Promise<void> {
    this.cancelIdleClose();
    await this.drop();
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    void (async () => {
      try {
        while (this.pendingReleases.length || this.pendingLocks.length) {
          const releases = this.pendingReleases;
          this.pendingReleases = [];
          if (releases.length) await this.release(releases);
          const requests = this.pendingLocks;
          this.pendingLocks = [];
          if (requests.length) await this.lock(requests);
        }
      } finally {
        this.pumping = false;
        this.scheduleIdleClose();
      }
    })();
  }

  private async lock(requests: LockRequest[]): Promise<void> {
    try {
      const client = await this.connection();
      const { rows } = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock(k) AS locked FROM unnest($1::bigint[]) WITH ORDINALITY AS u(k, n) ORDER BY n', [requests.flatMap((r) => r.keys)],
      );
      let i = 0;
      for (const r of requests) r.resolve(r.keys.map(() => rows[i++]?.locked === true));
    } catch (err) {
      for (const r of requests) r.reject(err);
    }
  }

  private async release(keys: string[]): Promise<void> {
    try {
      const client = await this.client;
      if (client) await client.query('SELECT pg_advisory_unlock(k) FROM unnest($1::bigint[]) AS k', [keys]);
    } catch (err) {
      // A lock left behind on a live session would hold its record forever: drop the session, which releases all
      // of its locks (deliveries still in flight in this process stay protected by the in-process set).
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not release delivery locks; reconnecting');
      await this.drop();
    }
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
    if (this.held.size > 0 || this.pumping || this.idleTimer || !this.client) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.held.size === 0 && !this.pumping) void this.drop();
    }, IDLE_CLOSE_MS);
    this.idleTimer.unref();
  }

  private cancelIdleClose(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}
