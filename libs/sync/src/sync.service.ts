import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { AppConfig, DomainError, inRanges, RequestContext, requireUuid } from '@linli/core';
import { OutboundRecord } from './adapters/adapter';
import { BatchRunJob, DeliverJob, deliverJobOf, enqueueDeliveries, queueName, SyncJobName } from './jobs/sync-jobs';
import { loadViews } from './mapping/record-view';
import { mapRecord, subscribes } from './mapping/mapper';
import { TargetRegistry } from './targets/target-registry';
import { latestEventFor, SyncStateRow, SyncStateStore, WantRow } from './sync-state.store';
import { bullConnection, requireNoEviction } from './redis-connection';
import { Reconciler, ReconcileReport } from './reconciler';
import { compareWithTarget, DriftReport, notComparable } from './drift';
import { TargetConfigError } from './targets/target-config';

export const SYNC_QUEUES = Symbol('SYNC_QUEUES');

export function createQueues(registry: TargetRegistry, redisUrl: string): Map<string, Queue> {
  const connection = bullConnection(redisUrl);
  return new Map(registry.targets.map((t) => [t.name, new Queue(queueName(t.name), {
    connection,
    defaultJobOptions: {
      attempts: t.retry.attempts,
      backoff: { type: 'custom' },
      removeOnComplete: { age: 24 * 3600, count: 50_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  })]));
}

/** Starts a run of a batch target now: one BATCH_RUN job (what the cron scheduler adds), with a fresh id. */
export async function enqueueBatchRun(queue: Queue, target: string): Promise<string> {
  const data: BatchRunJob = { target };
  const job = await queue.add(SyncJobName.BATCH_RUN, data, { jobId: `batch-now-${target}-${Date.now()}` });
  return job.id!;
}

export interface TargetSummary {
  name: string; title: string; protocol: string; mode: string; waiting: number; delayed: number; active: number; pending: number; behindSeconds: number | null;
  delivered24h: number; deadLetters: number; failures24h: number; lastBatchAt: Date | null; lastBatchStatus: string | null;
}

/** Where did my record go: status per target, queues, dead letters, replays and dry runs. */
@Injectable()
export class SyncService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly reconciler: Reconciler;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly registry: TargetRegistry,
    @Inject(SYNC_QUEUES) private readonly queues: Map<string, Queue>,
    private readonly config: AppConfig,
  ) {
    this.reconciler = new Reconciler(ds, registry.targets, queues);
  }

  /**
   * The API (replays, reconcileSync, runSyncBatch, drift repairs) and the CLI add jobs too: like the worker, they
   * refuse a Redis that may evict queued jobs under memory pressure.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (this.queues.size === 0) return;
    const check = bullConnection(this.config.get('REDIS_URL'), { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await check.connect();
      await requireNoEviction(check);
    } finally {
      check.disconnect();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    const connections = new Set([...this.queues.values()].map((q) => q.opts.connection));
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    for (const c of connections) await (c as { quit?: () => Promise<unknown> }).quit?.().catch(() => undefined);
  }

  private requireTarget(name: string, field = 'target') {
    const t = this.registry.get(name);
    if (!t) throw DomainError.badInput(field, `同步目标 ${name} 不存在`, `Sync target ${name} does not exist`);
    return t;
  }

  private async requireVisibleResident(ctx: RequestContext, id: string, field: string): Promise<void> {
    const residentId = requireUuid(id, field);
    const [r] = await this.ds.query(`SELECT community_code FROM resident WHERE id = $1`, [residentId]);
    if (!r || !inRanges(r.community_code, ctx.access.jurisdiction)) throw DomainError.notFound('Resident', residentId, field);
  }

  async status(ctx: RequestContext, residentId: string): Promise<(SyncStateRow & { title: string })[]> {
    await this.requireVisibleResident(ctx, residentId, 'residentId');
    const rows: SyncStateRow[] = await this.ds.query(`SELECT * FROM sync_state WHERE aggregate_type = 'RESIDENT' AND aggregate_id = $1 ORDER BY target`, [residentId]);
    return rows.filter((r) => this.registry.get(r.target)).map((r) => ({ ...r, title: this.registry.get(r.target)!.title }));
  }

  async targets(): Promise<TargetSummary[]> {
    const out: TargetSummary[] = [];
    for (const t of this.registry.targets) {
      const counts = await this.queues.get(t.name)!.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
      const [s] = await this.ds.query(
        `SELECT count(*) FILTER (WHERE status = 'PENDING')::int AS pending,
                extract(epoch FROM now() - min(first_wanted_at) FILTER (WHERE status = 'PENDING'))::float AS behind,
                count(*) FILTER (WHERE status = 'DELIVERED' AND delivered_at > now() - interval '1 day')::int AS delivered
           FROM sync_state WHERE target = $1`, [t.name]);
      const [d] = await this.ds.query(`SELECT count(*) FILTER (WHERE replayed_at IS NULL)::int AS open, count(*) FILTER (WHERE created_at > now() - interval '1 day')::int AS day FROM sync_dead_letter WHERE target = $1`, [t.name]);
      const [b] = await this.ds.query(`SELECT created_at, status FROM sync_batch_run WHERE target = $1 ORDER BY created_at DESC LIMIT 1`, [t.name]);
      out.push({
        name: t.name, title: t.title, protocol: t.protocol, mode: t.schedule.mode, waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0), delayed: counts.delayed ?? 0,
        active: counts.active ?? 0, pending: s.pending, behindSeconds: s.behind, delivered24h: s.delivered, deadLetters: d.open, failures24h: d.day,
        lastBatchAt: b?.created_at ?? null, lastBatchStatus: b?.status ?? null,
      });
    }
    return out;
  }

  async deadLetters(target: string, first: number, after: string | null) {
    this.requireTarget(target);
    const rows: { id: string; aggregate_id: string; version: number; answer: string; created_at: Date; replayed_at: Date | null }[] = await this.ds.query(
      `SELECT id::text, aggregate_id, version, answer, created_at, replayed_at FROM sync_dead_letter
        WHERE target = $1 AND replayed_at IS NULL AND ($2::bigint IS NULL OR id > $2::bigint) ORDER BY id LIMIT $3`,
      [target, after && /^\d+$/.test(after) ? after : null, first + 1],
    );
    const [{ n }] = await this.ds.query(`SELECT count(*)::int AS n FROM sync_dead_letter WHERE target = $1 AND replayed_at IS NULL`, [target]);
    return { rows: rows.slice(0, first), total: n as number, next: rows.length > first ? rows[first - 1].id : null };
  }

  /**
   * Sends records again: one record to one target, one record to all its targets, or every open dead letter of a
   * target. The records are read anew, so a record corrected in the register goes out corrected.
   */
  async replay(ctx: RequestContext, input: { target?: string | null; residentId?: string | null; allDeadLetters?: boolean | null }): Promise<number> {
    const targets = input.target ? [this.requireTarget(input.target)] : this.registry.targets;
    let ids: { target: string; id: string }[] = [];
    if (input.residentId) {
      await this.requireVisibleResident(ctx, input.residentId, 'residentId');
      ids = targets.map((t) => ({ target: t.name, id: input.residentId! }));
    } else if (input.allDeadLetters && input.target) {
      const rows: { aggregate_id: string }[] = await this.ds.query(`SELECT DISTINCT aggregate_id FROM sync_dead_letter WHERE target = $1 AND replayed_at IS NULL`, [input.target]);
      ids = rows.map((r) => ({ target: input.target!, id: r.aggregate_id }));
    } else {
      throw DomainError.badInput('input', '请指定居民，或指定目标并选择重放全部死信', 'Give a resident, or a target with allDeadLetters');
    }
    return this.resend(ids, true);
  }

  /**
   * Forgets what the targets were thought to hold for these records and marks them wanted at their newest event (one
   * transaction, set-based: a replay of thousands of dead letters is a few statements), then, for realtime targets,
   * enqueues a job with a fresh id per record (a replay is not skipped as a repeat of the job that failed); batch targets
   * take them in their next run. Returns how many records it queued.
   */
  private async resend(ids: { target: string; id: string }[], markDeadLettersReplayed: boolean): Promise<number> {
    const unique = [...new Set(ids.map((i) => i.id))];
    const events = await latestEventFor(this.ds.manager, unique);
    const views = await loadViews(this.ds.manager, unique);
    const rows = new Map<string, WantRow>();
    for (const { target, id } of ids) {
      const view = views.get(id);
      if (view) rows.set(`${target}|${id}`, { target, residentId: id, event: events.get(id) ?? 0, version: Number(view.version) });
    }
    if (rows.size === 0) return 0;
    const wanted = [...rows.values()];
    const jobs: DeliverJob[] = wanted
      .filter((r) => this.registry.get(r.target)!.schedule.mode === 'realtime')
      .map(deliverJobOf);
    await this.ds.transaction(async (m) => {
      await new SyncStateStore(m).resend(wanted);
      if (markDeadLettersReplayed) {
        await m.query(
          `UPDATE sync_dead_letter d SET replayed_at = now() FROM jsonb_to_recordset($1::jsonb) AS x(target text, id uuid)
            WHERE d.target = x.target AND d.aggregate_id = x.id AND d.replayed_at IS NULL`,
          [JSON.stringify(wanted.map((r) => ({ target: r.target, id: r.residentId })))],
        );
      }
      // Inside the transaction, as the relay does: if Redis refuses, nothing is marked replayed and the caller sees the
      // error. A job that reaches Redis when the commit then fails reads the old state and is skipped as stale.
      await enqueueDeliveries(this.queues, jobs, `|replay-${Date.now()}`);
    });
    return wanted.length;
  }

  /** Exactly what would be sent to a target for a resident, after mapping, without sending. */
  async dryRun(ctx: RequestContext, target: string, residentId: string): Promise<{ record: OutboundRecord | null; subscribed: boolean; problem: string | null }> {
    const t = this.requireTarget(target);
    await this.requireVisibleResident(ctx, residentId, 'residentId');
    const view = (await loadViews(this.ds.manager, [residentId])).get(residentId)!;
    try {
      return { record: mapRecord(t, view, residentId), subscribed: subscribes(t, view), problem: null };
    } catch (err) {
      return { record: null, subscribed: subscribes(t, view), problem: err instanceof Error ? err.message : String(err) };
    }
  }

  reconcile(target?: string | null): Promise<ReconcileReport[]> {
    if (target) return this.reconciler.reconcile(this.requireTarget(target), 0).then((r) => [r]);
    return this.reconciler.reconcileAll(0);
  }

  /** Starts a batch target's run now instead of at its next cron time; the worker takes the job. */
  async runBatch(target: string): Promise<{ target: string; jobId: string }> {
    const t = this.requireTarget(target);
    if (t.schedule.mode !== 'batch') {
      throw DomainError.badInput('target', `同步目标 ${t.name} 不是批量目标，记录变更后即实时发送`, `Sync target ${t.name} is not a batch target: it is sent each change as it happens`);
    }
    return { target: t.name, jobId: await enqueueBatchRun(this.queues.get(t.name)!, t.name) };
  }

  /**
   * Compares what a listable target holds with what the hub believes it delivered: keys, and content hashes where
   * the adapter can compute them. With `repair`, every drifted record is sent again (missing and differing ones as
   * they are now, unexpected ones as the DELETE they should have been).
   */
  async drift(target: string, repair = false): Promise<DriftReport> {
    const t = this.requireTarget(target);
    if (t.schedule.mode !== 'realtime') return notComparable(t.name);
    let adapter;
    try {
      adapter = this.registry.adapter(t);
    } catch (err) {
      if (err instanceof TargetConfigError) {
        throw DomainError.invalidState(`同步目标 ${t.name} 缺少凭据，无法读取其数据`, `Sync target ${t.name} has credentials missing in this process and cannot be read`, 'target');
      }
      throw err;
    }
    if (adapter.kind !== 'realtime') return notComparable(t.name);
    const { report, drifted } = await compareWithTarget(this.ds, t, adapter, AbortSignal.timeout(60_000));
    if (repair && drifted.length > 0) report.requeued = await this.resend(drifted.map((id) => ({ target: t.name, id })), false);
    return report;
  }
}
