import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Identities (people, departments, departments' API clients, sessions), access policies and the tamper-evident
 * audit trail. The audit table is append-only: a trigger refuses UPDATE and DELETE (except the retention purge,
 * which must announce itself), and each row carries the hash of the previous one.
 */
export class AccessAndAudit1764500000000 implements MigrationInterface {
  name = 'AccessAndAudit1764500000000';

  async up(q: QueryRunner): Promise<void> {
    // 部门 departments and the line (条线) they own
    await q.query(`
      CREATE TABLE department (
        code         text PRIMARY KEY,
        name_zh      text NOT NULL,
        name_en      text NOT NULL,
        line         text NOT NULL,
        jurisdiction text[] NOT NULL DEFAULT '{}',
        created_at   timestamptz NOT NULL DEFAULT now()
      )`);

    // Access policies: one per role, or per department for departments' people and clients
    await q.query(`
      CREATE TABLE access_policy (
        subject            text PRIMARY KEY,       -- 'role:COMMUNITY_WORKER' or 'department:CIVIL_AFFAIRS'
        fields             jsonb NOT NULL,         -- {"Resident.idNumber": "MASKED", ...}; absent = refused
        tags               text[],                 -- visible tag codes; NULL = all
        purposes           text[] NOT NULL DEFAULT '{}',
        min_statistics_cell integer NOT NULL DEFAULT 5,
        updated_at         timestamptz NOT NULL DEFAULT now()
      )`);

    // 用户 people who sign in
    await q.query(`
      CREATE TABLE app_user (
        id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        username        text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9._-]{3,64}$'),
        display_name    text NOT NULL,
        password_hash   text NOT NULL,
        role            text NOT NULL,
        department_code text REFERENCES department(code),
        jurisdiction    text[] NOT NULL DEFAULT '{}',
        failed_logins   integer NOT NULL DEFAULT 0,
        locked_until    timestamptz,
        disabled_at     timestamptz,
        demo            boolean NOT NULL DEFAULT false,
        created_at      timestamptz NOT NULL DEFAULT now()
      )`);

    // Departments' systems: client credentials, secrets stored hashed, rotation with an overlap
    await q.query(`
      CREATE TABLE api_client (
        id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        client_id            text NOT NULL UNIQUE CHECK (client_id ~ '^[a-z0-9._-]{3,64}$'),
        name                 text NOT NULL,
        department_code      text NOT NULL REFERENCES department(code),
        secret_hash          text NOT NULL,
        previous_secret_hash text,
        previous_valid_until timestamptz,
        disabled_at          timestamptz,
        demo                 boolean NOT NULL DEFAULT false,
        created_at           timestamptz NOT NULL DEFAULT now(),
        rotated_at           timestamptz
      )`);

    // Sessions: one per login or client token; refresh tokens stored hashed; revocation ends every token of it
    await q.query(`
      CREATE TABLE auth_session (
        id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        principal_kind text NOT NULL CHECK (principal_kind IN ('USER','CLIENT')),
        principal_id   uuid NOT NULL,
        refresh_hash   text,
        expires_at     timestamptz NOT NULL,
        revoked_at     timestamptz,
        created_at     timestamptz NOT NULL DEFAULT now(),
        source_address text
      )`);
    await q.query(`CREATE INDEX auth_session_principal ON auth_session (principal_kind, principal_id) WHERE revoked_at IS NULL`);
    await q.query(`CREATE UNIQUE INDEX auth_session_refresh ON auth_session (refresh_hash) WHERE refresh_hash IS NOT NULL`);

    // 审计 the audit trail
    await q.query(`
      CREATE TABLE audit_log (
        id             bigserial PRIMARY KEY,
        occurred_at    timestamptz NOT NULL DEFAULT now(),
        actor          text NOT NULL,
        actor_kind     text NOT NULL,
        role           text NOT NULL,
        department     text,
        purpose        text,
        operation      text NOT NULL,
        resident_ids   uuid[] NOT NULL DEFAULT '{}',
        household_ids  uuid[] NOT NULL DEFAULT '{}',
        fields_clear   text[] NOT NULL DEFAULT '{}',
        fields_masked  text[] NOT NULL DEFAULT '{}',
        outcome        text NOT NULL,
        request_id     text NOT NULL,
        source_address text,
        prev_hash      text NOT NULL,
        hash           text NOT NULL
      )`);
    await q.query(`CREATE INDEX audit_log_residents ON audit_log USING gin (resident_ids)`);
    await q.query(`CREATE INDEX audit_log_actor ON audit_log (actor, occurred_at)`);
    await q.query(`CREATE INDEX audit_log_time ON audit_log (occurred_at)`);
    await q.query(`
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- The retention purge is the only way out, and never for rows younger than six months.
        IF TG_OP = 'DELETE' AND TG_LEVEL = 'ROW' AND current_setting('linli.audit_purge', true) = 'on' THEN
          IF OLD.occurred_at < now() - interval '6 months' THEN
            RETURN OLD;
          END IF;
        END IF;
        RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`);
    // One round trip per batch of appends: the lock, the previous hash and the inserts happen inside the database, so
    // the chain lock is never held while waiting on the application. Each statement of a VOLATILE function sees rows
    // committed before it started, so the previous hash read after taking the lock is the latest one.
    // Group commit: the rows of many concurrent requests appended in one call, linked in the order given.
    await q.query(`
      CREATE FUNCTION audit_append_many(p_rows jsonb) RETURNS void LANGUAGE plpgsql AS $$
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
    await q.query(`CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`);
    // Where the application runs as its own (non-superuser) role, it may only read and append.
    await q.query(`
      DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'linli_app') THEN
          REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM linli_app;
          GRANT SELECT, INSERT ON audit_log TO linli_app;
          GRANT EXECUTE ON FUNCTION audit_append_many TO linli_app;
        END IF;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS audit_append_many`);
    await q.query(`DROP TABLE IF EXISTS audit_log`);
    await q.query(`DROP FUNCTION IF EXISTS audit_log_append_only()`);
    for (const t of ['auth_session', 'api_client', 'app_user', 'access_policy', 'department']) await q.query(`DROP TABLE IF EXISTS ${t}`);
  }
}
