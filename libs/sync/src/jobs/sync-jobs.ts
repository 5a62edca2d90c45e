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
