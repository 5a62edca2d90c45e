import { randomBytes } from 'crypto';
import * as mysql from 'mysql2/promise';
import { OutboundRecord, RealtimeAdapter } from '../../../../libs/sync/src/adapters/adapter';
import { sqlStagingAdapterFactory, stagingRowHash } from '../../../../libs/sync/src/adapters/sql-staging.adapter';
import { ZzGridSimulator } from '../sims/zz-grid.sim';
import { generateIdNumber } from '../../../../libs/codes/src/id-number';

/**
 * P2 grid governance over real MariaDB staging tables: the simulator owns a throw-away database, the sql-staging
 * adapter writes into it exactly as the hub would after mapping (surrogate dictionary ids, names, prefix paths).
 */

const SERVER = 'mysql://root@127.0.0.1:3306';
const DATABASE = `zz_grid_test_${randomBytes(4).toString('hex')}`;
// Synthetic ID numbers with valid check characters (GB 11643).
const WOMAN = '33020319900501002X';
const MAN = '330203198811110012';

const TABLES = [
  { table: 'stg_person', key: 'IDCARDNO', columns: ['NAME', 'USEDNAME', 'GENDER', 'NATION', 'EDUCATION', 'BIRTHDAY', 'ORGINTERNALCODE', 'ISDEATH', 'MOBILENUMBER'] },
  {
    table: 'stg_floating',
    key: 'IDCARDNO',
    columns: ['inflowingReason', 'inflowingDate', 'registrationType', 'logOut'],
    when: 'inflowingDate',
    softDelete: { logOut: 1, logoutReason: '注销' },
  },
  { table: 'stg_household_member', key: 'IDCARDNO', columns: ['ACCOUNTNUMBER', 'RELATIONSHIP'], when: 'ACCOUNTNUMBER' },
];

function endpoint(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    driver: 'mysql',
    url: `${SERVER}/${DATABASE}`,
    tables: TABLES,
    versionColumn: 'UPDATE_VERSION',
    errorTable: { table: 'stg_error', key: 'IDCARDNO', message: 'ERR_MSG' },
    lockWaitMs: 1000,
    ...extra,
  };
}

function record(key: string, version: number, fields: OutboundRecord['fields'], operation: OutboundRecord['operation'] = 'UPSERT'): OutboundRecord {
  return { target: 'zz-grid', aggregateType: 'RESIDENT', aggregateId: `uid-${key}`, version, key, operation, fields: { IDCARDNO: key, ...fields } };
}

/** The fields of the woman as the hub maps them with deploy/targets/zz-grid.yaml. */
const womanFields: OutboundRecord['fields'] = {
  NAME: '陈晓梅',
  USEDNAME: null,
  GENDER: 102,
  NATION: 222,
  EDUCATION: 304,
  BIRTHDAY: '1990-05-01',
  ORGINTERNALCODE: '.330203.004.001.',
  ISDEATH: 0,
  MOBILENUMBER: '13800000000',
  inflowingReason: '务工',
  inflowingDate: '2023-03-15',
  registrationType: '流动人口',
  logOut: 0,
  ACCOUNTNUMBER: 'H330203004001',
  RELATIONSHIP: '妻',
};

const signal = (): AbortSignal => AbortSignal.timeout(5000);

describe('zz-grid simulator + sql-staging adapter (MariaDB)', () => {
  let sim: ZzGridSimulator;
  let adapter: RealtimeAdapter;

  beforeAll(async () => {
    sim = new ZzGridSimulator({ mysqlUrl: SERVER, database: DATABASE, processIntervalMs: 0 });
    await sim.start();
    const created = sqlStagingAdapterFactory.create({ name: 'zz-grid', endpoint: { ...endpoint(), keyField: 'IDCARDNO' }, credentials: {} });
    if (created.kind !== 'realtime') throw new Error('sql-staging must be a realtime adapter');
    adapter = created;
  });

  afterAll(async () => {
    await adapter?.close();
    await sim?.stop();
    const conn = await mysql.createConnection(SERVER);
    await conn.query(`DROP DATABASE IF EXISTS \`${DATABASE}\``);
    await conn.end();
  });

  it('validates the endpoint and names the wrong key', () => {
    expect(() => sqlStagingAdapterFactory.validateEndpoint(endpoint())).not.toThrow();
    expect(() => sqlStagingAdapterFactory.validateEndpoint(endpoint({ url: 'mysql://root:secret@127.0.0.1/zz' }))).toThrow(/endpoint\.url: .*password/);
    expect(() => sqlStagingAdapterFactory.validateEndpoint(endpoint({ tables: [{ table: 'stg person', key: 'IDCARDNO', columns: ['NAME'] }] }))).toThrow(
      /endpoint\.tables\.0\.table/,
    );
    expect(() => sqlStagingAdapterFactory.validateEndpoint(endpoint({ driver: 'oracle' }))).toThrow(/endpoint\.driver/);
  });

  it('seeds its own dictionary with surrogate ids', async () => {
    const conn = await mysql.createConnection(`${SERVER}/${DATABASE}`);
    const [rows] = await conn.query('SELECT id, dict_type, name FROM sys_dict WHERE id IN (101, 102, 201, 222, 304) ORDER BY id');
    await conn.end();
    expect(rows).toEqual([
      { id: 101, dict_type: 'sex', name: '男' },
      { id: 102, dict_type: 'sex', name: '女' },
      { id: 201, dict_type: 'nation', name: '汉族' },
      { id: 222, dict_type: 'nation', name: '畲族' },
      { id: 304, dict_type: 'education', name: '大学本科' },
    ]);
  });

  it('stages a record in the three tables with the surrogate ids, names and formats', async () => {
    await expect(adapter.deliver(record(WOMAN, 3, womanFields), signal())).resolves.toEqual({ kind: 'DELIVERED', targetRef: null });
    const held = (await sim.records()).find((r) => r.IDCARDNO === WOMAN);
    expect(held).toMatchObject({
      NAME: '陈晓梅',
      GENDER: 102,
      GENDER_NAME: '女',
      NATION: 222,
      NATION_NAME: '畲族',
      EDUCATION: 304,
      EDUCATION_NAME: '大学本科',
      BIRTHDAY: '1990-05-01',
      ORGINTERNALCODE: '.330203.004.001.',
      ISDEATH: 0,
      UPDATE_VERSION: 3,
      floating: { inflowingReason: '务工', inflowingDate: '2023-03-15', registrationType: '流动人口', logOut: 0, logoutReason: null },
      household: { ACCOUNTNUMBER: 'H330203004001', RELATIONSHIP: '妻' },
      ERR_MSG: null,
    });
  });

  it('replaces the row on an update (same key) and keeps a newer row against a stale version', async () => {
    await expect(adapter.deliver(record(WOMAN, 5, { ...womanFields, NAME: '陈晓美', RELATIONSHIP: '户主' }), signal())).resolves.toEqual({
      kind: 'DELIVERED',
      targetRef: null,
    });
    const stale = await adapter.deliver(record(WOMAN, 4, { ...womanFields, NAME: '旧名字' }), signal());
    expect(stale).toEqual({ kind: 'DELIVERED', targetRef: null, duplicate: true });
    const held = (await sim.records()).filter((r) => r.IDCARDNO === WOMAN);
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ NAME: '陈晓美', UPDATE_VERSION: 5, household: { RELATIONSHIP: '户主' } });
  });

  it('reads back and lists keys with content hashes', async () => {
    const back = await adapter.readBack!(WOMAN, signal());
    expect(back).toMatchObject({ NAME: '陈晓美', GENDER: 102, BIRTHDAY: '1990-05-01', inflowingDate: '2023-03-15', RELATIONSHIP: '户主', UPDATE_VERSION: 5 });
    await expect(adapter.readBack!('33020320000101001X', signal())).resolves.toBeNull();
    const keys = await adapter.listKeys!(signal());
    const expected = { ...womanFields, NAME: '陈晓美', RELATIONSHIP: '户主' };
    expect(keys?.get(WOMAN)).toBe(stagingRowHash(expected));
  });

  it('answers REJECTED with the error table message for a GB code that is not a dictionary id', async () => {
    const result = await adapter.deliver(record(MAN, 1, { ...womanFields, NAME: '王强', GENDER: 1, NATION: 1 }), signal());
    expect(result.kind).toBe('REJECTED');
    if (result.kind !== 'REJECTED') return;
    expect(result.answer).toContain('stg_error');
    expect(result.answer).toContain('GENDER 1 not in sys_dict sex');
    expect(result.answer).toContain('NATION 1 not in sys_dict nation');
    expect(result.answer).not.toContain(MAN);
    // Corrected, the same key goes through and its error row is gone.
    await expect(adapter.deliver(record(MAN, 2, { ...womanFields, NAME: '王强', GENDER: 101, NATION: 201 }), signal())).resolves.toEqual({
      kind: 'DELIVERED',
      targetRef: null,
    });
    expect((await sim.records()).find((r) => r.IDCARDNO === MAN)?.ERR_MSG).toBeNull();
  });

  it('takes a batch in one transaction, each record with its own answer; a refused record does not take the others down', async () => {
    const [a, b, c] = [11, 13, 15].map((seq) => generateIdNumber('330203', '1985-07-07', seq));
    const results = await adapter.deliverMany!([
      record(a, 1, { ...womanFields, NAME: '批量甲' }),
      record(b, 1, { ...womanFields, NAME: '批量乙', GENDER: 7 }), // not a dictionary id: the target's error table answers
      record(c, 1, { ...womanFields, NAME: '批量丙', BIRTHDAY: '1985-02-30' }), // the staging table refuses the statement
    ], signal());
    expect(results[0]).toEqual({ kind: 'DELIVERED', targetRef: null });
    expect(results[1]).toEqual({ kind: 'REJECTED', answer: expect.stringContaining('GENDER 7 not in sys_dict sex') });
    expect(results[2]).toEqual({ kind: 'REJECTED', answer: expect.stringMatching(/BIRTHDAY/) });
    const held = await sim.records();
    expect(held.find((r) => r.IDCARDNO === a)).toMatchObject({ NAME: '批量甲', ERR_MSG: null });
    expect(held.find((r) => r.IDCARDNO === c)).toBeUndefined();
    // Without a refusal, the whole batch is one transaction with one answer each.
    const again = await adapter.deliverMany!([record(a, 2, { ...womanFields, NAME: '批量甲二' }), record(c, 2, { ...womanFields, NAME: '批量丙' })], signal());
    expect(again).toEqual([{ kind: 'DELIVERED', targetRef: null }, { kind: 'DELIVERED', targetRef: null }]);
    expect((await sim.records()).filter((r) => r.IDCARDNO === a || r.IDCARDNO === c).map((r) => r.NAME).sort()).toEqual(['批量丙', '批量甲二']);
  });

  it('takes removals of a batch together: logged out, removed and updated records side by side, a stale one left alone', async () => {
    const keys = [31, 33, 35, 37].map((seq) => generateIdNumber('330203', '1986-08-08', seq));
    await adapter.deliverMany!(keys.map((k, i) => record(k, 2, { ...womanFields, NAME: `批量${i}` })), signal());
    const results = await adapter.deliverMany!([
      record(keys[0], 3, {}, 'DELETE'),
      record(keys[1], 3, {}, 'DELETE'),
      record(keys[2], 3, { ...womanFields, NAME: '不再流动', inflowingDate: null, ACCOUNTNUMBER: null }),
      record(keys[3], 1, {}, 'DELETE'), // older than what the target holds
    ], signal());
    expect(results).toEqual([
      { kind: 'DELIVERED', targetRef: null },
      { kind: 'DELIVERED', targetRef: null },
      { kind: 'DELIVERED', targetRef: null },
      { kind: 'DELIVERED', targetRef: null, duplicate: true },
    ]);
    const held = new Map((await sim.records()).filter((r) => keys.includes(r.IDCARDNO)).map((r) => [r.IDCARDNO, r]));
    for (const k of keys.slice(0, 2)) {
      expect(held.get(k)).toMatchObject({ floating: { logOut: 1, logoutReason: '注销' }, household: null });
      expect(held.get(k)?.['NAME']).toBeUndefined();
    }
    expect(held.get(keys[2])).toMatchObject({ NAME: '不再流动', UPDATE_VERSION: 3, floating: { logOut: 1 }, household: null });
    expect(held.get(keys[3])).toMatchObject({ NAME: '批量3', UPDATE_VERSION: 2, floating: { logOut: 0 }, household: { ACCOUNTNUMBER: 'H330203004001' } });
  });

  it('delivers concurrent batches of new keys in interleaved order, a deadlock victim running again', async () => {
    // Batches in key order whose keys interleave: their version reads lock the gaps where the others insert.
    const keys = Array.from({ length: 240 }, (_, i) => generateIdNumber('330203', '1991-09-09', 100 + i)).sort();
    const batches = Array.from({ length: 8 }, (_, b) => keys.filter((_, i) => i % 8 === b));
    const results = await Promise.all(batches.map((batch) => adapter.deliverMany!(batch.map((k) => record(k, 1, womanFields)), AbortSignal.timeout(20_000))));
    expect(results.flat().filter((r) => r.kind !== 'DELIVERED')).toEqual([]);
    const held = new Set((await sim.records()).map((r) => r.IDCARDNO));
    expect(keys.filter((k) => !held.has(k))).toEqual([]);
  });

  it('answers REJECTED for a malformed ID number', async () => {
    const result = await adapter.deliver(record('330203900501002', 1, womanFields), signal());
    expect(result).toEqual({ kind: 'REJECTED', answer: expect.stringContaining('IDCARDNO malformed') });
  });

  it('answers REJECTED with the column for a value the table cannot hold, masking the value', async () => {
    const result = await adapter.deliver(record('330203199912120011', 1, { ...womanFields, BIRTHDAY: '1999-13-45' }), signal());
    expect(result.kind).toBe('REJECTED');
    if (result.kind !== 'REJECTED') return;
    expect(result.answer).toMatch(/BIRTHDAY/);
    expect(result.answer).not.toContain('1999-13-45');
  });

  it('logs the floating row out and removes the household row on DELETE', async () => {
    await expect(adapter.deliver(record(WOMAN, 6, {}, 'DELETE'), signal())).resolves.toEqual({ kind: 'DELIVERED', targetRef: null });
    const held = (await sim.records()).find((r) => r.IDCARDNO === WOMAN);
    // The person row goes (no softDelete on stg_person), the floating row stays logged out, the household row goes.
    expect(held).toMatchObject({ floating: { logOut: 1, logoutReason: '注销' }, household: null });
    expect(held?.['NAME']).toBeUndefined();
    // For reconciliation the record is gone: its logged-out floating row is history.
    await expect(adapter.readBack!(WOMAN, signal())).resolves.toBeNull();
    expect((await adapter.listKeys!(signal()))?.has(WOMAN)).toBe(false);
    // A stale DELETE does nothing.
    await expect(adapter.deliver(record(MAN, 1, {}, 'DELETE'), signal())).resolves.toEqual({ kind: 'DELIVERED', targetRef: null, duplicate: true });
    // An update that is no longer floating logs the floating row out too, and nothing is created for non-floating people.
    await adapter.deliver(record(MAN, 3, { ...womanFields, NAME: '王强', GENDER: 101, NATION: 201, inflowingDate: null }), signal());
    expect((await sim.records()).find((r) => r.IDCARDNO === MAN)?.floating).toMatchObject({ logOut: 1 });
    const newcomer = '33020320020202002X';
    await adapter.deliver(record(newcomer, 1, { ...womanFields, inflowingDate: null, ACCOUNTNUMBER: null }), signal());
    expect((await sim.records()).find((r) => r.IDCARDNO === newcomer)).toMatchObject({ floating: null, household: null });
  });

  it('answers RETRY using an attempt while the system is down (tables locked) and delivers once it is back', async () => {
    sim.chaos.set({ downUntil: Date.now() + 60_000 });
    await sim.syncChaos();
    const started = Date.now();
    const result = await adapter.deliver(record(WOMAN, 7, womanFields), signal());
    expect(result).toMatchObject({ kind: 'RETRY', countsAsAttempt: true, reason: expect.stringContaining('ER_LOCK_WAIT_TIMEOUT') });
    expect(Date.now() - started).toBeLessThan(4000);
    sim.chaos.reset();
    await sim.syncChaos();
    await expect(adapter.deliver(record(WOMAN, 7, womanFields), signal())).resolves.toEqual({ kind: 'DELIVERED', targetRef: null });
    expect((await sim.records()).find((r) => r.IDCARDNO === WOMAN)).toMatchObject({ UPDATE_VERSION: 7, floating: { logOut: 0 } });
  });

  it('answers RETRY using an attempt when the hub times out waiting', async () => {
    const patient = sqlStagingAdapterFactory.create({ name: 'zz-grid', endpoint: endpoint({ lockWaitMs: 10_000 }), credentials: {} }) as RealtimeAdapter;
    sim.chaos.set({ downUntil: Date.now() + 60_000 });
    await sim.syncChaos();
    try {
      const started = Date.now();
      const result = await patient.deliver(record(WOMAN, 8, womanFields), AbortSignal.timeout(300));
      expect(result).toEqual({ kind: 'RETRY', reason: 'timed out', countsAsAttempt: true });
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      sim.chaos.reset();
      await sim.syncChaos();
      await patient.close();
    }
  });

  it('answers RETRY using an attempt when the connection is refused', async () => {
    const nowhere = sqlStagingAdapterFactory.create({ name: 'zz-grid', endpoint: endpoint({ url: `mysql://root@127.0.0.1:1/${DATABASE}` }), credentials: {} }) as RealtimeAdapter;
    try {
      await expect(nowhere.deliver(record(WOMAN, 9, womanFields), signal())).resolves.toEqual({
        kind: 'RETRY',
        reason: 'connection failed (ECONNREFUSED)',
        countsAsAttempt: true,
      });
    } finally {
      await nowhere.close();
    }
  });

  it('re-checks staged rows in its processing sweep when the dictionary changes', async () => {
    const conn = await mysql.createConnection(`${SERVER}/${DATABASE}`);
    try {
      await conn.query('DELETE FROM sys_dict WHERE id = 311');
      await conn.query("INSERT INTO stg_person (IDCARDNO, GENDER, EDUCATION) VALUES ('330203197001010015', 101, 311)");
      expect((await sim.records()).find((r) => r.IDCARDNO === '330203197001010015')?.ERR_MSG).toContain('EDUCATION 311');
      await conn.query("INSERT INTO sys_dict (id, dict_type, code, name) VALUES (311, 'education', 'WM', '文盲或半文盲')");
      expect((await sim.records()).find((r) => r.IDCARDNO === '330203197001010015')?.ERR_MSG).toBeNull();
    } finally {
      await conn.end();
    }
  });

  it('sweeps without waiting for writers, and re-checks a row written before an earlier sweep but committed after it', async () => {
    const writer = await mysql.createConnection(`${SERVER}/${DATABASE}`);
    const key = generateIdNumber('330203', '1977-03-03', 21);
    try {
      await sim.process();
      await writer.query('START TRANSACTION');
      // A valid row, and beside it a verdict that is wrong for it: the next sweep that sees the row must correct it.
      await writer.query('INSERT INTO stg_person (IDCARDNO, GENDER, EDUCATION) VALUES (?, 101, 304)', [key]);
      await writer.query("INSERT INTO stg_error (IDCARDNO, ERR_MSG) VALUES (?, 'stale verdict')", [key]);
      await new Promise((resolve) => setTimeout(resolve, 2100));
      // The writer still holds its rows: the sweep neither waits for them nor sees them.
      const started = Date.now();
      await sim.process();
      expect(Date.now() - started).toBeLessThan(1000);
      await writer.query('COMMIT');
      await new Promise((resolve) => setTimeout(resolve, 2100));
      // The next sweep re-checks the rows changed since the previous one began; the committed row counts as changed
      // since then, although it was written more than a second before that sweep.
      expect((await sim.records()).find((r) => r.IDCARDNO === key)).toMatchObject({ GENDER: 101, ERR_MSG: null });
    } finally {
      await writer.query('ROLLBACK').catch(() => undefined);
      await writer.query('DELETE FROM stg_person WHERE IDCARDNO = ?', [key]);
      await writer.end();
    }
    expect((await sim.records()).find((r) => r.IDCARDNO === key)).toBeUndefined();
  });
});
