import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DomainError, ErrorCode } from '@linli/core';
import { CodeListEntryEntity } from './entities/code-list-entry.entity';
import { DivisionEntity } from './entities/division.entity';
import { CodeListName } from './code-lists.data';
import { subtreeRange } from './divisions.data';

/**
 * Code lists and divisions: reference data read on every write. Both are small, so they are cached in memory at
 * start; `reload()` refreshes them after the reference data changes.
 */
@Injectable()
export class CodesService implements OnModuleInit {
  private codes = new Map<string, Map<string, CodeListEntryEntity>>();
  private divisions = new Map<string, DivisionEntity>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async onModuleInit(): Promise<void> {
    await this.reload();
  }

  async reload(): Promise<void> {
    const entries = await this.dataSource.getRepository(CodeListEntryEntity).find({ order: { listName: 'ASC', sortOrder: 'ASC', code: 'ASC' } });
    const codes = new Map<string, Map<string, CodeListEntryEntity>>();
    for (const e of entries) {
      if (!codes.has(e.listName)) codes.set(e.listName, new Map());
      codes.get(e.listName)!.set(e.code, e);
    }
    this.codes = codes;
    const divisions = await this.dataSource.getRepository(DivisionEntity).find({ order: { code: 'ASC' } });
    this.divisions = new Map(divisions.map((d) => [d.code, d]));
  }

  codeList(name: CodeListName, at?: string): CodeListEntryEntity[] {
    const list = [...(this.codes.get(name)?.values() ?? [])];
    return at ? list.filter((e) => e.validFrom <= at && (!e.validTo || e.validTo >= at)) : list;
  }

  /** Throws INVALID_CODE naming the field when `code` is not a currently valid entry of `list`. */
  requireCode(list: CodeListName, code: string, field: string): CodeListEntryEntity {
    const entry = this.codes.get(list)?.get(code);
    const today = new Date().toISOString().slice(0, 10);
    if (!entry || (entry.validTo && entry.validTo < today)) {
      throw new DomainError(ErrorCode.INVALID_CODE, `代码“${code}”不在代码表 ${list} 中`, `Code "${code}" is not in code list ${list}`, {
        field,
        details: { list, value: code },
      });
    }
    return entry;
  }

  isCode(list: CodeListName, code: string): boolean {
    return this.codes.get(list)?.has(code) ?? false;
  }

  division(code: string): DivisionEntity | undefined {
    return this.divisions.get(code);
  }

  children(parentCode: string | null): DivisionEntity[] {
    return [...this.divisions.values()].filter((d) => d.parentCode === parentCode);
  }

  /** A community that exists and is in force today; records are kept by community. */
  requireCommunity(code: string, field: string): DivisionEntity {
    const d = this.divisions.get(code);
    if (!d || d.level !== 'COMMUNITY') {
      throw DomainError.badInput(field, `社区代码“${code}”不存在`, `Community code "${code}" does not exist`, { value: code });
    }
    const today = new Date().toISOString().slice(0, 10);
    if (d.validTo && d.validTo < today) {
      throw DomainError.badInput(field, `社区“${d.name}”已于 ${d.validTo} 撤销`, `Community "${d.name}" was retired on ${d.validTo}`, { value: code });
    }
    return d;
  }

  /** The code range of a division's subtree, for range predicates on community codes. */
  requireSubtree(code: string, field: string): { from: string; to: string } {
    if (!this.divisions.has(code)) {
      throw DomainError.badInput(field, `行政区划代码“${code}”不存在`, `Division code "${code}" does not exist`, { value: code });
    }
    return subtreeRange(code);
  }
}
