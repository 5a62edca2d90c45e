import Ajv, { ValidateFunction } from 'ajv';
import { DataSource } from 'typeorm';
import { AppConfig, postgresOptions } from '@linli/core';
import { DivisionSeed, validateIdNumber } from '@linli/codes';
import { TAG_DEFINITIONS } from '@linli/registry';
import { generateCommunity } from '../apps/cli/src/seed/community.generator';
import { removeDemoDistrict, seedDemoDistrict, SeedOptions } from '../apps/cli/src/seed/demo-district.seed';

/**
 * The demo seed against the real test database. It fills two synthetic communities of its own (code range x9xx under
 * 龙观乡 and 石碶街道, never township 330203001 where other tests create theirs) and removes them at the end.
 */
const TEST_COMMUNITIES: DivisionSeed[] = [
  { code: '330203200901', name: '龙观试验村（合成）', level: 'COMMUNITY', parentCode: '330203200000', synthetic: true, validFrom: '2016-10-01', validTo: null },
  { code: '330203009901', name: '石碶试验社区（合成）', level: 'COMMUNITY', parentCode: '330203009000', synthetic: true, validFrom: '2016-10-01', validTo: null },
];
const CODES = TEST_COMMUNITIES.map((c) => c.code);
const AS_OF = '2025-12-31';
const OPTIONS: SeedOptions = { residents: 300, seedValue: 'seed-spec', communities: TEST_COMMUNITIES, asOf: AS_OF, batchResidents: 100 };

interface ResidentSnapshot {
  id: string;
  id_number: string;
  name: string;
  sex: string;
  birth_date: string;
  relationship: string;
  household_number: string;
  tags: string | null;
}

describe('demo district seed (npm run seed)', () => {
  let ds: DataSource;

  const snapshot = async (): Promise<ResidentSnapshot[]> => ds.query(
    `SELECT r.id, r.id_number, r.name, r.sex, r.birth_date::text AS birth_date, hm.relationship, h.household_number,
            (SELECT string_agg(t.tag_code || t.attributes::text, ';' ORDER BY t.tag_code) FROM resident_tag t WHERE t.resident_id = r.id) AS tags
       FROM resident r
       JOIN household_member hm ON hm.resident_id = r.id AND hm.to_date IS NULL
       JOIN household h ON h.id = hm.household_id
      WHERE r.community_code = ANY($1::bpchar[])
      ORDER BY r.id_number`,
    [CODES],
  );

  beforeAll(async () => {
    ds = new DataSource(postgresOptions(AppConfig.fromEnv()));
    await ds.initialize();
    const summary = await seedDemoDistrict(ds, { ...OPTIONS, reset: true });
    expect(summary.skipped).toBe(false);
    expect(summary.residents).toBe(300);
    expect(summary.historyRows).toBe(300);
  }, 60_000);

  afterAll(async () => {
    if (!ds?.isInitialized) return;
    await removeDemoDistrict(ds, TEST_COMMUNITIES);
    await ds.destroy();
  });

  it('writes exactly the residents asked for, each with a membership, most with a current residence, and one history row', async () => {
    const [row] = await ds.query(
      `SELECT count(*)::int AS residents,
              count(*) FILTER (WHERE r.source = 'SEED')::int AS seeded,
              (SELECT count(*) FROM household_member hm JOIN resident x ON x.id = hm.resident_id
                WHERE x.community_code = ANY($1::bpchar[]) AND hm.to_date IS NULL)::int AS members,
              (SELECT count(*) FROM residence rs JOIN resident x ON x.id = rs.resident_id
                WHERE x.community_code = ANY($1::bpchar[]) AND rs.moved_out_on IS NULL AND rs.source = 'SEED')::int AS residences,
              (SELECT count(*) FROM change_history ch JOIN resident x ON x.id = ch.resident_id
                WHERE x.community_code = ANY($1::bpchar[]) AND ch.operation = 'seed')::int AS history
         FROM resident r WHERE r.community_code = ANY($1::bpchar[])`,
      [CODES],
    );
    expect(row).toMatchObject({ residents: 300, seeded: 300, members: 300, history: 300 });
    expect(row.residences).toBeGreaterThan(270);
    expect(row.residences).toBeLessThanOrEqual(300);
  });

  it('gives every resident a valid 18-digit ID number whose sex and birth date match the record', async () => {
    const rows: { id_number: string; sex: string; birth_date: string; id_number_status: string }[] = await ds.query(
      `SELECT id_number, sex, birth_date::text AS birth_date, id_number_status FROM resident WHERE community_code = ANY($1::bpchar[])`,
      [CODES],
    );
    expect(rows).toHaveLength(300);
    for (const r of rows) {
      const result = validateIdNumber(r.id_number, { sex: r.sex, birthDate: r.birth_date });
      expect({ id: r.id_number, ok: result.ok }).toEqual({ id: r.id_number, ok: true });
      expect(r.id_number_status).toBe('VALID');
      expect(r.birth_date <= AS_OF).toBe(true);
    }
    expect(new Set(rows.map((r) => r.id_number)).size).toBe(300);
  });

  it('gives every active household exactly one current head, and family relationships that fit the ages', async () => {
    const heads: { household_number: string; heads: number }[] = await ds.query(
      `SELECT h.household_number, count(hm.id) FILTER (WHERE hm.is_head AND hm.to_date IS NULL)::int AS heads
         FROM household h LEFT JOIN household_member hm ON hm.household_id = h.id
        WHERE h.community_code = ANY($1::bpchar[]) AND h.status = 'ACTIVE'
        GROUP BY h.household_number`,
      [CODES],
    );
    expect(heads.length).toBeGreaterThan(50);
    expect(heads.filter((h) => h.heads !== 1)).toEqual([]);

    // Children (20–23, 30–32) are younger than the head and parents (50–52) older.
    const misfits: { relationship: string }[] = await ds.query(
      `SELECT m.relationship FROM household_member m
         JOIN resident r ON r.id = m.resident_id
         JOIN household_member hm ON hm.household_id = m.household_id AND hm.is_head AND hm.to_date IS NULL
         JOIN resident head ON head.id = hm.resident_id
        WHERE r.community_code = ANY($1::bpchar[]) AND m.to_date IS NULL
          AND ((m.relationship IN ('20','21','22','23','30','31','32') AND r.birth_date <= head.birth_date + interval '14 years')
            OR (m.relationship IN ('50','51','52') AND r.birth_date >= head.birth_date - interval '14 years'))`,
      [CODES],
    );
    expect(misfits).toEqual([]);
  });

  it('writes manual tags whose attributes satisfy their JSON schemas, consistent with the resident', async () => {
    // Same validator settings as TagsService.
    const ajv = new Ajv({ allErrors: false, strict: false });
    ajv.addFormat('date', { type: 'string', validate: (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s)) });
    const validators = new Map<string, ValidateFunction>(TAG_DEFINITIONS.filter((d) => !d.rule).map((d) => [d.code, ajv.compile(d.attributeSchema)]));
    const tags: { tag_code: string; attributes: Record<string, unknown>; id_number: string; population_type: string; political_status: string }[] = await ds.query(
      `SELECT t.tag_code, t.attributes, r.id_number, r.population_type, r.political_status
         FROM resident_tag t JOIN resident r ON r.id = t.resident_id WHERE r.community_code = ANY($1::bpchar[])
       UNION ALL
       SELECT t.tag_code, t.attributes, NULL, NULL, NULL
         FROM household_tag t JOIN household h ON h.id = t.household_id WHERE h.community_code = ANY($1::bpchar[])`,
      [CODES],
    );
    expect(tags.length).toBeGreaterThan(20);
    for (const t of tags) {
      const validate = validators.get(t.tag_code);
      expect(validate).toBeDefined();
      const ok = validate!(t.attributes);
      expect({ tag: t.tag_code, attributes: t.attributes, errors: ok ? null : validate!.errors }).toMatchObject({ errors: null });
      if (t.tag_code === 'DISABLED') expect(String(t.attributes.certificateNo).slice(0, 18)).toBe(t.id_number);
      if (t.tag_code === 'FLOATING') expect(t.population_type).toBe('FLOATING');
      if (t.tag_code === 'PARTY_MEMBER') expect(['01', '02']).toContain(t.political_status);
    }
    const codes = new Set(tags.map((t) => t.tag_code));
    expect(codes.has('FLOATING')).toBe(true);
    expect(codes.has('PARTY_MEMBER')).toBe(true);

    // Every floating resident carries the FLOATING tag; every party member the PARTY_MEMBER tag.
    const [gaps] = await ds.query(
      `SELECT count(*) FILTER (WHERE r.population_type = 'FLOATING' AND NOT EXISTS (SELECT 1 FROM resident_tag t WHERE t.resident_id = r.id AND t.tag_code = 'FLOATING'))::int AS floating,
              count(*) FILTER (WHERE r.political_status IN ('01','02') AND NOT EXISTS (SELECT 1 FROM resident_tag t WHERE t.resident_id = r.id AND t.tag_code = 'PARTY_MEMBER'))::int AS party
         FROM resident r WHERE r.community_code = ANY($1::bpchar[])`,
      [CODES],
    );
    expect(gaps).toEqual({ floating: 0, party: 0 });
  });

  it('does not duplicate anything when run again, and rebuilds the same data with --reset', async () => {
    const before = await snapshot();
    const again = await seedDemoDistrict(ds, OPTIONS);
    expect(again.skipped).toBe(true);
    expect(await snapshot()).toEqual(before);

    // The ordinary (checked) delete path, so that the dependency order of the reset is verified by the foreign keys.
    const rebuilt = await seedDemoDistrict(ds, { ...OPTIONS, reset: true, fastReset: false });
    expect(rebuilt.skipped).toBe(false);
    expect(await snapshot()).toEqual(before);
  }, 60_000);

  it('generates the same community from the same arguments, and a different one from another seed value', () => {
    const community = TEST_COMMUNITIES[1] as DivisionSeed;
    const make = (seedValue: string) => generateCommunity({
      community, townshipName: '石碶街道', residents: 120, seedValue, asOf: AS_OF, usedIdNumbers: new Set(), pinyinCache: new Map(),
    });
    const a = make('same');
    expect(make('same')).toEqual(a);
    expect(a.households.reduce((n, h) => n + h.residents.length, 0)).toBe(120);
    expect(make('other').households[0]?.residents[0]?.idNumber).not.toBe(a.households[0]?.residents[0]?.idNumber);
  });
});
