import { EntityManager } from 'typeorm';
import { CODE_LIST_NAMES, CODE_LISTS } from './code-lists.data';
import { DivisionSeed, HAISHU_DIVISIONS } from './divisions.data';

/**
 * Brings the code lists and the official divisions in the database up to the data shipped with this release.
 * Idempotent: run after every migration. Entries are upserted, never deleted (old records may still use them);
 * an entry dropped from the data is closed by setting its valid_to.
 */
export async function syncCodeLists(manager: EntityManager): Promise<void> {
  for (const list of CODE_LIST_NAMES) {
    const entries = CODE_LISTS[list];
    const codes = entries.map((e) => e.code);
    await manager.query(
      `INSERT INTO code_list_entry (list_name, code, name_zh, name_en, parent_code, sort_order)
       SELECT $1, e.code, e.name_zh, e.name_en, e.parent_code, e.ord
         FROM jsonb_to_recordset($2::jsonb) AS e(code text, name_zh text, name_en text, parent_code text, ord int)
       ON CONFLICT (list_name, code) DO UPDATE
         SET name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en, parent_code = EXCLUDED.parent_code,
             sort_order = EXCLUDED.sort_order, valid_to = NULL`,
      [list, JSON.stringify(entries.map((e, i) => ({ code: e.code, name_zh: e.nameZh, name_en: e.nameEn, parent_code: e.parentCode ?? null, ord: i })))],
    );
    await manager.query(
      `UPDATE code_list_entry SET valid_to = current_date WHERE list_name = $1 AND NOT (code = ANY($2)) AND valid_to IS NULL`,
      [list, codes],
    );
  }
}

/** Upserts divisions parents-first (the seed list is ordered so). */
export async function upsertDivisions(manager: EntityManager, divisions: DivisionSeed[]): Promise<void> {
  const chunk = 1000;
  for (let i = 0; i < divisions.length; i += chunk) {
    await manager.query(
      `INSERT INTO division (code, name, level, parent_code, synthetic, valid_from, valid_to)
       SELECT d.code, d.name, d.level, d.parent_code, d.synthetic, d.valid_from, d.valid_to
         FROM jsonb_to_recordset($1::jsonb) AS d(code text, name text, level text, parent_code text, synthetic boolean, valid_from date, valid_to date)
       ON CONFLICT (code) DO UPDATE
         SET name = EXCLUDED.name, level = EXCLUDED.level, parent_code = EXCLUDED.parent_code,
             synthetic = EXCLUDED.synthetic, valid_from = EXCLUDED.valid_from, valid_to = EXCLUDED.valid_to`,
      [JSON.stringify(divisions.slice(i, i + chunk).map((d) => ({
        code: d.code, name: d.name, level: d.level, parent_code: d.parentCode, synthetic: d.synthetic,
        valid_from: d.validFrom, valid_to: d.validTo,
      })))],
    );
  }
}

export async function syncOfficialDivisions(manager: EntityManager): Promise<void> {
  await upsertDivisions(manager, HAISHU_DIVISIONS);
}
