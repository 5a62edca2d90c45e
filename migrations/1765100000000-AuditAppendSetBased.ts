import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit append, cheaper per row; same chain, same rows.
 *
 * 1. `audit_append_many` links the batch's hashes in a loop over the content digests only (sha256 is all that must
 *    be sequential) and then inserts every row in ONE statement, in the order given, instead of one INSERT per row
 *    inside the loop. A request that reads personal data waits for its audit row, so this is on every such request.
 * 2. The time index becomes BRIN: audit_log is append-only and `occurred_at` grows with `id`, which is exactly what
 *    BRIN is for. It serves the retention purge and time ranges at a fraction of a B-tree's size and upkeep.
 *    The (actor, occurred_at) B-tree stays for "what did client Y read between dates".
 */
export class AuditAppendSetBased1765100000000 implements MigrationInterface {
  name = 'AuditAppendSetBased1765100000000';
  // The indexes are built and dropped CONCURRENTLY so appends (every read of personal data) never wait on them;
  // that cannot run inside a transaction. Each step can be run again after an interruption.
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION audit_append_many(p_rows jsonb) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        first_prev text;
        prev text;
        digest_of_row text;
        hashes text[] := '{}';
      BEGIN
        PERFORM pg_advisory_xact_lock(7421001);
        SELECT hash INTO first_prev FROM audit_log ORDER BY id DESC LIMIT 1;
        first_prev := COALESCE(first_prev, repeat('0', 64));
        prev := first_prev;
        FOR digest_of_row IN SELECT e->>'content_digest' FROM jsonb_array_elements(p_rows) WITH ORDINALITY AS t(e, ord) ORDER BY ord LOOP
          prev := encode(digest(prev || '|' || digest_of_row, 'sha256'), 'hex');
          hashes := hashes || prev;
        END LOOP;
        -- Rows are inserted in the order of the ORDER BY, so ids (bigserial) follow the chain.
        INSERT INTO audit_log (occurred_at, actor, actor_kind, role, department, purpose, operation, resident_ids, household_ids, fields_clear,
                               fields_masked, outcome, request_id, source_address, prev_hash, hash)
        SELECT x.occurred_at, x.actor, x.actor_kind, x.role, x.department, x.purpose, x.operation, x.resident_ids, x.household_ids, x.fields_clear,
               x.fields_masked, x.outcome, x.request_id, x.source_address,
               CASE WHEN x.ord = 1 THEN first_prev ELSE hashes[x.ord - 1] END, hashes[x.ord]
          FROM ROWS FROM (jsonb_to_recordset(p_rows) AS (
              occurred_at timestamptz, actor text, actor_kind text, role text, department text, purpose text, operation text,
              resident_ids uuid[], household_ids uuid[], fields_clear text[], fields_masked text[], outcome text, request_id text,
              source_address text)) WITH ORDINALITY AS x(
              occurred_at, actor, actor_kind, role, department, purpose, operation, resident_ids, household_ids, fields_clear,
              fields_masked, outcome, request_id, source_address, ord)
         ORDER BY x.ord;
      END $$`);
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS audit_log_time_brin`);
    await q.query(`CREATE INDEX CONCURRENTLY audit_log_time_brin ON audit_log USING brin (occurred_at)`);
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS audit_log_time`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS audit_log_time`);
    await q.query(`CREATE INDEX CONCURRENTLY audit_log_time ON audit_log (occurred_at)`);
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS audit_log_time_brin`);
    await q.query(`
      CREATE OR REPLACE FUNCTION audit_append_many(p_rows jsonb) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        prev text;
        r record;
      BEGIN
        PERFORM pg_advisory_xact_lock(7421001);
        SELECT hash INTO prev FROM audit_log ORDER BY id DESC LIMIT 1;
        prev := COALESCE(prev, repeat('0', 64));
        FOR r IN SELECT * FROM ROWS FROM (jsonb_to_recordset(p_rows) AS (
            occurred_at timestamptz, actor text, actor_kind text, role text, department text, purpose text, operation text,
            resident_ids uuid[], household_ids uuid[], fields_clear text[], fields_masked text[], outcome text, request_id text,
            source_address text, content_digest text)) WITH ORDINALITY AS x(
            occurred_at, actor, actor_kind, role, department, purpose, operation, resident_ids, household_ids, fields_clear,
            fields_masked, outcome, request_id, source_address, content_digest, ord) ORDER BY ord
        LOOP
          INSERT INTO audit_log (occurred_at, actor, actor_kind, role, department, purpose, operation, resident_ids, household_ids, fields_clear,
                                 fields_masked, outcome, request_id, source_address, prev_hash, hash)
          VALUES (r.occurred_at, r.actor, r.actor_kind, r.role, r.department, r.purpose, r.operation, r.resident_ids, r.household_ids, r.fields_clear,
                  r.fields_masked, r.outcome, r.request_id, r.source_address, prev, encode(digest(prev || '|' || r.content_digest, 'sha256'), 'hex'))
          RETURNING hash INTO prev;
        END LOOP;
      END $$`);
  }
}
