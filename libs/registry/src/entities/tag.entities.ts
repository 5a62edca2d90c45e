import { Column, Entity, PrimaryColumn } from 'typeorm';

export type Sensitivity = 'L1' | 'L2' | 'L3' | 'L4';

/** Rule of a derived tag: computed from sex and age, never typed in. */
export interface TagRule {
  sex?: string;
  minAge?: number;
  maxAge?: number;
}

/** 标签定义 a special group: who owns it, how sensitive it is, what attributes it carries. */
@Entity('tag_definition')
export class TagDefinitionEntity {
  @PrimaryColumn({ type: 'text' }) code: string;
  @Column({ name: 'name_zh', type: 'text' }) nameZh: string;
  @Column({ name: 'name_en', type: 'text' }) nameEn: string;
  @Column({ name: 'owner_line', type: 'text' }) ownerLine: string;
  @Column({ type: 'text' }) sensitivity: Sensitivity;
  @Column({ type: 'text' }) subject: 'RESIDENT' | 'HOUSEHOLD';
  @Column({ name: 'attribute_schema', type: 'jsonb' }) attributeSchema: Record<string, unknown>;
  @Column({ type: 'text' }) derivation: 'MANUAL' | 'RULE';
  @Column({ type: 'jsonb', nullable: true }) rule: TagRule | null;
  @Column({ name: 'valid_from', type: 'date' }) validFrom: string;
  @Column({ name: 'valid_to', type: 'date', nullable: true }) validTo: string | null;
}

@Entity('resident_tag')
export class ResidentTagEntity {
  @PrimaryColumn({ type: 'uuid', default: () => 'gen_random_uuid()' }) id: string;
  @Column({ name: 'resident_id', type: 'uuid' }) residentId: string;
  @Column({ name: 'tag_code', type: 'text' }) tagCode: string;
  @Column({ type: 'jsonb' }) attributes: Record<string, unknown>;
  @Column({ name: 'valid_from', type: 'date' }) validFrom: string;
  @Column({ name: 'valid_to', type: 'date', nullable: true }) validTo: string | null;
  @Column({ name: 'created_by', type: 'text' }) createdBy: string;
}

@Entity('household_tag')
export class HouseholdTagEntity {
  @PrimaryColumn({ type: 'uuid', default: () => 'gen_random_uuid()' }) id: string;
  @Column({ name: 'household_id', type: 'uuid' }) householdId: string;
  @Column({ name: 'tag_code', type: 'text' }) tagCode: string;
  @Column({ type: 'jsonb' }) attributes: Record<string, unknown>;
  @Column({ name: 'valid_from', type: 'date' }) validFrom: string;
  @Column({ name: 'valid_to', type: 'date', nullable: true }) validTo: string | null;
  @Column({ name: 'created_by', type: 'text' }) createdBy: string;
}
