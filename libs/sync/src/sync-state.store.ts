import { EntityManager } from 'typeorm';

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

/** The statement behind `getMany` (parameters: the target, the residents' ids); for callers that prepare it. */
export const SYNC_STATES_SQL = `SELECT * FROM sync_state WHERE target = $1 AND aggregate_type = 'RESIDENT' AND aggregate_id = ANY($2::uuid[])`;

/**
 * Rows in one order for every writer of `sync_state` (relay, reconciler, delivery batches): two transactions that
 * lock overlapping sets of rows in the same order wait for each other instead of deadlocking.
 */
function inLockOrder<T extends { target: string; residentId: string }>(rows: T[]): T[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...rows].sort((a, b) => cmp(a.target, b.target) || cmp(a.residentId, b.residentId));
}

/**
 * The per-(target, record) bookkeeping in PostgreSQL. Every write is a conditional statement: safe to repeat. The
 * writes take many rows at once (one statement per kind of write for a whole delivery batch); the one-row methods
 * are shorthands for them.
 */
export class SyncStateStore {
  constructor(private readonly m: EntityManager) {}

  async get(target: string, residentId: string): Promise<SyncStateRow | null> {
    return (await this.getMany(target, [residentId])).get(residentId) ?? null;
  }

  async getMany(target: string, residentIds: string[]): Promise<Map<string, SyncStateRow>> {
    if (residentIds.length === 0) return new Map();
    const rows: SyncStateRow[] = await this.m.query(SYNC_STATES_SQL, [target, residentIds]);
    return new Map(rows.map((r) => [r.aggregate_id, r]));
  }

  /**
   * Locks a target's existing rows of these records, in the order every writer uses, for the rest of the caller's
   * transaction; the statements that follow then touch rows this transaction already holds.
   */
  async lockRows(target: string, residentIds: string[]): Promise<void> {
    if (residentIds.length === 0) return;
    await this.m.query(
      `SELECT 1 FROM sync_state WHERE target = $1 AND aggregate_type = 'RESIDENT' AND aggregate_id = ANY($2::uuid[]) ORDER BY aggregate_id FOR UPDATE`,
      [target, residentIds],
    );
  }

  /** Marks records wanted at a target up to an event; never moves `wanted_event` backwards. */
  async want(rows: WantRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.m.query(
      `INSERT INTO sync_state (target, aggregate_type, aggregate_id, wanted_event, wanted_version, status)
       SELECT w.target, 'RESIDENT', w.id, w.event, w.version, 'PENDING' FROM jsonb_to_recordset($1::jsonb) AS w(target text, id uuid, event bigint, version int)
       ON CONFLICT (target, aggregate_type, aggregate_id) DO UPDATE
         SET wanted_event = GREATEST(sync_state.wanted_event, EXCLUDED.wanted_event),
             wanted_version = CASE WHEN EXCLUDED.wanted_event >= sync_state.wanted_event THEN EXCLUDED.wanted_version ELSE sync_state.wanted_version END,
             status = CASE WHEN sync_state.applied_event IS NULL OR sync_state.applied_event < GREATEST(sync_state.wanted_event, EXCLUDED.wanted_event)
                           THEN 'PENDING' ELSE sync_state.status END,
             updated_at = now()`,
      [JSON.stringify(inLockOrder(rows).map((r) => ({ target: r.target, id: r.residentId, event: r.event, version: r.version })))],
    );
  }

  /** Records what the target now holds; only ever moves forward. */
  async applied(target: string, residentId: string, event: number, version: number, status: 'DELIVERED' | 'NOT_SUBSCRIBED', targetRef: string | null): Promise<void> {
    await this.appliedMany([{ target, residentId, event, version, status, targetRef }]);
  }

  async appliedMany(rows: AppliedRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.m.query(
      `UPDATE sync_state s SET applied_event = a.event, applied_version = a.version, target_ref = COALESCE(a.ref, s.target_ref),
              delivered_at = CASE WHEN a.status = 'DELIVERED' THEN now() ELSE s.delivered_at END, last_error = NULL,
              attempts = s.attempts + 1, updated_at = now(),
              status = CASE WHEN s.wanted_event <= a.event THEN a.status ELSE 'PENDING' END
         FROM jsonb_to_recordset($1::jsonb) AS a(target text, id uuid, event bigint, version int, status text, ref text)
        WHERE s.target = a.target AND s.aggregate_type = 'RESIDENT' AND s.aggregate_id = a.id AND (s.applied_event IS NULL OR s.applied_event < a.event)`,
      [JSON.stringify(inLockOrder(rows).map((r) => ({ target: r.target, id: r.residentId, event: r.event, version: r.version, status: r.status, ref: r.targetRef })))],
    );
  }

  async failedAttempt(target: string, residentId: string, error: string, status: 'PENDING' | 'FAILED' | 'DEAD'): Promise<void> {
    await this.failedAttempts([{ target, residentId, error, status }]);
  }

  async failedAttempts(rows: FailedAttemptRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.m.query(
      `UPDATE sync_state s SET attempts = s.attempts + 1, last_error = f.error, status = f.status, updated_at = now()
         FROM jsonb_to_recordset($1::jsonb) AS f(target text, id uuid, error text, status text)
        WHERE s.target = f.target AND s.aggregate_type = 'RESIDENT' AND s.aggregate_id = f.id`,
      [JSON.stringify(inLockOrder(rows).map((r) => ({ target: r.target, id: r.residentId, error: r.error.slice(0, 2000), status: r.status })))],
    );
  }

  async deadLetter(target: string, residentId: string, version: number, answer: string): Promise<void> {
    await this.deadLetters([{ target, residentId, version, answer }]);
  }

  async deadLetters(rows: DeadLetterRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.m.query(
      `INSERT INTO sync_dead_letter (target, aggregate_type, aggregate_id, version, answer)
       SELECT d.target, 'RESIDENT', d.id, d.version, d.answer FROM jsonb_to_recordset($1::jsonb) AS d(target text, id uuid, version int, answer text)`,
      [JSON.stringify(rows.map((r) => ({ target: r.target, id: r.residentId, version: r.version, answer: r.answer.slice(0, 4000) })))],
    );
  }

  async staleArrival(target: string, residentId: string, event: number, appliedEvent: number): Promise<void> {
    await this.staleArrivals([{ target, residentId, event, appliedEvent }]);
  }

  async staleArrivals(rows: StaleArrivalRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.m.query(
      `INSERT INTO sync_stale_arrival (target, aggregate_id, event_id, applied_event)
       SELECT s.target, s.id, s.event, s.applied FROM jsonb_to_recordset($1::jsonb) AS s(target text, id uuid, event bigint, applied bigint)`,
      [JSON.stringify(rows.map((r) => ({ target: r.target, id: r.residentId, event: r.event, applied: r.appliedEvent })))],
    );
  }
}

/** The statement behind `latestEventFor` (one parameter: the residents' ids); for callers that prepare it. */
export const LATEST_EVENT_SQL = `SELECT r.id, GREATEST(
        (SELECT max(o.id) FROM outbox_event o WHERE o.aggregate_type = 'RESIDENT' AND o.aggregate_id = r.id),
        (SELECT max(o.id) FROM outbox_event o JOIN household_member hm ON hm.household_id = o.aggregate_id
          WHERE o.aggregate_type = 'HOUSEHOLD' AND hm.resident_id = r.id AND hm.to_date IS NULL)) AS event
       FROM resident r WHERE r.id = ANY($1::uuid[])`;

/** Builds the map of `latestEventFor` from the rows of LATEST_EVENT_SQL. */
export function latestEventsFromRows(rows: { id: string; event: string | null }[]): Map<string, number> {
  return new Map(rows.map((r) => [r.id, Number(r.event ?? 0)]));
}

/** The latest outbox event that touched a resident's view (its own record or its current household). */
export async function latestEventFor(m: EntityManager, residentIds: string[]): Promise<Map<string, number>> {
  if (residentIds.length === 0) return new Map();
  return latestEventsFromRows(await m.query(LATEST_EVENT_SQL, [residentIds]));
}

/** Seconds from each outbox event's commit to now (the commit→acknowledgement latency of a delivery). */
export async function secondsSinceEvents(m: EntityManager, events: number[]): Promise<Map<number, number>> {
  if (events.length === 0) return new Map();
  const rows: { id: string; s: string }[] = await m.query(
    `SELECT id::text, extract(epoch FROM clock_timestamp() - occurred_at) AS s FROM outbox_event WHERE id = ANY($1::bigint[])`, [events],
  );
  return new Map(rows.map((r) => [Number(r.id), Number(r.s)]));
}
