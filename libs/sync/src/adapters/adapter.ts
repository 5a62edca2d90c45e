/**
 * The contract between the sync hub and one legacy system. An adapter speaks one protocol (REST, SOAP, SQL staging,
 * batch files, XML packages); everything target-specific (endpoint, field names, codes, encodings) comes from the
 * target file, so a new system that speaks a supported protocol needs configuration, not code.
 */

/** One record as the target will receive it: target field names and target codes, already mapped. */
export interface OutboundRecord {
  /** Target name, e.g. `ga-ldrk`. */
  target: string;
  aggregateType: 'RESIDENT' | 'HOUSEHOLD';
  /** The hub's stable uid of the record. */
  aggregateId: string;
  /** The register version the fields were read at. */
  version: number;
  /** Value of the target's key field (e.g. the ID number for P1, the wife's ID number for P4). */
  key: string;
  /** What happened: UPSERT for a live record, DELETE when it left (moved out, died, merged, no longer subscribed). */
  operation: 'UPSERT' | 'DELETE';
  fields: Record<string, string | number | boolean | null>;
}

export type DeliveryResult =
  /** The target took it. `targetRef` is the target's own reference, if it gives one. */
  | { kind: 'DELIVERED'; targetRef: string | null; duplicate?: boolean }
  /** The target says the record is invalid: permanent, goes to dead letters with the answer. */
  | { kind: 'REJECTED'; answer: string }
  /**
   * Try again later. `countsAsAttempt` false for back-pressure (429, 503, outside service hours): the queue slows
   * down without using up attempts; true for failures (timeouts, 5xx, connection refused).
   */
  | { kind: 'RETRY'; reason: string; delayMs?: number; countsAsAttempt: boolean };

/** A target that takes records one by one as they change. */
export interface RealtimeAdapter {
  readonly kind: 'realtime';
  deliver(record: OutboundRecord, signal: AbortSignal): Promise<DeliveryResult>;
  /**
   * Several records of one delivery batch in one exchange with the target (e.g. one transaction of a staging
   * database instead of one per record); one result per record, in order. Optional: without it the hub calls
   * `deliver` for each record in parallel. A record the target refuses must not fail the others.
   */
  deliverMany?(records: OutboundRecord[], signal: AbortSignal): Promise<DeliveryResult[]>;
  /** Reads back what the target holds for a key (for reconciliation), when the target can be read. */
  readBack?(key: string, signal: AbortSignal): Promise<Record<string, unknown> | null>;
  /** Every key the target holds, with a content hash, when it can be listed (drift report). */
  listKeys?(signal: AbortSignal): Promise<Map<string, string> | null>;
  /**
   * The hash `listKeys` would report for this record once the target holds it, computed from the mapped fields the
   * same way the target does (drift report: content compared, not only keys). Absent: only keys are compared.
   */
  contentHash?(record: OutboundRecord): string;
  close(): Promise<void>;
}

/** One row of a target's answer to a batch file. */
export interface BatchRowResult {
  key: string;
  ok: boolean;
  answer: string;
}

/** A target that takes a file per run (monthly workbooks, XML packages). */
export interface BatchAdapter {
  readonly kind: 'batch';
  /**
   * True when the file format cannot carry a removal (a `file-batch` target without `operationColumn`): DELETE
   * records are left out of the file, and the hub turns them into dead letters instead of resending them each run.
   */
  readonly omitsDeletions?: boolean;
  /** Builds the file for a run from the mapped records (deterministic: the same records give the same bytes). */
  render(records: OutboundRecord[], runId: string, now: Date): Promise<{ fileName: string; content: Buffer }>;
  /** Puts the file where the target picks it up; uploading the same file twice must be harmless. */
  upload(file: { fileName: string; content: Buffer }, signal: AbortSignal): Promise<DeliveryResult>;
  /** The target's answer for a file, or null while it has not answered yet. */
  fetchResult(fileName: string, signal: AbortSignal): Promise<BatchRowResult[] | null>;
  close(): Promise<void>;
}

export type TargetAdapter = RealtimeAdapter | BatchAdapter;

/** Reads a credential that the target file names by environment variable. */
export type SecretResolver = (envName: string) => string;

/** Builds an adapter from the target's `endpoint` block (validated by the adapter's own zod schema). */
export interface AdapterFactory {
  readonly protocol: string;
  /** Throws a readable error naming the endpoint key that is wrong. */
  validateEndpoint(endpoint: unknown): void;
  create(target: { name: string; endpoint: Record<string, unknown>; credentials: Record<string, string> }): TargetAdapter;
}
