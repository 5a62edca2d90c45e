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

/** The per-(target, record) bookkeeping in PostgreSQL. Every write is a conditional UPDATE: safe to repeat. */
export class SyncStateStore {
  constructor(private readonly m: EntityManager) {}

  async get(target: string, residentId: string): Promise<SyncStateRow | null> {
    const [row] = await this.m.query(`SELECT * FROM sync_state WHERE target = $1 AND aggregate_type = 'RESIDENT' AND aggregate_id = $2`, [target, residentId]);
    return row ?? null;
  }

  /** Marks records wanted at a target up to an event; never moves `wanted_event` backwards. */
  async want(rows: { target: string; residentId: string; event: number; version: number }[]): Promise<void> {
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
      [JSON.stringify(rows.map((r) => ({ target: r.target, id: r.residentId, event: r.event, version: r.version })))],
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

/** The latest outbox event that touched a resident's view (its own record or its current household). */
export async function latestEventFor(m: EntityManager, residentIds: string[]): Promise<Map<string, number>> {
  if (residentIds.length === 0) return new Map();
  const rows: { id: string; event: string | null }[] = await m.query(
    `SELECT r.id, GREATEST(
        (SELECT max(o.id) FROM outbox_event o WHERE o.aggregate_type = 'RESIDENT' AND o.aggregate_id = r.id),
        (SELECT max(o.id) FROM outbox_event o JOIN household_member hm ON hm.household_id = o.aggregate_id
          WHERE o.aggregate_type = 'HOUSEHOLD' AND hm.resident_id = r.id AND hm.to_date IS NULL)) AS event
       FROM resident r WHERE r.id = ANY($1::uuid[])`,
    [residentIds],
  );
  return new Map(rows.map((r) => [r.id, Number(r.event ?? 0)]));
}
