import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { BatchRunJob, deliverJobOf, enqueueDeliveries, SyncJobName } from './jobs/sync-jobs';
import { TargetConfig } from './targets/target-config';
import { latestEventFor, SyncStateStore } from './sync-state.store';
import { loadViews } from './mapping/record-view';
import { subscribes } from './mapping/mapper';
import { TAG_DEFINITIONS } from '@linli/registry';

export interface ReconcileReport {
  target: string;
  requeued: number;
  initialLoad: number;
  /** A batch target's cron scheduler was missing from Redis (lost with its data) and has been registered again. */
  schedulerRestored: boolean;
}

/** The id of a batch target's BullMQ job scheduler. */
export function batchSchedulerId(target: string): string {
  return `batch-${target}`;
}

/** Registers (or updates) a batch target's cron job scheduler: BATCH_RUN jobs in China time. */
export async function upsertBatchScheduler(queue: Queue, target: TargetConfig): Promise<void> {
  if (target.schedule.mode !== 'batch') return;
  const data: BatchRunJob = { target: target.name };
  await queue.upsertJobScheduler(batchSchedulerId(target.name), { pattern: target.schedule.cron, tz: SCHEDULE_TZ }, { name: SyncJobName.BATCH_RUN, data });
}

const SCHEDULE_TZ = 'Asia/Shanghai';

const PAGE = 2000;

/**
 * Finds every record whose applied state at a target is behind the register and enqueues it again: after Redis lost
 * its data, a target restored from a backup, or a bug. Also loads records a target subscribes to but has never
 * been sent (data that predates the target, demo data). Safe to run any time: job ids are deterministic and the
 * processor skips what the target already holds.
 */
export class Reconciler {
  constructor(private readonly ds: DataSource, private readonly targets: TargetConfig[], private readonly queues: Map<string, Queue>) {}

  async reconcileAll(graceSeconds = 10): Promise<ReconcileReport[]> {
    const out: ReconcileReport[] = [];
    for (const t of this.targets) out.push(await this.reconcile(t, graceSeconds));
    return out;
  }

  async reconcile(target: TargetConfig, graceSeconds = 10): Promise<ReconcileReport> {
    const schedulerRestored = await this.ensureBatchScheduler(target);
    const behind: { aggregate_id: string; wanted_event: string; wanted_version: number }[] = await this.ds.query(
      `SELECT aggregate_id, wanted_event::text, wanted_version FROM sync_state
        WHERE target = $1 AND status = 'PENDING' AND (applied_event IS NULL OR applied_event < wanted_event)
          AND updated_at < now() - make_interval(secs => $2::int)
        ORDER BY updated_at LIMIT 50000`,
      [target.name, graceSeconds],
    );
    if (target.schedule.mode === 'realtime' && behind.length) {
      await enqueueDeliveries(this.queues, behind.map((b) => ({ target: target.name, aggregateType: 'RESIDENT', aggregateId: b.aggregate_id, event: Number(b.wanted_event), version: b.wanted_version })));
    }
    // Residents the target subscribes to that it has never been told about.
    let initialLoad = 0;
    // Derived tags have no rows to filter on: then every active resident is looked at and the view decides.
    const derived = new Set(TAG_DEFINITIONS.filter((t) => t.rule).map((t) => t.code));
    const sqlFilterable = target.subscribe.tags.length > 0 && !target.subscribe.tags.some((t) => derived.has(t));
    const tagFilter = sqlFilterable
      ? `AND (EXISTS (SELECT 1 FROM resident_tag rt WHERE rt.resident_id = r.id AND rt.valid_to IS NULL AND rt.tag_code = ANY($2))
          OR EXISTS (SELECT 1 FROM household_member hm JOIN household_tag ht ON ht.household_id = hm.household_id AND ht.valid_to IS NULL
                     WHERE hm.resident_id = r.id AND hm.to_date IS NULL AND ht.tag_code = ANY($2)))`
      : '';
    for (;;) {
      const fresh: { id: string }[] = await this.ds.query(
        `SELECT r.id FROM resident r
          WHERE r.status = 'ACTIVE' AND NOT EXISTS (SELECT 1 FROM sync_state s WHERE s.target = $1 AND s.aggregate_type = 'RESIDENT' AND s.aggregate_id = r.id)
            ${tagFilter}
          LIMIT ${PAGE}`,
        sqlFilterable ? [target.name, target.subscribe.tags] : [target.name],
      );
      if (fresh.length === 0) break;
      const ids = fresh.map((f) => f.id);
      const views = await loadViews(this.ds.manager, ids);
      const events = await latestEventFor(this.ds.manager, ids);
      const rows = ids.flatMap((id) => {
        const v = views.get(id);
        return v ? [{ target: target.name, residentId: id, event: events.get(id) ?? 0, version: Number(v.version), subscribed: subscribes(target, v) }] : [];
      });
      const store = new SyncStateStore(this.ds.manager);
      await store.want(rows); // in the one lock order of every sync_state writer (SyncStateStore)
      for (const r of rows.filter((x) => !x.subscribed)) await store.applied(target.name, r.residentId, r.event, r.version, 'NOT_SUBSCRIBED', null);
      const jobs = rows.filter((r) => r.subscribed).map(deliverJobOf);
      if (target.schedule.mode === 'realtime') await enqueueDeliveries(this.queues, jobs);
      initialLoad += jobs.length;
      if (fresh.length < PAGE) break;
    }
    return { target: target.name, requeued: behind.length, initialLoad, schedulerRestored };
  }

  /**
   * Job schedulers live in Redis only: after Redis lost its data a batch target would never run again until the
   * worker restarts. Each pass registers a missing (or changed) scheduler again. Returns whether it had to.
   */
  async ensureBatchScheduler(target: TargetConfig): Promise<boolean> {
    if (target.schedule.mode !== 'batch') return false;
    const queue = this.queues.get(target.name)!;
    const held = await queue.getJobScheduler(batchSchedulerId(target.name));
    if (held && held.pattern === target.schedule.cron && held.tz === SCHEDULE_TZ) return false;
    await upsertBatchScheduler(queue, target);
    return true;
  }

}
