import { readFileSync } from 'fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'fs/promises';
import { tmpdir } from 'os';
import { join } from 'path';
import ExcelJS from 'exceljs';
import * as iconv from 'iconv-lite';
import SftpClient from 'ssh2-sftp-client';
import { parse } from 'yaml';
import { generateIdNumber } from '@linli/codes';
import { BatchAdapter, BatchRowResult, OutboundRecord } from '../../../../libs/sync/src/adapters/adapter';
import { fileBatchAdapterFactory, FileBatchTransportError, resultFileName } from '../../../../libs/sync/src/adapters/file-batch.adapter';
import { parseTarget } from '../../../../libs/sync/src/targets/target-config';
import { MzDibaoSimulator } from '../sims/mz-dibao.sim';

/** P3 over its real protocol: monthly XLSX workbooks dropped on SFTP, result workbooks with 校验结果. */

const USER = 'dibao';
const PASSWORD = 'sim-secret';
const NOW = new Date('2024-03-15T10:00:00+08:00');

const HEAD_A = generateIdNumber('330203', '1965-04-12', 11);
const HEAD_B = generateIdNumber('330203', '1958-11-02', 24);
const GOOD_C = generateIdNumber('330204', '1972-07-30', 35);
/** A valid number with its check character changed. */
const BAD_CHECK = (() => {
  const valid = generateIdNumber('330203', '1980-01-05', 57);
  const last = valid.charAt(17);
  return valid.slice(0, 17) + (last === '0' ? '1' : '0');
})();

const TARGET_PATH = join(__dirname, '../../../../deploy/targets/mz-dibao.yaml');
const targetFile = parse(readFileSync(TARGET_PATH, 'utf8')) as { endpoint: Record<string, unknown> };

function household(id: string, overrides: OutboundRecord['fields'] = {}, version = 1): OutboundRecord {
  return {
    target: 'mz-dibao',
    aggregateType: 'RESIDENT',
    aggregateId: `uid-${id}`,
    version,
    key: id,
    operation: 'UPSERT',
    fields: {
      类别: '城市低保',
      户主姓名: '王秀英',
      性别: '女',
      身份证: id,
      通讯住址: '海曙区月湖街道平桥街12号',
      所属社区: '平桥社区',
      电话号码: '13800001234',
      父ID: id,
      姓名: '王秀英',
      家庭人数: 3,
      保障人数: 2,
      家庭月收入: 1234.5,
      成员类型: '户主',
      ...overrides,
    },
  };
}

const RECORDS: OutboundRecord[] = [
  household(HEAD_B, { 户主姓名: '李建国', 姓名: '李建国', 性别: '男', 类别: '特困', 家庭人数: 1, 保障人数: 1, 家庭月收入: 980 }),
  household(HEAD_A),
  household(BAD_CHECK, { 户主姓名: '赵敏', 姓名: '赵敏', 类别: '低保边缘', 家庭月收入: 2100.75 }),
];

function signal(ms = 5000): AbortSignal {
  return AbortSignal.timeout(ms);
}

async function pollResult(adapter: BatchAdapter, fileName: string, ms = 5000): Promise<BatchRowResult[]> {
  const until = Date.now() + ms;
  for (;;) {
    const result = await adapter.fetchResult(fileName, signal());
    if (result) return result;
    if (Date.now() > until) throw new Error(`no result for ${fileName}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function sheetRows(content: Buffer, sheetName: string): Promise<string[][]> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(content as unknown as ExcelJS.Buffer);
  const ws = workbook.getWorksheet(sheetName);
  if (!ws) throw new Error(`no sheet ${sheetName}`);
  const rows: string[][] = [];
  ws.eachRow((row) => {
    const cells: string[] = [];
    for (let c = 1; c <= row.cellCount; c++) cells.push(row.getCell(c).text);
    rows.push(cells);
  });
  return rows;
}

describe('mz-dibao over SFTP (file-batch adapter)', () => {
  const sim = new MzDibaoSimulator({ port: 0, username: USER, password: PASSWORD });
  let adapter: BatchAdapter;

  function sftpAdapter(overrides: Record<string, unknown> = {}, credentials = { username: USER, password: PASSWORD }): BatchAdapter {
    const endpoint = { ...targetFile.endpoint, port: sim.port, ...overrides };
    fileBatchAdapterFactory.validateEndpoint(endpoint);
    const created = fileBatchAdapterFactory.create({ name: 'mz-dibao', endpoint, credentials });
    if (created.kind !== 'batch') throw new Error('file-batch must build a batch adapter');
    return created;
  }

  beforeAll(async () => {
    await sim.start();
    adapter = sftpAdapter();
  });

  afterAll(async () => {
    await adapter.close();
    await sim.stop();
  });

  beforeEach(async () => {
    sim.chaos.reset();
    await sim.reset();
  });

  it('the target file validates', () => {
    const target = parseTarget(TARGET_PATH, readFileSync(TARGET_PATH, 'utf8'), new Map([['file-batch', fileBatchAdapterFactory]]), { MZ_DIBAO_USER: USER, MZ_DIBAO_PASSWORD: PASSWORD });
    expect(target).toMatchObject({ name: 'mz-dibao', line: 'CIVIL_AFFAIRS', key: '身份证', schedule: { mode: 'batch', cron: '0 2 1 * *' }, resolvedCredentials: { username: USER, password: PASSWORD } });
    expect(() => fileBatchAdapterFactory.validateEndpoint(targetFile.endpoint)).not.toThrow();
    expect(() => fileBatchAdapterFactory.validateEndpoint({ ...targetFile.endpoint, host: undefined })).toThrow(/endpoint\.host/);
    expect(() => fileBatchAdapterFactory.validateEndpoint({ ...targetFile.endpoint, fileName: 'x_{DD}.xlsx' })).toThrow(/endpoint\.fileName: unknown placeholder \{DD\}/);
  });

  it('writes a household that left the roll as 注销 with its 身份证 only; the system removes it and answers the row', async () => {
    const first = await adapter.render([household(HEAD_A), household(HEAD_B)], 'keep', NOW);
    expect((await adapter.upload(first, signal())).kind).toBe('DELIVERED');
    expect((await pollResult(adapter, first.fileName)).every((r) => r.ok)).toBe(true);
    expect([...(await sim.storedHouseholds()).keys()].sort()).toEqual([HEAD_A, HEAD_B].sort());

    const removal: OutboundRecord = { ...household(HEAD_A, {}, 2), operation: 'DELETE', fields: { 身份证: HEAD_A } };
    // A live record with the same key wins over a removal (a new head takes over the household's key).
    const file = await adapter.render([removal, household(HEAD_B, {}, 2), { ...household(HEAD_B, {}, 1), aggregateId: 'uid-former-head', operation: 'DELETE', fields: { 身份证: HEAD_B } }], 'remove', NOW);
    const rows = await sheetRows(file.content, '户主');
    expect(rows.slice(1).map((r) => [r[3], r[7], r[1]])).toEqual([[HEAD_A, '注销', ''], [HEAD_B, '正常', '王秀英']].sort((x, y) => (x[0]! < y[0]! ? -1 : 1)));
    expect((await sheetRows(file.content, '成员')).slice(1).map((r) => r[0])).toEqual([HEAD_B]); // no member row for a removal
    expect((await adapter.upload(file, signal())).kind).toBe('DELIVERED');
    const answer = await pollResult(adapter, file.fileName);
    expect(answer.find((r) => r.key === HEAD_A)).toEqual({ key: HEAD_A, ok: true, answer: '通过' });
    expect([...(await sim.storedHouseholds()).keys()]).toEqual([HEAD_B]);
  });

  it('without operationColumn a removal cannot be written: the adapter says so and leaves it out', async () => {
    const { operationColumn: _omit, ...endpoint } = targetFile.endpoint as Record<string, unknown>;
    const sheets = (endpoint.sheets as { name: string; fields: string[] }[]).map((sh) => ({ ...sh, fields: sh.fields.filter((f) => f !== '变更类型') }));
    const plain = sftpAdapter({ ...endpoint, sheets, operationColumn: undefined });
    expect(plain.omitsDeletions).toBe(true);
    expect(adapter.omitsDeletions).toBe(false);
    const file = await plain.render([household(HEAD_B), { ...household(HEAD_A), operation: 'DELETE', fields: { 身份证: HEAD_A } }], 'plain', NOW);
    expect((await sheetRows(file.content, '户主')).slice(1).map((r) => r[3])).toEqual([HEAD_B]);
    expect(() => fileBatchAdapterFactory.validateEndpoint({ ...targetFile.endpoint, operationColumn: { name: '变更', upsert: '正常', delete: '注销' } }))
      .toThrow(/endpoint\.operationColumn\.name: must be one of the fields of a sheet keyed by 身份证/);
    await plain.close();
  });

  it('renders the same bytes for the same records, whatever the order and the time of day', async () => {
    const a = await adapter.render(RECORDS, 'run-1', NOW);
    const b = await adapter.render([...RECORDS].reverse(), 'run-1', new Date('2024-03-31T23:00:00+08:00'));
    expect(a.fileName).toBe('低保_2024年3月_run-1.xlsx');
    expect(b.content.equals(a.content)).toBe(true);

    const rows = await sheetRows(a.content, '户主');
    expect(rows[0]).toEqual(['类别', '户主姓名', '性别', '身份证', '通讯住址', '所属社区', '电话号码', '变更类型']);
    expect(rows.slice(1).map((r) => r[3])).toEqual([HEAD_A, HEAD_B, BAD_CHECK].sort());
    const members = await sheetRows(a.content, '成员');
    expect(members[0]).toEqual(['父ID', '姓名', '身份证', '家庭人数', '保障人数', '家庭月收入', '成员类型']);
    expect(members.find((r) => r[0] === HEAD_A)?.[5]).toBe('1234.5');
  });

  it('delivers a workbook: valid rows stored with Chinese headers, the bad row answered and not stored', async () => {
    const file = await adapter.render(RECORDS, 'run-1', NOW);
    expect(await adapter.upload(file, signal())).toEqual({ kind: 'DELIVERED', targetRef: `/inbox/${file.fileName}` });
    const results = await pollResult(adapter, file.fileName);

    const byKey = new Map(results.map((r) => [r.key, r]));
    expect(byKey.get(HEAD_A)).toEqual({ key: HEAD_A, ok: true, answer: '通过' });
    expect(byKey.get(HEAD_B)).toEqual({ key: HEAD_B, ok: true, answer: '通过' });
    expect(byKey.get(BAD_CHECK)?.ok).toBe(false);
    expect(byKey.get(BAD_CHECK)?.answer).toContain('身份证校验位错误');

    const stored = await sim.storedHouseholds();
    expect([...stored.keys()].sort()).toEqual([HEAD_A, HEAD_B].sort());
    const a = stored.get(HEAD_A);
    expect(a?.fields).toMatchObject({ 身份证: HEAD_A, 户主姓名: '王秀英', 性别: '女', 类别: '城市低保', 所属社区: '平桥社区', 通讯住址: '海曙区月湖街道平桥街12号', 电话号码: '13800001234' });
    expect(a?.members).toEqual([{ 父ID: HEAD_A, 姓名: '王秀英', 身份证: HEAD_A, 家庭人数: '3', 保障人数: '2', 家庭月收入: '1234.50', 成员类型: '户主' }]);
    expect(stored.get(HEAD_B)?.members[0]?.['家庭月收入']).toBe('980.00');

    // The result workbook repeats the rows and adds 校验结果 on every sheet.
    const resultPath = join(sim.outboxDir, resultFileName(file.fileName));
    const householdRows = await sheetRows(await readFile(resultPath), '户主');
    expect(householdRows[0]?.at(-1)).toBe('校验结果');
    expect(householdRows.find((r) => r[3] === BAD_CHECK)?.at(-1)).toBe('身份证校验位错误');

    const files = await sim.processedFiles();
    expect(files).toEqual([expect.objectContaining({ name: file.fileName, status: 'PROCESSED', rows: 6, passed: 4, failed: 2, resultWrites: 1, uploads: 1 })]);
  });

  it('answers amounts with more than two decimals and unknown categories per row', async () => {
    const file = await adapter.render([household(GOOD_C, { 家庭月收入: 1234.567, 类别: '低保' })], 'run-2', NOW);
    // decimals: { 家庭月收入: 2 } rounds in the adapter; a raw workbook with three decimals is rejected by the target.
    const members = await sheetRows(file.content, '成员');
    expect(members[1]?.[5]).toBe('1234.57');
    expect(await adapter.upload(file, signal())).toMatchObject({ kind: 'DELIVERED' });
    const [answer] = await pollResult(adapter, file.fileName);
    // The member row (keyed by 父ID) fails too, as its household did not pass: both answers come back for the key.
    expect(answer).toEqual({ key: GOOD_C, ok: false, answer: '类别无效，须为城市低保、低保边缘或特困；父ID无对应户主' });

    const raw = sftpAdapter({ decimals: undefined });
    const rawFile = await raw.render([household(GOOD_C, { 家庭月收入: 1234.567 })], 'run-3', NOW);
    await raw.upload(rawFile, signal());
    const [rawAnswer] = await pollResult(raw, rawFile.fileName);
    expect(rawAnswer).toEqual({ key: GOOD_C, ok: false, answer: '家庭月收入须为数字，最多两位小数' });
    expect((await sim.storedHouseholds()).get(GOOD_C)?.members).toEqual([]);
    await raw.close();
  });

  it('uploading the same file again changes nothing', async () => {
    const file = await adapter.render(RECORDS, 'run-1', NOW);
    await adapter.upload(file, signal());
    const first = await pollResult(adapter, file.fileName);
    const resultPath = join(sim.outboxDir, resultFileName(file.fileName));
    const firstBytes = await readFile(resultPath);
    const storedBefore = await sim.storedHouseholds();

    expect(await adapter.upload(file, signal())).toMatchObject({ kind: 'DELIVERED' });
    await sim.whenIdle();
    expect(await adapter.fetchResult(file.fileName, signal())).toEqual(first);
    expect((await readFile(resultPath)).equals(firstBytes)).toBe(true);
    expect(await sim.storedHouseholds()).toEqual(storedBefore);
    const files = await sim.processedFiles();
    expect(files).toHaveLength(1);
    expect(files[0]).toMatchObject({ uploads: 2, resultWrites: 2, rows: 6 });
    expect((await readdir(sim.inboxDir)).sort()).toEqual([file.fileName]);
  });

  it('an update of a household replaces it (same 身份证)', async () => {
    await adapter.upload(await adapter.render(RECORDS, 'run-1', NOW), signal());
    const next = await adapter.render([household(HEAD_A, { 电话号码: '13900005678', 类别: '低保边缘' }, 2)], 'run-2', new Date('2024-04-02T02:00:00+08:00'));
    expect(next.fileName).toBe('低保_2024年4月_run-2.xlsx');
    await adapter.upload(next, signal());
    await pollResult(adapter, next.fileName);
    const stored = await sim.storedHouseholds();
    expect(stored.size).toBe(2);
    expect(stored.get(HEAD_A)?.fields).toMatchObject({ 电话号码: '13900005678', 类别: '低保边缘' });
    expect(stored.get(HEAD_A)?.sourceFile).toBe(next.fileName);
  });

  it('a half-uploaded .part file is never processed', async () => {
    const file = await adapter.render(RECORDS, 'run-1', NOW);
    const client = new SftpClient('test', { error: () => undefined, end: () => undefined, close: () => undefined });
    await client.connect({ host: '127.0.0.1', port: sim.port, username: USER, password: PASSWORD });
    try {
      await client.put(file.content.subarray(0, Math.floor(file.content.length / 2)), `/inbox/${file.fileName}.part`);
      expect(await client.exists(`/inbox/${file.fileName}.part`)).toBe('-');
      expect((await client.list('/inbox')).map((f) => f.name)).toEqual([`${file.fileName}.part`]);
    } finally {
      await client.end();
    }
    await new Promise((r) => setTimeout(r, 200));
    await sim.whenIdle();
    expect(await adapter.fetchResult(file.fileName, signal())).toBeNull();
    expect(await sim.processedFiles()).toEqual([]);
    expect(await readdir(sim.outboxDir)).toEqual([]);
    expect((await sim.storedHouseholds()).size).toBe(0);

    // The complete upload over the stale .part then goes through.
    expect(await adapter.upload(file, signal())).toMatchObject({ kind: 'DELIVERED' });
    expect(await pollResult(adapter, file.fileName)).toHaveLength(3);
  });

  it('a workbook written directly under its final name is processed on CLOSE', async () => {
    const file = await adapter.render(RECORDS, 'run-9', NOW);
    const client = new SftpClient('test', { error: () => undefined, end: () => undefined, close: () => undefined });
    await client.connect({ host: '127.0.0.1', port: sim.port, username: USER, password: PASSWORD });
    try {
      await client.put(file.content, `inbox/${file.fileName}`);
    } finally {
      await client.end();
    }
    expect(await pollResult(adapter, file.fileName)).toHaveLength(3);
  });

  it('DOWN → upload RETRY (counts as an attempt: a refused connection looks like any failure) and fetchResult throws', async () => {
    sim.chaos.set({ downUntil: Date.now() + 60_000 });
    const file = await adapter.render(RECORDS, 'run-1', NOW);
    const result = await adapter.upload(file, signal());
    expect(result).toMatchObject({ kind: 'RETRY', countsAsAttempt: true });
    await expect(adapter.fetchResult(file.fileName, signal())).rejects.toBeInstanceOf(FileBatchTransportError);
    expect(await sim.processedFiles()).toEqual([]);
  });

  it('a refused TCP connection and a wrong password → RETRY counting', async () => {
    const refused = sftpAdapter({ port: 1 });
    expect(await refused.upload({ fileName: 'x.xlsx', content: Buffer.from('x') }, signal())).toEqual({ kind: 'RETRY', reason: 'file-batch mz-dibao: connection refused', countsAsAttempt: true });
    const wrong = sftpAdapter({}, { username: USER, password: 'wrong' });
    expect(await wrong.upload({ fileName: 'x.xlsx', content: Buffer.from('x') }, signal())).toEqual({ kind: 'RETRY', reason: 'file-batch mz-dibao: authentication failed', countsAsAttempt: true });
  });

  it('busy (TOO_MANY / UNAVAILABLE → SSH disconnect 12 / 7) → RETRY not counting', async () => {
    const file = await adapter.render(RECORDS, 'run-1', NOW);
    sim.chaos.set({ rate429: 1 });
    expect(await adapter.upload(file, signal())).toMatchObject({ kind: 'RETRY', countsAsAttempt: false });
    sim.chaos.set({ rate429: 0, rate503: 1 });
    expect(await adapter.upload(file, signal())).toMatchObject({ kind: 'RETRY', countsAsAttempt: false });
  });

  it('a connection that never answers → RETRY counting after the timeout', async () => {
    sim.chaos.set({ timeoutRate: 1 });
    const started = Date.now();
    const result = await adapter.upload(await adapter.render(RECORDS, 'run-1', NOW), signal(400));
    expect(result).toEqual({ kind: 'RETRY', reason: 'file-batch mz-dibao: timed out', countsAsAttempt: true });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('FAIL leaves the result missing until the file is uploaded again', async () => {
    const file = await adapter.render(RECORDS, 'run-1', NOW);
    sim.chaos.set({ failRate: 1 });
    expect(await adapter.upload(file, signal())).toMatchObject({ kind: 'DELIVERED' });
    await sim.whenIdle();
    sim.chaos.reset();
    expect(await adapter.fetchResult(file.fileName, signal())).toBeNull();
    expect(await sim.processedFiles()).toEqual([expect.objectContaining({ name: file.fileName, status: 'FAILED', resultWrites: 0 })]);
    expect((await sim.storedHouseholds()).size).toBe(0);

    expect(await adapter.upload(file, signal())).toMatchObject({ kind: 'DELIVERED' });
    expect(await pollResult(adapter, file.fileName)).toHaveLength(3);
    expect((await sim.storedHouseholds()).size).toBe(2);
  });

  it('a duplicate acknowledgement writes the result twice; the households are stored once', async () => {
    sim.chaos.set({ duplicateAckRate: 1 });
    const file = await adapter.render(RECORDS, 'run-1', NOW);
    await adapter.upload(file, signal());
    const results = await pollResult(adapter, file.fileName);
    await sim.whenIdle();
    expect(results).toHaveLength(3);
    expect(await sim.processedFiles()).toEqual([expect.objectContaining({ resultWrites: 2, uploads: 1 })]);
    expect((await sim.storedHouseholds()).size).toBe(2);
    expect(await readdir(sim.outboxDir)).toEqual([resultFileName(file.fileName)]);
  });
});

describe('file-batch over a directory: CSV in GBK', () => {
  const sim = new MzDibaoSimulator({ port: 0, username: USER, password: PASSWORD });
  let work: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'mz-dibao-dir-'));
    await sim.start();
  });

  afterAll(async () => {
    await sim.stop();
    await rm(work, { recursive: true, force: true });
  });

  function directoryAdapter(path: string, resultPath: string): BatchAdapter {
    const endpoint = {
      transport: 'directory',
      path,
      resultPath,
      format: 'csv',
      encoding: 'GBK',
      keyField: '身份证',
      sheets: { name: '户主', fields: ['类别', '户主姓名', '性别', '身份证', '所属社区', '家庭人数', '家庭月收入'] },
      fileName: '低保_{YYYY}{MM}_{run}.csv',
      resultColumn: '校验结果',
      okValue: '通过',
      decimals: { 家庭月收入: 2 },
    };
    fileBatchAdapterFactory.validateEndpoint(endpoint);
    const created = fileBatchAdapterFactory.create({ name: 'mz-dibao-csv', endpoint, credentials: {} });
    if (created.kind !== 'batch') throw new Error('file-batch must build a batch adapter');
    return created;
  }

  it('writes a GBK CSV into the directory; the system answers in GBK; the adapter reads the answer', async () => {
    const adapter = directoryAdapter(sim.inboxDir, sim.outboxDir);
    const file = await adapter.render(RECORDS, 'run 1', NOW);
    expect(file.fileName).toBe('低保_202403_run-1.csv');
    const text = iconv.decode(file.content, 'gbk');
    expect(text.split('\r\n')[0]).toBe('类别,户主姓名,性别,身份证,所属社区,家庭人数,家庭月收入');
    expect(text).toContain(`城市低保,王秀英,女,${HEAD_A},平桥社区,3,1234.50`);
    expect(file.content.includes(Buffer.from('王秀英', 'utf8'))).toBe(false);

    expect(await adapter.upload(file, signal())).toEqual({ kind: 'DELIVERED', targetRef: join(sim.inboxDir, file.fileName) });
    expect(await adapter.fetchResult(file.fileName, signal())).toBeNull();
    expect(await sim.scanInbox()).toEqual([file.fileName]);

    const answer = await readFile(join(sim.outboxDir, resultFileName(file.fileName)));
    expect(iconv.decode(answer, 'gbk').split('\r\n')[0]).toBe('类别,户主姓名,性别,身份证,所属社区,家庭人数,家庭月收入,校验结果');
    const results = await adapter.fetchResult(file.fileName, signal());
    expect(results).toEqual(
      expect.arrayContaining([
        { key: HEAD_A, ok: true, answer: '通过' },
        { key: HEAD_B, ok: true, answer: '通过' },
        { key: BAD_CHECK, ok: false, answer: '身份证校验位错误' },
      ]),
    );
    const stored = await sim.storedHouseholds();
    expect(stored.get(HEAD_A)?.fields).toMatchObject({ 户主姓名: '王秀英', 家庭月收入: '1234.50', 家庭人数: '3' });

    // Scanning again finds nothing new; uploading the same file again is harmless.
    expect(await adapter.upload(file, signal())).toMatchObject({ kind: 'DELIVERED' });
    expect(await sim.scanInbox()).toEqual([]);
    expect((await readdir(sim.inboxDir)).sort()).toEqual([file.fileName]);
  });

  it('refuses to write a value GBK cannot hold instead of turning it into ?', async () => {
    const adapter = directoryAdapter(work, work);
    await expect(adapter.render([household(HEAD_A, { 户主姓名: '王𠮷' })], 'r', NOW)).rejects.toThrow(/column 户主姓名 has characters GBK cannot hold/);
  });

  it('a missing upload directory → RETRY counting, no file left behind', async () => {
    const adapter = directoryAdapter(join(work, 'missing'), work);
    const result = await adapter.upload({ fileName: 'x.csv', content: Buffer.from('a') }, signal());
    expect(result).toMatchObject({ kind: 'RETRY', countsAsAttempt: true });
    await writeFile(join(work, 'y.result.csv'), iconv.encode('身份证,校验结果\r\n', 'gbk'));
    expect(await adapter.fetchResult('y.csv', signal())).toEqual([]);
  });
});
