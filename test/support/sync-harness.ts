import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import Redis from 'ioredis';
import { parse, stringify } from 'yaml';
import { GaLdrkSimulator } from '../../apps/legacy-sim/src/sims/ga-ldrk.sim';
import { RestInboxSimulator } from '../../apps/legacy-sim/src/sims/rest-inbox.sim';
import { MzDibaoSimulator } from '../../apps/legacy-sim/src/sims/mz-dibao.sim';
import { JsWisSimulator } from '../../apps/legacy-sim/src/sims/js-wis.sim';
import { WorkerModule } from '../../apps/worker/src/worker.module';
import { TestApi } from './api';

/**
 * A Redis database of its own, so flushing it in a test touches nothing else. TEST_REDIS_URL lets two test runs on
 * one machine (each with its own TEST_DATABASE_URL) stay out of each other's queues.
 */
export const SYNC_TEST_REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/7';

/**
 * The platform with its sync hub against simulated legacy systems, all in this process: simulators on free ports,
 * target files rewritten from deploy/targets to point at them (fast retries, no closing hours), the API and the
 * worker on their own Redis database.
 */
export class SyncHarness {
  worker: INestApplicationContext | null = null;
  private constructor(
    readonly api: TestApi,
    readonly ga: GaLdrkSimulator,
    readonly rest: RestInboxSimulator,
    readonly dibao: MzDibaoSimulator,
    readonly wis: JsWisSimulator,
    readonly targetsDir: string,
    readonly env: Record<string, string>,
  ) {}

  static async start(): Promise<SyncHarness> {
    const ga = new GaLdrkSimulator({ port: 0, serviceHours: null, ratePerSecond: 1000, credentials: { username: process.env.GA_LDRK_USER!, password: process.env.GA_LDRK_PASSWORD! } });
    const rest = new RestInboxSimulator({ port: 0, token: process.env.REST_INBOX_TOKEN });
    const dibao = new MzDibaoSimulator({ port: 0, username: process.env.MZ_DIBAO_USER!, password: process.env.MZ_DIBAO_PASSWORD! });
    await ga.start();
    await rest.start();
    await dibao.start();
    const wis = new JsWisSimulator({ port: 0 });
    await wis.start();
    const dir = mkdtempSync(join(tmpdir(), 'linli-targets-'));
    const rewrite = (file: string, url: string | { port: number }) => {
      const t = parse(readFileSync(join(__dirname, '..', '..', 'deploy', 'targets', file), 'utf8'));
      if (typeof url === 'string') t.endpoint.url = url;
      else t.endpoint.port = url.port;
      t.serviceHours = null;
      t.retry = { attempts: 4, backoffMs: 50, maxBackoffMs: 400 };
      t.limits = { ...t.limits, timeoutMs: 1500, ratePerSecond: 500 };
      writeFileSync(join(dir, file), stringify(t));
    };
    rewrite('ga-ldrk.yaml', `http://127.0.0.1:${ga.port}/ldrk`);
    rewrite('ty-veterans.yaml', `http://127.0.0.1:${rest.port}/records`);
    rewrite('mz-dibao.yaml', { port: dibao.port });
    rewrite('js-wis.yaml', `http://127.0.0.1:${wis.port}`);
    const env = { SYNC_TARGETS_DIR: dir, REDIS_URL: SYNC_TEST_REDIS, SYNC_RELAY_INTERVAL_MS: '100', SYNC_RECONCILE_INTERVAL_MS: '3600000', METRICS_PORT: '0' };
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    const redis = new Redis(SYNC_TEST_REDIS);
    await redis.flushdb();
    await redis.quit();
    try {
      const api = await TestApi.start();
      const h = new SyncHarness(api, ga, rest, dibao, wis, dir, env);
      await h.startWorker();
      return h;
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
  }

  async startWorker(): Promise<void> {
    const saved = Object.fromEntries(Object.keys(this.env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, this.env);
    try {
      this.worker = await NestFactory.createApplicationContext(WorkerModule, { logger: false });
      this.worker.enableShutdownHooks();
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
  }

  async stopWorker(): Promise<void> {
    await this.worker?.close();
    this.worker = null;
  }

  async stop(): Promise<void> {
    await this.stopWorker();
    await this.api.stop();
    await this.ga.stop();
    await this.rest.stop();
    await this.dibao.stop();
    await this.wis.stop();
  }
}

/**
 * Waits until the police simulator holds every one of these ID numbers, then checks each is there exactly once and
 * was written at most once (a resent identical record is acknowledged as a duplicate, not written again).
 */
export async function expectOnceEachAtPolice(h: SyncHarness, idNumbers: string[], what: string): Promise<void> {
  await eventually(async () => {
    const held = await h.ga.records();
    return idNumbers.every((id) => held.some((x) => x.GMSFHM === id));
  }, 60_000, what);
  const held = await h.ga.records();
  for (const id of idNumbers) {
    const rows = held.filter((x) => x.GMSFHM === id);
    expect(rows).toHaveLength(1);
    expect(rows[0].writeCount).toBeLessThanOrEqual(1);
  }
}

/** Polls until `check` returns a value (not undefined / false), or fails after `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined | false | null>, ms = 15_000, what = 'condition'): Promise<T> {
  const until = Date.now() + ms;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await check();
      if (v !== undefined && v !== false && v !== null) return v as T;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last instanceof Error ? last.message : String(last)}` : ''}`);
}
