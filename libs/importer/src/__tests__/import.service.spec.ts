import { Test, TestingModule } from '@nestjs/testing';
import { createHash } from 'crypto';
import ExcelJS from 'exceljs';
import { readFile, writeFile } from 'fs/promises';
import { join } from 'path';
import { DataSource } from 'typeorm';
import { ConfigModule, DatabaseModule, systemContext } from '@linli/core';
import { ImporterModule } from '../importer.module';
import { ImportService } from '../import.service';
import { ImportErrorCode } from '../import-error';
import { LoadedMapping, loadMapping, parseMapping } from '../mapping';
import {
  encodeGbk, fifteenDigit, MAPPINGS_DIR, readReport, removeTempDirs, tempDir, testCommunity, TestCommunity, testPerson, unknownCommunityCode, withBadChecksum, writeCsv,
} from './fixtures';

const HUB_HEADER = ['idNumber', 'name', 'sex', 'birthDate', 'ethnicity', 'phone', 'communityCode'];

interface StoredResident {
  id: string;
  id_number: string;
  id_number_status: string;
  quarantine_reason: string | null;
  name: string;
  name_pinyin: string;
  sex: string;
  birth_date: string;
  ethnicity: string | null;
  phone: string | null;
  population_type: string;
  community_code: string;
  source: string;
  version: number;
}

describe('ImportService (real PostgreSQL)', () => {
  let moduleRef: TestingModule;
  let service: ImportService;
  let ds: DataSource;
  let hub: LoadedMapping;
  let dir: string;
  let community: TestCommunity;
  const ctx = systemContext('import-test');

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({ imports: [ConfigModule, DatabaseModule, ImporterModule] }).compile();
    await moduleRef.init();
    service = moduleRef.get(ImportService);
    ds = moduleRef.get(DataSource);
    hub = await loadMapping(join(MAPPINGS_DIR, 'hub-csv.yaml'));
    dir = await tempDir();
    community = await testCommunity(ds);
  });

  afterAll(async () => {
    await moduleRef.close();
    await removeTempDirs();
  });

  async function residents(idNumbers: string[]): Promise<Map<string, StoredResident>> {
    const rows = (await ds.query(
      `SELECT id, id_number, id_number_status, quarantine_reason, name, name_pinyin, sex, birth_date::text AS birth_date, ethnicity, phone,
              population_type, community_code, source, version
         FROM resident WHERE id_number = ANY($1) AND merged_into_id IS NULL`,
      [idNumbers],
    )) as StoredResident[];
    return new Map(rows.map((r) => [r.id_number, r]));
  }

  async function historyCount(residentIds: string[]): Promise<number> {
    const [{ n }] = (await ds.query(`SELECT count(*)::int AS n FROM change_history WHERE resident_id = ANY($1::uuid[])`, [residentIds])) as [{ n: number }];
    return n;
  }

  async function outboxCount(residentIds: string[]): Promise<number> {
    const [{ n }] = (await ds.query(`SELECT count(*)::int AS n FROM outbox_event WHERE aggregate_type = 'RESIDENT' AND aggregate_id = ANY($1::uuid[])`, [residentIds])) as [{ n: number }];
    return n;
  }

  it('accepts a good CSV (UTF-8 with BOM), stores normalised fields, writes history, the run and the report', async () => {
    const a = testPerson({ sex: '1' });
    const b = testPerson({ sex: '2', checkChar: 'X' });
    const c = testPerson({ from: 1940, to: 1999 });
    const file = await writeCsv(dir, 'good.csv', [
      HUB_HEADER,
      [a.idNumber, '张伟', '1', a.birthDate, '1', '138 1234 5678', community.code],
      [b.idNumber.toLowerCase(), '王芳', '2', b.birthDate.replace(/-/g, ''), '01', '', community.code],
      [fifteenDigit(c.idNumber), '欧阳明华', '', '', '22', '0574-87654321', community.code],
    ], { bom: true });
    const reportPath = join(dir, 'good-report.csv');

    const summary = await service.importFile(ctx, { filePath: file, mapping: hub, reportPath });

    expect(summary).toMatchObject({ rows: 3, accepted: 3, matched: 0, quarantined: 0, rejected: 0, reportPath, fileName: 'good.csv' });
    expect(summary.fileSha256).toBe(createHash('sha256').update(await readFile(file)).digest('hex'));
    const stored = await residents([a.idNumber, b.idNumber, c.idNumber]);
    expect(stored.size).toBe(3);
    expect(stored.get(a.idNumber)).toMatchObject({
      id_number_status: 'VALID', quarantine_reason: null, name: '张伟', name_pinyin: 'zhangwei', sex: '1', birth_date: a.birthDate,
      ethnicity: '01', phone: '13812345678', population_type: 'REGISTERED', community_code: community.code, source: 'IMPORT',
    });
    // lower-case x became X; YYYYMMDD became a date
    expect(stored.get(b.idNumber)).toMatchObject({ id_number: b.idNumber, birth_date: b.birthDate, sex: '2' });
    expect(b.idNumber.endsWith('X')).toBe(true);
    // the 15-digit ID became its 18-digit form; sex and birth date were taken from it
    expect(stored.get(c.idNumber)).toMatchObject({ id_number: c.idNumber, birth_date: c.birthDate, sex: c.sex, ethnicity: '22', phone: '0574-87654321' });

    const history = (await ds.query(
      `SELECT resident_id, operation, actor, reason, changes FROM change_history WHERE resident_id = ANY($1::uuid[]) ORDER BY id`,
      [[...stored.values()].map((r) => r.id)],
    )) as { resident_id: string; operation: string; actor: string; reason: string; changes: unknown }[];
    expect(history).toHaveLength(3);
    expect(history.find((h) => h.resident_id === stored.get(b.idNumber)!.id)).toMatchObject({
      operation: 'import', actor: 'system:import-test', reason: expect.stringContaining('good.csv'),
      changes: [{ field: 'created', old: null, new: { source: 'IMPORT', file: 'good.csv', row: 3 } }],
    });
    // Each new resident, its history row and its outbox event were written by one and the same transaction.
    const together = (await ds.query(
      `SELECT r.id, r.xmin::text AS resident_tx, h.xmin::text AS history_tx, o.xmin::text AS outbox_tx, o.version, o.event_type, o.changed_fields
         FROM resident r JOIN change_history h ON h.resident_id = r.id JOIN outbox_event o ON o.aggregate_type = 'RESIDENT' AND o.aggregate_id = r.id
        WHERE r.id = ANY($1::uuid[])`,
      [[...stored.values()].map((r) => r.id)],
    )) as { resident_tx: string; history_tx: string; outbox_tx: string; version: number; event_type: string; changed_fields: string[] }[];
    expect(together).toHaveLength(3);
    for (const t of together) {
      expect(t).toMatchObject({ history_tx: t.resident_tx, outbox_tx: t.resident_tx, version: 1, event_type: 'import', changed_fields: ['created'] });
    }
    // New ids are time-ordered UUIDs (version 7), see TimeOrderedUuids.
    for (const r of stored.values()) expect(r.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    const [run] = (await ds.query(`SELECT file_name, file_sha256, actor, accepted, matched, quarantined, rejected, report_path, finished_at FROM import_run WHERE id = $1`, [summary.runId])) as Record<string, unknown>[];
    expect(run).toMatchObject({ file_name: 'good.csv', file_sha256: summary.fileSha256, actor: 'system:import-test', accepted: 3, matched: 0, quarantined: 0, rejected: 0, report_path: reportPath });
    expect(run!.finished_at).not.toBeNull();

    const report = await readReport(reportPath);
    expect(report.rows.map((r) => [r.row, r.outcome, r.residentId])).toEqual([
      ['2', 'ACCEPTED', stored.get(a.idNumber)!.id], ['3', 'ACCEPTED', stored.get(b.idNumber)!.id], ['4', 'ACCEPTED', stored.get(c.idNumber)!.id],
    ]);
    expect(report.rows[0]!.idNumber).toBe(`${a.idNumber.slice(0, 4)}**********${a.idNumber.slice(-4)}`);
    for (const secret of [a.idNumber, b.idNumber, c.idNumber, '张伟', '王芳', '欧阳明华']) expect(report.text).not.toContain(secret);
  });

  it('rejects bad rows with their field, quarantines bad checksums and retired communities, and keeps every valid row', async () => {
    const retired = await testCommunity(ds, { retired: true });
    const unknown = await unknownCommunityCode(ds);
    const good = testPerson();
    const badSum = testPerson();
    const inRetired = testPerson();
    const both = testPerson();
    const unknownCommunity = testPerson();
    const badSex = testPerson();
    const badDate = testPerson();
    const mismatch = testPerson({ sex: '1' });
    const file = await writeCsv(dir, 'bad.csv', [
      HUB_HEADER,
      [good.idNumber, '李雷', '', '', '', '', community.code],
      [withBadChecksum(badSum.idNumber), '韩梅梅', '', '', '', '', community.code],
      [inRetired.idNumber, '赵敏', '', '', '', '', retired.code],
      [withBadChecksum(both.idNumber), '钱七', '', '', '', '', retired.code],
      [unknownCommunity.idNumber, '孙八', '', '', '', '', unknown],
      [badSex.idNumber, '周九', '5', '', '', '', community.code],
      ['', '无证件', '1', '1980-01-01', '', '', community.code],
      [badDate.idNumber, '吴十', '', '31.12.1980', '', '', community.code],
      [mismatch.idNumber, '郑十一', '2', '', '', '', community.code],
      [testPerson().idNumber, '', '', '', '', '', community.code],
      [testPerson().idNumber, '冯十二', '', '', '99', '', community.code],
      [testPerson().idNumber, '陈十三', '', '', '', '12345', community.code],
    ]);
    const reportPath = join(dir, 'bad-report.csv');

    const summary = await service.importFile(ctx, { filePath: file, mapping: hub, reportPath });

    expect(summary).toMatchObject({ rows: 12, accepted: 1, quarantined: 3, matched: 0, rejected: 8 });
    const stored = await residents([good.idNumber, withBadChecksum(badSum.idNumber), inRetired.idNumber, withBadChecksum(both.idNumber), unknownCommunity.idNumber, badSex.idNumber]);
    expect(stored.get(good.idNumber)).toMatchObject({ id_number_status: 'VALID', quarantine_reason: null });
    expect(stored.get(withBadChecksum(badSum.idNumber))).toMatchObject({ id_number_status: 'QUARANTINED', quarantine_reason: 'ID_CHECKSUM', birth_date: badSum.birthDate });
    expect(stored.get(inRetired.idNumber)).toMatchObject({ id_number_status: 'VALID', quarantine_reason: 'RETIRED_DIVISION', community_code: retired.code });
    expect(stored.get(withBadChecksum(both.idNumber))).toMatchObject({ id_number_status: 'QUARANTINED', quarantine_reason: 'ID_CHECKSUM,RETIRED_DIVISION' });
    expect(stored.has(unknownCommunity.idNumber)).toBe(false);
    expect(stored.has(badSex.idNumber)).toBe(false);

    const { rows, text } = await readReport(reportPath);
    const byRow = new Map(rows.map((r) => [Number(r.row), r]));
    expect(byRow.get(2)).toMatchObject({ outcome: 'ACCEPTED' });
    expect(byRow.get(3)).toMatchObject({ outcome: 'QUARANTINED', field: 'idNumber', reasonEn: 'ID number check character is wrong' });
    expect(byRow.get(4)).toMatchObject({ outcome: 'QUARANTINED', field: 'communityCode', reasonEn: expect.stringContaining('was retired on 2016-09-30') });
    expect(byRow.get(5)).toMatchObject({ outcome: 'QUARANTINED', field: 'idNumber;communityCode' });
    expect(byRow.get(6)).toMatchObject({ outcome: 'REJECTED', field: 'communityCode', residentId: '', reasonZh: `社区代码“${unknown}”不存在` });
    expect(byRow.get(7)).toMatchObject({ outcome: 'REJECTED', field: 'sex' });
    expect(byRow.get(8)).toMatchObject({ outcome: 'REJECTED', field: 'idNumber', idNumber: '', reasonEn: 'Import needs an ID number to match residents' });
    expect(byRow.get(9)).toMatchObject({ outcome: 'REJECTED', field: 'birthDate', reasonEn: expect.stringContaining('YYYY-MM-DD') });
    expect(byRow.get(10)).toMatchObject({ outcome: 'REJECTED', field: expect.stringContaining('sex'), reasonEn: expect.stringContaining('does not match the sex') });
    expect(byRow.get(11)).toMatchObject({ outcome: 'REJECTED', field: 'name' });
    expect(byRow.get(12)).toMatchObject({ outcome: 'REJECTED', field: 'ethnicity' });
    expect(byRow.get(13)).toMatchObject({ outcome: 'REJECTED', field: 'phone' });
    for (const secret of ['李雷', '韩梅梅', '无证件', good.idNumber, badSex.idNumber]) expect(text).not.toContain(secret);
  });

  it('is idempotent: the same file twice stores nothing new the second time', async () => {
    const people = [testPerson(), testPerson(), testPerson()];
    const file = await writeCsv(dir, 'twice.csv', [
      HUB_HEADER,
      [people[0]!.idNumber, '林一', '', '', '', '', community.code],
      [withBadChecksum(people[1]!.idNumber), '林二', '', '', '', '', community.code],
      [people[2]!.idNumber, '林三', '', '', '', '', community.code],
      ['', '林四', '', '', '', '', community.code],
    ]);
    const ids = [people[0]!.idNumber, withBadChecksum(people[1]!.idNumber), people[2]!.idNumber];

    const first = await service.importFile(ctx, { filePath: file, mapping: hub, reportPath: join(dir, 'twice-1.csv') });
    const afterFirst = await residents(ids);
    const historyAfterFirst = await historyCount([...afterFirst.values()].map((r) => r.id));
    const second = await service.importFile(ctx, { filePath: file, mapping: hub, reportPath: join(dir, 'twice-2.csv') });
    const afterSecond = await residents(ids);

    expect(first).toMatchObject({ accepted: 2, quarantined: 1, matched: 0, rejected: 1 });
    expect(second).toMatchObject({ accepted: 0, quarantined: 0, matched: 3, rejected: 1 });
    expect(second.fileSha256).toBe(first.fileSha256);
    expect(afterSecond).toEqual(afterFirst);
    expect(historyAfterFirst).toBe(3);
    expect(await historyCount([...afterSecond.values()].map((r) => r.id))).toBe(3);
    expect(await outboxCount([...afterSecond.values()].map((r) => r.id))).toBe(3);
    const { rows } = await readReport(join(dir, 'twice-2.csv'));
    expect(rows.map((r) => [r.outcome, r.residentId, r.differingFields])).toEqual([
      ['MATCHED', afterFirst.get(ids[0]!)!.id, ''], ['MATCHED', afterFirst.get(ids[1]!)!.id, ''], ['MATCHED', afterFirst.get(ids[2]!)!.id, ''], ['REJECTED', '', ''],
    ]);
  });

  it('matches a resident already registered by another path without changing it, and lets the first duplicate row win', async () => {
    const existing = testPerson({ sex: '2' });
    const [{ id: existingId }] = (await ds.query(
      `INSERT INTO resident (id_type, id_number, id_number_status, name, name_pinyin, sex, birth_date, phone, population_type, community_code, source)
       VALUES ('RESIDENT_ID', $1, 'VALID', '许晴', 'xuqing', '2', $2, '13900000000', 'REGISTERED', $3, 'WORKER') RETURNING id`,
      [existing.idNumber, existing.birthDate, community.code],
    )) as [{ id: string }];
    const twice = testPerson();
    const file = await writeCsv(dir, 'match.csv', [
      HUB_HEADER,
      [existing.idNumber, '许晴', '', '', '', '13811112222', community.code],
      [twice.idNumber, '何一', '', '', '', '13800000001', community.code],
      [twice.idNumber, '何二', '', '', '', '13800000001', community.code],
    ]);
    const reportPath = join(dir, 'match-report.csv');

    const summary = await service.importFile(ctx, { filePath: file, mapping: hub, reportPath });

    expect(summary).toMatchObject({ accepted: 1, matched: 2, quarantined: 0, rejected: 0 });
    const stored = await residents([existing.idNumber, twice.idNumber]);
    expect(stored.get(existing.idNumber)).toMatchObject({ id: existingId, phone: '13900000000', source: 'WORKER', version: 1 });
    expect(await historyCount([existingId])).toBe(0);
    expect(stored.get(twice.idNumber)).toMatchObject({ name: '何一' });
    const { rows } = await readReport(reportPath);
    expect(rows.map((r) => [r.outcome, r.residentId, r.differingFields])).toEqual([
      ['MATCHED', existingId, 'phone'],
      ['ACCEPTED', stored.get(twice.idNumber)!.id, ''],
      ['MATCHED', stored.get(twice.idNumber)!.id, 'name'],
    ]);
  });

  it('lets the first row win for duplicates in different batches written concurrently', async () => {
    const dup = testPerson();
    const other = testPerson();
    const file = await writeCsv(dir, 'dups.csv', [
      HUB_HEADER,
      [dup.idNumber, '第一', '', '', '', '', community.code],
      [other.idNumber, '其他', '', '', '', '', community.code],
      [dup.idNumber, '第二', '', '', '', '13800000002', community.code],
      [dup.idNumber, '第三', '', '', '', '', community.code],
    ]);
    const reportPath = join(dir, 'dups-report.csv');

    const summary = await service.importFile(ctx, { filePath: file, mapping: hub, reportPath, batchSize: 1, writers: 3 });

    expect(summary).toMatchObject({ accepted: 2, matched: 2 });
    const stored = await residents([dup.idNumber]);
    expect(stored.get(dup.idNumber)).toMatchObject({ name: '第一' });
    const { rows } = await readReport(reportPath);
    expect(rows.map((r) => [r.row, r.outcome, r.differingFields])).toEqual([
      ['2', 'ACCEPTED', ''], ['3', 'ACCEPTED', ''], ['4', 'MATCHED', 'name;phone'], ['5', 'MATCHED', 'name'],
    ]);
  });

  it('imports the civil-affairs XLSX household sheet: 男/女 translated, community looked up by name', async () => {
    const suffix = String(Math.floor(Math.random() * 1e6)).padStart(6, '0');
    const named = await testCommunity(ds, { name: `低保测试${suffix}社区` });
    const twinName = `重名测试${suffix}社区`;
    await testCommunity(ds, { name: twinName });
    await testCommunity(ds, { name: twinName });
    const man = testPerson({ sex: '1' });
    const woman = testPerson({ sex: '2' });
    const shortName = testPerson();
    const nowhere = testPerson({ sex: '1' });
    const ambiguous = testPerson({ sex: '2' });
    const numeric = testPerson({ sex: '1' });
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('户主');
    sheet.addRow(['类别', '户主姓名', '性别', '年龄', '身份证', '通讯住址', '所属社区', '电话号码', '银行帐号']);
    sheet.addRow(['城市低保', '陈大明', '男', 60, man.idNumber, '某路1号', named.name, 13812340000, '6222000011112222']);
    sheet.addRow(['低保边缘', '刘小红', '女', 50, woman.idNumber, '某路2号', named.name, '', '6222000011113333']);
    sheet.addRow(['特困', '王五', '', 70, shortName.idNumber, '某路3号', `低保测试${suffix}`, '', '']);
    sheet.addRow(['城市低保', '赵六', '男', 40, nowhere.idNumber, '某路4号', `不存在社区${suffix}`, '', '']);
    sheet.addRow(['城市低保', '钱七', '女', 40, ambiguous.idNumber, '某路5号', twinName, '', '']);
    sheet.addRow(['城市低保', '孙八', '男', 40, Number(numeric.idNumber.slice(0, 17) + '0'), '某路6号', named.name, '', '']);
    const members = workbook.addWorksheet('成员');
    members.addRow(['父ID', '姓名', '身份证', '家庭人数', '保障人数', '家庭月收入', '成员类型']);
    members.addRow([1, '陈小明', testPerson().idNumber, 3, 3, 1200.5, '长子']);
    const file = join(dir, '2012年3月低保.xlsx');
    await workbook.xlsx.writeFile(file);
    const mapping = await loadMapping(join(MAPPINGS_DIR, 'mz-dibao-household.yaml'));
    const reportPath = join(dir, 'dibao-report.csv');

    const summary = await service.importFile(ctx, { filePath: file, mapping, reportPath });

    expect(summary).toMatchObject({ rows: 6, accepted: 3, matched: 0, quarantined: 0, rejected: 3 });
    expect(summary.fileSha256).toBe(createHash('sha256').update(await readFile(file)).digest('hex'));
    const stored = await residents([man.idNumber, woman.idNumber, shortName.idNumber]);
    expect(stored.get(man.idNumber)).toMatchObject({ name: '陈大明', sex: '1', community_code: named.code, phone: '13812340000', birth_date: man.birthDate });
    expect(stored.get(woman.idNumber)).toMatchObject({ name: '刘小红', sex: '2', community_code: named.code });
    expect(stored.get(shortName.idNumber)).toMatchObject({ community_code: named.code, sex: shortName.sex });
    const { rows } = await readReport(reportPath);
    const byRow = new Map(rows.map((r) => [Number(r.row), r]));
    expect(byRow.get(5)).toMatchObject({ outcome: 'REJECTED', field: 'communityCode', reasonEn: expect.stringContaining('No community is named') });
    expect(byRow.get(6)).toMatchObject({ outcome: 'REJECTED', field: 'communityCode', reasonEn: expect.stringContaining('matches several communities') });
    expect(byRow.get(7)).toMatchObject({ outcome: 'REJECTED', field: 'idNumber', reasonEn: expect.stringContaining('format the column as text') });
  });

  it('reads a GBK police export with pinyin-initial headers, YYYYMMDD dates and unpadded ethnicity, into a given community', async () => {
    const p = testPerson({ sex: '1' });
    const q = testPerson({ sex: '2' });
    const file = await writeCsv(dir, 'ldrk.csv', [
      ['GMSFHM', 'XM', 'XB', 'MZ', 'CSRQ', 'LXDH', 'ZZDZ_MLXZ'],
      [p.idNumber, '杨过', '1', '1', p.birthDate.replace(/-/g, ''), '13700000000', '海曙区某路'],
      [q.idNumber, '小龙女', '2', '22', q.birthDate.replace(/-/g, ''), '', '海曙区某路'],
    ], { encode: encodeGbk });
    const mapping = await loadMapping(join(MAPPINGS_DIR, 'ga-ldrk-police.yaml'));

    const summary = await service.importFile(ctx, { filePath: file, mapping, communityCode: community.code, reportPath: join(dir, 'ldrk-report.csv') });

    expect(summary).toMatchObject({ accepted: 2, rejected: 0 });
    const stored = await residents([p.idNumber, q.idNumber]);
    expect(stored.get(p.idNumber)).toMatchObject({ name: '杨过', ethnicity: '01', birth_date: p.birthDate, population_type: 'FLOATING', community_code: community.code });
    expect(stored.get(q.idNumber)).toMatchObject({ name: '小龙女', ethnicity: '22', sex: '2' });
  });

  it('loses nothing committed when a run dies mid-file, and a re-run completes it', async () => {
    const people = Array.from({ length: 6 }, () => testPerson());
    const file = await writeCsv(dir, 'crash.csv', [HUB_HEADER, ...people.map((p, i) => [p.idNumber, `续导${'一二三四五六'[i]}`, '', '', '', '', community.code])]);
    const crash = new Error('simulated crash after the first batch');

    const failure = await service.importFile(ctx, {
      filePath: file, mapping: hub, batchSize: 2, writers: 2, reportPath: join(dir, 'crash-1.csv'),
      onProgress: () => {
        throw crash;
      },
    }).catch((e: unknown) => e);

    expect(failure).toBe(crash);
    // Batches 1 and 2 were being written when batch 1 reported the crash; batch 3 was never started.
    const committed = await residents(people.map((p) => p.idNumber));
    expect(committed.size).toBe(4);
    const [run] = (await ds.query(`SELECT accepted, finished_at FROM import_run WHERE report_path = $1`, [join(dir, 'crash-1.csv')])) as { accepted: number; finished_at: Date | null }[];
    expect(run).toMatchObject({ accepted: 4, finished_at: null });

    const summary = await service.importFile(ctx, { filePath: file, mapping: hub, batchSize: 2, reportPath: join(dir, 'crash-2.csv') });

    expect(summary).toMatchObject({ rows: 6, matched: 4, accepted: 2, rejected: 0 });
    expect((await residents(people.map((p) => p.idNumber))).size).toBe(6);
    expect(await historyCount([...(await residents(people.map((p) => p.idNumber))).values()].map((r) => r.id))).toBe(6);
  });

  it('stops with a clear error on malformed CSV', async () => {
    const file = await writeCsv(dir, 'quote.csv', [HUB_HEADER]);
    await writeFile(file, `${await readFile(file, 'utf8')}"${testPerson().idNumber},unclosed quote\r\n`);

    await expect(service.importFile(ctx, { filePath: file, mapping: hub, reportPath: join(dir, 'quote-report.csv') }))
      .rejects.toMatchObject({ code: ImportErrorCode.FILE_FORMAT });
  });

  it('refuses a file whose header lacks a mapped column, naming the column', async () => {
    const file = await writeCsv(dir, 'noheader.csv', [['idNumber', 'name'], [testPerson().idNumber, '某某']]);
    const mapping = parseMapping({ fields: { idNumber: 'idNumber', name: 'name', phone: '电话' }, community: { code: community.code } }, 'inline');

    await expect(service.importFile(ctx, { filePath: file, mapping: { label: 'inline', mapping }, reportPath: join(dir, 'noheader-report.csv') }))
      .rejects.toMatchObject({ code: ImportErrorCode.COLUMN_MISSING, details: { columns: ['电话'] } });
  });

  it('refuses an unknown fixed community and an unreadable file before reading any row', async () => {
    const file = await writeCsv(dir, 'one.csv', [HUB_HEADER, [testPerson().idNumber, '某某', '', '', '', '', community.code]]);
    await expect(service.importFile(ctx, { filePath: file, mapping: hub, communityCode: await unknownCommunityCode(ds) }))
      .rejects.toMatchObject({ code: ImportErrorCode.COMMUNITY_INVALID });
    await expect(service.importFile(ctx, { filePath: join(dir, 'missing.csv'), mapping: hub }))
      .rejects.toMatchObject({ code: ImportErrorCode.FILE_UNREADABLE });
  });
});
