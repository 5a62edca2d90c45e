import type { Queue } from 'bullmq';

/** Typed jobs of the sync hub. Payloads carry ids and versions only, never personal data. */
export enum SyncJobName {
  DELIVER = 'deliver',
  BATCH_RUN = 'batch-run',
}

export interface DeliverJob {
  target: string;
  aggregateType: 'RESIDENT';
  aggregateId: string;
  /** The outbox event that made this delivery necessary (0: initial load by the reconciler). */
  event: number;
  /** The register version at that event, for people reading the queue. */
  version: number;
}

export interface BatchRunJob {
  target: string;
}

/** One queue per target, so a slow or dead system never holds up the others. */
export function queueName(target: string): string {
  return `sync-${target}`;
}

/** Deterministic: relaying the same event twice (after a crash) adds no second job. */
export function deliverJobId(job: Pick<DeliverJob, 'target' | 'aggregateId' | 'event'>): string {
  return `${job.target}|${job.aggregateId}|${job.event}`;
}

/** The delivery job for a record wanted at a target (a SyncStateStore `WantRow`). */
export function deliverJobOf(row: { target: string; residentId: string; event: number; version: number }): DeliverJob {
  return { target: row.target, aggregateType: 'RESIDENT', aggregateId: row.residentId, event: row.event, version: row.version };
}

/**
 * Adds delivery jobs to their targets' queues in bulk (at most 1,000 per call). The job id is `deliverJobId`, plus
 * `idSuffix` when the job must not be taken for a repeat of an earlier one (a replay).
 */
export async function enqueueDeliveries(queues: ReadonlyMap<string, Queue>, jobs: DeliverJob[], idSuffix = ''): Promise<void> {
  const byTarget = new Map<string, DeliverJob[]>();
  for (const job of jobs) {
    const list = byTarget.get(job.target);
    if (list) list.push(job);
    else byTarget.set(job.target, [job]);
  }
  for (const [target, list] of byTarget) {
    const queue = queues.get(target)!;
    for (let i = 0; i < list.length; i += 1000) {
      await queue.addBulk(list.slice(i, i + 1000).map((data) => ({ name: SyncJobName.DELIVER, data, opts: { jobId: `${deliverJobId(data)}${idSuffix}` } })));
    }
  }
}
