import { Job, Worker } from 'bullmq';
import { randomUUID } from 'crypto';
import { deliverJobId, SyncWorkerHost } from '@linli/sync';
import { BATCH_OUTCOMES_SQL, batchOutcomeParams, SyncStateStore } from '../libs/sync/src/sync-state.store';
import { getQueueToken } from '../libs/sync/src/testing';
import { SyncHarness, eventually } from './support/sync-harness';
import { newIdNumber, TestCommunity } from './support/api';

/**
 * Deliveries in batches: jobs of one target that are active together share one connection, one round of reads and
 * one transaction, yet each job ends with its own outcome and BullMQ's semantics per job stay as they were.
 */
describe('sync delivery batches', () => {
  let h: SyncHarness;
  let c: TestCommunity;

  beforeAll(async () => {
    h = await SyncHarness.start();
    c = await h.api.community('批量同步社区', '330203007000');
  }, 60_000);
  afterAll(() => h.stop(), 60_000);
  afterEach(() => h.ga.chaos.reset());

  const police = (): Worker => h.worker!.get(SyncWorkerHost).workers.find((w) => w.name === 'sync-ga-ldrk')!;
  const queue = () => getQueueToken(h.worker!, 'ga-ldrk');
  const atPolice = (idNumber: string) => h.ga.records().then((rs) => rs.find((x) => x.GMSFHM === idNumber));
  const floating = async (n: number) => {
    const out: { id: string; idNumber: string }[] = [];
    for (let i = 0; i < n; i++) {
      const r = await h.api.ok(`mutation($i: AddResidentInput!) { addResident(input: $i) { id idNumber } }`, {
        i: { resident: { idNumber: newIdNumber('1'), name: `批量${i}`, phone: '13900000000', populationType: 'FLOATING' }, communityCode: c.code,
          residence: { dwellingId: await c.dwelling(), kind: 'TENANT', movedInOn: '2024-01-01' } },
      });
      await h.api.ok(`mutation($id: ID!) { assignTag(input: {residentId: $id, tagCode: "FLOATING", attributes: {inflowDate: "2024-01-01"}}) { residentId } }`, { id: r.addResident.id });
      out.push(r.addResident);
    }
    return out;
  };
  const latestEvent = async (id: string) => Number((await h.api.db.query(`SELECT max(id)::text AS id FROM outbox_event WHERE aggregate_id = $1`, [id]))[0].id);
  const relayed = (ids: string[]) => eventually(async () => (await h.api.db.query(
    `SELECT 1 FROM outbox_event WHERE aggregate_id = ANY($1::uuid[]) AND relayed_at IS NULL`, [ids])).length === 0, 10_000, 'relayed');
  // Read again once completed: a job read just before it completed has no return value yet.
  const finished = (jobId: string) => eventually(async () => {
    const job: Job | undefined = await queue().getJob(jobId);
    return job && (await job.isCompleted()) ? queue().getJob(jobId) : undefined;
  }, 20_000, `job ${jobId} completed`);

  it('a backlog goes out in batches: each record once, in its newest version; a second job of a record in the same batch is skipped', async () => {
    const rs = await floating(8);
    await eventually(async () => (await Promise.all(rs.map((r) => atPolice(r.idNumber)))).every(Boolean), 20_000, 'first delivery of every record');
    await police().pause();
    for (const [i, r] of rs.entries()) {
      await h.api.ok(`mutation($id: ID!, $v: Int!, $p: String!) { updateResident(id: $id, expectedVersion: $v, patch: {phone: $p}) { version } }`,
        { id: r.id, v: 2, p: `1370000000${i}` });
    }
    await relayed(rs.map((r) => r.id));
    // The same record twice among the jobs that become active together.
    const again = { target: 'ga-ldrk', aggregateType: 'RESIDENT' as const, aggregateId: rs[0]!.id, event: await latestEvent(rs[0]!.id), version: 3 };
    await queue().add('deliver', again, { jobId: `batch-again-${rs[0]!.id}` });
    police().resume();
    await eventually(async () => (await Promise.all(rs.map((r, i) => atPolice(r.idNumber).then((x) => x?.LXDH === `1370000000${i}`)))).every(Boolean), 20_000, 'newest phones');
    for (const [i, r] of rs.entries()) {
      const job = await finished(deliverJobId({ target: 'ga-ldrk', aggregateId: r.id, event: await latestEvent(r.id) }));
      expect(job.returnvalue).toBe('DELIVERED');
      expect(job.attemptsMade).toBe(1); // BullMQ counts the attempt that completed: delivered on the first
      const held = await atPolice(r.idNumber);
      expect(held?.writeCount).toBe(2); // the first upload and this change, nothing twice
      expect(held?.LXDH).toBe(`1370000000${i}`);
    }
    const second = await finished(`batch-again-${rs[0]!.id}`);
    expect(['SKIPPED_STALE', 'DUPLICATE']).toContain(second.returnvalue);
    const states = await h.api.db.query(`SELECT status, applied_event::int AS applied FROM sync_state WHERE target = 'ga-ldrk' AND aggregate_id = ANY($1::uuid[])`, [rs.map((r) => r.id)]);
    expect(states).toHaveLength(8);
    expect(states.every((s: { status: string }) => s.status === 'DELIVERED')).toBe(true);
  }, 60_000);

  it('back-pressure on a whole batch delays every job without using its attempts', async () => {
    await police().pause();
    h.ga.chaos.set({ rate429: 1 });
    const rs = await floating(4);
    await relayed(rs.map((r) => r.id));
    police().resume();
    const ids = rs.map((r) => r.id);
    await eventually(async () => (await h.api.db.query(
      `SELECT 1 FROM sync_state WHERE target = 'ga-ldrk' AND aggregate_id = ANY($1::uuid[]) AND status = 'PENDING' AND last_error IS NOT NULL`, [ids])).length === 4, 10_000, 'every record held back');
    h.ga.chaos.set({ rate429: 0 });
    for (const r of rs) {
      const job = await finished(deliverJobId({ target: 'ga-ldrk', aggregateId: r.id, event: await latestEvent(r.id) }));
      expect(job.returnvalue).toBe('DELIVERED');
      expect(job.attemptsMade).toBe(1); // only the attempt that completed: the delays used none
    }
    expect(await h.api.db.query(`SELECT 1 FROM sync_dead_letter WHERE aggregate_id = ANY($1::uuid[])`, [ids])).toHaveLength(0);
  }, 60_000);

  it('failures in a batch use attempts with backoff, then each record goes to dead letters with the answer', async () => {
    await police().pause();
    h.ga.chaos.set({ failRate: 1 });
    const rs = await floating(3);
    await relayed(rs.map((r) => r.id));
    police().resume();
    const ids = rs.map((r) => r.id);
    const dead = await eventually(async () => {
      const rows = await h.api.db.query(`SELECT aggregate_id, answer FROM sync_dead_letter WHERE target = 'ga-ldrk' AND aggregate_id = ANY($1::uuid[])`, [ids]);
      return rows.length === 3 ? rows : undefined;
    }, 20_000, 'dead letters after the last attempt');
    for (const d of dead) expect(d.answer).toMatch(/^GAVE UP after 4 attempts: /);
    const states = await h.api.db.query(`SELECT status FROM sync_state WHERE target = 'ga-ldrk' AND aggregate_id = ANY($1::uuid[])`, [ids]);
    expect(states.map((s: { status: string }) => s.status)).toEqual(['FAILED', 'FAILED', 'FAILED']);
    for (const r of rs) expect(await atPolice(r.idNumber)).toBeUndefined();
    // Once the system works again, a replay sends them (and leaves no open dead letters behind for other tests).
    h.ga.chaos.reset();
    for (const r of rs) await h.api.ok(`mutation($id: ID!) { replaySync(input: {target: "ga-ldrk", residentId: $id}) }`, { id: r.id });
    await eventually(async () => (await Promise.all(rs.map((r) => atPolice(r.idNumber)))).every(Boolean), 20_000, 'delivered after the replay');
  }, 60_000);

  it('one outcome statement leaves sync_state as "want" then "applied" did, whatever the state before', async () => {
    const starts: (null | { wanted: number; applied: number | null; status: string; lastError: string | null; delivered: boolean })[] = [
      null,
      { wanted: 8, applied: null, status: 'PENDING', lastError: null, delivered: false },
      { wanted: 10, applied: 8, status: 'PENDING', lastError: 'HTTP 503', delivered: true },
      { wanted: 12, applied: 8, status: 'PENDING', lastError: null, delivered: true },
      { wanted: 10, applied: 10, status: 'PENDING', lastError: 'HTTP 503', delivered: true },
      { wanted: 12, applied: 11, status: 'DELIVERED', lastError: null, delivered: true },
      { wanted: 10, applied: 9, status: 'FAILED', lastError: 'timed out', delivered: false },
    ];
    const target = `equivalence-${Date.now()}`;
    const m = h.api.db.manager;
    const seed = async (id: string, start: (typeof starts)[number]) => {
      if (!start) return;
      await m.query(`INSERT INTO sync_state (target, aggregate_type, aggregate_id, wanted_event, wanted_version, applied_event, applied_version, status, attempts, last_error, target_ref, delivered_at)
        VALUES ($1, 'RESIDENT', $2, $3, 1, $4, 1, $5, 2, $6, 'REF-OLD', CASE WHEN $7 THEN now() END)`, [target, id, start.wanted, start.applied, start.status, start.lastError, start.delivered]);
    };
    const read = async (id: string) => {
      const [row] = await m.query(`SELECT wanted_event::int AS w, wanted_version AS wv, applied_event::int AS a, applied_version AS av, status, attempts, last_error,
        target_ref, delivered_at IS NOT NULL AS delivered FROM sync_state WHERE target = $1 AND aggregate_id = $2`, [target, id]);
      return row;
    };
    for (const start of starts) {
      for (const status of ['DELIVERED', 'NOT_SUBSCRIBED'] as const) {
        const [before, after] = [randomUUID(), randomUUID()];
        await seed(before, start);
        await seed(after, start);
        const ref = status === 'DELIVERED' ? 'REF-NEW' : null;
        const store = new SyncStateStore(m);
        await store.want([{ target, residentId: before, event: 10, version: 5 }]);
        await store.applied(target, before, 10, 5, status, ref);
        await m.query(BATCH_OUTCOMES_SQL, batchOutcomeParams({
          settled: [{ target, residentId: after, event: 10, version: 5, status, targetRef: ref }], failed: [], dead: [], stale: [], acked: [],
        }));
        expect({ start, status, row: await read(after) }).toEqual({ start, status, row: await read(before) });
      }
    }
  });
});
