import { execFile } from 'child_process';
import { join } from 'path';
import { promisify } from 'util';
import Redis from 'ioredis';
import { getQueueToken } from '../libs/sync/src/testing';
import { SyncHarness, SYNC_TEST_REDIS, eventually } from './support/sync-harness';
import { newIdNumber, TestCommunity } from './support/api';

/**
 * The sync hub's operations for the people who run it (MANAGE_SYNC): drift against a target that can be listed,
 * with its repair. Real API, worker, Redis and the REST inbox simulator.
 */
const SYNC_CLI = join(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'sync.js');

describe('sync hub operations', () => {
  let h: SyncHarness;
  let c: TestCommunity;

  beforeAll(async () => {
    h = await SyncHarness.start();
    c = await h.api.community('运维测试社区', '330203007000');
  }, 60_000);
  afterAll(() => h.stop(), 60_000);

  const inbox = (key: string, init: RequestInit = {}) =>
    fetch(`http://127.0.0.1:${h.rest.port}/records/${encodeURIComponent(key)}`, {
      ...init, headers: { authorization: `Bearer ${process.env.REST_INBOX_TOKEN}`, 'content-type': 'application/json' },
    });
  const veteran = async () => {
    const r = await h.api.ok(`mutation($i: AddResidentInput!) { addResident(input: $i) { id idNumber } }`, {
      i: { resident: { idNumber: newIdNumber('1'), name: '退役军人', phone: '13912340000' }, communityCode: c.code, residence: { dwellingId: await c.dwelling(), kind: 'OWNER', movedInOn: '2020-01-01' } },
    });
    await h.api.ok(`mutation($id: ID!) { assignTag(input: {residentId: $id, tagCode: "VETERAN", attributes: {category: "退役士兵"}}) { residentId } }`, { id: r.addResident.id });
    return r.addResident as { id: string; idNumber: string };
  };
  const delivered = (id: string) =>
    eventually(async () => (await h.api.db.query(`SELECT 1 FROM sync_state WHERE target = 'ty-veterans' AND aggregate_id = $1 AND status = 'DELIVERED' AND applied_event = wanted_event`, [id])).length > 0, 15_000, 'delivered to ty-veterans');
  /** `npm run sync -- …` as an operator runs it (built by `npm test` before the suite), against this harness. */
  const cli = async (...args: string[]): Promise<{ code: number; out: string; err: string }> => {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [SYNC_CLI, ...args], { env: { ...process.env, ...h.env, LOG_LEVEL: 'silent' } });
      return { code: 0, out: stdout, err: stderr };
    } catch (e) {
      const failed = e as { code: number; stdout: string; stderr: string };
      return { code: failed.code, out: failed.stdout, err: failed.stderr };
    }
  };
  const DRIFT_FIELDS = 'target comparable comparesContent expected atTarget missing differing unexpected unknownAtTarget notCompared missingIds differingIds unexpectedIds requeued';

  it('reports records missing, changed or left behind at a target by resident id, and sends them again on repair', async () => {
    const [gone, changed, left, fine] = [await veteran(), await veteran(), await veteran(), await veteran()];
    for (const r of [gone, changed, left, fine]) await delivered(r.id);
    await h.api.ok(`mutation($id: ID!) { removeTag(input: {residentId: $id, tagCode: "VETERAN", reason: "测试"}) { residentId } }`, { id: left.id });
    await eventually(async () => !(await h.rest.records()).some((x) => x.key === left.idNumber), 15_000, 'removed at the target');
    await delivered(left.id);

    // The target loses one record, has another changed behind the hub's back, keeps one it was told to remove
    // (restored from a backup), and holds one key nobody knows.
    expect((await inbox(gone.idNumber, { method: 'DELETE' })).status).toBeLessThan(300);
    const held = (await h.rest.records()).find((x) => x.key === changed.idNumber)!;
    expect((await inbox(changed.idNumber, { method: 'PUT', body: JSON.stringify({ ...held.fields, lxdh: '13000000000' }) })).status).toBeLessThan(300);
    expect((await inbox(left.idNumber, { method: 'PUT', body: JSON.stringify({ sfzh: left.idNumber }) })).status).toBeLessThan(300);
    expect((await inbox('UNKNOWN-KEY', { method: 'PUT', body: JSON.stringify({ sfzh: 'UNKNOWN-KEY' }) })).status).toBeLessThan(300);

    const report = (await h.api.ok(`{ syncDrift(target: "ty-veterans") { ${DRIFT_FIELDS} } }`)).syncDrift;
    expect(report).toMatchObject({ target: 'ty-veterans', comparable: true, comparesContent: true, requeued: 0 });
    expect(report.missingIds).toContain(gone.id);
    expect(report.differingIds).toEqual([changed.id]);
    expect(report.unexpectedIds).toEqual([left.id]);
    expect(report.unknownAtTarget).toBe(1);
    for (const list of [report.missingIds, report.differingIds, report.unexpectedIds]) expect(list).not.toContain(fine.id);
    // Ids only: no keys (ID numbers) anywhere in the report.
    expect(JSON.stringify(report)).not.toContain(gone.idNumber);

    const repaired = (await h.api.ok(`mutation { repairSyncDrift(target: "ty-veterans") { requeued } }`)).repairSyncDrift;
    expect(repaired.requeued).toBeGreaterThanOrEqual(3);
    await eventually(async () => {
      const at = await h.rest.records();
      return at.some((x) => x.key === gone.idNumber) && at.find((x) => x.key === changed.idNumber)?.fields.lxdh === '13912340000'
        && !at.some((x) => x.key === left.idNumber);
    }, 20_000, 'the target repaired');
    for (const r of [gone, changed, left]) await delivered(r.id);
    const now = (await h.api.ok(`{ syncDrift(target: "ty-veterans") { missingIds differingIds unexpectedIds unknownAtTarget } }`)).syncDrift;
    expect([...now.missingIds, ...now.differingIds, ...now.unexpectedIds].filter((id: string) => [gone.id, changed.id, left.id].includes(id))).toEqual([]);
    expect(now.unknownAtTarget).toBe(1); // nobody's record: the hub cannot say what to send, so it only counts it
  }, 90_000);

  /** A household on minimum income (LOW_INCOME): its head's record goes to the monthly civil-affairs workbook. */
  const dibaoHousehold = async () => {
    const hh = await h.api.ok(`mutation($i: RegisterHouseholdInput!) { registerHousehold(input: $i) { id members { residentId resident { idNumber } } } }`, {
      i: { householdNumber: `OP-${Date.now()}-${Math.floor(Math.random() * 1e6)}`, registeredAddress: '望京路9号1幢101室', communityCode: c.code, members: [
        { relationship: '02', resident: { idNumber: newIdNumber('2', '1958-03-03'), name: '低保户主' } },
      ] },
    });
    await h.api.ok(`mutation($id: ID!) { assignTag(input: {householdId: $id, tagCode: "LOW_INCOME", attributes: {caseNo: "OP-1", category: "URBAN_DIBAO", coveredMembers: 1, monthlyAmount: 800, startDate: "2024-01-01"}}) { householdId } }`, { id: hh.registerHousehold.id });
    const head = hh.registerHousehold.members[0];
    await eventually(async () => (await h.api.db.query(`SELECT 1 FROM sync_state WHERE target = 'mz-dibao' AND aggregate_id = $1 AND status = 'PENDING'`, [head.residentId])).length > 0, 10_000, 'pending for the batch');
    return { householdId: hh.registerHousehold.id as string, headId: head.residentId as string, idNumber: head.resident.idNumber as string };
  };
  const dibaoState = async (id: string) => (await h.api.db.query(`SELECT status FROM sync_state WHERE target = 'mz-dibao' AND aggregate_id = $1`, [id]))[0]?.status;

  it('runSyncBatch starts a batch target now: the workbook goes out and the answer settles the records', async () => {
    const hh = await dibaoHousehold();
    const started = (await h.api.ok(`mutation { runSyncBatch(target: "mz-dibao") { target jobId } }`)).runSyncBatch;
    expect(started.target).toBe('mz-dibao');
    expect(started.jobId).toMatch(/^batch-now-mz-dibao-/);
    await eventually(async () => (await h.dibao.storedHouseholds()).get(hh.idNumber), 30_000, 'household at civil affairs');
    await eventually(async () => (await dibaoState(hh.headId)) === 'DELIVERED', 30_000, 'applied after the answer');
    const err = await h.api.fails(`mutation { runSyncBatch(target: "ga-ldrk") { jobId } }`);
    expect(err.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'target' });
    expect(err.message).toMatch(/不是批量目标.*not a batch target/);
  }, 60_000);

  it('the CLI starts a batch run too', async () => {
    const hh = await dibaoHousehold();
    const run = await cli('run-batch', '--target', 'mz-dibao');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toMatchObject({ target: 'mz-dibao', jobId: expect.stringMatching(/^batch-now-/) });
    await eventually(async () => (await dibaoState(hh.headId)) === 'DELIVERED', 30_000, 'applied after the CLI run');
    const bad = await cli('run-batch', '--target', 'ty-veterans');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/not a batch target.*\(target\)/);
  }, 60_000);

  it('a household that leaves the civil-affairs roll is written as 注销, removed by the system, and settled by its answer', async () => {
    const hh = await dibaoHousehold();
    await h.api.ok(`mutation { runSyncBatch(target: "mz-dibao") { jobId } }`);
    await eventually(async () => (await dibaoState(hh.headId)) === 'DELIVERED', 30_000, 'on the roll');
    expect((await h.dibao.storedHouseholds()).get(hh.idNumber)?.fields['变更类型']).toBe('正常');

    await h.api.ok(`mutation($id: ID!) { removeTag(input: {householdId: $id, tagCode: "LOW_INCOME", reason: "收入超标"}) { householdId } }`, { id: hh.householdId });
    await eventually(async () => (await dibaoState(hh.headId)) === 'PENDING', 10_000, 'the removal pending');
    await h.api.ok(`mutation { runSyncBatch(target: "mz-dibao") { jobId } }`);
    await eventually(async () => !(await h.dibao.storedHouseholds()).has(hh.idNumber), 30_000, 'household removed at civil affairs');
    const [state] = await eventually(async () => {
      const rows = await h.api.db.query(`SELECT status, applied_event = wanted_event AS settled, target_ref FROM sync_state WHERE target = 'mz-dibao' AND aggregate_id = $1`, [hh.headId]);
      return rows[0]?.status === 'DELIVERED' && rows[0].settled ? rows : undefined;
    }, 30_000, 'the removal settled');
    expect(state.target_ref).toMatch(/^低保_.*\.xlsx$/);
    // Settled: the removal is in no later file.
    const [run] = await h.api.db.query(`SELECT id FROM sync_batch_run WHERE target = 'mz-dibao' AND records @> $1::jsonb ORDER BY created_at DESC LIMIT 1`, [JSON.stringify([{ aggregateId: hh.headId }])]);
    await h.api.ok(`mutation { runSyncBatch(target: "mz-dibao") { jobId } }`);
    await new Promise((r) => setTimeout(r, 1500));
    const [latest] = await h.api.db.query(`SELECT id FROM sync_batch_run WHERE target = 'mz-dibao' AND records @> $1::jsonb ORDER BY created_at DESC LIMIT 1`, [JSON.stringify([{ aggregateId: hh.headId }])]);
    expect(latest.id).toBe(run.id);
    expect(await h.api.db.query(`SELECT 1 FROM sync_dead_letter WHERE target = 'mz-dibao' AND aggregate_id = $1`, [hh.headId])).toEqual([]);
  }, 90_000);

  it('a household that leaves the roll before any file carried it is settled without a row', async () => {
    const hh = await dibaoHousehold();
    await h.api.ok(`mutation($id: ID!) { removeTag(input: {householdId: $id, tagCode: "LOW_INCOME", reason: "录入错误"}) { householdId } }`, { id: hh.householdId });
    await new Promise((r) => setTimeout(r, 500)); // the relay: the head is no longer subscribed, and was never sent
    await h.api.ok(`mutation { runSyncBatch(target: "mz-dibao") { jobId } }`);
    await eventually(async () => (await dibaoState(hh.headId)) === 'NOT_SUBSCRIBED', 30_000, 'settled as not subscribed');
    expect((await h.dibao.storedHouseholds()).has(hh.idNumber)).toBe(false);
  }, 60_000);

  it('a batch target\'s schedule lost with Redis\' data is registered again by the reconciler', async () => {
    const queue = getQueueToken(h.worker!, 'mz-dibao');
    expect(await queue.getJobScheduler('batch-mz-dibao')).toMatchObject({ pattern: '0 2 1 * *', tz: 'Asia/Shanghai' });
    const redis = new Redis(SYNC_TEST_REDIS);
    await redis.flushdb();
    await redis.quit();
    expect(await queue.getJobScheduler('batch-mz-dibao')).toBeUndefined();

    const report = (await h.api.ok(`mutation { reconcileSync { target schedulerRestored } }`)).reconcileSync;
    expect(report).toEqual(expect.arrayContaining([{ target: 'mz-dibao', schedulerRestored: true }, { target: 'ga-ldrk', schedulerRestored: false }]));
    expect(await queue.getJobScheduler('batch-mz-dibao')).toMatchObject({ pattern: '0 2 1 * *', tz: 'Asia/Shanghai', next: expect.any(Number) });
    expect(await queue.getDelayedCount()).toBeGreaterThanOrEqual(1); // the next monthly run is queued
    const again = (await h.api.ok(`mutation { reconcileSync(target: "mz-dibao") { schedulerRestored } }`)).reconcileSync;
    expect(again).toEqual([{ schedulerRestored: false }]);
  });

  it('says a target that cannot be listed is not comparable, and names an unknown target', async () => {
    const ga = (await h.api.ok(`{ syncDrift(target: "ga-ldrk") { comparable missing } }`)).syncDrift;
    expect(ga).toEqual({ comparable: false, missing: 0 });
    const err = await h.api.fails(`{ syncDrift(target: "no-such-target") { comparable } }`);
    expect(err.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'target' });
  });

  it('the CLI reports drift as JSON, and refuses bad arguments with the usage', async () => {
    const ok = await cli('drift', '--target', 'ty-veterans');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ target: 'ty-veterans', comparable: true, comparesContent: true, requeued: 0 });
    const bad = await cli('drift');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/--target is required/);
    const unknown = await cli('drift', '--target', 'nope');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/Sync target nope does not exist \(target\)/);
  }, 30_000);

  it('refuses the operations to a role without MANAGE_SYNC', async () => {
    const street = await h.api.user('STREET_STAFF', { jurisdiction: ['330203007000'] });
    const ops = [`{ syncDrift(target: "ty-veterans") { missing } }`, `mutation { repairSyncDrift(target: "ty-veterans") { requeued } }`, `mutation { runSyncBatch(target: "mz-dibao") { jobId } }`];
    for (const op of ops) {
      const res = await h.api.as(street.token, op);
      expect(res.errors?.[0]?.extensions.code).toBe('FORBIDDEN');
      expect(res.data?.syncDrift ?? res.data?.repairSyncDrift ?? res.data?.runSyncBatch ?? null).toBeNull();
    }
  });
});
