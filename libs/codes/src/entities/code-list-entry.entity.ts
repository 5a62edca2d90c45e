import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('code_list_entry')
export class CodeListEntryEntity {
  @PrimaryColumn({ name: 'list_name', type: 'text' }) listName: string;
  @PrimaryColumn({ type: 'text' }) code: string;
  @Column({ name: 'name_zh', type: 'text' }) nameZh: string;
  @Column({ name: 'name_en', type: 'text' }) nameEn: string;
  @Column({ name: 'parent_code', type: 'text', nullable: true }) parentCode: string | null;
  @Column({ name: 'sort_order', type: 'int' }) sortOrder: number;
  @Column({ name: 'valid_from', type: 'date' }) validFrom: string;
  @Column({ name: 'valid_to', type: 'date', nullable: true }) validTo: string | null;
}
