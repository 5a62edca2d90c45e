import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * resident_birth_pinyin (birth_date, name_pinyin) duplicates resident_birth_name (birth_date, name) for every query
 * the register makes: no statement filters or sorts on name_pinyin (pinyin similarity is scored in the application,
 * see DuplicatesService), so the only usable part of the index is its leading birth_date, which resident_birth_name
 * serves just as well (duplicate candidates by `birth_date = $1`, age ranges). Every new resident still paid for it:
 * a random-key B-tree entry per row, and after each checkpoint a full-page image per leaf touched, about a quarter of
 * the WAL a bulk import writes for the resident table (measured with pg_walinspect, see docs/import.md).
 *
 * Dropped CONCURRENTLY so a running district keeps writing; that cannot happen inside a transaction.
 */
export class DropResidentBirthPinyin1765000000000 implements MigrationInterface {
  name = 'DropResidentBirthPinyin1765000000000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS resident_birth_pinyin`);
  }

  async down(q: QueryRunner): Promise<void> {
    // An interrupted concurrent build leaves an INVALID index: remove it before building again.
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS resident_birth_pinyin`);
    await q.query(`CREATE INDEX CONCURRENTLY resident_birth_pinyin ON resident (birth_date, name_pinyin)`);
  }
}
