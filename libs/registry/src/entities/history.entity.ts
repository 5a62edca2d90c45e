import { Column, Entity, PrimaryColumn } from 'typeorm';

export interface FieldChange {
  field: string;
  old: unknown;
  new: unknown;
}

/** 变更历史 one change to the register, written in the same transaction as the change. */
@Entity('change_history')
export class ChangeHistoryEntity {
  @PrimaryColumn({ type: 'bigint' }) id: string;
  @Column({ name: 'resident_id', type: 'uuid', nullable: true }) residentId: string | null;
  @Column({ name: 'household_id', type: 'uuid', nullable: true }) householdId: string | null;
  @Column({ type: 'text' }) operation: string;
  @Column({ type: 'text' }) actor: string;
  @Column({ name: 'request_id', type: 'text', nullable: true }) requestId: string | null;
  @Column({ type: 'text', nullable: true }) reason: string | null;
  @Column({ type: 'jsonb' }) changes: FieldChange[];
  @Column({ name: 'occurred_at', type: 'timestamptz' }) occurredAt: Date;
}
