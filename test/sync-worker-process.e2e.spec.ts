import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { SyncHarness, eventually, expectOnceEachAtPolice } from './support/sync-harness';
import { newIdNumber, TestCommunity } from './support/api';
import { startWorker } from './support/processes';

describe('the worker process', () => {
  it('refuses to start on a malformed target file, naming the file, the line and the problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'linli-bad-targets-'));
    writeFileSync(join(dir, 'broken.yaml'), 'name: broken\ntitle: 坏配置\nline: HEALTH\nprotocol: rest\nendpoint: { url: http://127.0.0.1:1/x, auth: none }\nsubscribe: {}\nkey: a\nfields:\n  a: { from: idNumbr }\nschedule: { mode: realtime }\n');
    const w = startWorker({ SYNC_TARGETS_DIR: dir, METRICS_PORT: '0' });
    expect((await w.exited).code).toBe(1);
    expect(w.output()).toMatch(/broken\.yaml:9: fields\.a\.from: "idNumbr" is not a hub field/);
  });

  describe('killed in the middle of a delivery', () => {
    let h: SyncHarness;
    let c: TestCommunity;
    beforeAll(async () => {
      h = await SyncHarness.start();
      await h.stopWorker(); // this test runs the worker as a child process instead
      c = await h.api.community('进程测试社区', '330203006000');
    }, 60_000);
    afterAll(() => h.stop(), 60_000);

    it('applies each record once in effect after a restart', async () => {
      h.ga.chaos.set({ latencyMs: 1500 }); // the police system is slow: deliveries are in flight when the worker dies
      const first = startWorker(h.env);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await h.api.ok(`mutation($i: AddResidentInput!) { addResident(input: $i) { id idNumber } }`, {
          i: { resident: { idNumber: newIdNumber('1'), name: `进程${i}`, populationType: 'FLOATING' }, communityCode: c.code, residence: { dwellingId: await c.dwelling(), kind: 'TENANT', movedInOn: '2024-01-01' } },
        });
        await h.api.ok(`mutation($id: ID!) { assignTag(input: {residentId: $id, tagCode: "FLOATING", attributes: {inflowDate: "2024-01-01"}}) { residentId } }`, { id: r.addResident.id });
        ids.push(r.addResident.idNumber);
      }
      // Wait until a delivery is in flight at the (slow) police system, then kill the worker without warning.
      await eventually(async () => (await h.api.db.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid <> 7421001`)).length > 0, 20_000, 'a delivery in flight');
      first.child.kill('SIGKILL');
      await first.exited;
      h.ga.chaos.set({ latencyMs: 0 });
      const second = startWorker(h.env);
      try {
        await expectOnceEachAtPolice(h, ids, 'every record at the police system after the restart'); // one record per person
      } finally {
        second.child.kill('SIGTERM');
        await second.exited;
      }
    }, 120_000);
  });
});
