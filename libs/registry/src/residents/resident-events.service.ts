import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { CodesService } from '@linli/codes';
import { PlacesService } from '@linli/places';
import { DomainError, ErrorCode, optionalText, RequestContext, requireDate, requireText, requireUuid, today } from '@linli/core';
import { ResidentEntity } from '../entities/resident.entity';
import { FieldChange } from '../entities/history.entity';
import {
  AddResidentInput, MergeResidentsInput, MoveResidentInput, RecordDeathInput, RecordMoveOutInput, ResidenceInput, ResidentPatchInput,
} from '../dtos/inputs';
import { HistoryService, diff } from '../history/history.service';
import { TagsService } from '../tags/tags.service';
import { RegisterStore } from './register.store';
import { checkResidentFields, quarantineReasonOf, ResidentFieldsRaw, ResidentRecord, RESIDENT_RECORD_FIELDS } from './resident-rules';
import { ResidentTagEntity } from '../entities/tag.entities';
import { IsNull } from 'typeorm';

/**
 * The life events a community worker records about a person. Each runs inside the caller's transaction and
 * writes its history rows there, so the change and its history commit together or not at all.
 */
@Injectable()
export class ResidentEventsService {
  constructor(
    private readonly codes: CodesService,
    private readonly places: PlacesService,
    private readonly store: RegisterStore,
    private readonly history: HistoryService,
    private readonly tags: TagsService,
  ) {}

  /** Checks a worker's input; any problem, even one an import would quarantine, is refused with its field. */
  checkWorkerInput(raw: ResidentFieldsRaw, prefix: string): ResidentRecord {
    const { record, problems } = checkResidentFields(raw, this.codes, prefix);
    const first = problems[0];
    if (first || !record) {
      throw new DomainError(first.code, first.messageZh, first.messageEn, { field: first.field, details: problems.length > 1 ? { otherProblems: problems.slice(1).map((p) => p.field) } : undefined });
    }
    return record;
  }

  async requireFreeIdNumber(m: EntityManager, record: ResidentRecord, field: string, exceptId?: string): Promise<void> {
    if (!record.idNumber) return;
    const holder = await this.store.residentByIdNumber(m, record.idNumber);
    if (holder && holder.id !== exceptId) {
      throw new DomainError(ErrorCode.ID_NUMBER_TAKEN, '该证件号码已登记', 'This ID number is already registered', { field, details: { existingResidentId: holder.id } });
    }
  }

  async checkResidence(m: EntityManager, input: ResidenceInput, field: string): Promise<{ dwellingId: string; kind: string; movedInOn: string; communityCode: string }> {
    const dwelling = await this.places.requireDwelling(input.dwellingId, `${field}.dwellingId`, m);
    this.codes.requireCode('residence_kind', input.kind, `${field}.kind`);
    const movedInOn = requireDate(input.movedInOn, `${field}.movedInOn`);
    return { dwellingId: dwelling.id, kind: input.kind, movedInOn, communityCode: await this.places.communityOfDwelling(dwelling.id, m) };
  }

  async addResident(m: EntityManager, ctx: RequestContext, input: AddResidentInput): Promise<ResidentEntity> {
    const record = this.checkWorkerInput(input.resident, 'input.resident');
    const residence = input.residence ? await this.checkResidence(m, input.residence, 'input.residence') : null;
    let household: { id: string; communityCode: string; relationship: string; fromDate: string } | null = null;
    if (input.household) {
      const h = await this.store.lockHousehold(m, ctx, input.household.householdId, 'input.household.householdId');
      if (h.status !== 'ACTIVE') throw DomainError.invalidState('该户已注销', 'The household is dissolved', 'input.household.householdId');
      this.codes.requireCode('relationship', input.household.relationship, 'input.household.relationship');
      if (input.household.relationship === '02') {
        throw DomainError.badInput('input.household.relationship', '户主请通过“变更户主”办理', 'Use changeHouseholdHead to make someone the head');
      }
      const fromDate = input.household.fromDate ? requireDate(input.household.fromDate, 'input.household.fromDate') : today();
      household = { id: h.id, communityCode: h.communityCode, relationship: input.household.relationship, fromDate };
    }
    const communityCode = input.communityCode ?? residence?.communityCode ?? household?.communityCode;
    if (!communityCode) throw DomainError.badInput('input.communityCode', '请指定所属社区', 'Give the community (or a dwelling or household it can be taken from)');
    this.codes.requireCommunity(communityCode, 'input.communityCode');
    this.store.requireWritable(ctx, communityCode, 'input.communityCode');
    if (residence && residence.movedInOn < record.birthDate) throw DomainError.badInput('input.residence.movedInOn', '入住日期早于出生日期', 'Move-in date is before the birth date');
    await this.requireFreeIdNumber(m, record, 'input.resident.idNumber');

    const resident = await this.store.insertResident(m, record, communityCode, 'WORKER');
    const changes: FieldChange[] = diff<ResidentRecord>(null, record, RESIDENT_RECORD_FIELDS.filter((f) => f !== 'idNumberStatus' || record.idNumberStatus !== 'NONE'));
    changes.push({ field: 'communityCode', old: null, new: communityCode });
    if (residence) {
      await this.store.openResidence(m, resident.id, residence.dwellingId, residence.kind, residence.movedInOn, 'WORKER');
      changes.push({ field: 'residence', old: null, new: { dwellingId: residence.dwellingId, kind: residence.kind, movedInOn: residence.movedInOn } });
    }
    if (household) {
      await this.store.addMember(m, household.id, resident.id, household.relationship, household.fromDate);
      changes.push({ field: 'household', old: null, new: { householdId: household.id, relationship: household.relationship } });
      const h = await this.store.lockHousehold(m, ctx, household.id, 'input.household.householdId');
      await this.store.updateHousehold(m, h, {});
    }
    await this.history.record(m, ctx, [
      { residentId: resident.id, operation: 'addResident', reason: optionalText(input.reason, 'input.reason', 500), changes },
      ...(household ? [{ householdId: household.id, operation: 'addMember', changes: [{ field: 'members', old: null, new: resident.id }] }] : []),
    ]);
    return resident;
  }

  async updateResident(m: EntityManager, ctx: RequestContext, id: string, expectedVersion: number, patch: ResidentPatchInput, reason?: string | null): Promise<ResidentEntity> {
    if (!Number.isInteger(expectedVersion) || expectedVersion < 1) throw DomainError.badInput('expectedVersion', '版本号无效', 'expectedVersion must be a positive integer');
    const current = await this.store.lockResident(m, ctx, id, 'id', expectedVersion);
    const { communityCode: newCommunity, ...fields } = patch ?? {};
    const given = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as ResidentFieldsRaw;
    if (Object.keys(given).length === 0 && !newCommunity) throw DomainError.badInput('patch', '没有需要修改的字段', 'The patch changes nothing');
    for (const required of ['name', 'idType', 'sex', 'birthDate', 'populationType'] as const) {
      if (required in given && (given[required] === null || given[required] === '')) {
        throw DomainError.badInput(`patch.${required}`, '此项不能清空', 'This field cannot be cleared');
      }
    }
    const merged: ResidentFieldsRaw = {
      idType: current.idType, idNumber: current.idNumber, name: current.name, formerName: current.formerName, sex: current.sex,
      birthDate: current.birthDate, ethnicity: current.ethnicity, politicalStatus: current.politicalStatus, education: current.education,
      maritalStatus: current.maritalStatus, employment: current.employment, phone: current.phone, populationType: current.populationType,
      householdRelation: current.householdRelation, ...given,
    };
    // A quarantined ID the worker did not touch may stay quarantined while other fields are corrected.
    const { record, problems } = checkResidentFields(merged, this.codes, 'patch');
    const keepsQuarantinedId = current.idNumberStatus === 'QUARANTINED' && !('idNumber' in given) && !('idType' in given);
    const blocking = problems.filter((p) => !(keepsQuarantinedId && p.severity === 'QUARANTINE' && p.field === 'patch.idNumber'));
    if (blocking.length || !record) {
      const first = blocking[0];
      throw new DomainError(first.code, first.messageZh, first.messageEn, { field: first.field });
    }
    // An unchanged ID number is this record's own (and the partial unique index still guards the commit).
    if (record.idNumber !== current.idNumber) await this.requireFreeIdNumber(m, record, 'patch.idNumber', current.id);
    let communityCode = current.communityCode;
    if (newCommunity) {
      communityCode = this.codes.requireCommunity(newCommunity, 'patch.communityCode').code;
      this.store.requireWritable(ctx, communityCode, 'patch.communityCode');
    }
    const division = this.codes.division(communityCode);
    const retired = !!division?.validTo && division.validTo < today();
    const next = { ...record, communityCode, quarantineReason: quarantineReasonOf(record.idNumberStatus, retired) };
    const changes = diff<ResidentRecord & { communityCode: string }>(current as unknown as ResidentRecord & { communityCode: string }, next, [...RESIDENT_RECORD_FIELDS, 'communityCode']);
    if (changes.length === 0) return current;
    const updated = await this.store.updateResident(m, current, next);
    await this.history.record(m, ctx, [{ residentId: current.id, operation: 'updateResident', reason: optionalText(reason, 'reason', 500), changes }]);
    return updated;
  }

  /** 居住地变更: closes the current residence and opens the new one; the record follows to the new community. */
  async moveResident(m: EntityManager, ctx: RequestContext, input: MoveResidentInput): Promise<ResidentEntity> {
    const current = await this.store.lockResident(m, ctx, input.residentId, 'input.residentId', input.expectedVersion);
    if (current.status !== 'ACTIVE') throw DomainError.invalidState('只能为在册居民办理居住地变更', 'Only active residents can move', 'input.residentId');
    const residence = await this.checkResidence(m, input.residence, 'input.residence');
    this.store.requireWritable(ctx, residence.communityCode, 'input.residence.dwellingId');
    const changes: FieldChange[] = await this.store.closeResidence(m, current.id, residence.movedInOn, 'input.residence.movedInOn');
    await this.store.openResidence(m, current.id, residence.dwellingId, residence.kind, residence.movedInOn, 'WORKER');
    changes.push({ field: 'residence', old: changes.length ? changes.pop()!.old : null, new: { dwellingId: residence.dwellingId, kind: residence.kind, movedInOn: residence.movedInOn } });
    const set: Partial<ResidentEntity> = {};
    if (residence.communityCode !== current.communityCode) {
      set.communityCode = residence.communityCode;
      changes.push({ field: 'communityCode', old: current.communityCode, new: residence.communityCode });
    }
    const updated = await this.store.updateResident(m, current, set);
    await this.history.record(m, ctx, [{ residentId: current.id, operation: 'moveResident', reason: optionalText(input.reason, 'input.reason', 500), changes }]);
    return updated;
  }

  /** 迁出: the person leaves; residence and household membership end. */
  async recordMoveOut(m: EntityManager, ctx: RequestContext, input: RecordMoveOutInput): Promise<ResidentEntity> {
    const current = await this.store.lockResident(m, ctx, input.residentId, 'input.residentId', input.expectedVersion);
    if (current.status !== 'ACTIVE') throw DomainError.invalidState('该居民不在册，无法办理迁出', 'Only active residents can move out', 'input.residentId');
    const on = requireDate(input.movedOutOn, 'input.movedOutOn');
    if (on < current.birthDate) throw DomainError.badInput('input.movedOutOn', '迁出日期早于出生日期', 'Move-out date is before the birth date');
    const reason = requireText(input.reason, 'input.reason', 500);
    const destination = optionalText(input.destination, 'input.destination', 200);
    const changes = await this.store.closeResidence(m, current.id, on, 'input.movedOutOn');
    const membership = await this.store.endMembership(m, ctx, current.id, on, input.newHeadResidentId, 'input.residentId');
    if (membership) changes.push({ field: 'household', old: membership.householdId, new: null });
    const set = { status: 'MOVED_OUT' as const, movedOutOn: on, moveOutReason: reason, moveOutDestination: destination };
    changes.push(...diff(current, set, ['status', 'movedOutOn', 'moveOutReason', 'moveOutDestination']));
    const updated = await this.store.updateResident(m, current, set);
    await this.history.record(m, ctx, [
      { residentId: current.id, operation: 'recordMoveOut', reason, changes },
      ...(membership ? [{ householdId: membership.householdId, operation: 'recordMoveOut', reason, changes: membership.changes }] : []),
    ]);
    return updated;
  }

  /** 死亡: residence, membership and tags end on the date of death. */
  async recordDeath(m: EntityManager, ctx: RequestContext, input: RecordDeathInput): Promise<ResidentEntity> {
    const current = await this.store.lockResident(m, ctx, input.residentId, 'input.residentId', input.expectedVersion);
    if (current.status === 'DECEASED') throw DomainError.invalidState('已登记死亡', 'The death is already recorded', 'input.residentId');
    const on = requireDate(input.deceasedOn, 'input.deceasedOn');
    if (on < current.birthDate) throw DomainError.badInput('input.deceasedOn', '死亡日期早于出生日期', 'Date of death is before the birth date');
    const reason = optionalText(input.reason, 'input.reason', 500);
    const changes = await this.store.closeResidence(m, current.id, on, 'input.deceasedOn');
    const membership = await this.store.endMembership(m, ctx, current.id, on, input.newHeadResidentId, 'input.residentId');
    if (membership) changes.push({ field: 'household', old: membership.householdId, new: null });
    const closedTags = await this.tags.closeAllOfResident(m, current.id, on);
    for (const code of closedTags) changes.push({ field: `tag:${code}`, old: 'held', new: null });
    const set = { status: 'DECEASED' as const, deceasedOn: on };
    changes.push(...diff(current, set, ['status', 'deceasedOn']));
    const updated = await this.store.updateResident(m, current, set);
    await this.history.record(m, ctx, [
      { residentId: current.id, operation: 'recordDeath', reason, changes },
      ...(membership ? [{ householdId: membership.householdId, operation: 'recordDeath', reason, changes: membership.changes }] : []),
    ]);
    return updated;
  }

  /**
   * 合并 a duplicate into the survivor: the survivor keeps its values and fills its gaps from the duplicate; tags,
   * residence and household membership move over where the survivor has none. The duplicate becomes a redirect.
   */
  async mergeResidents(m: EntityManager, ctx: RequestContext, input: MergeResidentsInput): Promise<ResidentEntity> {
    const dupId = requireUuid(input.duplicateId, 'input.duplicateId');
    const survId = requireUuid(input.survivorId, 'input.survivorId');
    if (dupId === survId) throw DomainError.badInput('input.survivorId', '不能与自身合并', 'A record cannot be merged into itself');
    const reason = requireText(input.reason, 'input.reason', 500);
    // Lock both in a fixed order so two opposite merges cannot deadlock.
    const [a, b] = [dupId, survId].sort();
    const first = await this.store.lockResident(m, ctx, a, a === dupId ? 'input.duplicateId' : 'input.survivorId');
    const second = await this.store.lockResident(m, ctx, b, b === dupId ? 'input.duplicateId' : 'input.survivorId');
    const dup = first.id === dupId ? first : second;
    const surv = first.id === survId ? first : second;

    const survivorChanges: FieldChange[] = [];
    const dupChanges: FieldChange[] = [];
    // Membership: moves over when the survivor has none; otherwise the duplicate's ends.
    const dupMember = await this.store.currentMembership(m, dup.id);
    const survMember = await this.store.currentMembership(m, surv.id);
    if (dupMember && !survMember) {
      await m.query(`UPDATE household_member SET resident_id = $2 WHERE id = $1`, [dupMember.id, surv.id]);
      survivorChanges.push({ field: 'household', old: null, new: dupMember.householdId });
    } else if (dupMember && survMember) {
      if (dupMember.isHead && dupMember.householdId !== survMember.householdId) {
        throw new DomainError(ErrorCode.HOUSEHOLD_HEAD_REQUIRED, '重复记录是另一户的户主，请先变更该户户主', 'The duplicate heads another household: change that head first', { field: 'input.duplicateId' });
      }
      const successor = dupMember.isHead ? surv.id : null;
      if (successor) await m.query(`UPDATE household_member SET to_date = GREATEST(from_date, $2::date) WHERE id = $1`, [survMember.id, today()]);
      if (successor) {
        await m.query(`UPDATE household_member SET resident_id = $2 WHERE id = $1`, [dupMember.id, surv.id]);
      } else {
        await m.query(`UPDATE household_member SET to_date = GREATEST(from_date, $2::date) WHERE id = $1`, [dupMember.id, today()]);
      }
      dupChanges.push({ field: 'household', old: dupMember.householdId, new: null });
    }
    // Residence: likewise.
    const dupResidence = await this.store.currentResidence(m, dup.id);
    if (dupResidence) {
      const survResidence = await this.store.currentResidence(m, surv.id);
      if (!survResidence) {
        await m.query(`UPDATE residence SET resident_id = $2 WHERE id = $1`, [dupResidence.id, surv.id]);
        survivorChanges.push({ field: 'residence', old: null, new: { dwellingId: dupResidence.dwellingId } });
      } else {
        await this.store.closeResidence(m, dup.id, today() < dupResidence.movedInOn ? dupResidence.movedInOn : today(), 'input.duplicateId');
      }
    }
    // Tags the survivor lacks move over; the rest close.
    const dupTags = await m.getRepository(ResidentTagEntity).findBy({ residentId: dup.id, validTo: IsNull() });
    for (const t of dupTags) {
      const held = await m.getRepository(ResidentTagEntity).existsBy({ residentId: surv.id, tagCode: t.tagCode, validTo: IsNull() });
      if (held) await m.update(ResidentTagEntity, { id: t.id }, { validTo: today() < t.validFrom ? t.validFrom : today() });
      else {
        await m.update(ResidentTagEntity, { id: t.id }, { residentId: surv.id });
        survivorChanges.push({ field: `tag:${t.tagCode}`, old: null, new: t.attributes });
      }
    }
    // The duplicate becomes a redirect first, releasing its ID number for the survivor if the survivor lacks one.
    const dupSet = { status: 'MERGED' as const, mergedIntoId: surv.id, deceasedOn: null };
    dupChanges.push(...diff(dup, dupSet, ['status', 'mergedIntoId']));
    await this.store.updateResident(m, dup, dupSet);
    const fill: Partial<ResidentEntity> = {};
    const gapFields = ['formerName', 'ethnicity', 'politicalStatus', 'education', 'maritalStatus', 'employment', 'phone', 'householdRelation'] as const;
    for (const k of gapFields) if (surv[k] === null && dup[k] !== null) (fill as Record<string, unknown>)[k] = dup[k];
    if (dup.idNumberStatus === 'VALID' && surv.idNumberStatus !== 'VALID' && dup.birthDate === surv.birthDate) {
      Object.assign(fill, { idType: dup.idType, idNumber: dup.idNumber, idNumberStatus: 'VALID', quarantineReason: null });
    }
    if (!surv.formerName && dup.name !== surv.name && !fill.formerName) fill.formerName = dup.name;
    survivorChanges.push(...diff(surv, fill, Object.keys(fill) as (keyof ResidentEntity)[]));
    survivorChanges.push({ field: 'mergedFrom', old: null, new: dup.id });
    const updated = await this.store.updateResident(m, surv, fill);
    await this.history.record(m, ctx, [
      { residentId: dup.id, operation: 'mergeResidents', reason, changes: dupChanges },
      { residentId: surv.id, operation: 'mergeResidents', reason, changes: survivorChanges },
    ]);
    return updated;
  }
}
