import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit append takes each row as the JSON array its content digest is taken of, and computes that digest itself.
 *
 * Until now the API built every row twice over: the JSON array of its content fields, hashed in Node for the content
 * digest, and then the row again as a JSON object, inside the batch sent to `audit_append_many`. A read of personal
 * data waits for its audit row, so this was on every such request, in the API's one thread, while PostgreSQL had CPU
 * to spare. `audit_append_rows(json)` receives the batch as an array of those content arrays, exactly as
 * `JSON.stringify` wrote them, and hashes each element's text: a `json` value (unlike `jsonb`) keeps its input
 * text, and `json_array_elements` returns each element as it was written. The digest is therefore byte for byte the
 * one the API computed before (UTF-8 on both sides; the register's database is UTF8), the chain's format does not
 * change, and `verify` checks old and new rows alike.
 *
 * The element's positions are the content's fields in the digest's order (AuditService's CONTENT_KEYS): occurred_at,
 * actor, actor_kind, role, department, purpose, operation, resident_ids, household_ids, fields_clear, fields_masked,
 * outcome, request_id, source_address.
 */
export class AuditContentDigestInDatabase1765400000000 implements MigrationInterface {
  name = 'AuditContentDigestInDatabase1765400000000';

  async up(q: QueryRunner): Promise<void> {
    const [{ server_encoding: encoding }] = await q.query(`SHOW server_encoding`);
    if (encoding !== 'UTF8') throw new Error(`the audit digest needs a UTF8 database (this one is ${encoding})`);
    await q.query(`
      CREATE FUNCTION audit_append_rows(p_rows json) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        first_prev text;
        prev text;
        content text;
        hashes text[] := '{}';
      BEGIN
        PERFORM pg_advisory_xact_lock(7421001);
        SELECT hash INTO first_prev FROM audit_log ORDER BY id DESC LIMIT 1;
        first_prev := COALESCE(first_prev, repeat('0', 64));
        prev := first_prev;
        FOR content IN SELECT e::text FROM json_array_elements(p_rows) WITH ORDINALITY AS t(e, ord) ORDER BY ord LOOP
          prev := encode(digest(prev || '|' || encode(digest(content, 'sha256'), 'hex'), 'sha256'), 'hex');
          hashes := hashes || prev;
        END LOOP;
        -- Rows are inserted in the order of the ORDER BY, so ids (bigserial) follow the chain. The fields are read from
        -- the batch parsed once as jsonb (each ->> on a json value would parse its text again).
        INSERT INTO audit_log (occurred_at, actor, actor_kind, role, department, purpose, operation, resident_ids, household_ids, fields_clear,
                               fields_masked, outcome, request_id, source_address, prev_hash, hash)
        SELECT (j->>0)::timestamptz, j->>1, j->>2, j->>3, j->>4, j->>5, j->>6,
               ARRAY(SELECT jsonb_array_elements_text(j->7))::uuid[], ARRAY(SELECT jsonb_array_elements_text(j->8))::uuid[],
               ARRAY(SELECT jsonb_array_elements_text(j->9)), ARRAY(SELECT jsonb_array_elements_text(j->10)),
               j->>11, j->>12, j->>13,
               CASE WHEN ord = 1 THEN first_prev ELSE hashes[ord - 1] END, hashes[ord]
          FROM jsonb_array_elements(p_rows::jsonb) WITH ORDINALITY AS t(j, ord)
         ORDER BY ord;
      END $$`);
    await q.query(`
      DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'linli_app') THEN
          GRANT EXECUTE ON FUNCTION audit_append_rows(json) TO linli_app;
        END IF;
      END $$`);
    // Kept until every API process runs the code that calls audit_append_rows; the next migration may drop it.
    await q.query(`COMMENT ON FUNCTION audit_append_many(jsonb) IS 'superseded by audit_append_rows(json) (migration 1765400000000)'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`COMMENT ON FUNCTION audit_append_many(jsonb) IS NULL`);
    await q.query(`DROP FUNCTION audit_append_rows(json)`);
  }
}
