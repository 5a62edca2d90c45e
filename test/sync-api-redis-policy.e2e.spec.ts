import { ChildProcess, spawn } from 'child_process';
import Redis from 'ioredis';
import { createApiApp } from '../apps/api/src/bootstrap';
import { freePort } from './support/processes';

/**
 * The API enqueues jobs too (replays, reconcileSync, runSyncBatch): like the worker it refuses a Redis that may
 * evict them. A Redis server of its own, so the machine's shared one is never reconfigured.
 */
describe('the API and Redis eviction', () => {
  let server: ChildProcess;
  let url: string;

  beforeAll(async () => {
    const port = await freePort();
    url = `redis://127.0.0.1:${port}`;
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'allkeys-lru'], { stdio: 'ignore' });
    for (let tries = 0; ; tries++) {
      const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
      try {
        await probe.connect();
        await probe.ping();
        break;
      } catch (err) {
        if (tries > 100) throw err;
        await new Promise((r) => setTimeout(r, 100));
      } finally {
        probe.disconnect();
      }
    }
  }, 20_000);
  afterAll(() => {
    server.kill('SIGTERM');
  });

  it('refuses to start on a Redis whose maxmemory-policy is not noeviction, and starts once it is', async () => {
    const saved = process.env.REDIS_URL;
    process.env.REDIS_URL = url;
    try {
      const refused = await createApiApp();
      await expect(refused.init()).rejects.toThrow(/maxmemory-policy is "allkeys-lru".*noeviction/);
      await refused.close().catch(() => undefined);

      const admin = new Redis(url);
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      await admin.quit();
      const app = await createApiApp();
      await expect(app.init()).resolves.toBeDefined();
      await app.close();
    } finally {
      if (saved === undefined) delete process.env.REDIS_URL;
      else process.env.REDIS_URL = saved;
    }
  }, 30_000);
});
