import { DynamicModule, INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CodesModule, CodesService, DivisionSeed, generateIdNumber, upsertDivisions } from '@linli/codes';
import { AppConfig, ConfigModule, postgresOptions, RequestContext, systemContext } from '@linli/core';
import { PlacesModule, PlacesService } from '@linli/places';
import { RegistryModule, ResidentEventsService, TagsService } from '@linli/registry';
// Not exported by the registry's index; the same class the resolvers use (the registry module provides it).
import { IdempotencyService } from '../../libs/registry/src/idempotency/idempotency.service';
import { changePhone } from './receipts';

/**
 * BENCH ONLY: the register's own write path in the bench process, without GraphQL: the codes, places and registry
 * modules over the bench database, and the same service calls the resolvers make (IdempotencyService.run → one
 * transaction; ResidentEventsService / TagsService write the change, its history and its outbox events together).
 * What is left out compared with the API: HTTP, GraphQL parsing, the access guard and the audit append.
 */

/** application_name of the load generator's connections (the hub's worker uses `linli`). */
export const LOAD_APPLICATION_NAME = 'linli-bench-load';


@Module({})
class BenchRegisterModule {
  static with(config: AppConfig): DynamicModule {
    return {
      module: BenchRegisterModule,
      imports: [
        ConfigModule.withConfig(config),
        // Its own application_name, so the bench can tell the load generator's connections from the worker's.
        TypeOrmModule.forRoot({ ...postgresOptions(config), extra: { max: config.get('DATABASE_POOL_SIZE'), application_name: LOAD_APPLICATION_NAME }, autoLoadEntities: true }),
        CodesModule,
        PlacesModule,
        RegistryModule,
      ],
    };
  }
}

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢';
const GIVEN = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力志国春晓波宁海燕云飞鹏浩宇欣怡佳琪子涵';
const DAYS = 9000;

export interface BenchResident {
  id: string;
  idNumber: string;
  version: number;
}

export class BenchRegister {
  private readonly ctx: RequestContext = systemContext('bench-sync');

  private constructor(readonly app: INestApplicationContext) {}

  static async open(config: AppConfig): Promise<BenchRegister> {
    const app = await NestFactory.createApplicationContext(BenchRegisterModule.with(config), { logger: false, abortOnError: false });
    return new BenchRegister(app);
  }

  get db(): DataSource {
    return this.app.get(DataSource);
  }

  async close(): Promise<void> {
    await this.app.close();
  }

  /** Reference communities (one per township), each with a compound, a building and `dwellings` dwellings. */
  async places(communities: DivisionSeed[], dwellingsPerCommunity: number): Promise<{ dwellingId: string; communityCode: string }[]> {
    await upsertDivisions(this.db.manager, communities);
    await this.app.get(CodesService).reload();
    const places = this.app.get(PlacesService);
    const out: { dwellingId: string; communityCode: string }[] = [];
    for (const c of communities) {
      const compound = await places.createCompound(this.ctx, { communityCode: c.code, name: '同步基准小区' });
      const building = await places.createBuilding(this.ctx, { compoundId: compound.id, name: '1幢', street: '解放南路', doorNumber: `${out.length + 1}号` });
      for (let i = 0; i < dwellingsPerCommunity; i++) {
        const d = await places.createDwelling(this.ctx, { buildingId: building.id, unit: `${1 + (i % 4)}单元`, room: String(101 + i), floor: 1 + Math.floor(i / 4) });
        out.push({ dwellingId: d.id, communityCode: c.code });
      }
    }
    return out;
  }

  /**
   * Resident i: a floating resident (tag FLOATING) who is also a veteran (tag VETERAN), so that ga-ldrk, ty-veterans,
   * zz-grid (everyone) and the bench inbox (everyone) all hold the record. One transaction per resident (add, then
   * both tags), as three mutations would write it.
   */
  async addResident(i: number, dwelling: { dwellingId: string; communityCode: string }): Promise<BenchResident> {
    const male = i % 2 === 0;
    const birth = new Date(Date.UTC(1970, 0, 1) + (i % DAYS) * 86_400_000).toISOString().slice(0, 10);
    const idNumber = generateIdNumber('330203', birth, Math.floor(i / DAYS) * 2 + (male ? 1 : 0));
    const name = SURNAMES[i % SURNAMES.length]! + GIVEN[(i * 7) % GIVEN.length]! + (i % 3 ? GIVEN[(i * 13) % GIVEN.length]! : '');
    const events = this.app.get(ResidentEventsService);
    const tags = this.app.get(TagsService);
    return this.app.get(IdempotencyService).run(this.ctx, undefined, 'addResident', null, async (m) => {
      const r = await events.addResident(m, this.ctx, {
        resident: {
          idType: 'RESIDENT_ID', idNumber, name, ethnicity: i % 10 === 9 ? '22' : '01', education: '20', phone: `138${String(i).padStart(8, '0')}`,
          populationType: 'FLOATING',
        },
        communityCode: dwelling.communityCode,
        residence: { dwellingId: dwelling.dwellingId, kind: 'TENANT', movedInOn: '2024-02-01' },
      });
      await tags.assign(m, this.ctx, { residentId: r.id, tagCode: 'FLOATING', attributes: { inflowReason: 'WORK', inflowDate: '2024-02-01', expectedStayMonths: 12 } });
      await tags.assign(m, this.ctx, { residentId: r.id, tagCode: 'VETERAN', attributes: { category: '退役士兵', dischargedOn: '2010-12-01' } });
      const [{ version }] = await m.query(`SELECT version FROM resident WHERE id = $1`, [r.id]);
      return { id: r.id, idNumber, version: Number(version) };
    });
  }

  /** One register change: the resident's phone becomes the number of change `seq` (updateResident). */
  async changePhone(resident: BenchResident, seq: number): Promise<void> {
    const events = this.app.get(ResidentEventsService);
    const updated = await this.app.get(IdempotencyService).run(this.ctx, undefined, 'updateResident', null, (m) =>
      events.updateResident(m, this.ctx, resident.id, resident.version, { phone: changePhone(seq) }, null));
    resident.version = updated.version;
  }
}
