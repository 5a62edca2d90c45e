import { Column, Entity, PrimaryColumn } from 'typeorm';

export type IdNumberStatus = 'VALID' | 'QUARANTINED' | 'NONE';
export type ResidentStatus = 'ACTIVE' | 'MOVED_OUT' | 'DECEASED' | 'MERGED';

/** 居民 a person in the register. The uuid is the stable uid other systems keep. */
@Entity('resident')
export class ResidentEntity {
  @PrimaryColumn({ type: 'uuid', default: () => 'gen_random_uuid()' }) id: string;
  @Column({ name: 'id_type', type: 'text' }) idType: string;
  @Column({ name: 'id_number', type: 'text', nullable: true }) idNumber: string | null;
  @Column({ name: 'id_number_status', type: 'text' }) idNumberStatus: IdNumberStatus;
  @Column({ name: 'quarantine_reason', type: 'text', nullable: true }) quarantineReason: string | null;
  @Column({ type: 'text' }) name: string;
  @Column({ name: 'name_pinyin', type: 'text' }) namePinyin: string;
  @Column({ name: 'former_name', type: 'text', nullable: true }) formerName: string | null;
  @Column({ type: 'char', length: 1 }) sex: string;
  @Column({ name: 'birth_date', type: 'date' }) birthDate: string;
  @Column({ type: 'char', length: 2, nullable: true }) ethnicity: string | null;
  @Column({ name: 'political_status', type: 'char', length: 2, nullable: true }) politicalStatus: string | null;
  @Column({ type: 'char', length: 2, nullable: true }) education: string | null;
  @Column({ name: 'marital_status', type: 'char', length: 2, nullable: true }) maritalStatus: string | null;
  @Column({ type: 'char', length: 2, nullable: true }) employment: string | null;
  @Column({ type: 'text', nullable: true }) phone: string | null;
  @Column({ name: 'population_type', type: 'text' }) populationType: string;
  @Column({ name: 'household_relation', type: 'text', nullable: true }) householdRelation: string | null;
  @Column({ name: 'community_code', type: 'char', length: 12 }) communityCode: string;
  @Column({ type: 'text' }) status: ResidentStatus;
  @Column({ name: 'moved_out_on', type: 'date', nullable: true }) movedOutOn: string | null;
  @Column({ name: 'move_out_reason', type: 'text', nullable: true }) moveOutReason: string | null;
  @Column({ name: 'move_out_destination', type: 'text', nullable: true }) moveOutDestination: string | null;
  @Column({ name: 'deceased_on', type: 'date', nullable: true }) deceasedOn: string | null;
  @Column({ name: 'merged_into_id', type: 'uuid', nullable: true }) mergedIntoId: string | null;
  @Column({ type: 'text' }) source: string;
  @Column({ type: 'int' }) version: number;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

/** 居住 where a resident lives, from when to when. */
@Entity('residence')
export class ResidenceEntity {
  @PrimaryColumn({ type: 'uuid', default: () => 'gen_random_uuid()' }) id: string;
  @Column({ name: 'resident_id', type: 'uuid' }) residentId: string;
  @Column({ name: 'dwelling_id', type: 'uuid' }) dwellingId: string;
  @Column({ type: 'text' }) kind: string;
  @Column({ name: 'moved_in_on', type: 'date' }) movedInOn: string;
  @Column({ name: 'moved_out_on', type: 'date', nullable: true }) movedOutOn: string | null;
  @Column({ type: 'text' }) source: string;
}
