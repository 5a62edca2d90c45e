import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import Ajv, { ValidateFunction } from 'ajv';
import { DataSource, EntityManager, In, IsNull } from 'typeorm';
import { DomainError, ErrorCode, RequestContext, requireDate, requireText, requireUuid, today } from '@linli/core';
import { HouseholdTagEntity, ResidentTagEntity, TagDefinitionEntity, TagRule } from '../entities/tag.entities';
import { ResidentEntity } from '../entities/resident.entity';
import { AssignTagInput, RemoveTagInput } from '../dtos/inputs';
import { TagDto } from '../dtos/tag.dto';
import { HistoryService } from '../history/history.service';
import { RegisterStore } from '../residents/register.store';

/** Age in whole years on `on` (YYYY-MM-DD). */
export function ageOn(birthDate: string, on: string = today()): number {
  const years = Number(on.slice(0, 4)) - Number(birthDate.slice(0, 4));
  return on.slice(5) >= birthDate.slice(5) ? years : years - 1;
}

export function ruleHolds(rule: TagRule, sex: string, birthDate: string, on = today()): boolean {
  const age = ageOn(birthDate, on);
  return (!rule.sex || rule.sex === sex) && (rule.minAge === undefined || age >= rule.minAge) && (rule.maxAge === undefined || age <= rule.maxAge);
}

/** SQL for a derived tag's rule against a resident alias; adds its parameters to `params`. */
export function ruleSql(rule: TagRule, alias: string, params: unknown[]): string {
  const parts: string[] = [];
  if (rule.sex) { params.push(rule.sex); parts.push(`${alias}.sex = $${params.length}`); }
  if (rule.minAge !== undefined) { params.push(rule.minAge); parts.push(`${alias}.birth_date <= (current_date - make_interval(years => $${params.length}::int))`); }
  if (rule.maxAge !== undefined) { params.push(rule.maxAge + 1); parts.push(`${alias}.birth_date > (current_date - make_interval(years => $${params.length}::int))`); }
  return parts.length ? `(${parts.join(' AND ')})` : 'TRUE';
}

/**
 * Special-group tags. Manual tags are assigned with attributes validated against the definition's JSON schema;
 * derived tags (aged 80+, women 15–49) are computed from the record and cannot be assigned.
 */

/** A current manual tag of a resident, as read from resident_tag. */
export type ManualTagRow = Pick<ResidentTagEntity, 'residentId' | 'tagCode' | 'attributes' | 'validFrom' | 'validTo'>;
@Injectable()
export class TagsService implements OnModuleInit {
  private definitions = new Map<string, TagDefinitionEntity>();
  private validators = new Map<string, ValidateFunction>();
  private readonly ajv = new Ajv({ allErrors: false, strict: false });

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly store: RegisterStore,
    private readonly history: HistoryService,
  ) {
    this.ajv.addFormat('date', { type: 'string', validate: (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s)) });
  }

  async onModuleInit(): Promise<void> {
    const defs = await this.dataSource.getRepository(TagDefinitionEntity).find({ order: { code: 'ASC' } });
    this.definitions = new Map(defs.map((d) => [d.code, d]));
    this.validators = new Map(defs.map((d) => [d.code, this.ajv.compile(d.attributeSchema)]));
  }

  listDefinitions(): TagDefinitionEntity[] {
    return [...this.definitions.values()];
  }

  requireDefinition(code: string, field: string): TagDefinitionEntity {
    const def = this.definitions.get(code);
    if (!def) throw new DomainError(ErrorCode.INVALID_CODE, `标签“${code}”不存在`, `Tag "${code}" does not exist`, { field, details: { value: code } });
    return def;
  }

  /** SQL condition: the resident alias holds the tag (manual: a current assignment; derived: its rule). */
  residentTagSql(code: string, alias: string, params: unknown[], field: string): string {
    const def = this.requireDefinition(code, field);
    if (def.subject === 'HOUSEHOLD') {
      params.push(code);
      return `EXISTS (SELECT 1 FROM household_member hm JOIN household_tag ht ON ht.household_id = hm.household_id AND ht.valid_to IS NULL
                      WHERE hm.resident_id = ${alias}.id AND hm.to_date IS NULL AND ht.tag_code = $${params.length})`;
    }
    if (def.derivation === 'RULE') return ruleSql(def.rule!, alias, params);
    params.push(code);
    return `EXISTS (SELECT 1 FROM resident_tag rt WHERE rt.resident_id = ${alias}.id AND rt.valid_to IS NULL AND rt.tag_code = $${params.length})`;
  }

  householdTagSql(code: string, alias: string, params: unknown[], field: string): string {
    const def = this.requireDefinition(code, field);
    if (def.subject !== 'HOUSEHOLD') throw DomainError.badInput(field, `标签“${code}”不是户标签`, `Tag "${code}" is not a household tag`);
    params.push(code);
    return `EXISTS (SELECT 1 FROM household_tag ht WHERE ht.household_id = ${alias}.id AND ht.valid_to IS NULL AND ht.tag_code = $${params.length})`;
  }

  /** Current tags of many residents in one query, plus their derived tags. */
  async tagsOfResidents(residents: readonly Pick<ResidentEntity, 'id' | 'sex' | 'birthDate' | 'status'>[]): Promise<Map<string, TagDto[]>> {
    if (residents.length === 0) return new Map();
    const rows = await this.dataSource.getRepository(ResidentTagEntity).find({
      where: { residentId: In(residents.map((r) => r.id)), validTo: IsNull() }, order: { tagCode: 'ASC' },
    });
    return this.residentTags(residents, rows);
  }

  /** The tags of residents from their current manual tag rows (by tag code), with the derived tags computed. */
  residentTags(residents: readonly Pick<ResidentEntity, 'id' | 'sex' | 'birthDate' | 'status'>[], rows: readonly ManualTagRow[]): Map<string, TagDto[]> {
    const out = new Map<string, TagDto[]>(residents.map((r) => [r.id, []]));
    for (const row of rows) out.get(row.residentId)?.push(this.toDto(row));
    const on = today();
    for (const r of residents) {
      if (r.status !== 'ACTIVE') continue;
      for (const def of this.definitions.values()) {
        if (def.derivation === 'RULE' && def.rule && ruleHolds(def.rule, r.sex, r.birthDate, on)) {
          out.get(r.id)!.push({ code: def.code, nameZh: def.nameZh, nameEn: def.nameEn, sensitivity: def.sensitivity, derived: true, attributes: {}, validFrom: null, validTo: null });
        }
      }
    }
    return out;
  }

  async tagsOfHouseholds(householdIds: readonly string[]): Promise<Map<string, TagDto[]>> {
    const out = new Map<string, TagDto[]>(householdIds.map((id) => [id, []]));
    if (householdIds.length === 0) return out;
    const rows = await this.dataSource.getRepository(HouseholdTagEntity).find({ where: { householdId: In([...householdIds]), validTo: IsNull() }, order: { tagCode: 'ASC' } });
    for (const row of rows) out.get(row.householdId)?.push(this.toDto(row));
    return out;
  }

  private toDto(row: Pick<ResidentTagEntity, 'tagCode' | 'attributes' | 'validFrom' | 'validTo'>): TagDto {
    const def = this.definitions.get(row.tagCode)!;
    return { code: row.tagCode, nameZh: def.nameZh, nameEn: def.nameEn, sensitivity: def.sensitivity, derived: false, attributes: row.attributes, validFrom: row.validFrom, validTo: row.validTo };
  }

  /** Assigns a manual tag, replacing the current assignment of the same tag (its attributes are kept in history). */
  /** A tag's owner line must be one the principal may write (departments: their own line only). */
  private requireLine(ctx: RequestContext, def: TagDefinitionEntity): void {
    const lines = ctx.access.tagLines;
    if (lines !== null && !lines.has(def.ownerLine)) {
      throw new DomainError(ErrorCode.FORBIDDEN, `标签“${def.nameZh}”归属 ${def.ownerLine} 条线，您无权设置`, `The tag "${def.nameEn}" belongs to the ${def.ownerLine} line; you may not change it`, { field: 'input.tagCode' });
    }
  }

  async assign(m: EntityManager, ctx: RequestContext, input: AssignTagInput): Promise<{ residentId: string | null; householdId: string | null }> {
    const def = this.requireDefinition(input.tagCode, 'input.tagCode');
    this.requireLine(ctx, def);
    if (def.derivation === 'RULE') {
      throw DomainError.badInput('input.tagCode', `“${def.nameZh}”由系统根据出生日期和性别自动计算，不能手工设置`, `"${def.nameEn}" is derived from birth date and sex and cannot be assigned`);
    }
    const attributes = input.attributes ?? {};
    const validate = this.validators.get(def.code)!;
    if (!validate(attributes)) {
      const e = validate.errors![0];
      const path = e.instancePath ? e.instancePath.replace(/^\//, '').replace(/\//g, '.') : (e.params as { missingProperty?: string; additionalProperty?: string }).missingProperty ?? (e.params as { additionalProperty?: string }).additionalProperty ?? '';
      throw DomainError.badInput(`input.attributes${path ? `.${path}` : ''}`, `标签属性无效：${e.message}`, `Tag attributes are invalid: ${e.message}`);
    }
    const validFrom = input.validFrom ? requireDate(input.validFrom, 'input.validFrom', { allowFuture: true }) : today();
    const reason = input.reason ?? null;
    if (def.subject === 'RESIDENT') {
      if (!input.residentId || input.householdId) throw DomainError.badInput('input.residentId', '该标签须指定居民', 'This tag is assigned to a resident: give residentId only');
      const resident = await this.store.lockResident(m, ctx, input.residentId, 'input.residentId');
      if (resident.status !== 'ACTIVE') throw DomainError.invalidState('只能为在册居民设置标签', 'Tags can only be assigned to active residents', 'input.residentId');
      if (def.code === 'DISABLED' && resident.idNumber && !String(attributes.certificateNo).startsWith(resident.idNumber)) {
        throw DomainError.badInput('input.attributes.certificateNo', '残疾人证号应以本人身份证号开头', 'The disability certificate number must start with the holder\'s ID number');
      }
      const prior = await m.getRepository(ResidentTagEntity).findOneBy({ residentId: resident.id, tagCode: def.code, validTo: IsNull() });
      if (prior) await m.update(ResidentTagEntity, { id: prior.id }, { validTo: validFrom < prior.validFrom ? prior.validFrom : validFrom });
      await m.insert(ResidentTagEntity, { residentId: resident.id, tagCode: def.code, attributes: attributes as object, validFrom, validTo: null, createdBy: ctx.actor.id });
      await this.store.updateResident(m, resident, {});
      await this.history.record(m, ctx, [{ residentId: resident.id, operation: 'assignTag', reason, changes: [{ field: `tag:${def.code}`, old: prior?.attributes ?? null, new: attributes }] }]);
      return { residentId: resident.id, householdId: null };
    }
    if (!input.householdId || input.residentId) throw DomainError.badInput('input.householdId', '该标签须指定户', 'This tag is assigned to a household: give householdId only');
    const household = await this.store.lockHousehold(m, ctx, input.householdId, 'input.householdId');
    if (household.status !== 'ACTIVE') throw DomainError.invalidState('该户已注销', 'The household is dissolved', 'input.householdId');
    const prior = await m.getRepository(HouseholdTagEntity).findOneBy({ householdId: household.id, tagCode: def.code, validTo: IsNull() });
    if (prior) await m.update(HouseholdTagEntity, { id: prior.id }, { validTo: validFrom < prior.validFrom ? prior.validFrom : validFrom });
    await m.insert(HouseholdTagEntity, { householdId: household.id, tagCode: def.code, attributes: attributes as object, validFrom, validTo: null, createdBy: ctx.actor.id });
    await this.store.updateHousehold(m, household, {});
    await this.history.record(m, ctx, [{ householdId: household.id, operation: 'assignTag', reason, changes: [{ field: `tag:${def.code}`, old: prior?.attributes ?? null, new: attributes }] }]);
    return { residentId: null, householdId: household.id };
  }

  async remove(m: EntityManager, ctx: RequestContext, input: RemoveTagInput): Promise<{ residentId: string | null; householdId: string | null }> {
    const def = this.requireDefinition(input.tagCode, 'input.tagCode');
    this.requireLine(ctx, def);
    const reason = requireText(input.reason, 'input.reason', 500);
    const validTo = input.validTo ? requireDate(input.validTo, 'input.validTo', { allowFuture: true }) : today();
    const notHeld = () => DomainError.invalidState('该对象当前没有此标签', 'The tag is not currently held', 'input.tagCode');
    if (def.subject === 'RESIDENT') {
      const resident = await this.store.lockResident(m, ctx, requireUuid(input.residentId ?? '', 'input.residentId'), 'input.residentId');
      const prior = await m.getRepository(ResidentTagEntity).findOneBy({ residentId: resident.id, tagCode: def.code, validTo: IsNull() });
      if (!prior) throw notHeld();
      await m.update(ResidentTagEntity, { id: prior.id }, { validTo: validTo < prior.validFrom ? prior.validFrom : validTo });
      await this.store.updateResident(m, resident, {});
      await this.history.record(m, ctx, [{ residentId: resident.id, operation: 'removeTag', reason, changes: [{ field: `tag:${def.code}`, old: prior.attributes, new: null }] }]);
      return { residentId: resident.id, householdId: null };
    }
    const household = await this.store.lockHousehold(m, ctx, requireUuid(input.householdId ?? '', 'input.householdId'), 'input.householdId');
    const prior = await m.getRepository(HouseholdTagEntity).findOneBy({ householdId: household.id, tagCode: def.code, validTo: IsNull() });
    if (!prior) throw notHeld();
    await m.update(HouseholdTagEntity, { id: prior.id }, { validTo: validTo < prior.validFrom ? prior.validFrom : validTo });
    await this.store.updateHousehold(m, household, {});
    await this.history.record(m, ctx, [{ householdId: household.id, operation: 'removeTag', reason, changes: [{ field: `tag:${def.code}`, old: prior.attributes, new: null }] }]);
    return { residentId: null, householdId: household.id };
  }

  /** Closes every current tag of a resident (death, merge into another record). */
  async closeAllOfResident(m: EntityManager, residentId: string, on: string): Promise<string[]> {
    const rows = await m.getRepository(ResidentTagEntity).findBy({ residentId, validTo: IsNull() });
    for (const row of rows) await m.update(ResidentTagEntity, { id: row.id }, { validTo: on < row.validFrom ? row.validFrom : on });
    return rows.map((r) => r.tagCode);
  }
}
