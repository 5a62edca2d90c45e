import { createHash } from 'crypto';
import { DataSource } from 'typeorm';
import { OutboundRecord } from './adapters/adapter';
import { loadViews } from './mapping/record-view';
import { mapRecord, MappingError } from './mapping/mapper';
import { TargetConfig } from './targets/target-config';
import { TargetRegistry } from './targets/target-registry';
import { latestEventFor, SyncStateStore } from './sync-state.store';
import { advisoryKey } from './record-locks';
import { SyncMetrics } from './sync-metrics';

/** BUSY: another run of the same target holds its lock (a manual run beside the scheduled one); try again shortly. */
export type BatchOutcome = 'NOTHING_TO_SEND' | 'UPLOADED_WAITING' | 'ANSWERED' | 'BUSY';

interface RunRow {
  id: string;
  status: 'BUILT' | 'UPLOADED';
  file_name: string;
  content: Buffer;
  records: { aggregateId: string; version: number; event: number; key: string }[];
}

/**
 * One run of a file-based target: collects every record pending since the last successful run, writes one file,
 * uploads it (a failed upload is retried with the SAME file), then reads the target's answer back; rows the target
 * rejects become dead letters, accepted rows are applied.
 */
export class BatchRunner {
  constructor(private readonly ds: DataSource, private readonly registry: TargetRegistry, private readonly metrics: SyncMetrics) {}

  async run(target: TargetConfig, signal: AbortSignal): Promise<BatchOutcome> {
    // A run started by hand may meet the scheduled one: two runs would build and upload the same file twice.
    const runner = this.ds.createQueryRunner();
    await runner.connect();
    // One run of a target at a time, across workers.
    const key = advisoryKey('batch', target.name);
    try {
      const [{ locked }] = await runner.query('SELECT pg_try_advisory_lock($1::bigint) AS locked', [key]);
      if (!locked) return 'BUSY';
      try {
        return await this.runLocked(target, signal);
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
      }
    } finally {
      await runner.release();
    }
  }

  private async runLocked(target: TargetConfig, signal: AbortSignal): Promise<BatchOutcome> {
    const adapter = this.registry.batchAdapter(target);
    // A file the target never answered (lost, or the target failed before reading it) is uploaded again, unchanged.
    await this.ds.query(
      `UPDATE sync_batch_run SET status = 'BUILT' WHERE target = $1 AND status = 'UPLOADED' AND uploaded_at < now() - interval '10 minutes'`, [target.name]);
    let run = await this.openRun(target);
    if (!run) {
      run = await this.build(target);
      if (!run) return 'NOTHING_TO_SEND';
    }
    if (run.status === 'BUILT') {
      const result = await adapter.upload({ fileName: run.file_name, content: run.content }, signal);
      if (result.kind !== 'DELIVERED') {
        await this.ds.query(`UPDATE sync_batch_run SET attempts = attempts + 1, last_error = $2 WHERE id = $1`, [run.id, result.kind === 'REJECTED' ? result.answer : result.reason]);
        if (result.kind === 'REJECTED') {
          await this.ds.query(`UPDATE sync_batch_run SET status = 'FAILED' WHERE id = $1`, [run.id]);
          const store = new SyncStateStore(this.ds.manager);
          for (const r of run.records) await store.deadLetter(target.name, r.aggregateId, r.version, `FILE ${run.file_name}: ${result.answer}`);
          return 'ANSWERED';
        }
        throw new Error(`upload of ${run.file_name} failed: ${result.reason}`);
      }
      await this.ds.query(`UPDATE sync_batch_run SET status = 'UPLOADED', uploaded_at = now(), attempts = attempts + 1 WHERE id = $1`, [run.id]);
    }
    const answer = await adapter.fetchResult(run.file_name, signal);
    if (!answer) return 'UPLOADED_WAITING';
    const byKey = new Map(answer.map((a) => [a.key, a]));
    const store = new SyncStateStore(this.ds.manager);
    let rejected = 0;
    for (const r of run.records) {
      const a = byKey.get(r.key);
      if (!a) continue; // not answered: stays pending for the next run
      if (a.ok) {
        await store.applied(target.name, r.aggregateId, r.event, r.version, 'DELIVERED', run.file_name);
        this.metrics.delivered.inc({ target: target.name });
      } else {
        rejected += 1;
        await store.deadLetter(target.name, r.aggregateId, r.version, `${run.file_name}: ${a.answer}`);
        await store.failedAttempt(target.name, r.aggregateId, a.answer, 'DEAD');
        this.metrics.deadLettered.inc({ target: target.name });
      }
    }
    await this.ds.query(`UPDATE sync_batch_run SET status = 'ANSWERED', answered_at = now(), rejected = $2 WHERE id = $1`, [run.id, rejected]);
    return 'ANSWERED';
  }

  private async openRun(target: TargetConfig): Promise<RunRow | null> {
    const [row] = await this.ds.query(
      `SELECT id, status, file_name, content, records FROM sync_batch_run WHERE target = $1 AND status IN ('BUILT','UPLOADED') ORDER BY created_at LIMIT 1`,
      [target.name],
    );
    return row ?? null;
  }

  private async build(target: TargetConfig): Promise<RunRow | null> {
    const pending: { aggregate_id: string; delivered_at: Date | null }[] = await this.ds.query(
      `SELECT aggregate_id, delivered_at FROM sync_state WHERE target = $1 AND status = 'PENDING' AND (applied_event IS NULL OR applied_event < wanted_event)
        ORDER BY aggregate_id LIMIT 100000`,
      [target.name],
    );
    if (pending.length === 0) return null;
    const ids = pending.map((p) => p.aggregate_id);
    const neverDelivered = new Set(pending.filter((p) => !p.delivered_at).map((p) => p.aggregate_id));
    const views = await loadViews(this.ds.manager, ids);
    const events = await latestEventFor(this.ds.manager, ids);
    const store = new SyncStateStore(this.ds.manager);
    const records: OutboundRecord[] = [];
    const refs: RunRow['records'] = [];
    const adapter = this.registry.batchAdapter(target);
    for (const id of ids) {
      const view = views.get(id);
      if (!view) continue;
      try {
        const rec = mapRecord(target, view, id);
        if (rec.operation === 'DELETE' && neverDelivered.has(id)) {
          // It left the group before any file carried it: the target never had it, so there is nothing to remove.
          await store.applied(target.name, id, events.get(id) ?? 0, rec.version, 'NOT_SUBSCRIBED', null);
          continue;
        }
        if (rec.operation === 'DELETE' && adapter.omitsDeletions) {
          // The file cannot say "removed": without this the record would stay pending and come back every run.
          const answer = 'FILE: the target file cannot express a removal (declare endpoint.operationColumn) / 目标文件无法表示注销';
          await store.deadLetter(target.name, id, rec.version, answer);
          await store.failedAttempt(target.name, id, answer, 'DEAD');
          this.metrics.deadLettered.inc({ target: target.name });
          continue;
        }
        records.push(rec);
        refs.push({ aggregateId: id, version: rec.version, event: events.get(id) ?? 0, key: rec.key });
      } catch (err) {
        if (!(err instanceof MappingError)) throw err;
        await store.deadLetter(target.name, id, Number(view.version), `MAPPING: ${err.message}`);
        await store.failedAttempt(target.name, id, `MAPPING: ${err.message}`, 'DEAD');
      }
    }
    if (records.length === 0) return null;
    const runId = createHash('sha256').update(refs.map((r) => `${r.aggregateId}:${r.event}`).join(',')).digest('hex').slice(0, 12);
    const file = await adapter.render(records, runId, new Date());
    const [row] = await this.ds.query(
      `INSERT INTO sync_batch_run (target, status, file_name, file_sha256, content, records, record_count)
       VALUES ($1, 'BUILT', $2, $3, $4, $5, $6) RETURNING id, status, file_name, content, records`,
      [target.name, file.fileName, createHash('sha256').update(file.content).digest('hex'), file.content, JSON.stringify(refs), refs.length],
    );
    return row;
  }
}
