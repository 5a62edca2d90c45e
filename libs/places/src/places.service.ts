import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { CodesService, GridEntity } from '@linli/codes';
import { DomainError, ErrorCode, optionalText, RequestContext, inRanges, requestLoader, requireText, requireUuid, requireWriteScope } from '@linli/core';
import { BuildingEntity, BuildingUnitEntity, CompoundEntity, DwellingEntity } from './entities/place.entities';
import { CreateBuildingInput, CreateCompoundInput, CreateDwellingInput, CreateGridInput, DwellingDto } from './dtos/place.dto';

/** Compounds, buildings, units and dwellings: where people live. */
@Injectable()
export class PlacesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly codes: CodesService,
  ) {}

  async createGrid(ctx: RequestContext, input: CreateGridInput): Promise<GridEntity> {
    this.codes.requireCommunity(input.communityCode, 'input.communityCode');
    requireWriteScope(ctx.access, input.communityCode, 'input.communityCode');
    const code = requireText(input.code, 'input.code', 20);
    if (!/^[0-9A-Za-z-]+$/.test(code)) throw DomainError.badInput('input.code', '网格编号只能包含字母、数字和连字符', 'A grid code has letters, digits and hyphens only');
    const name = requireText(input.name, 'input.name', 100);
    const [row] = await this.dataSource.query(
      `INSERT INTO grid (community_code, code, name) VALUES ($1, $2, $3) ON CONFLICT (community_code, code) DO NOTHING RETURNING id`,
      [input.communityCode, code, name],
    );
    if (!row) throw new DomainError(ErrorCode.INVALID_STATE, `本社区已有编号为 ${code} 的网格`, `A grid with code ${code} already exists in this community`, { field: 'input.code' });
    return this.dataSource.getRepository(GridEntity).findOneByOrFail({ id: row.id });
  }

  /** Grids of a community; outside the jurisdiction the list is empty. */
  async grids(ctx: RequestContext, communityCode: string): Promise<GridEntity[]> {
    if (!inRanges(communityCode, ctx.access.jurisdiction)) return [];
    return this.dataSource.getRepository(GridEntity).find({ where: { communityCode }, order: { code: 'ASC' } });
  }

  /** Puts a compound into a grid of its own community, or takes it out of any grid (`gridId` null). */
  async setCompoundGrid(ctx: RequestContext, compoundId: string, gridId: string | null): Promise<CompoundEntity> {
    const compound = await this.dataSource.getRepository(CompoundEntity).findOneBy({ id: requireUuid(compoundId, 'compoundId') });
    if (!compound || !inRanges(compound.communityCode, ctx.access.jurisdiction)) throw DomainError.notFound('Compound', compoundId, 'compoundId');
    requireWriteScope(ctx.access, compound.communityCode, 'compoundId');
    if (gridId !== null) {
      const grid = await this.dataSource.getRepository(GridEntity).findOneBy({ id: requireUuid(gridId, 'gridId') });
      if (!grid) throw DomainError.notFound('Grid', gridId, 'gridId');
      if (grid.communityCode !== compound.communityCode) {
        throw DomainError.badInput('gridId', '网格与小区不属于同一社区', 'The grid belongs to another community than the compound');
      }
    }
    await this.dataSource.getRepository(CompoundEntity).update({ id: compound.id }, { gridId });
    return { ...compound, gridId };
  }

  async createCompound(ctx: RequestContext, input: CreateCompoundInput): Promise<CompoundEntity> {
    this.codes.requireCommunity(input.communityCode, 'input.communityCode');
    requireWriteScope(ctx.access, input.communityCode, 'input.communityCode');
    const name = requireText(input.name, 'input.name', 100);
    const repo = this.dataSource.getRepository(CompoundEntity);
    if (await repo.exists({ where: { communityCode: input.communityCode, name } })) {
      throw new DomainError(ErrorCode.INVALID_STATE, `本社区已有名为“${name}”的小区`, `A compound named "${name}" already exists in this community`, { field: 'input.name' });
    }
    const row = repo.create({ communityCode: input.communityCode, name, address: optionalText(input.address, 'input.address'), gridId: null });
    return repo.save(row);
  }

  async createBuilding(ctx: RequestContext, input: CreateBuildingInput): Promise<BuildingEntity> {
    const compoundId = requireUuid(input.compoundId, 'input.compoundId');
    const compound = await this.dataSource.getRepository(CompoundEntity).findOneBy({ id: compoundId });
    if (!compound) throw DomainError.notFound('Compound', compoundId, 'input.compoundId');
    requireWriteScope(ctx.access, compound.communityCode, 'input.compoundId');
    const name = requireText(input.name, 'input.name', 50);
    const repo = this.dataSource.getRepository(BuildingEntity);
    if (await repo.exists({ where: { compoundId, name } })) {
      throw new DomainError(ErrorCode.INVALID_STATE, `小区内已有“${name}”楼栋`, `Building "${name}" already exists in this compound`, { field: 'input.name' });
    }
    return repo.save(repo.create({
      compoundId, name, street: optionalText(input.street, 'input.street'), doorNumber: optionalText(input.doorNumber, 'input.doorNumber', 50),
    }));
  }

  /** Creates a dwelling, or returns the existing one at the same building / unit / room. */
  async createDwelling(ctx: RequestContext, input: CreateDwellingInput, manager: EntityManager = this.dataSource.manager): Promise<DwellingEntity> {
    const buildingId = requireUuid(input.buildingId, 'input.buildingId');
    if (!(await manager.getRepository(BuildingEntity).exists({ where: { id: buildingId } }))) {
      throw DomainError.notFound('Building', buildingId, 'input.buildingId');
    }
    requireWriteScope(ctx.access, await this.communityOfBuilding(buildingId, manager), 'input.buildingId');
    const room = requireText(input.room, 'input.room', 50);
    const use = input.use ?? 'OWN';
    this.codes.requireCode('dwelling_use', use, 'input.use');
    if (input.area !== null && input.area !== undefined && !(input.area > 0 && input.area < 100000)) {
      throw DomainError.badInput('input.area', '面积须为正数', 'Area must be a positive number of square metres');
    }
    let unitId: string | null = null;
    const unitName = optionalText(input.unit, 'input.unit', 50);
    if (unitName) {
      await manager.query(
        `INSERT INTO building_unit (building_id, name) VALUES ($1, $2) ON CONFLICT (building_id, name) DO NOTHING`,
        [buildingId, unitName],
      );
      const [unit] = await manager.query(`SELECT id FROM building_unit WHERE building_id = $1 AND name = $2`, [buildingId, unitName]);
      unitId = unit.id;
    }
    const [row] = await manager.query(
      `INSERT INTO dwelling (building_id, unit_id, room, floor, area, use) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (building_id, unit_id, room) DO UPDATE SET room = EXCLUDED.room
       RETURNING id`,
      [buildingId, unitId, room, input.floor ?? null, input.area ?? null, use],
    );
    return (await manager.getRepository(DwellingEntity).findOneByOrFail({ id: row.id }));
  }

  async requireDwelling(id: string, field: string, manager: EntityManager = this.dataSource.manager): Promise<DwellingEntity> {
    const dwellingId = requireUuid(id, field);
    const d = await manager.getRepository(DwellingEntity).findOneBy({ id: dwellingId });
    if (!d) throw DomainError.notFound('Dwelling', dwellingId, field);
    return d;
  }

  async communityOfBuilding(buildingId: string, manager: EntityManager = this.dataSource.manager): Promise<string> {
    const [row] = await manager.query(`SELECT c.community_code FROM building b JOIN compound c ON c.id = b.compound_id WHERE b.id = $1`, [buildingId]);
    return row.community_code;
  }

  /** The community a dwelling belongs to (through building and compound). */
  async communityOfDwelling(dwellingId: string, manager: EntityManager = this.dataSource.manager): Promise<string> {
    const [row] = await manager.query(
      `SELECT c.community_code FROM dwelling d JOIN building b ON b.id = d.building_id JOIN compound c ON c.id = b.compound_id WHERE d.id = $1`,
      [dwellingId],
    );
    return row.community_code;
  }

  /** Places outside the jurisdiction read as empty. */
  async compounds(ctx: RequestContext, communityCode: string): Promise<CompoundEntity[]> {
    if (!inRanges(communityCode, ctx.access.jurisdiction)) return [];
    return this.dataSource.getRepository(CompoundEntity).find({ where: { communityCode }, order: { name: 'ASC' } });
  }

  async buildings(ctx: RequestContext, compoundId: string): Promise<BuildingEntity[]> {
    const compound = await this.dataSource.getRepository(CompoundEntity).findOneBy({ id: requireUuid(compoundId, 'compoundId') });
    if (!compound || !inRanges(compound.communityCode, ctx.access.jurisdiction)) return [];
    return this.dataSource.getRepository(BuildingEntity).find({ where: { compoundId: compound.id }, order: { name: 'ASC' } });
  }

  async dwellings(ctx: RequestContext, buildingId: string): Promise<DwellingDto[]> {
    const id = requireUuid(buildingId, 'buildingId');
    if (!(await this.dataSource.getRepository(BuildingEntity).existsBy({ id })) || !inRanges(await this.communityOfBuilding(id), ctx.access.jurisdiction)) return [];
    const rows = await this.dataSource.getRepository(DwellingEntity).find({ where: { buildingId: id }, order: { room: 'ASC' } });
    return this.toDwellingDtos(rows);
  }

  async dwellingsByIds(ids: readonly string[]): Promise<DwellingDto[]> {
    if (ids.length === 0) return [];
    return this.toDwellingDtos(await this.dataSource.getRepository(DwellingEntity).findBy({ id: In([...ids]) }));
  }

  /** Loader: dwellings by id, batched per request. */
  dwellingOf(ctx: RequestContext, id: string): Promise<DwellingDto | null> {
    return requestLoader<string, DwellingDto | null>(ctx, 'places.dwelling', async (ids) => {
      const rows = await this.dwellingsByIds(ids);
      return new Map(rows.map((d) => [d.id, d]));
    }, null).load(id);
  }

  async toDwellingDtos(rows: DwellingEntity[]): Promise<DwellingDto[]> {
    const unitIds = [...new Set(rows.map((r) => r.unitId).filter((u): u is string => !!u))];
    const units = unitIds.length ? await this.dataSource.getRepository(BuildingUnitEntity).findBy({ id: In(unitIds) }) : [];
    const unitName = new Map(units.map((u) => [u.id, u.name]));
    return rows.map((r) => ({
      id: r.id, buildingId: r.buildingId, unit: r.unitId ? unitName.get(r.unitId) ?? null : null, room: r.room, floor: r.floor,
      area: r.area === null ? null : Number(r.area), use: r.use,
    }));
  }
}
