import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The shared register: code lists, divisions and grids, places, residents, households, tags, history,
 * duplicate decisions, idempotency records and import runs. Written by hand; reviewed as SQL.
 */
export class InitialRegister1764400000000 implements MigrationInterface {
  name = 'InitialRegister1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS pgcrypto`);

    // 代码表 code lists (GB/T 2261, 3304, 4761, 4762, 4658, GA/T 2000.27 and the platform's own lists)
    await q.query(`
      CREATE TABLE code_list_entry (
        list_name   text NOT NULL,
        code        text NOT NULL,
        name_zh     text NOT NULL,
        name_en     text NOT NULL,
        parent_code text,
        sort_order  integer NOT NULL DEFAULT 0,
        valid_from  date NOT NULL DEFAULT DATE '1900-01-01',
        valid_to    date,
        PRIMARY KEY (list_name, code),
        CHECK (valid_to IS NULL OR valid_to >= valid_from)
      )`);

    // 行政区划 divisions: 12-digit statistical codes with validity periods
    await q.query(`
      CREATE TABLE division (
        code        char(12) PRIMARY KEY CHECK (code ~ '^[0-9]{12}$'),
        name        text NOT NULL,
        level       text NOT NULL CHECK (level IN ('PROVINCE','CITY','DISTRICT','TOWNSHIP','COMMUNITY')),
        parent_code char(12) REFERENCES division(code),
        synthetic   boolean NOT NULL DEFAULT false,
        valid_from  date NOT NULL,
        valid_to    date,
        CHECK (valid_to IS NULL OR valid_to >= valid_from)
      )`);
    await q.query(`CREATE INDEX division_parent ON division (parent_code)`);

    // 网格 grids inside communities
    await q.query(`
      CREATE TABLE grid (
        id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        community_code char(12) NOT NULL REFERENCES division(code),
        code           text NOT NULL,
        name           text NOT NULL,
        UNIQUE (community_code, code)
      )`);

    // 小区 → 楼栋 → 单元 → 房屋 places
    await q.query(`
      CREATE TABLE compound (
        id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        community_code char(12) NOT NULL REFERENCES division(code),
        grid_id        uuid REFERENCES grid(id),
        name           text NOT NULL,
        address        text,
        UNIQUE (community_code, name)
      )`);
    await q.query(`
      CREATE TABLE building (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        compound_id uuid NOT NULL REFERENCES compound(id),
        name        text NOT NULL,
        street      text,
        door_number text,
        UNIQUE (compound_id, name)
      )`);
    await q.query(`
      CREATE TABLE building_unit (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        building_id uuid NOT NULL REFERENCES building(id),
        name        text NOT NULL,
        UNIQUE (building_id, name)
      )`);
    await q.query(`
      CREATE TABLE dwelling (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        building_id uuid NOT NULL REFERENCES building(id),
        unit_id     uuid REFERENCES building_unit(id),
        room        text NOT NULL,
        floor       integer,
        area        numeric(8,2) CHECK (area IS NULL OR area > 0),
        use         text NOT NULL DEFAULT 'OWN' CHECK (use IN ('OWN','RENTED','VACANT','BUSINESS'))
      )`);
    await q.query(`CREATE UNIQUE INDEX dwelling_room ON dwelling (building_id, unit_id, room) NULLS NOT DISTINCT`);

    // 居民 residents
    await q.query(`
      CREATE TABLE resident (
        id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        id_type              text NOT NULL,
        id_number            text,
        id_number_status     text NOT NULL CHECK (id_number_status IN ('VALID','QUARANTINED','NONE')),
        quarantine_reason    text,   -- set while the record is in quarantine (ID_CHECKSUM, RETIRED_DIVISION, …)
        name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
        name_pinyin          text NOT NULL,
        former_name          text,
        sex                  char(1) NOT NULL,
        birth_date           date NOT NULL,
        ethnicity            char(2),
        political_status     char(2),
        education            char(2),
        marital_status       char(2),
        employment           char(2),
        phone                text,
        population_type      text NOT NULL,
        household_relation   text,
        community_code       char(12) NOT NULL REFERENCES division(code),
        status               text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE','MOVED_OUT','DECEASED','MERGED')),
        moved_out_on         date,
        move_out_reason      text,
        move_out_destination text,
        deceased_on          date,
        merged_into_id       uuid REFERENCES resident(id),
        source               text NOT NULL DEFAULT 'WORKER',
        version              integer NOT NULL DEFAULT 1 CHECK (version >= 1),
        created_at           timestamptz NOT NULL DEFAULT now(),
        updated_at           timestamptz NOT NULL DEFAULT now(),
        CHECK ((id_number IS NULL) = (id_number_status = 'NONE')),
        CHECK (id_number_status <> 'QUARANTINED' OR quarantine_reason IS NOT NULL),
        CHECK ((status = 'MERGED') = (merged_into_id IS NOT NULL)),
        CHECK ((status = 'DECEASED') = (deceased_on IS NOT NULL))
      )`);
    // One live record per ID number; merged records are redirects and do not count.
    await q.query(`CREATE UNIQUE INDEX resident_id_number_live ON resident (id_number) WHERE merged_into_id IS NULL AND id_number IS NOT NULL`);
    await q.query(`CREATE INDEX resident_community ON resident (community_code, id)`);
    await q.query(`CREATE INDEX resident_birth_name ON resident (birth_date, name)`);
    await q.query(`CREATE INDEX resident_birth_pinyin ON resident (birth_date, name_pinyin)`);
    await q.query(`CREATE INDEX resident_former_name ON resident (former_name) WHERE former_name IS NOT NULL`);
    await q.query(`CREATE INDEX resident_name_prefix ON resident (name text_pattern_ops)`);
    await q.query(`CREATE INDEX resident_merged_into ON resident (merged_into_id) WHERE merged_into_id IS NOT NULL`);
    await q.query(`CREATE INDEX resident_quarantined ON resident (community_code) WHERE quarantine_reason IS NOT NULL`);

    // 居住 residence history: where a resident lives, from when to when
    await q.query(`
      CREATE TABLE residence (
        id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        resident_id  uuid NOT NULL REFERENCES resident(id),
        dwelling_id  uuid NOT NULL REFERENCES dwelling(id),
        kind         text NOT NULL,
        moved_in_on  date NOT NULL,
        moved_out_on date,
        source       text NOT NULL,
        CHECK (moved_out_on IS NULL OR moved_out_on >= moved_in_on)
      )`);
    await q.query(`CREATE UNIQUE INDEX residence_current ON residence (resident_id) WHERE moved_out_on IS NULL`);
    await q.query(`CREATE INDEX residence_dwelling_current ON residence (dwelling_id, resident_id) WHERE moved_out_on IS NULL`);
    await q.query(`CREATE INDEX residence_resident ON residence (resident_id)`);

    // 户 households and their members
    await q.query(`
      CREATE TABLE household (
        id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        household_number   text NOT NULL UNIQUE,
        kind               text NOT NULL,
        registration_type  text,
        registered_address text NOT NULL,
        community_code     char(12) NOT NULL REFERENCES division(code),
        dwelling_id        uuid REFERENCES dwelling(id),
        status             text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE','DISSOLVED')),
        version            integer NOT NULL DEFAULT 1 CHECK (version >= 1),
        created_at         timestamptz NOT NULL DEFAULT now(),
        updated_at         timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX household_community ON household (community_code, id)`);
    await q.query(`
      CREATE TABLE household_member (
        id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        household_id uuid NOT NULL REFERENCES household(id),
        resident_id  uuid NOT NULL REFERENCES resident(id),
        relationship text NOT NULL,
        is_head      boolean GENERATED ALWAYS AS (relationship = '02') STORED NOT NULL,
        from_date    date NOT NULL,
        to_date      date,
        CHECK (to_date IS NULL OR to_date >= from_date)
      )`);
    await q.query(`CREATE UNIQUE INDEX household_member_current ON household_member (resident_id) WHERE to_date IS NULL`);
    await q.query(`CREATE UNIQUE INDEX household_one_current_head ON household_member (household_id) WHERE to_date IS NULL AND is_head`);
    await q.query(`CREATE INDEX household_member_household ON household_member (household_id) WHERE to_date IS NULL`);
    // Plain indexes for the foreign keys, so deleting or merging residents does not scan whole tables.
    await q.query(`CREATE INDEX household_member_resident_all ON household_member (resident_id)`);
    await q.query(`CREATE INDEX household_member_household_all ON household_member (household_id)`);
    // An active household has exactly one current head, checked at commit so a head can be swapped in one transaction.
    await q.query(`
      CREATE FUNCTION household_check_head() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        hid uuid := COALESCE(NEW.household_id, OLD.household_id);
        heads integer;
      BEGIN
        IF EXISTS (SELECT 1 FROM household WHERE id = hid AND status = 'ACTIVE') THEN
          SELECT count(*) INTO heads FROM household_member WHERE household_id = hid AND to_date IS NULL AND is_head;
          IF heads <> 1 THEN
            RAISE EXCEPTION 'household % must have exactly one current head, has %', hid, heads
              USING ERRCODE = 'check_violation', CONSTRAINT = 'household_exactly_one_head';
          END IF;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE CONSTRAINT TRIGGER household_member_head AFTER INSERT OR UPDATE OR DELETE ON household_member
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION household_check_head()`);

    // 标签 tags: definitions, and assignments to residents and households
    await q.query(`
      CREATE TABLE tag_definition (
        code             text PRIMARY KEY,
        name_zh          text NOT NULL,
        name_en          text NOT NULL,
        owner_line       text NOT NULL,
        sensitivity      text NOT NULL CHECK (sensitivity IN ('L1','L2','L3','L4')),
        subject          text NOT NULL CHECK (subject IN ('RESIDENT','HOUSEHOLD')),
        attribute_schema jsonb NOT NULL DEFAULT '{}'::jsonb,
        derivation       text NOT NULL CHECK (derivation IN ('MANUAL','RULE')),
        rule             jsonb,
        valid_from       date NOT NULL DEFAULT DATE '1900-01-01',
        valid_to         date,
        CHECK ((derivation = 'RULE') = (rule IS NOT NULL))
      )`);
    await q.query(`
      CREATE TABLE resident_tag (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        resident_id uuid NOT NULL REFERENCES resident(id),
        tag_code    text NOT NULL REFERENCES tag_definition(code),
        attributes  jsonb NOT NULL DEFAULT '{}'::jsonb,
        valid_from  date NOT NULL,
        valid_to    date,
        created_by  text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        CHECK (valid_to IS NULL OR valid_to >= valid_from)
      )`);
    await q.query(`CREATE UNIQUE INDEX resident_tag_current ON resident_tag (resident_id, tag_code) WHERE valid_to IS NULL`);
    await q.query(`CREATE INDEX resident_tag_resident ON resident_tag (resident_id)`);
    await q.query(`CREATE INDEX resident_tag_by_code ON resident_tag (tag_code, resident_id) WHERE valid_to IS NULL`);
    await q.query(`
      CREATE TABLE household_tag (
        id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        household_id uuid NOT NULL REFERENCES household(id),
        tag_code     text NOT NULL REFERENCES tag_definition(code),
        attributes   jsonb NOT NULL DEFAULT '{}'::jsonb,
        valid_from   date NOT NULL,
        valid_to     date,
        created_by   text NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        CHECK (valid_to IS NULL OR valid_to >= valid_from)
      )`);
    await q.query(`CREATE UNIQUE INDEX household_tag_current ON household_tag (household_id, tag_code) WHERE valid_to IS NULL`);

    // 变更历史 change history, written in the same transaction as the change
    await q.query(`
      CREATE TABLE change_history (
        id           bigserial PRIMARY KEY,
        resident_id  uuid REFERENCES resident(id),
        household_id uuid REFERENCES household(id),
        operation    text NOT NULL,
        actor        text NOT NULL,
        request_id   text,
        reason       text,
        changes      jsonb NOT NULL DEFAULT '[]'::jsonb,
        occurred_at  timestamptz NOT NULL DEFAULT now(),
        CHECK (resident_id IS NOT NULL OR household_id IS NOT NULL)
      )`);
    await q.query(`CREATE INDEX change_history_resident ON change_history (resident_id, id) WHERE resident_id IS NOT NULL`);
    await q.query(`CREATE INDEX change_history_household ON change_history (household_id, id) WHERE household_id IS NOT NULL`);

    // A worker's "not a duplicate" decision, remembered per unordered pair
    await q.query(`
      CREATE TABLE duplicate_decision (
        resident_a uuid NOT NULL REFERENCES resident(id),
        resident_b uuid NOT NULL REFERENCES resident(id),
        decision   text NOT NULL CHECK (decision IN ('NOT_DUPLICATE')),
        decided_by text NOT NULL,
        decided_at timestamptz NOT NULL DEFAULT now(),
        reason     text,
        PRIMARY KEY (resident_a, resident_b),
        CHECK (resident_a < resident_b)
      )`);

    // Idempotency keys: the same key and input return the first result
    await q.query(`
      CREATE TABLE idempotency_record (
        actor        text NOT NULL,
        key          text NOT NULL,
        operation    text NOT NULL,
        request_hash text NOT NULL,
        response     jsonb,
        created_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (actor, key)
      )`);

    // Bulk imports from legacy exports
    await q.query(`
      CREATE TABLE import_run (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        file_name   text NOT NULL,
        file_sha256 text NOT NULL,
        mapping     text NOT NULL,
        actor       text NOT NULL,
        started_at  timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        accepted    integer NOT NULL DEFAULT 0,
        matched     integer NOT NULL DEFAULT 0,
        quarantined integer NOT NULL DEFAULT 0,
        rejected    integer NOT NULL DEFAULT 0,
        report_path text
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'import_run', 'idempotency_record', 'duplicate_decision', 'change_history', 'household_tag', 'resident_tag',
      'tag_definition', 'household_member', 'household', 'residence', 'resident', 'dwelling', 'building_unit',
      'building', 'compound', 'grid', 'division', 'code_list_entry',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table} CASCADE`);
    }
    await q.query(`DROP FUNCTION IF EXISTS household_check_head()`);
  }
}
