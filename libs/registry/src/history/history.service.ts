import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { RequestContext } from '@linli/core';
import { ChangeHistoryEntity, FieldChange } from '../entities/history.entity';

export interface HistoryEntryInput {
  residentId?: string | null;
  householdId?: string | null;
  operation: string;
  changes: FieldChange[];
  reason?: string | null;
}

/** Compares two snapshots field by field; only changed fields are kept. */
export function diff<T extends object>(before: Partial<T> | null, after: Partial<T>, fields: (keyof T)[]): FieldChange[] {
  const out: FieldChange[] = [];
  for (const field of fields) {
    const o = before ? (before[field] ?? null) : null;
    const n = after[field] ?? null;
    if (JSON.stringify(o) !== JSON.stringify(n)) out.push({ field: String(field), old: o, new: n });
  }
  return out;
}

/** The change history. Writers call `record` inside their own transaction, so a change and its history commit together. */
@Injectable()
export class HistoryService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async record(m: EntityManager, ctx: RequestContext, entries: HistoryEntryInput[]): Promise<void> {
    if (entries.length === 0) return;
    await m.query(
      `INSERT INTO change_history (resident_id, household_id, operation, actor, request_id, reason, changes)
       SELECT e.resident_id, e.household_id, e.operation, $1, $2, e.reason, e.changes
         FROM jsonb_to_recordset($3::jsonb) AS e(resident_id uuid, household_id uuid, operation text, reason text, changes jsonb)`,
      [ctx.actor.id, ctx.requestId, JSON.stringify(entries.map((e) => ({
        resident_id: e.residentId ?? null, household_id: e.householdId ?? null, operation: e.operation, reason: e.reason ?? null, changes: e.changes,
      })))],
    );
  }

  forResident(residentId: string): Promise<ChangeHistoryEntity[]> {
    return this.dataSource.getRepository(ChangeHistoryEntity).find({ where: { residentId }, order: { id: 'ASC' } });
  }

  forHousehold(householdId: string): Promise<ChangeHistoryEntity[]> {
    return this.dataSource.getRepository(ChangeHistoryEntity).find({ where: { householdId }, order: { id: 'ASC' } });
  }
}
