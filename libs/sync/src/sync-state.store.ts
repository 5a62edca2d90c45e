import { EntityManager } from 'typeorm';
import { HUB_VIEW_SELECT } from './mapping/record-view';

export interface SyncStateRow {
  target: string;
  aggregate_id: string;
  wanted_event: string;
  applied_event: string | null;
  wanted_version: number;
  applied_version: number | null;
  status: string;
  attempts: number;
  last_error: string | null;
  target_ref: string | null;
  delivered_at: Date | null;
  first_wanted_at: Date;
  updated_at: Date;
}

export interface WantRow { target: string; residentId: string; event: number; version: number }
export interface AppliedRow { target: string; residentId: string; event: number; version: number; status: 'DELIVERED' | 'NOT_SUBSCRIBED'; targetRef: string | null }
export interface FailedAttemptRow { target: string; residentId: string; error: string; status: 'PENDING' | 'FAILED' | 'DEAD' }
export interface DeadLetterRow { target: string; residentId: string; version: number; answer: string }
export interface StaleArrivalRow { target: string; residentId: string; event: number; appliedEvent: number }

/**
 * Rows in one order for every writer of `sync_state` (relay, reconciler, delivery batches): two transactions that
 * lock overlapping sets of rows in the same order wait for each other instead of deadlocking (the relay's transaction
 * against the reconciler's initial load at a worker start with a large backlog did, before).
 */
function inLockOrder<T extends { target: string; residentId: string }>(rows: T[]): T[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...rows].sort((a, b) => cmp(a.target, b.target) || cmp(a.residentId, b.residentId));
}

/** The per-(target, record) bookkeeping in PostgreSQL. Every write is a conditional UPDATE: safe to repeat. */
export class SyncStateStore {
  constructor(private readonly m: EntityManager) {}

  async get(target: string, residentId: string): Promise<SyncStateRow | null> {
    const [row] = await this.m.query(`SELECT * FROM sync_state WHERE target = $1 AND aggregate_type = 'RESIDENT' AND aggregate_id = $2`, [target, residentId]);
    return row ?? null;
  }

  /** Marks records wanted at a target up to an event; never moves `wanted_event` backwards. */
  want(rows: WantRow[]): Promise<void> {
    return this.upsertWanted(rows, false);
  }

  /**
   * As `want`, and forgets what the targets were thought to hold for these records (`applied_event` NULL, `PENDING`):
   * a replay sends the record even if nothing changed since it was last thought delivered.
   */
  resend(rows: WantRow[]): Promise<void> {
    return this.upsertWanted(rows, true);
  }

  private async upsertWanted(rows: WantRow[], forgetApplied: boolean): Promise<void> {
    if (rows.length === 0) return;
    const status = forgetApplied
      ? `applied_event = NULL, status = 'PENDING'`
      : `status = CASE WHEN sync_state.applied_event IS NULL OR sync_state.applied_event < GREATEST(sync_state.wanted_event, EXCLUDED.wanted_event)
                           THEN 'PENDING' ELSE sync_state.status END`;
    await this.m.query(
      `INSERT INTO sync_state (target, aggregate_type, aggregate_id, wanted_event, wanted_version, status)
       SELECT w.target, 'RESIDENT', w.id, w.event, w.version, 'PENDING' FROM jsonb_to_recordset($1::jsonb) AS w(target text, id uuid, event bigint, version int)
       ON CONFLICT (target, aggregate_type, aggregate_id) DO UPDATE
         SET wanted_event = GREATEST(sync_state.wanted_event, EXCLUDED.wanted_event),
             wanted_version = CASE WHEN EXCLUDED.wanted_event >= sync_state.wanted_event THEN EXCLUDED.wanted_version ELSE sync_state.wanted_version END,
             ${status},
             updated_at = now()`,
      [JSON.stringify(inLockOrder(rows).map((r) => ({ target: r.target, id: r.residentId, event: r.event, version: r.version })))],
    );
  }

  /** Records what the target now holds; only ever moves forward. */
  async applied(target: string, residentId: string, event: number, version: number, status: 'DELIVERED' | 'NOT_SUBSCRIBED', targetRef: string | null): Promise<void> {
    await this.m.query(
      `UPDATE sync_state SET applied_event = $3, applied_version = $4, target_ref = COALESCE($6, target_ref),
              delivered_at = CASE WHEN $5 = 'DELIVERED' THEN now() ELSE delivered_at END, last_error = NULL,
              attempts = attempts + 1, updated_at = now(),
              status = CASE WHEN wanted_event <= $3 THEN $5 ELSE 'PENDING' END
        WHERE target = $1 AND aggregate_type = 'RESIDENT' AND aggregate_id = $2 AND (applied_event IS NULL OR applied_event < $3)`,
      [target, residentId, event, version, status, targetRef],
    );
  }

  async failedAttempt(target: string, residentId: string, error: string, status: 'PENDING' | 'FAILED' | 'DEAD'): Promise<void> {
    await this.m.query(
      `UPDATE sync_state SET attempts = attempts + 1, last_error = $3, status = $4, updated_at = now()
        WHERE target = $1 AND aggregate_type = 'RESIDENT' AND aggregate_id = $2`,
      [target, residentId, error.slice(0, 2000), status],
    );
  }

  async deadLetter(target: string, residentId: string, version: number, answer: string): Promise<void> {
    await this.m.query(
      `INSERT INTO sync_dead_letter (target, aggregate_type, aggregate_id, version, answer) VALUES ($1, 'RESIDENT', $2, $3, $4)`,
      [target, residentId, version, answer.slice(0, 4000)],
    );
  }

  async staleArrival(target: string, residentId: string, event: number, appliedEvent: number): Promise<void> {
    await this.m.query(`INSERT INTO sync_stale_arrival (target, aggregate_id, event_id, applied_event) VALUES ($1, $2, $3, $4)`, [target, residentId, event, appliedEvent]);
  }
}

/**
 * SQL for the latest outbox event that touched a resident's view (its own record or its current household), for the
 * resident id expression `id`. One definition, so the delivery batch and the reconciler agree on what is current.
 */
function latestEventSql(id: string): string {
  // The household part goes from the resident's current membership to that household's newest event (an aggregate
  // in a LATERAL, which PostgreSQL cannot flatten). Written as a join, a plan could start from every HOUSEHOLD event
  // in the outbox and filter them by resident, once per record.
  return `GREATEST(
        (SELECT max(o.id) FROM outbox_event o WHERE o.aggregate_type = 'RESIDENT' AND o.aggregate_id = ${id}),
        (SELECT max(he.id) FROM household_member hm
           CROSS JOIN LATERAL (SELECT max(o.id) AS id FROM outbox_event o WHERE o.aggregate_type = 'HOUSEHOLD' AND o.aggregate_id = hm.household_id) he
          WHERE hm.resident_id = ${id} AND hm.to_date IS NULL))`;
}

/** The latest outbox event that touched a resident's view (its own record or its current household). */
export async function latestEventFor(m: EntityManager, residentIds: string[]): Promise<Map<string, number>> {
  if (residentIds.length === 0) return new Map();
  const rows: { id: string; event: string | null }[] = await m.query(
    `SELECT r.id, ${latestEventSql('r.id')} AS event
       FROM resident r WHERE r.id = ANY($1::uuid[])`,
    [residentIds],
  );
  return new Map(rows.map((r) => [r.id, Number(r.event ?? 0)]));
}

/**
 * What one delivery batch writes. The records are distinct: each has exactly one of `settled` (the target holds
 * the record now, or is not subscribed) or `failed`.
 */
export interface BatchOutcomes {
  settled: AppliedRow[];
  failed: FailedAttemptRow[];
  dead: DeadLetterRow[];
  stale: StaleArrivalRow[];
  /** Outbox events whose commit→acknowledgement latency to measure. */
  acked: number[];
}

/**
 * All outcomes of a delivery batch in one statement, hence one transaction, one WAL flush and one round trip.
 * A `settled` row does in one upsert what `want` followed by `applied` does for one record (one statement cannot
 * change a row twice): `wanted_event` never moves backwards, the applied event only forwards, and the status is the
 * outcome's unless something newer is wanted. Returns the seconds since each acknowledged event committed.
 */
export const BATCH_OUTCOMES_SQL = `WITH settled AS (
    INSERT INTO sync_state AS s (target, aggregate_type, aggregate_id, wanted_event, wanted_version, applied_event, applied_version, status,
                                 target_ref, delivered_at, attempts, last_error)
    SELECT a.target, 'RESIDENT', a.id, a.event, a.version, a.event, a.version, a.status, a.ref,
           CASE WHEN a.status = 'DELIVERED' THEN now() END, 1, NULL
      FROM jsonb_to_recordset($1::jsonb) AS a(target text, id uuid, event bigint, version int, status text, ref text)
    ON CONFLICT (target, aggregate_type, aggregate_id) DO UPDATE
      SET wanted_event = GREATEST(s.wanted_event, EXCLUDED.wanted_event),
          wanted_version = CASE WHEN EXCLUDED.wanted_event >= s.wanted_event THEN EXCLUDED.wanted_version ELSE s.wanted_version END,
          applied_event = CASE WHEN s.applied_event IS NULL OR s.applied_event < EXCLUDED.applied_event THEN EXCLUDED.applied_event ELSE s.applied_event END,
          applied_version = CASE WHEN s.applied_event IS NULL OR s.applied_event < EXCLUDED.applied_event THEN EXCLUDED.applied_version ELSE s.applied_version END,
          target_ref = CASE WHEN s.applied_event IS NULL OR s.applied_event < EXCLUDED.applied_event THEN COALESCE(EXCLUDED.target_ref, s.target_ref) ELSE s.target_ref END,
          delivered_at = CASE WHEN s.applied_event IS NULL OR s.applied_event < EXCLUDED.applied_event THEN COALESCE(EXCLUDED.delivered_at, s.delivered_at) ELSE s.delivered_at END,
          last_error = CASE WHEN s.applied_event IS NULL OR s.applied_event < EXCLUDED.applied_event THEN NULL ELSE s.last_error END,
          attempts = CASE WHEN s.applied_event IS NULL OR s.applied_event < EXCLUDED.applied_event THEN s.attempts + 1 ELSE s.attempts END,
          status = CASE
            WHEN s.applied_event IS NULL OR s.applied_event < EXCLUDED.applied_event
              THEN CASE WHEN GREATEST(s.wanted_event, EXCLUDED.wanted_event) <= EXCLUDED.applied_event THEN EXCLUDED.status ELSE 'PENDING' END
            WHEN s.applied_event < GREATEST(s.wanted_event, EXCLUDED.wanted_event) THEN 'PENDING'
            ELSE s.status END,
          updated_at = now()
    RETURNING 1),
  failed AS (
    UPDATE sync_state s SET attempts = s.attempts + 1, last_error = f.error, status = f.status, updated_at = now()
      FROM jsonb_to_recordset($2::jsonb) AS f(target text, id uuid, error text, status text)
     WHERE s.target = f.target AND s.aggregate_type = 'RESIDENT' AND s.aggregate_id = f.id
    RETURNING 1),
  dead AS (
    INSERT INTO sync_dead_letter (target, aggregate_type, aggregate_id, version, answer)
    SELECT d.target, 'RESIDENT', d.id, d.version, d.answer FROM jsonb_to_recordset($3::jsonb) AS d(target text, id uuid, version int, answer text)
    RETURNING 1),
  stale AS (
    INSERT INTO sync_stale_arrival (target, aggregate_id, event_id, applied_event)
    SELECT x.target, x.id, x.event, x.applied FROM jsonb_to_recordset($4::jsonb) AS x(target text, id uuid, event bigint, applied bigint)
    RETURNING 1)
SELECT o.id::text AS id, extract(epoch FROM clock_timestamp() - o.occurred_at)::float8 AS s FROM outbox_event o WHERE o.id = ANY($5::bigint[])`;

/** The parameters of BATCH_OUTCOMES_SQL. */
export function batchOutcomeParams(b: BatchOutcomes): unknown[] {
  return [
    JSON.stringify(inLockOrder(b.settled).map((r) => ({ target: r.target, id: r.residentId, event: r.event, version: r.version, status: r.status, ref: r.targetRef }))),
    JSON.stringify(inLockOrder(b.failed).map((r) => ({ target: r.target, id: r.residentId, error: r.error.slice(0, 2000), status: r.status }))),
    JSON.stringify(b.dead.map((r) => ({ target: r.target, id: r.residentId, version: r.version, answer: r.answer.slice(0, 4000) }))),
    JSON.stringify(b.stale.map((r) => ({ target: r.target, id: r.residentId, event: r.event, applied: r.appliedEvent }))),
    b.acked,
  ];
}

/**
 * What a delivery batch reads, in one statement and hence one snapshot: per job, the target's state of the record,
 * the latest outbox event that touched its view (latestEventSql), and the view itself (HUB_VIEW_SELECT as
 * JSON) unless the job is stale (its event is at or below the one the target holds). Parameters: the target, the
 * residents' ids, the jobs' events (same order).
 * The state is read per record in a LATERAL with LIMIT 1 (the key is unique; the LIMIT keeps PostgreSQL from turning
 * it back into a join): this statement is prepared, and a generic plan made while sync_state was nearly empty hashed
 * every state row of the target for each batch (seen in bench:sync: 3,000 rows read for 16 jobs; a district has a
 * million per target).
 */
export const BATCH_READS_SQL = `SELECT ids.id::text AS id, s.applied_event::text AS applied, s.status, s.delivered_at IS NOT NULL AS delivered,
       ${latestEventSql('ids.id')}::text AS event,
       row_to_json(v) AS view
  FROM unnest($2::uuid[], $3::bigint[]) AS ids(id, job_event)
  LEFT JOIN LATERAL (SELECT s.applied_event, s.status, s.delivered_at FROM sync_state s
                      WHERE s.target = $1 AND s.aggregate_type = 'RESIDENT' AND s.aggregate_id = ids.id LIMIT 1) s ON TRUE
  LEFT JOIN LATERAL (${HUB_VIEW_SELECT}
      WHERE r.id = ids.id AND NOT (s.status IS NOT NULL AND COALESCE(s.applied_event, -1) >= ids.job_event AND ids.job_event > 0)) v ON TRUE`;

export interface BatchReadRow {
  id: string;
  applied: string | null;
  status: string | null;
  delivered: boolean;
  event: string | null;
  /** The record's view (a row of HUB_VIEW_SELECT), null for a stale job or a record that is gone. */
  view: unknown;
}
