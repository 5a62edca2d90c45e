import { DataSource } from 'typeorm';
import { CodesService, DivisionEntity, subtreeRange } from '@linli/codes';
import { today } from '@linli/core';
import type { CommunityRef } from './mapping';
import { maskQuoted } from './report';

/** A problem with one row: the field it concerns and a bilingual reason. */
export interface RowProblem {
  field: string;
  messageZh: string;
  messageEn: string;
}

/**
 * The communities rows may name: by code (checked against the cached division list) or by name (looked up once per
 * run among communities, optionally within one division). A community that exists but was retired stores the row in
 * quarantine; an unknown, non-community or ambiguous one rejects the row.
 */
export class CommunityResolver {
  private byName: Map<string, DivisionEntity[]> | null = null;
  private readonly today = today();

  constructor(private readonly codes: CodesService) {}

  async loadNames(dataSource: DataSource, within: string | undefined): Promise<void> {
    const range = within ? subtreeRange(within) : { from: '000000000000', to: '999999999999' };
    const rows: { code: string }[] = await dataSource.query(
      `SELECT code FROM division WHERE level = 'COMMUNITY' AND code BETWEEN $1 AND $2`, [range.from, range.to],
    );
    this.byName = new Map();
    for (const { code } of rows) {
      const d = this.codes.division(code);
      if (!d) continue;
      const list = this.byName.get(d.name) ?? [];
      list.push(d);
      this.byName.set(d.name, list);
    }
  }

  isRetired(d: DivisionEntity): boolean {
    return d.validTo !== null && d.validTo < this.today;
  }

  resolve(ref: CommunityRef | null): { division: DivisionEntity } | { problem: RowProblem } {
    if (!ref) {
      return { problem: { field: 'communityCode', messageZh: '缺少所属社区', messageEn: 'The community is missing' } };
    }
    if (ref.by === 'code') {
      const d = this.codes.division(ref.value);
      if (!d || d.level !== 'COMMUNITY') {
        return { problem: { field: 'communityCode', messageZh: maskQuoted(`社区代码“${ref.value}”不存在`), messageEn: maskQuoted(`Community code "${ref.value}" does not exist`) } };
      }
      return { division: d };
    }
    const name = ref.value;
    const index = this.byName ?? new Map<string, DivisionEntity[]>();
    let found = index.get(name) ?? [];
    // Legacy sheets often drop the 社区 / 村 suffix.
    if (found.length === 0 && !/(社区|村)$/.test(name)) found = [...(index.get(`${name}社区`) ?? []), ...(index.get(`${name}村`) ?? [])];
    if (found.length > 1) {
      const current = found.filter((d) => !this.isRetired(d));
      if (current.length === 1) found = current;
    }
    if (found.length === 0) {
      return { problem: { field: 'communityCode', messageZh: `找不到名为“${name}”的社区`, messageEn: `No community is named "${name}"` } };
    }
    if (found.length > 1) {
      return {
        problem: {
          field: 'communityCode',
          messageZh: `社区名称“${name}”对应多个社区（${found.map((d) => d.code).join('、')}），请改用社区代码`,
          messageEn: `Community name "${name}" matches several communities (${found.map((d) => d.code).join(', ')}); use the code instead`,
        },
      };
    }
    return { division: found[0]! };
  }
}
