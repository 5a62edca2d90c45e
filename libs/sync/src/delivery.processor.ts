import { DelayedError, Job } from 'bullmq';
import { createHash } from 'crypto';
import { DataSource } from 'typeorm';
import { Logger } from 'pino';
import { DeliverJob } from './jobs/sync-jobs';
import { DeliveryResult } from './adapters/adapter';
import { loadViews } from './mapping/record-view';
import { mapRecord, MappingError, subscribes } from './mapping/mapper';
import { msUntilOpen, TargetRegistry } from './targets/target-registry';
import { TargetConfig } from './targets/target-config';
import { latestEventFor, SyncStateStore } from './sync-state.store';
import { SyncMetrics } from './sync-metrics';

export type DeliveryOutcome = 'DELIVERED' | 'DUPLICATE' | 'SKIPPED_STALE' | 'NOT_SUBSCRIBED' | 'REJECTED' | 'GONE' | 'GAVE_UP';

/** A per-(target, record) lock key, so two jobs for one record never race each other to the target. */
function lockKey(target: string, residentId: string): string {
  return createHash('sha256').update(`${target}|${residentId}`).digest().readBigInt64BE(0).toString();
}

/**
 * Delivers one record to one realtime target. Reads the newest state from PostgreSQL (a late job sends the newest
 * version); skips and records a job older than what the target already holds; maps to the target's fields; and
 * turns the adapter's answer into state: delivered, dead letter, or a retry — back-pressure (429, 503, closed hours)
 * delays the job without using an attempt, failures use one with exponential backoff and jitter.
 */
export class DeliveryProcessor {
  constructor(
    private readonly ds: DataSource,
    private readonly registry: TargetRegistry,
    private readonly metrics: SyncMetrics,
    private readonly logger: Logger,
  ) {}

  async process(job: Job<DeliverJob>, token: string | undefined): Promise<DeliveryOutcome> {
    const target = this.registry.get(job.data.target);
    if (!target) throw new Error(`unknown target ${job.data.target}`);
    const wait = msUntilOpen(target);
    if (wait > 0) return this.later(job, token, wait, 'outside service hours');
    const runner = this.ds.createQueryRunner();
    await runner.connect();
    const key = lockKey(target.name, job.data.aggregateId);
    try {
      const [{ locked }] = await runner.query('SELECT pg_try_advisory_lock($1::bigint) AS locked', [key]);
      if (!locked) return this.later(job, token, 200, 'another delivery of this record is in progress');
      try {
        return await this.deliverLocked(job, token, target, runner.manager);
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
      }
    } finally {
      await runner.release();
    }
  }

  private async deliverLocked(job: Job<DeliverJob>, token: string | undefined, target: TargetConfig, m: import('typeorm').EntityManager): Promise<DeliveryOutcome> {
    const store = new SyncStateStore(m);
    const { aggregateId, event } = job.data;
    const state = await store.get(target.name, aggregateId);
    const applied = Number(state?.applied_event ?? -1);
    if (state && applied >= event && event > 0) {
      await store.staleArrival(target.name, aggregateId, event, applied);
      this.metrics.staleSkipped.inc({ target: target.name });
      return 'SKIPPED_STALE';
    }
    // The event first, then the view: a change committing in between makes the view newer than the recorded event,
    // so that change's own job sends again (a duplicate at worst), instead of being marked sent unseen.
    const current = (await latestEventFor(m, [aggregateId])).get(aggregateId) ?? 0;
    const view = (await loadViews(m, [aggregateId])).get(aggregateId);
    if (!view) return 'GONE';
    if (state && applied >= current && state.status !== 'PENDING') return 'DUPLICATE';
    const version = Number(view.version);
    if (!subscribes(target, view) && !state?.delivered_at) {
      await store.want([{ target: target.name, residentId: aggregateId, event: current, version }]);
      await store.applied(target.name, aggregateId, current, version, 'NOT_SUBSCRIBED', null);
      return 'NOT_SUBSCRIBED';
    }
    let record;
    try {
      record = mapRecord(target, view, aggregateId);
    } catch (err) {
      if (!(err instanceof MappingError)) throw err;
      await store.deadLetter(target.name, aggregateId, version, `MAPPING: ${err.message}`);
      await store.failedAttempt(target.name, aggregateId, `MAPPING: ${err.message}`, 'DEAD');
      this.metrics.deadLettered.inc({ target: target.name });
      return 'REJECTED';
    }
    const adapter = this.registry.realtimeAdapter(target);
    const started = process.hrtime.bigint();
    const result: DeliveryResult = await adapter.deliver(record, AbortSignal.timeout(target.limits.timeoutMs)).catch((err: unknown): DeliveryResult => ({
      kind: 'RETRY', reason: err instanceof Error ? err.message : String(err), countsAsAttempt: true,
    }));
    this.metrics.attemptSeconds.observe({ target: target.name }, Number(process.hrtime.bigint() - started) / 1e9);
    switch (result.kind) {
      case 'DELIVERED': {
        await store.want([{ target: target.name, residentId: aggregateId, event: current, version }]);
        await store.applied(target.name, aggregateId, current, version, 'DELIVERED', result.targetRef);
        this.metrics.delivered.inc({ target: target.name });
        if (event > 0) {
          const [row] = await m.query(`SELECT extract(epoch FROM clock_timestamp() - occurred_at) AS s FROM outbox_event WHERE id = $1`, [event]);
          if (row) this.metrics.commitToAck.observe({ target: target.name }, Number(row.s));
        }
        return result.duplicate ? 'DUPLICATE' : 'DELIVERED';
      }
      case 'REJECTED':
        await store.deadLetter(target.name, aggregateId, version, result.answer);
        await store.failedAttempt(target.name, aggregateId, result.answer, 'DEAD');
        this.metrics.deadLettered.inc({ target: target.name });
        return 'REJECTED';
      case 'RETRY': {
        this.metrics.retried.inc({ target: target.name, counted: String(result.countsAsAttempt) });
        if (!result.countsAsAttempt) {
          await store.failedAttempt(target.name, aggregateId, result.reason, 'PENDING');
          return this.later(job, token, result.delayMs ?? 1000, result.reason);
        }
        const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        if (final) {
          await store.deadLetter(target.name, aggregateId, version, `GAVE UP after ${job.attemptsMade + 1} attempts: ${result.reason}`);
          await store.failedAttempt(target.name, aggregateId, result.reason, 'FAILED');
          this.metrics.deadLettered.inc({ target: target.name });
          return 'GAVE_UP';
        }
        await store.failedAttempt(target.name, aggregateId, result.reason, 'PENDING');
        throw new Error(result.reason);
      }
      default: {
        const never: never = result;
        throw new Error(`unknown result ${JSON.stringify(never)}`);
      }
    }
  }

  /** Waits without using an attempt (back-pressure, closed hours, a concurrent delivery of the same record). */
  private async later(job: Job<DeliverJob>, token: string | undefined, delayMs: number, reason: string): Promise<never> {
    this.logger.debug({ target: job.data.target, jobId: job.id, delayMs, reason }, 'delivery delayed');
    await job.moveToDelayed(Date.now() + Math.max(50, delayMs), token);
    throw new DelayedError();
  }
}

/** Exponential backoff with jitter: base·2^(n−1), capped, times a random factor in [0.5, 1). */
export function backoffWithJitter(attemptsMade: number, baseMs: number, maxMs: number): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(exp * (0.5 + Math.random() / 2));
}
