import { Column, Entity, PrimaryColumn } from 'typeorm';

/** 小区 residential compound inside a community. */
@Entity('compound')
export class CompoundEntity {
  @PrimaryColumn({ type: 'uuid', default: () => 'gen_random_uuid()' }) id: string;
  @Column({ name: 'community_code', type: 'char', length: 12 }) communityCode: string;
  @Column({ name: 'grid_id', type: 'uuid', nullable: true }) gridId: string | null;
  @Column({ type: 'text' }) name: string;
  @Column({ type: 'text', nullable: true }) address: string | null;
}

/** 楼栋 building, addressed by street and door number (门牌号). */
@Entity('building')
export class BuildingEntity {
  @PrimaryColumn({ type: 'uuid', default: () => 'gen_random_uuid()' }) id: string;
  @Column({ name: 'compound_id', type: 'uuid' }) compoundId: string;
  @Column({ type: 'text' }) name: string;
  @Column({ type: 'text', nullable: true }) street: string | null;
  @Column({ name: 'door_number', type: 'text', nullable: true }) doorNumber: string | null;
}

/** 单元 stairwell unit of a building. */
@Entity('building_unit')
export class BuildingUnitEntity {
  @PrimaryColumn({ type: 'uuid', default: () => 'gen_random_uuid()' }) id: string;
  @Column({ name: 'building_id', type: 'uuid' }) buildingId: string;
  @Column({ type: 'text' }) name: string;
}

export type DwellingUse = 'OWN' | 'RENTED' | 'VACANT' | 'BUSINESS';

/** 房屋 dwelling: one room / flat. */
@Entity('dwelling')
export class DwellingEntity {
  @PrimaryColumn({ type: 'uuid', default: () => 'gen_random_uuid()' }) id: string;
  @Column({ name: 'building_id', type: 'uuid' }) buildingId: string;
  @Column({ name: 'unit_id', type: 'uuid', nullable: true }) unitId: string | null;
  @Column({ type: 'text' }) room: string;
  @Column({ type: 'int', nullable: true }) floor: number | null;
  @Column({ type: 'numeric', precision: 8, scale: 2, nullable: true }) area: string | null;
  @Column({ type: 'text' }) use: DwellingUse;
}
