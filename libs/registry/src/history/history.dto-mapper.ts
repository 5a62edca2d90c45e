import { ChangeHistoryEntity } from '../entities/history.entity';
import { HistoryEntryDto } from '../dtos/history.dto';

const asJson = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));

export function toHistoryDto(h: ChangeHistoryEntity): HistoryEntryDto {
  return {
    id: h.id, residentId: h.residentId, householdId: h.householdId, operation: h.operation, actor: h.actor, requestId: h.requestId,
    reason: h.reason, occurredAt: h.occurredAt, changes: h.changes.map((c) => ({ field: c.field, old: asJson(c.old), new: asJson(c.new) })),
  };
}
