import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The sync hub: an outbox written in the same transaction as every register change, the per-target state of each
 * record (wanted and applied versions), dead letters, stale arrivals, and batch runs for file-based targets.
 * PostgreSQL is the system of record; Redis only carries work that can be rebuilt from these tables.
 */
export class SyncHub1764600000000 implements MigrationInterface {
  name = 'SyncHub1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE outbox_event (
        id             bigserial PRIMARY KEY,
        aggregate_type text NOT NULL CHECK (aggregate_type IN ('RESIDENT','HOUSEHOLD')),
        aggregate_id   uuid NOT NULL,
        version        integer NOT NULL,
        event_type     text NOT NULL,
        changed_fields text[] NOT NULL DEFAULT '{}',
        occurred_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
        relayed_at     timestamptz
      )`);
    await q.query(`CREATE INDEX outbox_event_unrelayed ON outbox_event (id) WHERE relayed_at IS NULL`);
    await q.query(`CREATE INDEX outbox_event_aggregate ON outbox_event (aggregate_type, aggregate_id, id)`);

    await q.query(`
      CREATE TABLE sync_state (
        target          text NOT NULL,
        aggregate_type  text NOT NULL,
        aggregate_id    uuid NOT NULL,
        -- Ordering uses outbox event ids: a resident's view also changes with its household (members, head, tags),
        -- which does not move the resident's own version. The register versions are kept for people to read.
        wanted_event    bigint NOT NULL,
        applied_event   bigint,
        wanted_version  integer NOT NULL,
        applied_version integer,
        status          text NOT NULL CHECK (status IN ('PENDING','DELIVERED','NOT_SUBSCRIBED','FAILED','DEAD')),
        attempts        integer NOT NULL DEFAULT 0,
        last_error      text,
        target_ref      text,
        first_wanted_at timestamptz NOT NULL DEFAULT now(),
        delivered_at    timestamptz,
        updated_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (target, aggregate_type, aggregate_id)
      )`);
    await q.query(`CREATE INDEX sync_state_behind ON sync_state (target, updated_at) WHERE applied_event IS NULL OR applied_event < wanted_event`);
    await q.query(`CREATE INDEX sync_state_aggregate ON sync_state (aggregate_id)`);

    await q.query(`
      CREATE TABLE sync_dead_letter (
        id             bigserial PRIMARY KEY,
        target         text NOT NULL,
        aggregate_type text NOT NULL,
        aggregate_id   uuid NOT NULL,
        version        integer NOT NULL,
        answer         text NOT NULL,
        created_at     timestamptz NOT NULL DEFAULT now(),
        replayed_at    timestamptz
      )`);
    await q.query(`CREATE INDEX sync_dead_letter_open ON sync_dead_letter (target, id) WHERE replayed_at IS NULL`);

    // An older version that arrived after a newer one had been applied: recorded, never sent.
    await q.query(`
      CREATE TABLE sync_stale_arrival (
        id              bigserial PRIMARY KEY,
        target          text NOT NULL,
        aggregate_id    uuid NOT NULL,
        event_id        bigint NOT NULL,
        applied_event   bigint NOT NULL,
        at              timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE sync_batch_run (
        id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        target        text NOT NULL,
        status        text NOT NULL CHECK (status IN ('BUILT','UPLOADED','ANSWERED','FAILED')),
        file_name     text NOT NULL,
        file_sha256   text NOT NULL,
        content       bytea NOT NULL,
        records       jsonb NOT NULL,   -- [{aggregateId, version, event, key}]: ids and versions only
        record_count  integer NOT NULL,
        rejected      integer NOT NULL DEFAULT 0,
        attempts      integer NOT NULL DEFAULT 0,
        last_error    text,
        created_at    timestamptz NOT NULL DEFAULT now(),
        uploaded_at   timestamptz,
        answered_at   timestamptz
      )`);
    await q.query(`CREATE INDEX sync_batch_run_open ON sync_batch_run (target, created_at) WHERE status IN ('BUILT','UPLOADED')`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['sync_batch_run', 'sync_stale_arrival', 'sync_dead_letter', 'sync_state', 'outbox_event']) await q.query(`DROP TABLE IF EXISTS ${t}`);
  }
}
