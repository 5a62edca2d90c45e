import DataLoader from 'dataloader';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { CodesService, normalizeIdNumber } from '@linli/codes';
import {
  AppConfig, checkPageSize, CoalescingLoader, decodeCursor, DomainError, inRanges, queryPrepared, rangesSql, RequestContext, requestLoader, requireUuid,
  toConnection,
} from '@linli/core';
import { ResidenceEntity, ResidentEntity } from '../entities/resident.entity';
import { HouseholdEntity, HouseholdMemberEntity } from '../entities/household.entity';
import { ResidentFilter } from '../dtos/inputs';
import { ResidentDto } from '../dtos/resident.dto';
import { TagDto } from '../dtos/tag.dto';
import { ManualTagRow, TagsService } from '../tags/tags.service';
import { householdsById, toHouseholdDto } from '../households/households.service';
import { attachPrefetched, Prefetched } from './prefetched';
import { RESIDENT_COLUMNS } from './resident-columns';

export function toResidentDto(r: ResidentEntity, redirectedFromId: string | null = null): ResidentDto {
  return {
    id: r.id, idType: r.idType, idNumber: r.idNumber, idNumberStatus: r.idNumberStatus as ResidentDto['idNumberStatus'],
    quarantineReason: r.quarantineReason, name: r.name, formerName: r.formerName, sex: r.sex, birthDate: r.birthDate,
    ethnicity: r.ethnicity, politicalStatus: r.politicalStatus, education: r.education, maritalStatus: r.maritalStatus,
    employment: r.employment, phone: r.phone, populationType: r.populationType, householdRelation: r.householdRelation,
    communityCode: r.communityCode, status: r.status as ResidentDto['status'], movedOutOn: r.movedOutOn, moveOutReason: r.moveOutReason,
    moveOutDestination: r.moveOutDestination, deceasedOn: r.deceasedOn, mergedIntoId: r.mergedIntoId, redirectedFromId,
    version: r.version, createdAt: r.createdAt, updatedAt: r.updatedAt,
  };
}

const MAX_REDIRECTS = 10;

export interface ListOptions {
  count?: boolean;
  prefetch?: { household?: boolean; tags?: boolean };
}

/** A page row: the resident, and what `prefetch` joined (JSON built by PostgreSQL, dates as YYYY-MM-DD). */
type PageRow = ResidentEntity & { member?: HouseholdMemberEntity | null; household?: HouseholdEntity | null; tags?: ManualTagRow[] | null };

/** Each row's current membership and its household, at most one (the register holds one current membership). */
const PREFETCH_HOUSEHOLD = `
  LEFT JOIN LATERAL (SELECT hm.household_id, json_build_object('id', hm.id, 'householdId', hm.household_id, 'residentId', hm.resident_id,
      'relationship', hm.relationship, 'isHead', hm.is_head, 'fromDate', hm.from_date, 'toDate', hm.to_date) AS member
    FROM household_member hm WHERE hm.resident_id = r.id AND hm.to_date IS NULL LIMIT 1) m ON TRUE
  LEFT JOIN LATERAL (SELECT json_build_object('id', h.id, 'householdNumber', h.household_number, 'kind', h.kind,
      'registrationType', h.registration_type, 'registeredAddress', h.registered_address, 'communityCode', h.community_code,
      'dwellingId', h.dwelling_id, 'status', h.status, 'version', h.version) AS household
    FROM household h WHERE h.id = m.household_id) hh ON TRUE`;

/** Each row's current manual tags, by tag code (derived tags are computed from the row itself). */
const PREFETCH_TAGS = `
  LEFT JOIN LATERAL (SELECT json_agg(json_build_object('residentId', rt.resident_id, 'tagCode', rt.tag_code, 'attributes', rt.attributes,
      'validFrom', rt.valid_from, 'validTo', rt.valid_to) ORDER BY rt.tag_code) AS tags
    FROM resident_tag rt WHERE rt.resident_id = r.id AND rt.valid_to IS NULL) t ON TRUE`;

/**
 * Lookups by ID number, among live residents (a merged record's number belongs to its survivor), for a batch of
 * numbers: the partial unique index `resident_id_number_live` answers each with at most one row.
 */
const BY_ID_NUMBERS = `SELECT ${RESIDENT_COLUMNS} FROM resident r WHERE r.id_number = ANY($1::text[]) AND r.merged_into_id IS NULL`;

/** Reading the register: lookups, filtered pages, and batched loaders for nested fields. */
@Injectable()
export class ResidentsService {
  /**
   * Lookups by ID number from concurrent requests share a statement (the SQL does not depend on who asks; each
   * caller's jurisdiction is applied to its own answer).
   */
  private readonly byIdNumbers = new CoalescingLoader<string, ResidentEntity>(async (numbers) => {
    const rows = await queryPrepared<ResidentEntity>(this.dataSource, BY_ID_NUMBERS, [numbers]);
    return new Map(rows.map((r) => [r.idNumber!, r]));
  });

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly codes: CodesService,
    private readonly tags: TagsService,
    private readonly config: AppConfig,
  ) {}

  /** By uid; a merged record answers with its survivor and `redirectedFromId`. */
  async get(ctx: RequestContext, id: string, field = 'id'): Promise<ResidentDto | null> {
    const requested = requireUuid(id, field);
    const repo = this.dataSource.getRepository(ResidentEntity);
    let row = await repo.findOneBy({ id: requested });
    for (let hops = 0; row?.mergedIntoId && hops < MAX_REDIRECTS; hops++) row = await repo.findOneBy({ id: row.mergedIntoId });
    if (!row || !inRanges(row.communityCode, ctx.access.jurisdiction)) return null;
    return toResidentDto(row, row.id === requested ? null : requested);
  }

  async byIdNumber(ctx: RequestContext, idNumber: string): Promise<ResidentDto | null> {
    const normalized = normalizeIdNumber(idNumber ?? '');
    if (!normalized || normalized.length > 40) throw DomainError.badInput('idNumber', '证件号码不能为空', 'ID number is required');
    const row = await this.byIdNumbers.get(normalized);
    return row && inRanges(row.communityCode, ctx.access.jurisdiction) ? toResidentDto(row) : null;
  }

  /**
   * A keyset-paginated page; every filter is a SQL predicate. `count` adds totalCount (only when the client asked).
   * `prefetch` joins, in the page's own statement, what the client selected below each node (current membership and
   * household, current tags) and attaches it to each row's DTO (prefetched.ts),
   * so a page costs two statements instead of five and its nested fields resolve without a promise each.
   */
  async list(ctx: RequestContext, filter: ResidentFilter | null | undefined, first: number, after: string | null | undefined, options: ListOptions = {}) {
    checkPageSize(first, this.config.get('MAX_PAGE_SIZE'));
    const params: unknown[] = [];
    const where = this.filterSql(ctx, filter ?? {}, params);
    const countSql = `SELECT count(*)::int AS n FROM resident r WHERE ${where}`;
    const countParams = [...params];
    // Keyset on (community_code, id): the (community_code, id) index then serves any division subtree in order.
    let keyset = '';
    if (after) {
      const [code, id] = decodeCursor(after).split('|');
      if (!/^\d{12}$/.test(code ?? '')) throw DomainError.badInput('after', '分页游标无效', 'The pagination cursor is invalid');
      params.push(code, requireUuid(id ?? '', 'after'));
      keyset = ` AND (r.community_code, r.id) > ($${params.length - 1}, $${params.length}::uuid)`;
    }
    params.push(first + 1);
    const withHousehold = !!options.prefetch?.household;
    const withTags = !!options.prefetch?.tags;
    const pageSql = `SELECT ${RESIDENT_COLUMNS}${withHousehold ? ', m.member, hh.household' : ''}${withTags ? ', t.tags' : ''}
      FROM resident r ${withHousehold ? PREFETCH_HOUSEHOLD : ''} ${withTags ? PREFETCH_TAGS : ''}
      WHERE ${where}${keyset} ORDER BY r.community_code, r.id LIMIT $${params.length}`;
    const [rows, [{ n }]] = await Promise.all([
      queryPrepared<PageRow>(this.dataSource, pageSql, params),
      options.count ? queryPrepared<{ n: number }>(this.dataSource, countSql, countParams) : Promise.resolve([{ n: -1 }]),
    ]);
    const dtos = rows.map((r) => toResidentDto(r));
    // The memberships and households also prime the request's loaders (the `membership` field, `household(id)`).
    const memberships = withHousehold ? this.membershipLoader(ctx) : null;
    const households = withHousehold ? householdsById(ctx, this.dataSource) : null;
    const tags = withTags ? this.tags.residentTags(dtos, rows.flatMap((r) => r.tags ?? [])) : null;
    if (memberships || tags) rows.forEach((r, i) => {
      const prefetched: Prefetched = {};
      if (memberships && households) {
        const household = r.member && r.household && inRanges(r.household.communityCode, ctx.access.jurisdiction) ? toHouseholdDto(r.household) : null;
        memberships.prime(r.id, r.member ?? null);
        if (r.member) households.prime(r.member.householdId, household);
        prefetched.household = household;
      }
      if (tags) prefetched.tags = tags.get(r.id) ?? [];
      attachPrefetched(dtos[i]!, prefetched);
    });
    return toConnection(dtos, first, (r) => `${r.communityCode}|${r.id}`, n, !!after);
  }

  /** Row scope first: everything outside the jurisdiction is invisible, in pages and in counts alike. */
  filterSql(ctx: RequestContext, f: ResidentFilter, params: unknown[]): string {
    const w: string[] = [rangesSql('r.community_code', ctx.access.jurisdiction, params)];
    const p = (v: unknown) => { params.push(v); return `$${params.length}`; };
    const statuses = f.statuses?.length ? f.statuses : ['ACTIVE'];
    w.push(`r.status = ANY(${p(statuses)})`);
    if (f.divisionCode) {
      const range = this.codes.requireSubtree(f.divisionCode, 'filter.divisionCode');
      w.push(rangesSql('r.community_code', [range], params));
    }
    const place = f.dwellingId ? ['d.id', requireUuid(f.dwellingId, 'filter.dwellingId')]
      : f.buildingId ? ['d.building_id', requireUuid(f.buildingId, 'filter.buildingId')]
        : f.compoundId ? ['b.compound_id', requireUuid(f.compoundId, 'filter.compoundId')]
          : f.gridId ? ['(SELECT c.grid_id FROM compound c WHERE c.id = b.compound_id)', requireUuid(f.gridId, 'filter.gridId')] : null;
    if (place) {
      w.push(`EXISTS (SELECT 1 FROM residence rs JOIN dwelling d ON d.id = rs.dwelling_id JOIN building b ON b.id = d.building_id
                      WHERE rs.resident_id = r.id AND rs.moved_out_on IS NULL AND ${place[0]} = ${p(place[1])})`);
    }
    (f.tags ?? []).forEach((code, i) => w.push(this.tags.residentTagSql(code, 'r', params, `filter.tags.${i}`)));
    if (f.ageMin !== null && f.ageMin !== undefined) {
      if (f.ageMin < 0 || f.ageMin > 150) throw DomainError.badInput('filter.ageMin', '年龄范围无效', 'Age must be between 0 and 150');
      w.push(`r.birth_date <= (current_date - make_interval(years => ${p(f.ageMin)}::int))`);
    }
    if (f.ageMax !== null && f.ageMax !== undefined) {
      if (f.ageMax < 0 || f.ageMax > 150 || (f.ageMin ?? 0) > f.ageMax) throw DomainError.badInput('filter.ageMax', '年龄范围无效', 'Age range is invalid');
      w.push(`r.birth_date > (current_date - make_interval(years => ${p(f.ageMax + 1)}::int))`);
    }
    if (f.sex) { this.codes.requireCode('sex', f.sex, 'filter.sex'); w.push(`r.sex = ${p(f.sex)}`); }
    if (f.populationType) { this.codes.requireCode('population_type', f.populationType, 'filter.populationType'); w.push(`r.population_type = ${p(f.populationType)}`); }
    if (f.namePrefix) {
      const prefix = f.namePrefix.trim();
      if (!prefix) throw DomainError.badInput('filter.namePrefix', '姓名前缀不能为空', 'Name prefix cannot be blank');
      w.push(`r.name LIKE ${p(prefix.replace(/[\\%_]/g, (c) => `\\${c}`) + '%')}`);
    }
    if (f.idNumberStatus) w.push(`r.id_number_status = ${p(f.idNumberStatus)}`);
    if (f.quarantined === true) w.push('r.quarantine_reason IS NOT NULL');
    if (f.quarantined === false) w.push('r.quarantine_reason IS NULL');
    return w.join(' AND ');
  }

  /** Loader: current membership of each resident. */
  membershipOf(ctx: RequestContext, residentId: string): Promise<HouseholdMemberEntity | null> {
    return this.membershipLoader(ctx).load(residentId);
  }

  private membershipLoader(ctx: RequestContext): DataLoader<string, HouseholdMemberEntity | null> {
    return requestLoader<string, HouseholdMemberEntity | null>(ctx, 'resident.membership', async (ids) => {
      const rows = await this.dataSource.getRepository(HouseholdMemberEntity).createQueryBuilder('hm')
        .where('hm.residentId IN (:...ids) AND hm.toDate IS NULL', { ids }).getMany();
      return new Map(rows.map((r) => [r.residentId, r]));
    }, null);
  }

  /** Loader: current residence of each resident. */
  residenceOf(ctx: RequestContext, residentId: string): Promise<ResidenceEntity | null> {
    return requestLoader<string, ResidenceEntity | null>(ctx, 'resident.residence', async (ids) => {
      const rows = await this.dataSource.getRepository(ResidenceEntity).createQueryBuilder('x')
        .where('x.residentId IN (:...ids) AND x.movedOutOn IS NULL', { ids }).getMany();
      return new Map(rows.map((r) => [r.residentId, r]));
    }, null).load(residentId);
  }

  /** Loader: tags (manual and derived) of each resident. */
  tagsOf(ctx: RequestContext, resident: ResidentDto): Promise<TagDto[]> {
    return this.tagLoader(ctx).load(resident);
  }

  private tagLoader(ctx: RequestContext): DataLoader<ResidentDto, TagDto[]> {
    return requestLoader<ResidentDto, TagDto[]>(ctx, 'resident.tags', async (residents) => {
      const byId = await this.tags.tagsOfResidents(residents);
      return new Map(residents.map((r) => [r, byId.get(r.id) ?? []]));
    }, []);
  }

  /** Loader: residents by id (household members, duplicate candidates). */
  byId(ctx: RequestContext, id: string): Promise<ResidentDto | null> {
    return requestLoader<string, ResidentDto | null>(ctx, 'resident.byId', async (ids) => {
      const rows = await this.dataSource.getRepository(ResidentEntity).findBy({ id: In([...ids]) });
      return new Map(rows.filter((r) => inRanges(r.communityCode, ctx.access.jurisdiction)).map((r) => [r.id, toResidentDto(r)]));
    }, null).load(id);
  }
}
