import { DataSource, EntityManager } from 'typeorm';
import { CommunityPlaces, HouseholdBundle } from './register-rows';

/** Who wrote the demo rows (change_history.actor, tag created_by, resident.source). */
export const SEED_ACTOR = 'system:seed';
export const SEED_SOURCE = 'SEED';
export const SEED_OPERATION = 'seed';

/** Rows written, by table. */
export interface WrittenCounts {
  grids: number;
  compounds: number;
  buildings: number;
  units: number;
  dwellings: number;
  households: number;
  residents: number;
  members: number;
  residences: number;
  residentTags: number;
  householdTags: number;
  historyRows: number;
}

export function emptyCounts(): WrittenCounts {
  return { grids: 0, compounds: 0, buildings: 0, units: 0, dwellings: 0, households: 0, residents: 0, members: 0, residences: 0, residentTags: 0, householdTags: 0, historyRows: 0 };
}

export function addCounts(into: WrittenCounts, more: WrittenCounts): void {
  for (const key of Object.keys(more) as (keyof WrittenCounts)[]) into[key] += more[key];
}

/** Column arrays for `unnest`: one array per column, in row order. */
function columns<T, K extends string>(rows: readonly T[], pick: Record<K, (row: T) => unknown>): unknown[][] {
  const keys = Object.keys(pick) as K[];
  const out = keys.map(() => new Array<unknown>(rows.length));
  rows.forEach((row, i) => keys.forEach((key, k) => { (out[k] as unknown[])[i] = pick[key](row); }));
  return out;
}

/** Commits of demo data need not wait for the disk: a crash loses at most the last batches, and the seed is rerun. */
async function fastCommit(m: EntityManager): Promise<void> {
  await m.query(`SET LOCAL synchronous_commit = off`);
}

/**
 * Bulk writer of the demo register. Every statement inserts thousands of rows at once through
 * `INSERT … SELECT FROM unnest(array, …)`; every constraint and trigger of the schema stays in force.
 */
export class RegisterWriter {
  constructor(private readonly dataSource: DataSource) {}

  /** Grids, compounds, buildings, units and dwellings of one community, in one transaction (parents first). */
  async writePlaces(places: CommunityPlaces): Promise<WrittenCounts> {
    const counts = emptyCounts();
    await this.dataSource.transaction(async (m) => {
      await fastCommit(m);
      if (places.grids.length) {
        await m.query(
          `INSERT INTO grid (id, community_code, code, name) SELECT * FROM unnest($1::uuid[], $2::bpchar[], $3::text[], $4::text[])`,
          columns(places.grids, { id: (g) => g.id, community: (g) => g.communityCode, code: (g) => g.code, name: (g) => g.name }),
        );
      }
      if (places.compounds.length) {
        await m.query(
          `INSERT INTO compound (id, community_code, grid_id, name, address)
           SELECT * FROM unnest($1::uuid[], $2::bpchar[], $3::uuid[], $4::text[], $5::text[])`,
          columns(places.compounds, { id: (c) => c.id, community: (c) => c.communityCode, grid: (c) => c.gridId, name: (c) => c.name, address: (c) => c.address }),
        );
      }
      for (const chunk of chunks(places.buildings, 10_000)) {
        await m.query(
          `INSERT INTO building (id, compound_id, name, street, door_number) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[])`,
          columns(chunk, { id: (b) => b.id, compound: (b) => b.compoundId, name: (b) => b.name, street: (b) => b.street, door: (b) => b.doorNumber }),
        );
      }
      for (const chunk of chunks(places.units, 10_000)) {
        await m.query(
          `INSERT INTO building_unit (id, building_id, name) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[])`,
          columns(chunk, { id: (u) => u.id, building: (u) => u.buildingId, name: (u) => u.name }),
        );
      }
      for (const chunk of chunks(places.dwellings, 10_000)) {
        await m.query(
          `INSERT INTO dwelling (id, building_id, unit_id, room, floor, area, use)
           SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::int[], $6::numeric[], $7::text[])`,
          columns(chunk, { id: (d) => d.id, building: (d) => d.buildingId, unit: (d) => d.unitId, room: (d) => d.room, floor: (d) => d.floor, area: (d) => d.area, use: (d) => d.use }),
        );
      }
    });
    counts.grids = places.grids.length;
    counts.compounds = places.compounds.length;
    counts.buildings = places.buildings.length;
    counts.units = places.units.length;
    counts.dwellings = places.dwellings.length;
    return counts;
  }

  /**
   * Households with all their members in one transaction, so the deferred "exactly one current head" trigger sees
   * each household complete at commit. Residents and their change_history rows go in one statement (a CTE).
   */
  async writeHouseholds(bundles: readonly HouseholdBundle[]): Promise<WrittenCounts> {
    const households = bundles.map((b) => b.household);
    const residents = bundles.flatMap((b) => b.residents);
    const members = bundles.flatMap((b) => b.members);
    const residences = bundles.flatMap((b) => b.residences);
    const residentTags = bundles.flatMap((b) => b.residentTags);
    const householdTags = bundles.flatMap((b) => b.householdTags);
    await this.dataSource.transaction(async (m) => {
      await fastCommit(m);
      await m.query(
        `INSERT INTO household (id, household_number, kind, registration_type, registered_address, community_code, dwelling_id)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bpchar[], $7::uuid[])`,
        columns(households, {
          id: (h) => h.id, number: (h) => h.householdNumber, kind: (h) => h.kind, type: (h) => h.registrationType,
          address: (h) => h.registeredAddress, community: (h) => h.communityCode, dwelling: (h) => h.dwellingId,
        }),
      );
      await m.query(
        `WITH inserted AS (
           INSERT INTO resident (id, id_type, id_number, id_number_status, name, name_pinyin, sex, birth_date, ethnicity,
                                 political_status, education, marital_status, employment, phone, population_type,
                                 household_relation, community_code, source)
           SELECT r.id, 'RESIDENT_ID', r.id_number, 'VALID', r.name, r.name_pinyin, r.sex, r.birth_date, r.ethnicity,
                  r.political_status, r.education, r.marital_status, r.employment, r.phone, r.population_type,
                  r.household_relation, r.community_code, '${SEED_SOURCE}'
             FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bpchar[], $6::date[], $7::bpchar[], $8::bpchar[],
                         $9::bpchar[], $10::bpchar[], $11::bpchar[], $12::text[], $13::text[], $14::text[], $15::bpchar[])
               AS r(id, id_number, name, name_pinyin, sex, birth_date, ethnicity, political_status, education, marital_status,
                    employment, phone, population_type, household_relation, community_code)
           RETURNING id, name, community_code
         )
         INSERT INTO change_history (resident_id, operation, actor, reason, changes)
         SELECT i.id, '${SEED_OPERATION}', '${SEED_ACTOR}', '合成演示数据 synthetic demo data',
                jsonb_build_array(jsonb_build_object('field', 'created', 'old', NULL,
                                                     'new', jsonb_build_object('name', i.name, 'communityCode', i.community_code)))
           FROM inserted i`,
        columns(residents, {
          id: (r) => r.id, idNumber: (r) => r.idNumber, name: (r) => r.name, pinyin: (r) => r.namePinyin, sex: (r) => r.sex,
          birth: (r) => r.birthDate, ethnicity: (r) => r.ethnicity, political: (r) => r.politicalStatus, education: (r) => r.education,
          marital: (r) => r.maritalStatus, employment: (r) => r.employment, phone: (r) => r.phone, population: (r) => r.populationType,
          relation: (r) => r.householdRelation, community: (r) => r.communityCode,
        }),
      );
      await m.query(
        `INSERT INTO household_member (household_id, resident_id, relationship, from_date)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::date[])`,
        columns(members, { household: (x) => x.householdId, resident: (x) => x.residentId, relationship: (x) => x.relationship, from: (x) => x.fromDate }),
      );
      if (residences.length) {
        await m.query(
          `INSERT INTO residence (resident_id, dwelling_id, kind, moved_in_on, source)
           SELECT r.resident_id, r.dwelling_id, r.kind, r.moved_in_on, '${SEED_SOURCE}'
             FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::date[]) AS r(resident_id, dwelling_id, kind, moved_in_on)`,
          columns(residences, { resident: (x) => x.residentId, dwelling: (x) => x.dwellingId, kind: (x) => x.kind, movedIn: (x) => x.movedInOn }),
        );
      }
      if (residentTags.length) {
        await m.query(
          `INSERT INTO resident_tag (resident_id, tag_code, attributes, valid_from, created_by)
           SELECT t.resident_id, t.tag_code, t.attributes, t.valid_from, '${SEED_ACTOR}'
             FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::date[]) AS t(resident_id, tag_code, attributes, valid_from)`,
          columns(residentTags, { resident: (t) => t.residentId, code: (t) => t.tagCode, attributes: (t) => JSON.stringify(t.attributes), from: (t) => t.validFrom }),
        );
      }
      if (householdTags.length) {
        await m.query(
          `INSERT INTO household_tag (household_id, tag_code, attributes, valid_from, created_by)
           SELECT t.household_id, t.tag_code, t.attributes, t.valid_from, '${SEED_ACTOR}'
             FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::date[]) AS t(household_id, tag_code, attributes, valid_from)`,
          columns(householdTags, { household: (t) => t.householdId, code: (t) => t.tagCode, attributes: (t) => JSON.stringify(t.attributes), from: (t) => t.validFrom }),
        );
      }
    });
    return {
      ...emptyCounts(), households: households.length, residents: residents.length, members: members.length, residences: residences.length,
      residentTags: residentTags.length, householdTags: householdTags.length, historyRows: residents.length,
    };
  }

  /**
   * What these communities already hold: residents written by the seed (source SEED), and all residents, households
   * and compounds whatever their source.
   */
  async existing(communityCodes: readonly string[]): Promise<{ seeded: number; residents: number; households: number; compounds: number }> {
    const [row] = (await this.dataSource.query(
      `SELECT (SELECT count(*) FROM resident WHERE community_code = ANY($1::bpchar[]) AND source = '${SEED_SOURCE}')::int AS seeded,
              (SELECT count(*) FROM resident WHERE community_code = ANY($1::bpchar[]))::int AS residents,
              (SELECT count(*) FROM household WHERE community_code = ANY($1::bpchar[]))::int AS households,
              (SELECT count(*) FROM compound WHERE community_code = ANY($1::bpchar[]))::int AS compounds`,
      [communityCodes],
    )) as { seeded: number; residents: number; households: number; compounds: number }[];
    return row ?? { seeded: 0, residents: 0, households: 0, compounds: 0 };
  }

  /** Every live ID number in the database, so generated ones never collide with records kept elsewhere. */
  async takenIdNumbers(): Promise<Set<string>> {
    const rows = (await this.dataSource.query(
      `SELECT id_number FROM resident WHERE id_number IS NOT NULL AND merged_into_id IS NULL`,
    )) as { id_number: string }[];
    return new Set(rows.map((r) => r.id_number));
  }

  /**
   * Deletes everything kept for these communities (not the division rows), children before parents, in one
   * transaction. With `bypassRowChecks` (needs a superuser) the per-row foreign-key and head triggers are skipped
   * via session_replication_role = replica: the statements below already delete in dependency order, and several
   * foreign keys (resident.merged_into_id, household_member.resident_id, resident_tag.resident_id) have no index
   * that their per-row checks could use, which makes deleting a large demo district quadratic otherwise.
   */
  async deleteCommunities(communityCodes: readonly string[], bypassRowChecks: boolean): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      await fastCommit(m);
      if (bypassRowChecks) await m.query(`SET LOCAL session_replication_role = replica`);
      // Enough memory for hash joins against the id lists (a demo district may hold a million residents).
      await m.query(`SET LOCAL work_mem = '256MB'`);
      const codes = [communityCodes];
      await m.query(`CREATE TEMP TABLE seed_doomed_resident ON COMMIT DROP AS SELECT id FROM resident WHERE community_code = ANY($1::bpchar[])`, codes);
      await m.query(`CREATE TEMP TABLE seed_doomed_household ON COMMIT DROP AS SELECT id FROM household WHERE community_code = ANY($1::bpchar[])`, codes);
      await m.query(
        `CREATE TEMP TABLE seed_doomed_dwelling ON COMMIT DROP AS
           SELECT d.id FROM dwelling d JOIN building b ON b.id = d.building_id JOIN compound c ON c.id = b.compound_id
            WHERE c.community_code = ANY($1::bpchar[])`,
        codes,
      );
      for (const table of ['seed_doomed_resident', 'seed_doomed_household', 'seed_doomed_dwelling']) await m.query(`ANALYZE ${table}`);
      // Each statement is a join against one id list (never `IN … OR IN …`, which cannot be hashed).
      const statements = [
        `DELETE FROM change_history t USING seed_doomed_resident x WHERE t.resident_id = x.id`,
        `DELETE FROM change_history t USING seed_doomed_household x WHERE t.household_id = x.id`,
        `DELETE FROM resident_tag t USING seed_doomed_resident x WHERE t.resident_id = x.id`,
        `DELETE FROM household_tag t USING seed_doomed_household x WHERE t.household_id = x.id`,
        `DELETE FROM duplicate_decision t USING seed_doomed_resident x WHERE t.resident_a = x.id`,
        `DELETE FROM duplicate_decision t USING seed_doomed_resident x WHERE t.resident_b = x.id`,
        `DELETE FROM household_member t USING seed_doomed_household x WHERE t.household_id = x.id`,
        `DELETE FROM household_member t USING seed_doomed_resident x WHERE t.resident_id = x.id`,
        `DELETE FROM residence t USING seed_doomed_resident x WHERE t.resident_id = x.id`,
        `DELETE FROM residence t USING seed_doomed_dwelling x WHERE t.dwelling_id = x.id`,
        // Records elsewhere that point into the demo district lose the pointer rather than block the reset.
        `UPDATE household t SET dwelling_id = NULL FROM seed_doomed_dwelling x
          WHERE t.dwelling_id = x.id AND NOT (t.community_code = ANY($1::bpchar[]))`,
        `DELETE FROM household t USING seed_doomed_household x WHERE t.id = x.id`,
        `DELETE FROM resident t USING seed_doomed_resident x WHERE t.id = x.id`,
        `DELETE FROM dwelling t USING seed_doomed_dwelling x WHERE t.id = x.id`,
        `DELETE FROM building_unit t USING building b, compound c WHERE t.building_id = b.id AND b.compound_id = c.id AND c.community_code = ANY($1::bpchar[])`,
        `DELETE FROM building t USING compound c WHERE t.compound_id = c.id AND c.community_code = ANY($1::bpchar[])`,
        `DELETE FROM compound WHERE community_code = ANY($1::bpchar[])`,
        `DELETE FROM grid WHERE community_code = ANY($1::bpchar[])`,
      ];
      for (const sql of statements) await m.query(sql, sql.includes('$1') ? codes : []);
    });
  }

  /** Whether this session may skip per-row checks (session_replication_role needs a superuser). */
  async isSuperuser(): Promise<boolean> {
    const [row] = (await this.dataSource.query(`SELECT current_setting('is_superuser') = 'on' AS su`)) as { su: boolean }[];
    return row?.su === true;
  }

  /** Fresh planner statistics for the tables the seed filled. */
  async analyze(): Promise<void> {
    for (const table of ['division', 'grid', 'compound', 'building', 'building_unit', 'dwelling', 'household', 'resident', 'household_member', 'residence', 'resident_tag', 'household_tag', 'change_history']) {
      await this.dataSource.query(`ANALYZE ${table}`);
    }
  }
}

function* chunks<T>(rows: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}
