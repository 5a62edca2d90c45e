import Redis from 'ioredis';
import { SyncWorkerHost } from '@linli/sync';
import { getQueueToken } from '../libs/sync/src/testing';
import { SyncHarness, SYNC_TEST_REDIS, eventually } from './support/sync-harness';
import { newIdNumber, TestCommunity } from './support/api';

/**
 * Enter once, sync everywhere: changes made through GraphQL reach the simulated legacy systems over their real
 * protocols (SOAP in GBK for the police, REST/JSON for veterans affairs), in their field names, codes and formats.
 */
describe('sync hub end to end', () => {
  let h: SyncHarness;
  let c: TestCommunity;

  beforeAll(async () => {
    h = await SyncHarness.start();
    c = await h.api.community('同步测试社区', '330203005000');
  }, 60_000);
  afterAll(() => h.stop(), 60_000);

  const floating = async (fields: Record<string, unknown> = {}) => {
    const dwellingId = await c.dwelling();
    const r = await h.api.ok(`mutation($i: AddResidentInput!) { addResident(input: $i) { id version idNumber } }`, {
      i: { resident: { idNumber: newIdNumber('2', '1990-04-05'), name: '欧阳娜娜', ethnicity: '22', phone: '13912345678', populationType: 'FLOATING', ...fields },
        communityCode: c.code, residence: { dwellingId, kind: 'TENANT', movedInOn: '2024-02-01' } },
    });
    await h.api.ok(`mutation($id: ID!) { assignTag(input: {residentId: $id, tagCode: "FLOATING", attributes: {inflowReason: "WORK", inflowDate: "2024-02-01", expectedStayMonths: 12}}) { residentId } }`, { id: r.addResident.id });
    return r.addResident as { id: string; version: number; idNumber: string };
  };
  const atPolice = (idNumber: string) => h.ga.records().then((rs) => rs.find((x) => x.GMSFHM === idNumber));
  const status = async (id: string) => (await h.api.ok(`query($id: ID!) { syncStatus(residentId: $id) { target status appliedVersion attempts lastError } }`, { id })).syncStatus;

  it('a resident added and changed arrives at the police system in its codes and formats, and nowhere else', async () => {
    const r = await floating();
    const rec = await eventually(() => atPolice(r.idNumber), 15_000, 'record at ga-ldrk');
    expect(rec).toMatchObject({ GMSFHM: r.idNumber, XM: '欧阳娜娜', XB: '2', MZ: '22', CSRQ: '19900405', DJRQ: '20240201', ZZSY: '务工', JZCS: '租赁房屋', LXDH: '13912345678' });
    expect(Object.keys(rec)).not.toContain('ethnicity');
    await h.api.ok(`mutation($id: ID!, $v: Int!) { updateResident(id: $id, expectedVersion: $v, patch: {phone: "13700001111"}) { version } }`, { id: r.id, v: r.version + 1 });
    await eventually(async () => (await atPolice(r.idNumber))?.LXDH === '13700001111', 15_000, 'updated phone at ga-ldrk');
    expect((await h.rest.records()).find((x) => x.key === r.idNumber)).toBeUndefined();
    const s = await eventually(async () => (await status(r.id)).find((x: { target: string; status: string }) => x.target === 'ga-ldrk' && x.status === 'DELIVERED'));
    expect(s.appliedVersion).toBe(r.version + 2);
  });

  it('the relay listens again after its PostgreSQL connection is lost, and records keep arriving', async () => {
    const name = `linli-outbox-${process.pid}`; // the worker runs in this process
    const backends = async (): Promise<number[]> =>
      (await h.api.db.query(`SELECT pid FROM pg_stat_activity WHERE application_name = $1`, [name])).map((x: { pid: number }) => x.pid);
    const [old] = await backends();
    expect(old).toBeDefined();
    await h.api.db.query(`SELECT pg_terminate_backend($1)`, [old]);
    await eventually(async () => {
      const now = await backends();
      return now.length === 1 && now[0] !== old;
    }, 10_000, 'a new outbox listener connection');
    const r = await floating();
    await eventually(() => atPolice(r.idNumber), 15_000, 'record at ga-ldrk after the listener reconnected');
  });

  it('an older version arriving after a newer one is skipped and recorded, never sent over it', async () => {
    const r = await floating();
    await eventually(() => atPolice(r.idNumber));
    const [first] = await h.api.db.query(`SELECT min(id)::int AS id FROM outbox_event WHERE aggregate_id = $1`, [r.id]);
    await h.api.ok(`mutation($id: ID!, $v: Int!) { updateResident(id: $id, expectedVersion: $v, patch: {phone: "13600002222"}) { version } }`, { id: r.id, v: r.version + 1 });
    await eventually(async () => (await atPolice(r.idNumber))?.LXDH === '13600002222');
    const queue = getQueueToken(h.worker!, 'ga-ldrk');
    await queue.add('deliver', { target: 'ga-ldrk', aggregateType: 'RESIDENT', aggregateId: r.id, event: first.id, version: r.version }, { jobId: `late-${r.id}` });
    await eventually(async () => (await h.api.db.query(`SELECT 1 FROM sync_stale_arrival WHERE aggregate_id = $1 AND event_id = $2`, [r.id, first.id])).length > 0, 10_000, 'stale arrival');
    expect((await atPolice(r.idNumber))?.LXDH).toBe('13600002222');
  });

  it('one target down does not hold up the others; after it returns the backlog drains to the newest version', async () => {
    h.ga.chaos.set({ downUntil: Date.now() + 2500 });
    const r = await floating();
    await h.api.ok(`mutation($id: ID!) { assignTag(input: {residentId: $id, tagCode: "VETERAN", attributes: {category: "退役士兵"}}) { residentId } }`, { id: r.id });
    await eventually(async () => (await h.rest.records()).find((x) => x.key === r.idNumber), 5_000, 'veterans record while police is down');
    expect(await atPolice(r.idNumber)).toBeUndefined();
    await h.api.ok(`mutation($id: ID!, $v: Int!) { updateResident(id: $id, expectedVersion: $v, patch: {phone: "13500003333"}) { version } }`, { id: r.id, v: r.version + 2 });
    await eventually(async () => (await atPolice(r.idNumber))?.LXDH === '13500003333', 20_000, 'backlog drained to newest');
    const ga = (await status(r.id)).find((x: { target: string }) => x.target === 'ga-ldrk');
    expect(ga.status).toBe('DELIVERED');
  });

  it('Redis losing its data loses nothing: the reconciler restores every pending sync', async () => {
    const worker = h.worker!.get(SyncWorkerHost);
    await Promise.all(worker.workers.map((w) => w.pause()));
    const r = await floating();
    await eventually(async () => (await h.api.db.query(`SELECT 1 FROM outbox_event WHERE aggregate_id = $1 AND relayed_at IS NULL`, [r.id])).length === 0, 10_000, 'relayed');
    const redis = new Redis(SYNC_TEST_REDIS);
    await redis.flushdb();
    await redis.quit();
    worker.workers.forEach((w) => w.resume());
    await new Promise((res) => setTimeout(res, 500));
    expect(await atPolice(r.idNumber)).toBeUndefined();
    const report = await h.api.ok(`mutation { reconcileSync(target: "ga-ldrk") { target requeued } }`);
    expect(report.reconcileSync[0].requeued).toBeGreaterThanOrEqual(1);
    await eventually(() => atPolice(r.idNumber), 15_000, 'record after reconcile');
  });

  it('a record the target cannot take goes to dead letters with the answer; corrected in the register, it is delivered', async () => {
    // Registered in a district with no police code in the target's table: the record cannot be coded for it.
    await h.api.db.query(`INSERT INTO division (code, name, level, parent_code, synthetic, valid_from) VALUES
      ('330205000000', '江北区', 'DISTRICT', '330200000000', false, '1980-01-01'), ('330205001000', '测试街道(江北)', 'TOWNSHIP', '330205000000', true, '2010-01-01')
      ON CONFLICT DO NOTHING`);
    const outside = await h.api.community('区外社区', '330205001000').catch(() => null);
    expect(outside).not.toBeNull();
    const r = await h.api.ok(`mutation($i: AddResidentInput!) { addResident(input: $i) { id version idNumber } }`, {
      i: { resident: { idNumber: newIdNumber('1'), name: '区外流动', populationType: 'FLOATING' }, communityCode: outside!.code, residence: { dwellingId: await outside!.dwelling(), kind: 'TENANT', movedInOn: '2024-01-01' } },
    });
    const id = r.addResident.id;
    await h.api.ok(`mutation($id: ID!) { assignTag(input: {residentId: $id, tagCode: "FLOATING", attributes: {inflowDate: "2024-01-01"}}) { residentId } }`, { id });
    const dead = await eventually(async () => (await h.api.ok(`{ deadLetters(target: "ga-ldrk", first: 50) { items { residentId answer } } }`)).deadLetters.items.find((d: { residentId: string }) => d.residentId === id), 15_000, 'dead letter');
    expect(dead.answer).toMatch(/pcs/);
    expect((await status(id)).find((x: { target: string }) => x.target === 'ga-ldrk').status).toBe('DEAD');
    await h.api.ok(`mutation($id: ID!, $c: String!) { updateResident(id: $id, expectedVersion: 2, patch: {communityCode: $c}) { version } }`, { id, c: c.code });
    await h.api.ok(`mutation($id: ID!) { replaySync(input: {target: "ga-ldrk", residentId: $id}) }`, { id });
    await eventually(() => atPolice(r.addResident.idNumber), 15_000, 'delivered after correction');
  });

  it('replays every open dead letter of a target at once; they leave the list and arrive', async () => {
    const outside = (await h.api.community('区外社区二', '330205001000'))!;
    const added: { id: string; idNumber: string }[] = [];
    for (const name of ['区外甲', '区外乙', '区外丙']) {
      const r = await h.api.ok(`mutation($i: AddResidentInput!) { addResident(input: $i) { id idNumber } }`, {
        i: { resident: { idNumber: newIdNumber('1'), name, populationType: 'FLOATING' }, communityCode: outside.code, residence: { dwellingId: await outside.dwelling(), kind: 'TENANT', movedInOn: '2024-01-01' } },
      });
      await h.api.ok(`mutation($id: ID!) { assignTag(input: {residentId: $id, tagCode: "FLOATING", attributes: {inflowDate: "2024-01-01"}}) { residentId } }`, { id: r.addResident.id });
      added.push(r.addResident);
    }
    const open = async () => (await h.api.ok(`{ deadLetters(target: "ga-ldrk", first: 100) { items { residentId } } }`)).deadLetters.items.map((d: { residentId: string }) => d.residentId);
    const openOfAdded = async () => (await open()).filter((id: string) => added.some((r) => r.id === id));
    await eventually(async () => (await openOfAdded()).length === 3, 15_000, 'three dead letters');
    for (const r of added) {
      await h.api.ok(`mutation($id: ID!, $c: String!) { updateResident(id: $id, expectedVersion: 2, patch: {communityCode: $c}) { version } }`, { id: r.id, c: c.code });
    }
    const replayed = await h.api.ok(`mutation { replaySync(input: {target: "ga-ldrk", allDeadLetters: true}) }`);
    expect(replayed.replaySync).toBeGreaterThanOrEqual(3);
    expect(await openOfAdded()).toEqual([]);
    for (const r of added) await eventually(() => atPolice(r.idNumber), 15_000, `delivered after the replay: ${r.id}`);
  });

  it('shows targets with their queues, and a dry run shows exactly what would be sent', async () => {
    const r = await floating();
    const data = await h.api.ok(`query($id: ID!) { syncTargets { name protocol mode pending deadLetters } dryRunSync(target: "ga-ldrk", residentId: $id) { subscribed operation key fields } }`, { id: r.id });
    expect(data.syncTargets.map((t: { name: string }) => t.name).sort()).toEqual(['ga-ldrk', 'js-wis', 'mz-dibao', 'ty-veterans']);
    expect(data.dryRunSync).toMatchObject({ subscribed: true, operation: 'UPSERT', key: r.idNumber, fields: { XB: '2', CSRQ: '19900405' } });
  });

  it('a monthly batch target gets one workbook over SFTP; the answer applies the accepted rows', async () => {
    const h1 = await h.api.ok(`mutation($i: RegisterHouseholdInput!) { registerHousehold(input: $i) { id members { residentId resident { idNumber } } } }`, {
      i: { householdNumber: `DB-${Date.now()}`, registeredAddress: '望京路8号2幢301室', communityCode: c.code, members: [
        { relationship: '02', resident: { idNumber: newIdNumber('1', '1960-01-01'), name: '低保户主', phone: '13811112222' } },
        { relationship: '10', resident: { idNumber: newIdNumber('2', '1962-01-01'), name: '低保配偶' } },
      ] },
    });
    await h.api.ok(`mutation($id: ID!) { assignTag(input: {householdId: $id, tagCode: "LOW_INCOME", attributes: {caseNo: "DB-1", category: "URBAN_DIBAO", coveredMembers: 2, monthlyAmount: 1234.5, startDate: "2024-01-01"}}) { householdId } }`, { id: h1.registerHousehold.id });
    const head = h1.registerHousehold.members.find((m: { resident: { idNumber: string } }) => m.resident.idNumber.slice(6, 10) === '1960');
    const headId = head.residentId as string;
    await eventually(async () => (await h.api.db.query(`SELECT 1 FROM sync_state WHERE target = 'mz-dibao' AND aggregate_id = $1 AND status = 'PENDING'`, [headId])).length > 0, 10_000, 'pending for the batch');
    await h.worker!.get(SyncWorkerHost).runBatchNow('mz-dibao');
    const stored = await eventually(async () => (await h.dibao.storedHouseholds()).get(head.resident.idNumber), 30_000, 'household at civil affairs');
    expect(JSON.stringify(stored)).toContain('城市低保');
    await eventually(async () => (await status(headId)).find((x: { target: string; status: string }) => x.target === 'mz-dibao' && x.status === 'DELIVERED'), 30_000, 'applied after the answer');
    const [run] = await h.api.db.query(`SELECT status, record_count FROM sync_batch_run WHERE target = 'mz-dibao' ORDER BY created_at DESC LIMIT 1`);
    expect(run).toMatchObject({ status: 'ANSWERED' });
    // Only the head's record goes to this target, one row per household.
    const spouse = h1.registerHousehold.members.find((m: { residentId: string }) => m.residentId !== headId);
    expect((await status(spouse.residentId)).find((x: { target: string }) => x.target === 'mz-dibao')).toBeUndefined();
  }, 60_000);

  it('the family-planning system gets a woman of childbearing age in an XML package, her husband and children in its conventions', async () => {
    const fam = await h.api.ok(`mutation($i: RegisterHouseholdInput!) { registerHousehold(input: $i) { members { residentId resident { idNumber sex } } } }`, {
      i: { householdNumber: `WIS-${Date.now()}`, registeredAddress: '望京路9号1幢101室', communityCode: c.code, members: [
        { relationship: '02', resident: { idNumber: newIdNumber('1', '1988-06-01'), name: '计生丈夫', ethnicity: '03' } },
        { relationship: '10', resident: { idNumber: newIdNumber('2', '1992-03-15'), name: '计生妻子', ethnicity: '01' } },
        { relationship: '20', resident: { idNumber: newIdNumber('1', '2018-09-09'), name: '计生儿子' } },
        { relationship: '30', resident: { idNumber: newIdNumber('2', '2020-02-02'), name: '计生女儿' } },
      ] },
    });
    const members = fam.registerHousehold.members as { residentId: string; resident: { idNumber: string; sex: string } }[];
    const wife = members.find((m) => m.resident.idNumber.slice(6, 10) === '1992')!;
    const husband = members.find((m) => m.resident.idNumber.slice(6, 10) === '1988')!;
    await eventually(async () => (await h.api.db.query(`SELECT 1 FROM sync_state WHERE target = 'js-wis' AND aggregate_id = $1 AND status = 'PENDING'`, [wife.residentId])).length > 0, 10_000, 'pending for the package');
    await h.worker!.get(SyncWorkerHost).runBatchNow('js-wis');
    const held = await eventually(async () => (await h.wis.records()).find((x) => x.womanIdcardNo === wife.resident.idNumber), 30_000, 'record at the family-planning system');
    // Keyed by the wife's ID; the husband travels in her record with his ethnicity unpadded ('03' → '3').
    expect(held.fields).toMatchObject({ womanName: '计生妻子', manIdcardNo: husband.resident.idNumber, manName: '计生丈夫', manNation: '3', boyNumber: '1', girlNumber: '1' });
    expect(held.messageType).toBe('通报');
    await eventually(async () => (await status(wife.residentId)).find((x: { target: string; status: string }) => x.target === 'js-wis' && x.status === 'DELIVERED'), 30_000, 'applied after the feedback package');
    // Only women of childbearing age: the daughter (6) and the men are not sent.
    const others = await h.wis.records();
    for (const m of members.filter((x) => x !== wife)) expect(others.find((x) => x.womanIdcardNo === m.resident.idNumber)).toBeUndefined();
  }, 60_000);
});
