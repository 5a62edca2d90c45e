import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { DomainError, ErrorCode, inRanges, Permission, queryPreparedIn, RequestContext, requireUuid } from '@linli/core';
import { ResidenceEntity, ResidentEntity } from '../entities/resident.entity';
import { HouseholdEntity, HouseholdMemberEntity } from '../entities/household.entity';
import { FieldChange } from '../entities/history.entity';
import { ResidentRecord } from './resident-rules';
import { RESIDENT_COLUMNS } from './resident-columns';

type ResidentColumns = Partial<Omit<ResidentEntity, 'id' | 'version' | 'createdAt' | 'updatedAt'>>;
type HouseholdColumns = Partial<Omit<HouseholdEntity, 'id' | 'version' | 'createdAt' | 'updatedAt'>>;

/** The locking read of a change, prepared (every change starts with it). */
const LOCK_RESIDENT = `SELECT ${RESIDENT_COLUMNS} FROM resident r WHERE r.id = $1 FOR UPDATE`;

/**
 * Row-level operations on the register, always inside the caller's transaction. Versioned updates are
 * optimistic locks in SQL: `UPDATE … WHERE id = $1 AND version = $2`; no row updated means someone else won.
 */
@Injectable()
export class RegisterStore {
  /**
   * Reads a resident for writing (row lock), checking the version the client saw. Merged records are read-only.
   * Outside the read jurisdiction a record looks like one that does not exist; inside it but outside the write
   * jurisdiction, the write is refused. Departments writing their own line's tags need only the read jurisdiction.
   */
  async lockResident(m: EntityManager, ctx: RequestContext, id: string, field: string, expectedVersion?: number | null): Promise<ResidentEntity> {
    const residentId = requireUuid(id, field);
    // FOR UPDATE outside a transaction would lock nothing (TypeORM's setLock refused that; a raw statement would not).
    if (!m.queryRunner?.isTransactionActive) throw new Error('lockResident needs a transaction');
    const [row] = await queryPreparedIn<ResidentEntity>(m, LOCK_RESIDENT, [residentId]);
    if (!row || !inRanges(row.communityCode, ctx.access.jurisdiction)) throw DomainError.notFound('Resident', residentId, field);
    this.requireWritable(ctx, row.communityCode, field);
    if (row.status === 'MERGED') {
      throw new DomainError(ErrorCode.INVALID_STATE, '该记录已合并，请修改合并后的记录', 'This record was merged; change the surviving record instead', {
        field, details: { mergedIntoId: row.mergedIntoId },
      });
    }
    if (expectedVersion !== null && expectedVersion !== undefined && row.version !== expectedVersion) throw versionConflict(row.version);
    return row;
  }

  requireWritable(ctx: RequestContext, communityCode: string, field: string): void {
    if (!inRanges(communityCode, writableRanges(ctx))) {
      throw new DomainError(ErrorCode.FORBIDDEN, '超出您的辖区，不能修改', 'Outside your write jurisdiction', { field });
    }
  }

  /**
   * Applies `set` with the optimistic lock in SQL and returns the record as it now stands: `current` with `set`, the new
   * version and update time from RETURNING (no trigger rewrites a resident's columns, so nothing else can differ). The
   * record is re-read only to report a version conflict.
   */
  async updateResident(m: EntityManager, current: ResidentEntity, set: ResidentColumns): Promise<ResidentEntity> {
    const result = await m.createQueryBuilder().update(ResidentEntity)
      .set({ ...set, version: () => 'version + 1', updatedAt: () => 'now()' })
      .where('id = :id AND version = :version', { id: current.id, version: current.version })
      .returning('version, updated_at')
      .execute();
    const [row] = result.raw as { version: number; updated_at: Date }[];
    if (!row) {
      const now = await m.getRepository(ResidentEntity).findOneBy({ id: current.id });
      if (!now) throw DomainError.notFound('Resident', current.id);
      throw versionConflict(now.version);
    }
    return Object.assign(Object.create(ResidentEntity.prototype) as ResidentEntity, current, set, { version: row.version, updatedAt: row.updated_at });
  }

  async insertResident(m: EntityManager, record: ResidentRecord, communityCode: string, source: string): Promise<ResidentEntity> {
    const repo = m.getRepository(ResidentEntity);
    const { identifiers } = await repo.createQueryBuilder().insert().into(ResidentEntity)
      .values({ ...record, communityCode, source, status: 'ACTIVE' })
      .execute();
    return repo.findOneByOrFail({ id: identifiers[0].id });
  }

  /** A live resident already holding this ID number, if any. */
  async residentByIdNumber(m: EntityManager, idNumber: string): Promise<ResidentEntity | null> {
    return m.getRepository(ResidentEntity).createQueryBuilder('r').where('r.idNumber = :idNumber AND r.mergedIntoId IS NULL', { idNumber }).getOne();
  }

  async currentResidence(m: EntityManager, residentId: string): Promise<ResidenceEntity | null> {
    return m.getRepository(ResidenceEntity).createQueryBuilder('x').where('x.residentId = :residentId AND x.movedOutOn IS NULL', { residentId }).getOne();
  }

  async openResidence(m: EntityManager, residentId: string, dwellingId: string, kind: string, movedInOn: string, source: string): Promise<ResidenceEntity> {
    const repo = m.getRepository(ResidenceEntity);
    return repo.save(repo.create({ residentId, dwellingId, kind, movedInOn, movedOutOn: null, source }));
  }

  /** Closes the current residence on `on`; returns the change for history, or none when there was no residence. */
  async closeResidence(m: EntityManager, residentId: string, on: string, field: string): Promise<FieldChange[]> {
    const current = await this.currentResidence(m, residentId);
    if (!current) return [];
    if (on < current.movedInOn) {
      throw DomainError.badInput(field, `日期不能早于入住日期 ${current.movedInOn}`, `Date cannot be before the move-in date ${current.movedInOn}`);
    }
    await m.update(ResidenceEntity, { id: current.id }, { movedOutOn: on });
    return [{ field: 'residence', old: { dwellingId: current.dwellingId, kind: current.kind, movedInOn: current.movedInOn }, new: null }];
  }

  async currentMembership(m: EntityManager, residentId: string): Promise<HouseholdMemberEntity | null> {
    return m.getRepository(HouseholdMemberEntity).createQueryBuilder('hm').where('hm.residentId = :residentId AND hm.toDate IS NULL', { residentId }).getOne();
  }

  async currentMembers(m: EntityManager, householdId: string): Promise<HouseholdMemberEntity[]> {
    return m.getRepository(HouseholdMemberEntity).createQueryBuilder('hm')
      .where('hm.householdId = :householdId AND hm.toDate IS NULL', { householdId }).orderBy('hm.relationship').addOrderBy('hm.fromDate').getMany();
  }

  async addMember(m: EntityManager, householdId: string, residentId: string, relationship: string, fromDate: string): Promise<void> {
    if (await this.currentMembership(m, residentId)) {
      throw DomainError.invalidState('该居民已是另一户的成员，请先办理迁出', 'The resident is already a current member of a household');
    }
    await m.insert(HouseholdMemberEntity, { householdId, residentId, relationship, fromDate, toDate: null });
  }

  /**
   * Ends a resident's membership on `on` (move-out, death, merge). When the resident heads a household that keeps
   * other members, a new head must be named; a household left empty is dissolved.
   */
  async endMembership(m: EntityManager, ctx: RequestContext, residentId: string, on: string, newHeadId: string | null | undefined, field: string): Promise<{ householdId: string; changes: FieldChange[] } | null> {
    const membership = await this.currentMembership(m, residentId);
    if (!membership) return null;
    const household = await this.lockHousehold(m, ctx, membership.householdId, field);
    const others = (await this.currentMembers(m, household.id)).filter((x) => x.residentId !== residentId);
    const toDate = on < membership.fromDate ? membership.fromDate : on;
    await m.update(HouseholdMemberEntity, { id: membership.id }, { toDate });
    const changes: FieldChange[] = [{ field: 'members', old: residentId, new: null }];
    if (membership.isHead) {
      if (others.length === 0) {
        await this.updateHousehold(m, household, { status: 'DISSOLVED' });
        changes.push({ field: 'status', old: 'ACTIVE', new: 'DISSOLVED' });
      } else {
        const successor = newHeadId ? others.find((o) => o.residentId === newHeadId) : undefined;
        if (!successor) {
          throw new DomainError(ErrorCode.HOUSEHOLD_HEAD_REQUIRED, '该居民是户主，户内尚有其他成员，请指定新户主', 'The resident heads a household with other members: name the new head', {
            field: 'input.newHeadResidentId', details: { householdId: household.id },
          });
        }
        await m.update(HouseholdMemberEntity, { id: successor.id }, { relationship: '02' });
        changes.push({ field: 'head', old: residentId, new: successor.residentId });
        await this.updateHousehold(m, household, {});
      }
    } else {
      await this.updateHousehold(m, household, {});
    }
    return { householdId: household.id, changes };
  }

  async lockHousehold(m: EntityManager, ctx: RequestContext, id: string, field: string, expectedVersion?: number | null): Promise<HouseholdEntity> {
    const householdId = requireUuid(id, field);
    const row = await m.getRepository(HouseholdEntity).createQueryBuilder('h').setLock('pessimistic_write').where('h.id = :id', { id: householdId }).getOne();
    if (!row || !inRanges(row.communityCode, ctx.access.jurisdiction)) throw DomainError.notFound('Household', householdId, field);
    this.requireWritable(ctx, row.communityCode, field);
    if (expectedVersion !== null && expectedVersion !== undefined && row.version !== expectedVersion) throw versionConflict(row.version);
    return row;
  }

  async updateHousehold(m: EntityManager, current: HouseholdEntity, set: HouseholdColumns): Promise<HouseholdEntity> {
    const result = await m.createQueryBuilder().update(HouseholdEntity)
      .set({ ...set, version: () => 'version + 1', updatedAt: () => 'now()' })
      .where('id = :id AND version = :version', { id: current.id, version: current.version })
      .execute();
    if (!result.affected) {
      const now = await m.getRepository(HouseholdEntity).findOneBy({ id: current.id });
      throw versionConflict(now?.version ?? current.version);
    }
    Object.assign(current, set, { version: current.version + 1 });
    return current;
  }
}

/** Register writers write in their write jurisdiction; departments (own-line tags only) in their read jurisdiction. */
function writableRanges(ctx: RequestContext) {
  return ctx.access.permissions.has(Permission.WRITE_REGISTER) ? ctx.access.writeJurisdiction : ctx.access.jurisdiction;
}

export function versionConflict(currentVersion: number): DomainError {
  return new DomainError(ErrorCode.VERSION_CONFLICT, '记录已被他人修改，请刷新后重试', 'The record was changed by someone else; reload and try again', {
    field: 'expectedVersion', details: { currentVersion },
  });
}
