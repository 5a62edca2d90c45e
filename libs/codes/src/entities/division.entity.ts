import { Column, Entity, PrimaryColumn } from 'typeorm';

import type { DivisionLevel } from '../divisions.data';

/** 行政区划 administrative division, 12-digit statistical code. */
@Entity('division')
export class DivisionEntity {
  @PrimaryColumn({ type: 'char', length: 12 }) code: string;
  @Column({ type: 'text' }) name: string;
  @Column({ type: 'text' }) level: DivisionLevel;
  @Column({ name: 'parent_code', type: 'char', length: 12, nullable: true }) parentCode: string | null;
  @Column({ type: 'boolean' }) synthetic: boolean;
  @Column({ name: 'valid_from', type: 'date' }) validFrom: string;
  @Column({ name: 'valid_to', type: 'date', nullable: true }) validTo: string | null;
}

/** 网格 grid: the unit of grid governance inside a community, the part one grid worker (网格员) looks after; compounds belong to a grid. */
@Entity('grid')
export class GridEntity {
  @PrimaryColumn({ type: 'uuid', default: () => 'gen_random_uuid()' }) id: string;
  @Column({ name: 'community_code', type: 'char', length: 12 }) communityCode: string;
  @Column({ type: 'text' }) code: string;
  @Column({ type: 'text' }) name: string;
}
