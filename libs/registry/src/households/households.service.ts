import DataLoader from 'dataloader';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { CodesService } from '@linli/codes';
import {
  AppConfig, checkPageSize, decodeCursor, DomainError, ErrorCode, inRanges, optionalText, rangesSql, RequestContext, requestLoader, requireDate,
  requireText, requireUuid, toConnection, today,
} from '@linli/core';
import { HouseholdEntity, HouseholdMemberEntity } from '../entities/household.entity';
import { ChangeHouseholdHeadInput, HouseholdFilter, RegisterHouseholdInput } from '../dtos/inputs';
import { HouseholdDto } from '../dtos/household.dto';
import { FieldChange } from '../entities/history.entity';
import { HistoryService } from '../history/history.service';
import { RegisterStore } from '../residents/register.store';
import { ResidentEventsService } from '../residents/resident-events.service';
import { TagsService } from '../tags/tags.service';

export function toHouseholdDto(h: HouseholdEntity): HouseholdDto {
  return {
    id: h.id, householdNumber: h.householdNumber, kind: h.kind, registrationType: h.registrationType, registeredAddress: h.registeredAddress,
    communityCode: h.communityCode, dwellingId: h.dwellingId, status: h.status, version: h.version,
  };
}

/**
 * The request's loader of households by id; a household outside the jurisdiction loads as null (as if it did not
 * exist). A function rather than a method, so a page that already joined the households can prime it.
 */
export function householdsById(ctx: RequestContext, dataSource: DataSource): DataLoader<string, HouseholdDto | null> {
  return requestLoader<string, HouseholdDto | null>(ctx, 'household.byId', async (ids) => {
    const rows = await dataSource.getRepository(HouseholdEntity).findBy({ id: In([...ids]) });
    return new Map(rows.filter((h) => inRanges(h.communityCode, ctx.access.jurisdiction)).map((h) => [h.id, toHouseholdDto(h)]));
  }, null);
}

/** 户 households: registration with members, head changes, and reading. */
@Injectable()
export class HouseholdsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly codes: CodesService,
    private readonly store: RegisterStore,
    private readonly residents: ResidentEventsService,
    private readonly history: HistoryService,
    private readonly tags: TagsService,
    private readonly config: AppConfig,
  ) {}

  async registerHousehold(m: EntityManager, ctx: RequestContext, input: RegisterHouseholdInput): Promise<HouseholdEntity> {
    const householdNumber = requireText(input.householdNumber, 'input.householdNumber', 40);
    this.codes.requireCode('household_kind', input.kind, 'input.kind');
    if (input.registrationType) this.codes.requireCode('registration_type', input.registrationType, 'input.registrationType');
    const registeredAddress = requireText(input.registeredAddress, 'input.registeredAddress', 300);
    this.codes.requireCommunity(input.communityCode, 'input.communityCode');
    this.store.requireWritable(ctx, input.communityCode, 'input.communityCode');
    const fromDate = input.fromDate ? requireDate(input.fromDate, 'input.fromDate') : today();
    const members = input.members ?? [];
    if (members.length === 0) throw DomainError.badInput('input.members', '至少需要一名成员（户主）', 'A household needs at least one member (its head)');
    if (members.length > 50) throw DomainError.badInput('input.members', '成员过多', 'Too many members');
    const heads = members.filter((x) => x.relationship === '02');
    if (heads.length !== 1) {
      throw new DomainError(ErrorCode.HOUSEHOLD_HEAD_REQUIRED, '每户必须有且只有一名户主（关系代码 02）', 'Exactly one member must be the head (relationship 02)', { field: 'input.members' });
    }
    let residence: { dwellingId: string; kind: string; communityCode: string } | null = null;
    if (input.dwellingId) {
      residence = await this.residents.checkResidence(m, { dwellingId: input.dwellingId, kind: input.residenceKind, movedInOn: fromDate }, 'input');
    }
    if (await m.getRepository(HouseholdEntity).existsBy({ householdNumber })) {
      throw new DomainError(ErrorCode.HOUSEHOLD_NUMBER_TAKEN, '该户号已存在', 'This household number already exists', { field: 'input.householdNumber' });
    }
    // Check every member before writing anything.
    const seenIds = new Set<string>();
    const seenNumbers = new Set<string>();
    const prepared = [];
    for (const [i, member] of members.entries()) {
      const field = `input.members.${i}`;
      this.codes.requireCode('relationship', member.relationship, `${field}.relationship`);
      if (!!member.residentId === !!member.resident) {
        throw DomainError.badInput(`${field}.residentId`, '请指定已有居民或填写新居民信息（二选一）', 'Give either an existing residentId or a new resident, not both');
      }
      if (member.residentId) {
        const existing = await this.store.lockResident(m, ctx, member.residentId, `${field}.residentId`);
        if (existing.status !== 'ACTIVE') throw DomainError.invalidState('该居民不在册', 'The resident is not active', `${field}.residentId`);
        if (seenIds.has(existing.id)) throw DomainError.badInput(`${field}.residentId`, '成员重复', 'The same resident is listed twice');
        seenIds.add(existing.id);
        if (await this.store.currentMembership(m, existing.id)) {
          throw DomainError.invalidState('该居民已是另一户的成员', 'The resident is already a member of another household', `${field}.residentId`);
        }
        prepared.push({ existing, record: null, relationship: member.relationship });
      } else {
        const record = this.residents.checkWorkerInput(member.resident!, `${field}.resident`);
        if (record.idNumber && seenNumbers.has(record.idNumber)) throw DomainError.badInput(`${field}.resident.idNumber`, '成员证件号码重复', 'The same ID number is listed twice');
        if (record.idNumber) seenNumbers.add(record.idNumber);
        await this.residents.requireFreeIdNumber(m, record, `${field}.resident.idNumber`);
        prepared.push({ existing: null, record, relationship: member.relationship });
      }
    }

    const household = m.getRepository(HouseholdEntity).create({
      householdNumber, kind: input.kind, registrationType: input.registrationType ?? null, registeredAddress, communityCode: input.communityCode,
      dwellingId: residence?.dwellingId ?? null, status: 'ACTIVE',
    });
    const { identifiers } = await m.insert(HouseholdEntity, household);
    const householdId = identifiers[0].id as string;
    const history = [];
    for (const p of prepared) {
      const resident = p.existing ?? (await this.store.insertResident(m, p.record!, input.communityCode, 'WORKER'));
      await this.store.addMember(m, householdId, resident.id, p.relationship, fromDate);
      const changes: FieldChange[] = [{ field: 'household', old: null, new: { householdId, relationship: p.relationship } }];
      if (p.record) changes.unshift({ field: 'created', old: null, new: { name: p.record.name, communityCode: input.communityCode } });
      if (residence && !(await this.store.currentResidence(m, resident.id))) {
        await this.store.openResidence(m, resident.id, residence.dwellingId, residence.kind, fromDate, 'WORKER');
        changes.push({ field: 'residence', old: null, new: { dwellingId: residence.dwellingId, kind: residence.kind, movedInOn: fromDate } });
      }
      if (p.existing) await this.store.updateResident(m, p.existing, {});
      history.push({ residentId: resident.id, operation: 'registerHousehold', reason: optionalText(input.reason, 'input.reason', 500), changes });
    }
    history.push({
      householdId, operation: 'registerHousehold', reason: optionalText(input.reason, 'input.reason', 500),
      changes: [{ field: 'householdNumber', old: null, new: householdNumber }, { field: 'members', old: null, new: prepared.length }],
    });
    await this.history.record(m, ctx, history);
    return m.getRepository(HouseholdEntity).findOneByOrFail({ id: householdId });
  }

  /** 变更户主: the new head is a current member; the former head and others are re-labelled relative to them. */
  async changeHouseholdHead(m: EntityManager, ctx: RequestContext, input: ChangeHouseholdHeadInput): Promise<HouseholdEntity> {
    const household = await this.store.lockHousehold(m, ctx, input.householdId, 'input.householdId', input.expectedVersion);
    if (household.status !== 'ACTIVE') throw DomainError.invalidState('该户已注销', 'The household is dissolved', 'input.householdId');
    const reason = requireText(input.reason, 'input.reason', 500);
    const newHeadId = requireUuid(input.newHeadResidentId, 'input.newHeadResidentId');
    this.codes.requireCode('relationship', input.formerHeadRelationship, 'input.formerHeadRelationship');
    if (input.formerHeadRelationship === '02') throw DomainError.badInput('input.formerHeadRelationship', '原户主的新关系不能是户主', 'The former head cannot stay head');
    const members = await this.store.currentMembers(m, household.id);
    const oldHead = members.find((x) => x.isHead)!;
    const newHead = members.find((x) => x.residentId === newHeadId);
    if (!newHead) throw DomainError.badInput('input.newHeadResidentId', '新户主须为本户现有成员', 'The new head must be a current member of the household');
    if (newHead.id === oldHead.id) throw DomainError.badInput('input.newHeadResidentId', '该成员已是户主', 'This member is already the head');
    const changes: FieldChange[] = [{ field: 'head', old: oldHead.residentId, new: newHeadId }];
    const relabel = new Map<string, string>([[oldHead.residentId, input.formerHeadRelationship]]);
    for (const [i, r] of (input.relationships ?? []).entries()) {
      const member = members.find((x) => x.residentId === r.residentId);
      if (!member || member.id === newHead.id) throw DomainError.badInput(`input.relationships.${i}.residentId`, '不是本户其他成员', 'Not another current member of this household');
      this.codes.requireCode('relationship', r.relationship, `input.relationships.${i}.relationship`);
      if (r.relationship === '02') throw DomainError.badInput(`input.relationships.${i}.relationship`, '户主只能有一名', 'There can be only one head');
      relabel.set(r.residentId, r.relationship);
    }
    // Old head first (frees the head slot), then the new head; the deferred trigger checks the result at commit.
    for (const [residentId, relationship] of relabel) {
      const member = members.find((x) => x.residentId === residentId)!;
      await m.update(HouseholdMemberEntity, { id: member.id }, { relationship });
      changes.push({ field: `relationship:${residentId}`, old: member.relationship, new: relationship });
    }
    await m.update(HouseholdMemberEntity, { id: newHead.id }, { relationship: '02' });
    changes.push({ field: `relationship:${newHeadId}`, old: newHead.relationship, new: '02' });
    const updated = await this.store.updateHousehold(m, household, {});
    await this.history.record(m, ctx, [
      { householdId: household.id, operation: 'changeHouseholdHead', reason, changes },
      { residentId: newHeadId, operation: 'changeHouseholdHead', reason, changes: [{ field: 'relationship', old: newHead.relationship, new: '02' }] },
      { residentId: oldHead.residentId, operation: 'changeHouseholdHead', reason, changes: [{ field: 'relationship', old: '02', new: input.formerHeadRelationship }] },
    ]);
    return updated;
  }

  async get(ctx: RequestContext, id: string): Promise<HouseholdDto | null> {
    const row = await this.dataSource.getRepository(HouseholdEntity).findOneBy({ id: requireUuid(id, 'id') });
    return row && inRanges(row.communityCode, ctx.access.jurisdiction) ? toHouseholdDto(row) : null;
  }

  async list(ctx: RequestContext, filter: HouseholdFilter | null | undefined, first: number, after: string | null | undefined) {
    checkPageSize(first, this.config.get('MAX_PAGE_SIZE'));
    const f = filter ?? {};
    const params: unknown[] = [];
    const p = (v: unknown) => { params.push(v); return `$${params.length}`; };
    const w = [rangesSql('h.community_code', ctx.access.jurisdiction, params), `h.status = ${p(f.status ?? 'ACTIVE')}`];
    if (f.divisionCode) {
      const range = this.codes.requireSubtree(f.divisionCode, 'filter.divisionCode');
      w.push(rangesSql('h.community_code', [range], params));
    }
    if (f.kind) { this.codes.requireCode('household_kind', f.kind, 'filter.kind'); w.push(`h.kind = ${p(f.kind)}`); }
    (f.tags ?? []).forEach((code, i) => w.push(this.tags.householdTagSql(code, 'h', params, `filter.tags.${i}`)));
    const where = w.join(' AND ');
    const countParams = [...params];
    const cursor = after ? ` AND h.id > ${p(requireUuid(decodeCursor(after), 'after'))}` : '';
    const limit = p(first + 1);
    const [ids, [{ n }]] = await Promise.all([
      this.dataSource.query(`SELECT h.id FROM household h WHERE ${where}${cursor} ORDER BY h.id LIMIT ${limit}`, params) as Promise<{ id: string }[]>,
      this.dataSource.query(`SELECT count(*)::int AS n FROM household h WHERE ${where}`, countParams) as Promise<{ n: number }[]>,
    ]);
    const rows = ids.length ? await this.dataSource.getRepository(HouseholdEntity).find({ where: { id: In(ids.map((x) => x.id)) }, order: { id: 'ASC' } }) : [];
    return toConnection(rows.map(toHouseholdDto), first, (h) => h.id, n, !!after);
  }

  /** Loader: households by id. */
  byId(ctx: RequestContext, id: string): Promise<HouseholdDto | null> {
    return householdsById(ctx, this.dataSource).load(id);
  }

  /** Loader: current members of households. */
  membersOf(ctx: RequestContext, householdId: string): Promise<HouseholdMemberEntity[]> {
    return requestLoader<string, HouseholdMemberEntity[]>(ctx, 'household.members', async (ids) => {
      // Members whose record lies outside the jurisdiction are left out, as if they did not exist.
      const qb = this.dataSource.getRepository(HouseholdMemberEntity).createQueryBuilder('hm')
        .where('hm.householdId IN (:...ids) AND hm.toDate IS NULL', { ids });
      if (ctx.access.jurisdiction !== null) {
        const params: unknown[] = [];
        const scope = rangesSql('r.community_code', ctx.access.jurisdiction, params).replace(/\$(\d+)/g, (_m, n) => `:scope${n}`);
        qb.andWhere(`EXISTS (SELECT 1 FROM resident r WHERE r.id = hm.resident_id AND ${scope})`, Object.fromEntries(params.map((v, i) => [`scope${i + 1}`, v])));
      }
      const rows = await qb.orderBy('hm.relationship').addOrderBy('hm.fromDate').getMany();
      const out = new Map<string, HouseholdMemberEntity[]>();
      for (const r of rows) out.set(r.householdId, [...(out.get(r.householdId) ?? []), r]);
      return out;
    }, []).load(householdId);
  }

  tagsOf(ctx: RequestContext, householdId: string) {
    return requestLoader<string, Awaited<ReturnType<TagsService['tagsOfHouseholds']>> extends Map<string, infer V> ? V : never>(
      ctx, 'household.tags', (ids) => this.tags.tagsOfHouseholds(ids), [],
    ).load(householdId);
  }
}
