import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError, inRanges, optionalText, RequestContext, requireUuid } from '@linli/core';
import { ResidentEntity } from '../entities/resident.entity';
import { DuplicateCandidateDto } from '../dtos/history.dto';
import { HistoryService } from '../history/history.service';

/** Levenshtein distance, bounded: returns max+1 as soon as the distance exceeds max. */
export function editDistance(a: string, b: string, max = 3): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      rowMin = Math.min(rowMin, cur[j]);
    }
    if (rowMin > max) return max + 1;
    prev = cur;
  }
  return prev[b.length];
}

interface CandidateRow {
  id: string;
  community_code: string;
  name: string;
  name_pinyin: string;
  former_name: string | null;
  birth_date: string;
  sex: string;
  id_type: string;
  id_number: string | null;
  id_number_status: string;
  household_id: string | null;
}

/**
 * Possible duplicates: records that may be the same person although their ID numbers differ or are missing.
 * Exact duplicates cannot exist (unique ID number among live records). A worker's "not a duplicate" decision is
 * remembered per pair and never suggested again.
 */
@Injectable()
export class DuplicatesService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource, private readonly history: HistoryService) {}

  async candidates(ctx: RequestContext, residentId: string): Promise<DuplicateCandidateDto[]> {
    const id = requireUuid(residentId, 'residentId');
    const subject = await this.dataSource.getRepository(ResidentEntity).findOneBy({ id });
    if (!subject || !inRanges(subject.communityCode, ctx.access.jurisdiction)) throw DomainError.notFound('Resident', id, 'residentId');
    const [subjectHousehold] = await this.dataSource.query(`SELECT household_id FROM household_member WHERE resident_id = $1 AND to_date IS NULL`, [id]);
    const rows: CandidateRow[] = await this.dataSource.query(
      `SELECT r.id, r.community_code, r.name, r.name_pinyin, r.former_name, to_char(r.birth_date, 'YYYY-MM-DD') AS birth_date, r.sex, r.id_type, r.id_number, r.id_number_status,
              hm.household_id
         FROM resident r
         LEFT JOIN household_member hm ON hm.resident_id = r.id AND hm.to_date IS NULL
        WHERE r.id <> $1 AND r.merged_into_id IS NULL
          AND (r.birth_date = $2::date OR r.former_name = $3 OR r.name = $4)
          AND NOT EXISTS (SELECT 1 FROM duplicate_decision d WHERE d.resident_a = LEAST(r.id, $1::uuid) AND d.resident_b = GREATEST(r.id, $1::uuid))
        LIMIT 500`,
      [id, subject.birthDate, subject.name, subject.formerName ?? ''],
    );
    const out: DuplicateCandidateDto[] = [];
    for (const c of rows) {
      if (!inRanges(c.community_code, ctx.access.jurisdiction)) continue;
      const reasons: string[] = [];
      let score = 0;
      const sameBirth = c.birth_date === subject.birthDate;
      const sameHousehold = !!subjectHousehold && subjectHousehold.household_id === c.household_id;
      if (sameBirth && c.name === subject.name) {
        reasons.push('SAME_NAME_AND_BIRTH_DATE');
        score = 0.9;
      } else if (sameBirth && c.name_pinyin && editDistance(c.name_pinyin, subject.namePinyin, 2) <= (subject.namePinyin.length > 6 ? 2 : 1)) {
        reasons.push('SIMILAR_PINYIN_SAME_BIRTH_DATE');
        score = sameHousehold ? 0.85 : 0.5;
      }
      if ((c.former_name && c.former_name === subject.name) || (subject.formerName && subject.formerName === c.name)) {
        reasons.push('FORMER_NAME');
        score = Math.max(score, sameBirth ? 0.85 : c.sex === subject.sex ? 0.4 : 0.2);
      }
      if (sameBirth && c.id_number && subject.idNumber && c.id_number.length === subject.idNumber.length && editDistance(c.id_number, subject.idNumber, 1) === 1) {
        reasons.push('ID_NUMBER_ONE_CHAR_APART');
        score = Math.max(score, 0.7) + 0.1;
      }
      if (reasons.length === 0) continue;
      if (sameHousehold) { reasons.push('SAME_HOUSEHOLD'); score += 0.05; }
      if (c.id_type === subject.idType && c.id_number_status === 'VALID' && subject.idNumberStatus === 'VALID' && c.id_number !== subject.idNumber && !reasons.includes('ID_NUMBER_ONE_CHAR_APART')) {
        // Two valid, different numbers of the same ID type: more likely two people who share a name and birthday.
        reasons.push('DIFFERENT_VALID_ID_NUMBERS');
        score *= 0.5;
      }
      if (c.sex !== subject.sex) score *= 0.6;
      out.push({ residentId: c.id, score: Math.round(Math.min(score, 1) * 100) / 100, reasons });
    }
    return out.sort((a, b) => b.score - a.score || (a.residentId < b.residentId ? -1 : 1));
  }

  async markNotDuplicate(m: EntityManager, ctx: RequestContext, residentId: string, otherResidentId: string, reason?: string | null): Promise<boolean> {
    const visible = async (id: string) => {
      const r = await m.getRepository(ResidentEntity).findOneBy({ id });
      return !!r && inRanges(r.communityCode, ctx.access.writeJurisdiction);
    };
    const a = requireUuid(residentId, 'residentId');
    const b = requireUuid(otherResidentId, 'otherResidentId');
    if (a === b) throw DomainError.badInput('otherResidentId', '不能与自身比较', 'A record cannot be compared with itself');
    for (const [id, field] of [[a, 'residentId'], [b, 'otherResidentId']] as const) {
      if (!(await visible(id))) throw DomainError.notFound('Resident', id, field);
    }
    const [lo, hi] = a < b ? [a, b] : [b, a];
    const note = optionalText(reason, 'reason', 500);
    await m.query(
      `INSERT INTO duplicate_decision (resident_a, resident_b, decision, decided_by, reason) VALUES ($1, $2, 'NOT_DUPLICATE', $3, $4)
       ON CONFLICT (resident_a, resident_b) DO NOTHING`,
      [lo, hi, ctx.actor.id, note],
    );
    await this.history.record(m, ctx, [
      { residentId: a, operation: 'markNotDuplicate', reason: note, changes: [{ field: 'notDuplicateOf', old: null, new: b }] },
      { residentId: b, operation: 'markNotDuplicate', reason: note, changes: [{ field: 'notDuplicateOf', old: null, new: a }] },
    ]);
    return true;
  }
}
