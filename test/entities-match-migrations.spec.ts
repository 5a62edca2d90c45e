import { DataSource } from 'typeorm';
import { AppConfig, postgresOptions } from '@linli/core';
import { CodeListEntryEntity, DivisionEntity, GridEntity } from '@linli/codes';
import { BuildingEntity, BuildingUnitEntity, CompoundEntity, DwellingEntity } from '@linli/places';
import {
  ChangeHistoryEntity, HouseholdEntity, HouseholdMemberEntity, HouseholdTagEntity, ResidenceEntity, ResidentEntity, ResidentTagEntity, TagDefinitionEntity,
} from '@linli/registry';

/**
 * The schema is owned by the hand-written migrations; the entities only describe it. This test fails when an
 * entity names a column the migrations never created, or disagrees about whether it may be null.
 */
describe('entities match the migrated schema', () => {
  let ds: DataSource;
  beforeAll(async () => {
    ds = new DataSource({
      ...postgresOptions(AppConfig.fromEnv()),
      entities: [
        CodeListEntryEntity, DivisionEntity, GridEntity, CompoundEntity, BuildingEntity, BuildingUnitEntity, DwellingEntity, ResidentEntity,
        ResidenceEntity, HouseholdEntity, HouseholdMemberEntity, TagDefinitionEntity, ResidentTagEntity, HouseholdTagEntity, ChangeHistoryEntity,
      ],
    });
    await ds.initialize();
  });
  afterAll(() => ds.destroy());

  it('every entity column exists with the same nullability', async () => {
    const rows: { table_name: string; column_name: string; is_nullable: string }[] = await ds.query(
      `SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public'`,
    );
    const actual = new Map(rows.map((r) => [`${r.table_name}.${r.column_name}`, r.is_nullable === 'YES']));
    const problems: string[] = [];
    for (const meta of ds.entityMetadatas) {
      for (const col of meta.columns) {
        const key = `${meta.tableName}.${col.databaseName}`;
        if (!actual.has(key)) problems.push(`${key} is not in the database`);
        else if (!col.isGenerated && actual.get(key) !== col.isNullable) problems.push(`${key}: entity nullable=${col.isNullable}, database nullable=${actual.get(key)}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
