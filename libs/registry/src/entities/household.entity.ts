import { Column, Entity, PrimaryColumn } from 'typeorm';

/** 户 a household (family or collective), registered at an address. */
@Entity('household')
export class HouseholdEntity {
  @PrimaryColumn({ type: 'uuid', default: () => 'gen_random_uuid()' }) id: string;
  @Column({ name: 'household_number', type: 'text' }) householdNumber: string;
  @Column({ type: 'text' }) kind: string;
  @Column({ name: 'registration_type', type: 'text', nullable: true }) registrationType: string | null;
  @Column({ name: 'registered_address', type: 'text' }) registeredAddress: string;
  @Column({ name: 'community_code', type: 'char', length: 12 }) communityCode: string;
  @Column({ name: 'dwelling_id', type: 'uuid', nullable: true }) dwellingId: string | null;
  @Column({ type: 'text' }) status: 'ACTIVE' | 'DISSOLVED';
  @Column({ type: 'int' }) version: number;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

/** 户成员 membership of a resident in a household, with the GB/T 4761 relationship to the head. */
@Entity('household_member')
export class HouseholdMemberEntity {
  @PrimaryColumn({ type: 'uuid', default: () => 'gen_random_uuid()' }) id: string;
  @Column({ name: 'household_id', type: 'uuid' }) householdId: string;
  @Column({ name: 'resident_id', type: 'uuid' }) residentId: string;
  @Column({ type: 'text' }) relationship: string;
  @Column({ name: 'is_head', type: 'boolean', insert: false, update: false }) isHead: boolean;
  @Column({ name: 'from_date', type: 'date' }) fromDate: string;
  @Column({ name: 'to_date', type: 'date', nullable: true }) toDate: string | null;
}
