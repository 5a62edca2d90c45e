import { EntityManager } from 'typeorm';
import { DEPARTMENT_SEEDS, POLICY_SEEDS } from './policies.data';

/** Upserts the departments and access policies shipped with this release (run by `npm run migrate`). */
export async function syncAccessReferenceData(manager: EntityManager): Promise<void> {
  await manager.query(
    `INSERT INTO department (code, name_zh, name_en, line, jurisdiction)
     SELECT d.code, d.name_zh, d.name_en, d.line, d.jurisdiction
       FROM jsonb_to_recordset($1::jsonb) AS d(code text, name_zh text, name_en text, line text, jurisdiction text[])
     ON CONFLICT (code) DO UPDATE SET name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en, line = EXCLUDED.line, jurisdiction = EXCLUDED.jurisdiction`,
    [JSON.stringify(DEPARTMENT_SEEDS.map((d) => ({ code: d.code, name_zh: d.nameZh, name_en: d.nameEn, line: d.line, jurisdiction: d.jurisdiction })))],
  );
  await manager.query(
    `INSERT INTO access_policy (subject, fields, tags, purposes, min_statistics_cell)
     SELECT p.subject, p.fields, p.tags, p.purposes, p.min_statistics_cell
       FROM jsonb_to_recordset($1::jsonb) AS p(subject text, fields jsonb, tags text[], purposes text[], min_statistics_cell int)
     ON CONFLICT (subject) DO UPDATE SET fields = EXCLUDED.fields, tags = EXCLUDED.tags, purposes = EXCLUDED.purposes,
       min_statistics_cell = EXCLUDED.min_statistics_cell, updated_at = now()`,
    [JSON.stringify(POLICY_SEEDS.map((p) => ({ subject: p.subject, fields: p.fields, tags: p.tags, purposes: p.purposes, min_statistics_cell: p.minStatisticsCell })))],
  );
}
