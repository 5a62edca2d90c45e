import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { SyncHarness, SYNC_TEST_REDIS, eventually, expectOnceEachAtPolice } from './support/sync-harness';
import { newIdNumber, TestCommunity } from './support/api';
import { freePort, startWorker } from './support/processes';

/** One sample of a Prometheus text exposition, or undefined. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : undefined;
}

describe('the worker process: SIGTERM and /metrics', () => {
  let h: SyncHarness;
  let c: TestCommunity;
  let queue: Queue;
  let redis: Redis;

  beforeAll(async () => {
    h = await SyncHarness.start();
    await h.stopWorker(); // the worker runs as a child process here
    c = await h.api.community('停机测试社区', '330203008000');
    redis = new Redis(SYNC_TEST_REDIS, { maxRetriesPerRequest: null });
    queue = new Queue('sync-ga-ldrk', { connection: redis });
  }, 60_000);
  afterAll(async () => {
    await queue.close();
    await redis.quit();
    await h.stop();
  }, 60_000);

  const floating = async (name: string): Promise<string> => {
    const r = await h.api.ok(`mutation($i: AddResidentInput!) { addResident(input: $i) { id idNumber } }`, {
      i: { resident: { idNumber: newIdNumber('1'), name, populationType: 'FLOATING' }, communityCode: c.code, residence: { dwellingId: await c.dwelling(), kind: 'TENANT', movedInOn: '2024-01-01' } },
    });
    await h.api.ok(`mutation($id: ID!) { assignTag(input: {residentId: $id, tagCode: "FLOATING", attributes: {inflowDate: "2024-01-01"}}) { residentId } }`, { id: r.addResident.id });
    return r.addResident.idNumber;
  };
  /** Delivery locks held in this test database (the server is shared with other databases). */
  const deliveryLocks = async () =>
    (await h.api.db.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND objid <> 7421001`)).length;

  it('on SIGTERM finishes the deliveries in flight and exits; after a restart every record is applied once and nothing stalls', async () => {
    h.ga.chaos.set({ latencyMs: 700 }); // slow, but within the target's 1.5 s timeout: deliveries can finish
    const metricsPort = await freePort();
    const first = startWorker({ ...h.env, METRICS_PORT: String(metricsPort) });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await floating(`停机${i}`));
    await eventually(async () => (await deliveryLocks()) > 0, 20_000, 'a delivery in flight');

    const sentAt = Date.now();
    first.child.kill('SIGTERM');
    const exit = await first.exited;
    // A clean stop: Nest's shutdown hooks ran and the process ended on the signal it was sent (or exited 0).
    expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
    expect(exit.at - sentAt).toBeLessThan(15_000);
    expect(first.output()).not.toMatch(/"level":(50|60)/); // no error or fatal log line
    // Nothing was left active: a job abandoned mid-delivery would stay active until its lock expired (stalled).
    expect(await queue.getActiveCount()).toBe(0);
    expect(await deliveryLocks()).toBe(0);

    h.ga.chaos.set({ latencyMs: 0 });
    const second = startWorker({ ...h.env, METRICS_PORT: String(metricsPort) });
    try {
      ids.push(await floating('停机后'));
      await expectOnceEachAtPolice(h, ids, 'every record at the police system after the restart');
      await eventually(async () => {
        const counts = await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
        return Object.values(counts).every((n) => n === 0);
      }, 20_000, 'an empty queue');

      // The Prometheus endpoint: per-target counters and latency histograms after these deliveries.
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await res.text();
      expect(sample(text, 'linli_sync_delivered_total', 'target="ga-ldrk"')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'linli_sync_attempt_seconds_count', 'target="ga-ldrk"')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'linli_sync_commit_to_ack_seconds_count', 'target="ga-ldrk"')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'linli_sync_commit_to_ack_seconds_bucket', 'le="+Inf",target="ga-ldrk"')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'linli_sync_queue_depth', 'target="ga-ldrk"')).toBe(0);
      expect(text).toMatch(/^linli_sync_outbox_relayed_total [1-9]/m);
      expect(text).toMatch(/^# TYPE linli_sync_commit_to_ack_seconds histogram$/m);
      expect((await fetch(`http://127.0.0.1:${metricsPort}/other`)).status).toBe(404);
    } finally {
      second.child.kill('SIGTERM');
      const stopped = await second.exited;
      expect(stopped.code === 0 || stopped.signal === 'SIGTERM').toBe(true);
    }
  }, 150_000);
});
