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

export interface OutboxEventInput {
  aggregateType: 'RESIDENT' | 'HOUSEHOLD';
  aggregateId: string;
  eventType: string;
  changedFields: string[];
}

/** Wakes the outbox relay; inside a transaction, NOTIFY is delivered only when the transaction commits. */
export const NOTIFY_OUTBOX = `SELECT pg_notify('linli_outbox', '')`;

/**
 * Appends outbox events carrying each aggregate's version as it stands in this transaction, and wakes the relay.
 * Used by every register writer; the importer writes its batch's events in its own set-based statement and sends
 * NOTIFY_OUTBOX itself.
 */
export async function recordOutbox(m: EntityManager, events: OutboxEventInput[]): Promise<void> {
  if (events.length === 0) return;
  await m.query(
    `INSERT INTO outbox_event (aggregate_type, aggregate_id, version, event_type, changed_fields)
     SELECT e.aggregate_type, e.aggregate_id, COALESCE(r.version, h.version, 1), e.event_type, e.changed_fields
       FROM jsonb_to_recordset($1::jsonb) AS e(aggregate_type text, aggregate_id uuid, event_type text, changed_fields text[])
       LEFT JOIN resident r ON e.aggregate_type = 'RESIDENT' AND r.id = e.aggregate_id
       LEFT JOIN household h ON e.aggregate_type = 'HOUSEHOLD' AND h.id = e.aggregate_id`,
    [JSON.stringify(events.map((e) => ({ aggregate_type: e.aggregateType, aggregate_id: e.aggregateId, event_type: e.eventType, changed_fields: e.changedFields })))],
  );
  await m.query(NOTIFY_OUTBOX);
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

/**
 * The change history and the outbox. Writers call `record` inside their own transaction, so a change, its history
 * and its outbox events (aggregate, new version, changed fields: ids only, no personal data) commit together.
 */
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
    await recordOutbox(m, entries.map((e) => ({
      aggregateType: e.residentId ? 'RESIDENT' : 'HOUSEHOLD', aggregateId: (e.residentId ?? e.householdId)!, eventType: e.operation, changedFields: e.changes.map((c) => c.field),
    })));
  }

  forResident(residentId: string): Promise<ChangeHistoryEntity[]> {
    return this.dataSource.getRepository(ChangeHistoryEntity).find({ where: { residentId }, order: { id: 'ASC' } });
  }

  forHousehold(householdId: string): Promise<ChangeHistoryEntity[]> {
    return this.dataSource.getRepository(ChangeHistoryEntity).find({ where: { householdId }, order: { id: 'ASC' } });
  }
}
