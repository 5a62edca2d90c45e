import { DataSource } from 'typeorm';
import { RealtimeAdapter } from './adapters/adapter';
import { loadViews } from './mapping/record-view';
import { mapRecord, MappingError, subscribes } from './mapping/mapper';
import { TargetConfig } from './targets/target-config';
import { latestEventFor } from './sync-state.store';

/** At most this many resident ids per list in a report; the counts are always complete. */
export const DRIFT_MAX_IDS = 1000;
const PAGE = 2000;

/**
 * What a target holds compared with what the hub believes it delivered. Lists carry resident ids only (no keys, no
 * fields): keys are ID numbers and the fields are personal data.
 */
export interface DriftReport {
  target: string;
  /** False when the target cannot be listed (batch targets, SOAP): nothing else in the report means anything. */
  comparable: boolean;
  /** True when content hashes were compared too, not only keys. */
  comparesContent: boolean;
  /** Records the target should hold now, by the hub's books. */
  expected: number;
  /** Keys the target holds. */
  atTarget: number;
  /** Records the target should hold and does not. */
  missing: number;
  /** Records the target holds with other content than the hub's current mapping. */
  differing: number;
  /** Records the target holds that it should not (they left its group, or were never sent). */
  unexpected: number;
  /** Keys at the target that match no record the hub knows for this target (counted only). */
  unknownAtTarget: number;
  /** Records with a change still on its way (pending, failed, dead): left out of the comparison. */
  notCompared: number;
  missingIds: string[];
  differingIds: string[];
  unexpectedIds: string[];
  /** Records sent again (repairSyncDrift); 0 for a report only. */
  requeued: number;
}

export function notComparable(target: string): DriftReport {
  return {
    target, comparable: false, comparesContent: false, expected: 0, atTarget: 0, missing: 0, differing: 0, unexpected: 0, unknownAtTarget: 0,
    notCompared: 0, missingIds: [], differingIds: [], unexpectedIds: [], requeued: 0,
  };
}

/**
 * Compares a listable target with the hub's books. Only settled records are compared: state DELIVERED or
 * NOT_SUBSCRIBED with no newer outbox event than the one applied. For those, a record the target should hold must
 * be there (with the hash of its current mapping, when the adapter can compute it), and a record it should not hold
 * (left the group, never subscribed) must be absent. Records still in flight are counted in `notCompared`.
 * Returns the report and every drifted resident id (uncapped), so that a repair can send them again.
 */
export async function compareWithTarget(
  ds: DataSource,
  target: TargetConfig,
  adapter: RealtimeAdapter,
  signal: AbortSignal,
): Promise<{ report: DriftReport; drifted: string[] }> {
  const report = notComparable(target.name);
  if (!adapter.listKeys) return { report, drifted: [] };
  const held = await adapter.listKeys(signal);
  if (!held) return { report, drifted: [] };
  report.comparable = true;
  report.comparesContent = typeof adapter.contentHash === 'function';
  report.atTarget = held.size;

  const expected = new Map<string, { id: string; hash: string | null }>();
  const owner = new Map<string, string>();
  const inFlight = new Set<string>();
  const missing: string[] = [];
  const differing: string[] = [];
  const unexpected: string[] = [];

  for (let after = '00000000-0000-0000-0000-000000000000'; ;) {
    const rows: { aggregate_id: string; status: string; applied_event: string | null }[] = await ds.query(
      `SELECT aggregate_id, status, applied_event::text FROM sync_state
        WHERE target = $1 AND aggregate_type = 'RESIDENT' AND aggregate_id > $2 ORDER BY aggregate_id LIMIT ${PAGE}`,
      [target.name, after],
    );
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.aggregate_id;
    const ids = rows.map((r) => r.aggregate_id);
    const views = await loadViews(ds.manager, ids);
    const events = await latestEventFor(ds.manager, ids);
    for (const row of rows) {
      const view = views.get(row.aggregate_id);
      if (!view) continue;
      let record;
      try {
        record = mapRecord(target, view, row.aggregate_id);
      } catch (err) {
        if (!(err instanceof MappingError)) throw err;
        report.notCompared += 1; // unmappable: in dead letters already
        continue;
      }
      owner.set(record.key, row.aggregate_id);
      const settled = (row.status === 'DELIVERED' || row.status === 'NOT_SUBSCRIBED')
        && row.applied_event !== null && (events.get(row.aggregate_id) ?? 0) <= Number(row.applied_event);
      if (!settled) {
        inFlight.add(record.key);
        report.notCompared += 1;
        continue;
      }
      if (row.status === 'DELIVERED' && subscribes(target, view)) {
        expected.set(record.key, { id: row.aggregate_id, hash: adapter.contentHash ? adapter.contentHash(record) : null });
      }
    }
    if (rows.length < PAGE) break;
  }

  for (const [key, want] of expected) {
    const hash = held.get(key);
    if (hash === undefined) missing.push(want.id);
    else if (want.hash !== null && want.hash !== hash) differing.push(want.id);
  }
  for (const key of held.keys()) {
    if (expected.has(key) || inFlight.has(key)) continue;
    const id = owner.get(key);
    if (id) unexpected.push(id);
    else report.unknownAtTarget += 1;
  }
  report.expected = expected.size;
  report.missing = missing.length;
  report.differing = differing.length;
  report.unexpected = unexpected.length;
  report.missingIds = missing.sort().slice(0, DRIFT_MAX_IDS);
  report.differingIds = differing.sort().slice(0, DRIFT_MAX_IDS);
  report.unexpectedIds = unexpected.sort().slice(0, DRIFT_MAX_IDS);
  return { report, drifted: [...missing, ...differing, ...unexpected] };
}
