import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { Logger } from 'pino';
import { PgListener } from '@linli/core';
import { OUTBOX_CHANNEL } from '@linli/registry';
import { DeliverJob, deliverJobOf, enqueueDeliveries } from './jobs/sync-jobs';
import { loadViews } from './mapping/record-view';
import { subscribes } from './mapping/mapper';
import { TargetConfig } from './targets/target-config';
import { SyncStateStore, WantRow } from './sync-state.store';
import { SyncMetrics } from './sync-metrics';

const BATCH = 500;

interface OutboxRow {
  id: string;
  aggregate_type: 'RESIDENT' | 'HOUSEHOLD';
  aggregate_id: string;
}

/**
 * Moves outbox events to the targets' queues. Events are claimed with FOR UPDATE SKIP LOCKED (several relays may
 * run), the targets' state is marked wanted, jobs are added with deterministic ids, and only then are the events
 * marked relayed, in the same transaction. A crash between adding and marking re-relays the same events: the job
 * ids are the same and the processor skips what a target already holds, so nothing happens twice in effect.
 * If Redis is down the transaction rolls back and the events wait in PostgreSQL.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | null = null;
  private readonly listener: PgListener;
  private running = false;
  private again = false;
  private stopped = false;

  constructor(
    private readonly ds: DataSource,
    private readonly targets: TargetConfig[],
    private readonly queues: Map<string, Queue>,
    private readonly logger: Logger,
    private readonly metrics: SyncMetrics,
    private readonly intervalMs: number,
    databaseUrl: string,
  ) {
    // Woken by every committed outbox event; polling (intervalMs) covers the time the listener is reconnecting, and
    // each gap is caught up at once.
    this.listener = new PgListener({
      url: databaseUrl, channel: OUTBOX_CHANNEL, applicationName: `linli-outbox-${process.pid}`, what: 'outbox listener', logger,
      onNotify: () => this.kick(), onGap: () => this.kick(),
    });
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.listener.start(); // kicks the relay once LISTEN is in effect
    this.timer = setInterval(() => this.kick(), this.intervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.listener.stop();
    while (this.running) await new Promise((r) => setTimeout(r, 20));
  }

  /** Runs the relay now (coalescing concurrent wake-ups). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void (async () => {
      try {
        do {
          this.again = false;
          while (!this.stopped && (await this.relayOnce()) === BATCH);
        } while (this.again && !this.stopped);
      } catch (err) {
        this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'outbox relay failed; events stay in PostgreSQL and are retried');
      } finally {
        this.running = false;
      }
    })();
  }

  /** Relays one batch; returns how many events it took. */
  async relayOnce(): Promise<number> {
    return this.ds.transaction(async (m) => {
      const events: OutboxRow[] = await m.query(
        `SELECT id::text, aggregate_type, aggregate_id FROM outbox_event WHERE relayed_at IS NULL ORDER BY id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
      );
      if (events.length === 0) return 0;
      // The latest event per resident; a household event reaches its current members.
      const latest = new Map<string, number>();
      const bump = (id: string, ev: number) => latest.set(id, Math.max(latest.get(id) ?? 0, ev));
      for (const e of events) if (e.aggregate_type === 'RESIDENT') bump(e.aggregate_id, Number(e.id));
      const householdEvents = events.filter((e) => e.aggregate_type === 'HOUSEHOLD');
      if (householdEvents.length) {
        const members: { household_id: string; resident_id: string }[] = await m.query(
          `SELECT household_id, resident_id FROM household_member WHERE household_id = ANY($1::uuid[]) AND to_date IS NULL`,
          [householdEvents.map((e) => e.aggregate_id)],
        );
        for (const e of householdEvents) for (const mem of members) if (mem.household_id === e.aggregate_id) bump(mem.resident_id, Number(e.id));
      }
      const ids = [...latest.keys()];
      const views = await loadViews(m, ids);
      const known: { target: string; aggregate_id: string }[] = await m.query(
        `SELECT target, aggregate_id FROM sync_state WHERE aggregate_type = 'RESIDENT' AND aggregate_id = ANY($1::uuid[]) AND delivered_at IS NOT NULL`, [ids],
      );
      const wasSent = new Set(known.map((k) => `${k.target}|${k.aggregate_id}`));
      const wanted: WantRow[] = [];
      const jobs: DeliverJob[] = [];
      for (const [residentId, event] of latest) {
        const view = views.get(residentId);
        if (!view) continue;
        for (const t of this.targets) {
          // A target gets a record it subscribes to, and hears when a record it holds leaves its group.
          if (!subscribes(t, view) && !wasSent.has(`${t.name}|${residentId}`)) continue;
          const want: WantRow = { target: t.name, residentId, event, version: Number(view.version) };
          wanted.push(want);
          if (t.schedule.mode === 'realtime') jobs.push(deliverJobOf(want));
        }
      }
      // SyncStateStore.want upserts in the one lock order every sync_state writer shares (see inLockOrder there).
      await new SyncStateStore(m).want(wanted);
      await enqueueDeliveries(this.queues, jobs);
      await m.query(`UPDATE outbox_event SET relayed_at = now() WHERE id = ANY($1::bigint[])`, [events.map((e) => e.id)]);
      this.metrics.relayed.inc(events.length);
      return events.length;
    });
  }
}
