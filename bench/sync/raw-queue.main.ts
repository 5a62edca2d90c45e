import { Job, Worker } from 'bullmq';
import { backoffWithJitter } from '../../libs/sync/src/delivery.processor';
import { bullConnection } from '../../libs/sync/src/redis-connection';
import type { RawQueueSpec } from './raw-queue';

/**
 * BENCH ONLY: the consumer of the raw BullMQ reference, started by bench/sync.bench.ts as a child process (like the
 * hub's worker, so neither shares the bench's event loop). One Worker per queue with the hub's worker options
 * (libs/sync/src/sync-worker.host.ts: own connection, concurrency, limiter, custom backoff, lockDuration), and a
 * processor that does nothing (RAW_MODE=noop) or one HTTP PUT of a small JSON record per job (RAW_MODE=http, the
 * REST adapter's request without mapping, bookkeeping or database). Counts completed jobs for RAW_SECONDS after the
 * parent says go, then reports them over IPC.
 *
 * Environment: RAW_REDIS_URL, RAW_MODE (noop | http), RAW_HTTP_URL (collection URL), RAW_QUEUES (JSON RawQueueSpec[]),
 * RAW_SECONDS.
 */

const redisUrl = process.env.RAW_REDIS_URL!;
const mode = process.env.RAW_MODE === 'http' ? 'http' : 'noop';
const httpUrl = process.env.RAW_HTTP_URL ?? '';
const specs = JSON.parse(process.env.RAW_QUEUES ?? '[]') as RawQueueSpec[];
const seconds = Number(process.env.RAW_SECONDS ?? '10');

const body = JSON.stringify({ sfzh: '330203199001011234', xm: '王小明', xb: '男', csrq: '1990-01-01', lxdh: '13900000000', lb: '退役士兵', sq: '测试社区', jd: '测试街道' });

async function processor(job: Job<{ aggregateId: string }>): Promise<string> {
  if (mode === 'noop') return 'DELIVERED';
  const res = await fetch(`${httpUrl}/${encodeURIComponent(job.data.aggregateId)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json; charset=utf-8', accept: 'application/json' },
    body,
    signal: AbortSignal.timeout(5000),
  });
  await res.text();
  if (res.status < 200 || res.status >= 300) throw new Error(`HTTP ${res.status}`);
  return 'DELIVERED';
}

async function main(): Promise<void> {
  const completed = new Map<string, number>(specs.map((s) => [s.name, 0]));
  let counting = false;
  const workers = specs.map((s) => {
    const w = new Worker(s.name, processor, {
      connection: bullConnection(redisUrl),
      concurrency: s.concurrency,
      limiter: { max: Math.max(1, Math.round(s.ratePerSecond)), duration: 1000 },
      settings: { backoffStrategy: (attemptsMade: number) => backoffWithJitter(attemptsMade, 500, 60_000) },
      lockDuration: 30_000,
      autorun: false,
    });
    w.on('completed', () => {
      if (counting) completed.set(s.name, (completed.get(s.name) ?? 0) + 1);
    });
    w.on('error', () => undefined);
    return w;
  });
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  process.send!({ type: 'ready' });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  counting = true;
  const started = Date.now();
  for (const w of workers) void w.run();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  counting = false;
  const elapsed = (Date.now() - started) / 1000;
  await Promise.allSettled(workers.map((w) => w.close(true)));
  process.send!({ type: 'done', elapsed, completed: Object.fromEntries(completed) }, () => process.exit(0));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
