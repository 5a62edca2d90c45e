import { DelayedError, Job } from 'bullmq';
import { setMaxListeners } from 'events';
import { DataSource } from 'typeorm';
import { PoolClient, QueryResultRow } from 'pg';
import { Logger } from 'pino';
import { DeliverJob } from './jobs/sync-jobs';
import { DeliveryResult, OutboundRecord } from './adapters/adapter';
import { HubView, viewsFromRows } from './mapping/record-view';
import { mapRecord, MappingError, subscribes } from './mapping/mapper';
import { msUntilOpen, TargetRegistry } from './targets/target-registry';
import { TargetConfig } from './targets/target-config';
import { BATCH_OUTCOMES_SQL, batchOutcomeParams, BatchOutcomes, BATCH_READS_SQL, BatchReadRow } from './sync-state.store';
import { SyncMetrics } from './sync-metrics';
import { MicroBatcher, Settled } from './micro-batcher';
import { advisoryKey, RecordLocks } from './record-locks';

export type DeliveryOutcome = 'DELIVERED' | 'DUPLICATE' | 'SKIPPED_STALE' | 'NOT_SUBSCRIBED' | 'REJECTED' | 'GONE' | 'GAVE_UP';

/** What one job of a batch ends with; `process` turns it into BullMQ's terms for that job alone. */
type Verdict =
  | { kind: 'DONE'; outcome: DeliveryOutcome }
  /** Wait without using an attempt (back-pressure, a concurrent delivery of the same record). */
  | { kind: 'LATER'; delayMs: number; reason: string }
  /** A failure that uses an attempt: BullMQ retries with backoff and jitter. */
  | { kind: 'RETRY'; reason: string };

/** One statement, prepared by name on the connection it runs on. */
type PreparedQuery = <R>(name: string, text: string, values: unknown[]) => Promise<R[]>;

/**
 * How jobs of one target are gathered into a batch: at most half the target's concurrency (so that one batch fills
 * while another is at the target), up to 50; the first job waits at most 4 ms for others.
 */
const batchLimits = (concurrency: number) => ({ maxSize: Math.max(1, Math.min(50, Math.ceil(concurrency / 2))), maxWaitMs: 4 });

/** A concurrent delivery of the same record holds it: come back shortly, without using an attempt. */
const BUSY: Verdict = { kind: 'LATER', delayMs: 200, reason: 'another delivery of this record is in progress' };

/** The PostgreSQL error code of a deadlock victim: the whole transaction can simply run again. */
const DEADLOCK = '40P01';
const WRITE_TRIES = 3;

/** What the target holds of a record, as far as the hub knows. */
interface HeldState {
  applied: number;
  status: string;
  delivered: boolean;
}

/** One record of a batch, from the read round to the written outcome. */
interface Item {
  job: Job<DeliverJob>;
  state: HeldState | undefined;
  /** The latest event that touched the record when it was read (what a delivery now records as applied). */
  current: number;
  view: HubView | undefined;
  record?: OutboundRecord;
}

/** A batch's outcomes start empty; they are written in one statement after the target has answered. */
function noOutcomes(): BatchOutcomes {
  return { settled: [], failed: [], dead: [], stale: [], acked: [] };
}

/**
 * Delivers records to a realtime target. Jobs of one target that are active at the same time form a batch (a few
 * milliseconds or `maxSize` jobs): one statement takes the per-record locks, one set-based read takes the state,
 * the latest events and the views of all its records, the adapter calls run in parallel (the protocols are per
 * record), and one statement writes all outcomes. Each job still ends on its own: delivered, skipped, dead letter,
 * or a retry — back-pressure (429, 503, closed hours) delays the job without using an attempt, failures use one
 * with exponential backoff and jitter.
 *
 * Reads take the newest state from PostgreSQL (a late job sends the newest version); a job older than what the target
 * already holds is skipped and recorded.
 */
export class DeliveryProcessor {
  private readonly batcher: MicroBatcher<string, Job<DeliverJob>, Verdict>;
  private readonly locks: RecordLocks;

  constructor(
    private readonly ds: DataSource,
    private readonly registry: TargetRegistry,
    private readonly metrics: SyncMetrics,
    private readonly logger: Logger,
    /** The database's address, for the record locks' own connection (outside the pool). */
    databaseUrl: string,
  ) {
    this.locks = new RecordLocks(databaseUrl, logger);
    this.batcher = new MicroBatcher(
      (target, jobs) => this.deliverBatch(target, jobs),
      (target) => batchLimits(this.registry.get(target)?.limits.concurrency ?? 1),
    );
  }

  async process(job: Job<DeliverJob>, token: string | undefined): Promise<DeliveryOutcome> {
    const target = this.registry.get(job.data.target);
    if (!target) throw new Error(`unknown target ${job.data.target}`);
    const wait = msUntilOpen(target);
    if (wait > 0) return this.later(job, token, wait, 'outside service hours');
    const verdict = await this.batcher.submit(target.name, job);
    switch (verdict.kind) {
      case 'DONE':
        return verdict.outcome;
      case 'LATER':
        return this.later(job, token, verdict.delayMs, verdict.reason);
      case 'RETRY':
        throw new Error(verdict.reason);
      default: {
        const never: never = verdict;
        throw new Error(`unknown verdict ${JSON.stringify(never)}`);
      }
    }
  }

  /** One batch of one target; every job gets its own verdict (or its own error). */
  private async deliverBatch(targetName: string, jobs: Job<DeliverJob>[]): Promise<Settled<Verdict>[]> {
    const target = this.registry.get(targetName)!;
    const verdicts = new Map<Job<DeliverJob>, Settled<Verdict>>();
    // One job per record goes ahead; another job of the same record in this batch waits like any concurrent delivery.
    const leaders = new Map<string, Job<DeliverJob>>();
    for (const job of jobs) {
      if (leaders.has(job.data.aggregateId)) verdicts.set(job, { ok: true, value: BUSY });
      else leaders.set(job.data.aggregateId, job);
    }
    const keyOf = new Map([...leaders.keys()].map((id) => [id, advisoryKey(target.name, id)]));
    const got = await this.locks.tryLock([...keyOf.values()]);
    const locked = [...leaders.values()].filter((job) => got.has(keyOf.get(job.data.aggregateId)!));
    for (const job of leaders.values()) if (!got.has(keyOf.get(job.data.aggregateId)!)) verdicts.set(job, { ok: true, value: BUSY });
    try {
      if (locked.length) for (const [job, v] of await this.deliverLocked(target, locked)) verdicts.set(job, v);
    } catch (error) {
      // The reads or the outcome's transaction failed: every locked job counts a failed attempt, as one job alone
      // would. What was sent meanwhile is sent again on the retry; the target takes it as a duplicate.
      for (const job of locked) verdicts.set(job, { ok: false, error });
    } finally {
      // Only after the outcomes are committed: the next delivery of these records reads what this one wrote.
      this.locks.unlock([...got]);
    }
    return jobs.map((job) => verdicts.get(job) ?? { ok: false, error: new Error('delivery batch left a job without an outcome') });
  }

  /**
   * The records of `jobs` are locked: read, decide, send, write. No database connection is held while the target
   * is called; the reads and the write each borrow one from the pool.
   */
  private async deliverLocked(target: TargetConfig, jobs: Job<DeliverJob>[]): Promise<Map<Job<DeliverJob>, Settled<Verdict>>> {
    const out = new Map<Job<DeliverJob>, Settled<Verdict>>();
    const writes = noOutcomes();
    // The state, the latest event and the view in one statement, hence one snapshot: the view is the record as of
    // the event recorded as applied (an event commits with its change).
    const items = await this.withConnection(async (query) => {
      const rows = await query<BatchReadRow>('linli_sync_batch_reads', BATCH_READS_SQL, [target.name, jobs.map((j) => j.data.aggregateId), jobs.map((j) => j.data.event)]);
      const byId = new Map(rows.map((r) => [r.id, r]));
      const views = viewsFromRows(rows.flatMap((r) => (r.view ? [r.view] : [])));
      const live: Item[] = [];
      for (const job of jobs) {
        const row = byId.get(job.data.aggregateId);
        const state = row?.status ? { applied: Number(row.applied ?? -1), status: row.status, delivered: row.delivered } : undefined;
        const { aggregateId, event } = job.data;
        if (state && state.applied >= event && event > 0) {
          writes.stale.push({ target: target.name, residentId: aggregateId, event, appliedEvent: state.applied });
          out.set(job, { ok: true, value: { kind: 'DONE', outcome: 'SKIPPED_STALE' } });
        } else live.push({ job, state, current: Number(row?.event ?? 0), view: views.get(aggregateId) });
      }
      return live;
    });
    const sending: Item[] = [];
    for (const item of items) {
      try {
        const verdict = this.decide(target, item, writes);
        if (verdict) out.set(item.job, { ok: true, value: verdict });
        else sending.push(item);
      } catch (error) {
        out.set(item.job, { ok: false, error });
      }
    }
    const adapter = this.registry.realtimeAdapter(target);
    const failed = (err: unknown): DeliveryResult => ({ kind: 'RETRY', reason: err instanceof Error ? err.message : String(err), countsAsAttempt: true });
    let answers: DeliveryResult[];
    if (adapter.deliverMany && sending.length > 1) {
      // One exchange for the batch (the adapter's own transaction); every record's attempt took that long.
      const started = process.hrtime.bigint();
      answers = await adapter.deliverMany(sending.map((item) => item.record!), AbortSignal.timeout(target.limits.timeoutMs))
        .catch((err: unknown) => sending.map(() => failed(err)));
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      for (let i = 0; i < sending.length; i++) this.metrics.attemptSeconds.observe({ target: target.name }, seconds);
    } else {
      // The calls start together, so one deadline bounds each of them (AbortSignal.timeout is dear: ~3 % of the
      // worker's CPU when made per record).
      const signal = AbortSignal.timeout(target.limits.timeoutMs);
      setMaxListeners(sending.length + 1, signal); // every call listens to it
      answers = await Promise.all(sending.map(async (item) => {
        const started = process.hrtime.bigint();
        const result = await adapter.deliver(item.record!, signal).catch(failed);
        this.metrics.attemptSeconds.observe({ target: target.name }, Number(process.hrtime.bigint() - started) / 1e9);
        return result;
      }));
    }
    sending.forEach((item, i) => out.set(item.job, { ok: true, value: this.answered(target, item, answers[i]!, writes) }));
    const latencies = await this.write(target, writes);
    this.count(target, writes, latencies);
    return out;
  }

  /**
   * Runs statements on one pooled connection, as prepared statements: PostgreSQL plans the view statement (a dozen
   * joins, several milliseconds to plan) and the outcome statement once per connection instead of once per batch.
   */
  private async withConnection<T>(work: (query: PreparedQuery) => Promise<T>): Promise<T> {
    const runner = this.ds.createQueryRunner();
    const client = (await runner.connect()) as PoolClient;
    try {
      return await work(async <R>(name: string, text: string, values: unknown[]) => (await client.query<R & QueryResultRow>({ name, text, values })).rows);
    } finally {
      await runner.release();
    }
  }

  /** The verdict of a record that is not sent (null: it is to be sent, with `item.record` mapped). */
  private decide(target: TargetConfig, item: Item, writes: BatchOutcomes): Verdict | null {
    const { aggregateId } = item.job.data;
    const { state, current, view } = item;
    if (!view) return { kind: 'DONE', outcome: 'GONE' };
    if (state && state.applied >= current && state.status !== 'PENDING') return { kind: 'DONE', outcome: 'DUPLICATE' };
    const version = Number(view.version);
    if (!subscribes(target, view) && !state?.delivered) {
      writes.settled.push({ target: target.name, residentId: aggregateId, event: current, version, status: 'NOT_SUBSCRIBED', targetRef: null });
      return { kind: 'DONE', outcome: 'NOT_SUBSCRIBED' };
    }
    try {
      item.record = mapRecord(target, view, aggregateId);
      return null;
    } catch (err) {
      if (!(err instanceof MappingError)) throw err;
      writes.dead.push({ target: target.name, residentId: aggregateId, version, answer: `MAPPING: ${err.message}` });
      writes.failed.push({ target: target.name, residentId: aggregateId, error: `MAPPING: ${err.message}`, status: 'DEAD' });
      return { kind: 'DONE', outcome: 'REJECTED' };
    }
  }

  /** Turns the target's answer for one record into its writes and its verdict. */
  private answered(target: TargetConfig, item: Item, result: DeliveryResult, writes: BatchOutcomes): Verdict {
    const { job, current } = item;
    const { aggregateId, event } = job.data;
    const version = Number(item.view!.version);
    switch (result.kind) {
      case 'DELIVERED':
        writes.settled.push({ target: target.name, residentId: aggregateId, event: current, version, status: 'DELIVERED', targetRef: result.targetRef });
        if (event > 0) writes.acked.push(event);
        return { kind: 'DONE', outcome: result.duplicate ? 'DUPLICATE' : 'DELIVERED' };
      case 'REJECTED':
        writes.dead.push({ target: target.name, residentId: aggregateId, version, answer: result.answer });
        writes.failed.push({ target: target.name, residentId: aggregateId, error: result.answer, status: 'DEAD' });
        return { kind: 'DONE', outcome: 'REJECTED' };
      case 'RETRY': {
        this.metrics.retried.inc({ target: target.name, counted: String(result.countsAsAttempt) });
        if (!result.countsAsAttempt) {
          writes.failed.push({ target: target.name, residentId: aggregateId, error: result.reason, status: 'PENDING' });
          return { kind: 'LATER', delayMs: result.delayMs ?? 1000, reason: result.reason };
        }
        if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
          writes.dead.push({ target: target.name, residentId: aggregateId, version, answer: `GAVE UP after ${job.attemptsMade + 1} attempts: ${result.reason}` });
          writes.failed.push({ target: target.name, residentId: aggregateId, error: result.reason, status: 'FAILED' });
          return { kind: 'DONE', outcome: 'GAVE_UP' };
        }
        writes.failed.push({ target: target.name, residentId: aggregateId, error: result.reason, status: 'PENDING' });
        return { kind: 'RETRY', reason: result.reason };
      }
      default: {
        const never: never = result;
        throw new Error(`unknown result ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * All outcomes of a batch in one statement (BATCH_OUTCOMES_SQL): one round trip, one transaction, one WAL flush.
   * A deadlock with another writer of the same rows (PostgreSQL aborts one side) runs it again: it was rolled back
   * as a whole, and its writes are conditional.
   */
  private async write(target: TargetConfig, writes: BatchOutcomes): Promise<Map<number, number>> {
    const params = batchOutcomeParams(writes);
    for (let attempt = 1; ; attempt++) {
      try {
        const rows = await this.withConnection((query) => query<{ id: string; s: number }>('linli_sync_batch_outcomes', BATCH_OUTCOMES_SQL, params));
        return new Map(rows.map((r) => [Number(r.id), Number(r.s)]));
      } catch (err) {
        if ((err as { code?: string }).code !== DEADLOCK || attempt >= WRITE_TRIES) throw err;
        this.logger.debug({ target: target.name, attempt }, 'delivery batch write deadlocked; running it again');
      }
    }
  }

  private count(target: TargetConfig, writes: BatchOutcomes, latencies: Map<number, number>): void {
    const labels = { target: target.name };
    const delivered = writes.settled.filter((a) => a.status === 'DELIVERED').length;
    if (delivered) this.metrics.delivered.inc(labels, delivered);
    if (writes.dead.length) this.metrics.deadLettered.inc(labels, writes.dead.length);
    if (writes.stale.length) this.metrics.staleSkipped.inc(labels, writes.stale.length);
    for (const event of writes.acked) {
      const s = latencies.get(event);
      if (s !== undefined) this.metrics.commitToAck.observe(labels, s);
    }
  }

  /** Closes the lock connection (after the queue workers have stopped, so no batch holds a lock). */
  close(): Promise<void> {
    return this.locks.close();
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
