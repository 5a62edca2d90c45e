import 'reflect-metadata';
import { ChildProcess, fork } from 'child_process';
import { once } from 'events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'fs';
import { createServer, Server } from 'http';
import { AddressInfo } from 'net';
import { cpus, loadavg, tmpdir, totalmem } from 'os';
import { join } from 'path';
import { parseArgs } from 'util';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import * as mysql from 'mysql2/promise';
import { Client } from 'pg';
import { adminQuery, POSTGRES_LABEL_SQL, sleep } from './support';
import { communitySeeds } from '@linli/codes';
import { AppConfig } from '@linli/core';
import { migrate } from '../apps/cli/src/migrate';
import { GaLdrkSimulator } from '../apps/legacy-sim/src/sims/ga-ldrk.sim';
import { RestInboxSimulator } from '../apps/legacy-sim/src/sims/rest-inbox.sim';
import { ZzGridSimulator } from '../apps/legacy-sim/src/sims/zz-grid.sim';
import { queueName } from '../libs/sync/src/jobs/sync-jobs';
import { bullConnection } from '../libs/sync/src/redis-connection';
import { BenchRegister, BenchResident, LOAD_APPLICATION_NAME } from './sync/register';
import { Change, installGridObserver, latencies, observeStore, percentile, readGridReceipts, Receipt } from './sync/receipts';
import { bucketsBetween, histogramQuantile, scrape, shareAtOrUnder, total } from './sync/metrics';
import { Backlog, RawQueueSpec } from './sync/raw-queue';
import { BENCH_INBOX_TOKEN_ENV, BenchTarget, writeBenchTargets } from './sync/targets';
import { CpuSplit, cpuSplit, sampleCpu } from './sync/cpu';

/**
 * Sync hub benchmark: `npm run bench:sync [-- --rate 200] [-- --seconds 60] [-- --residents 3000] [-- --raw-seconds 10]
 *   [-- --concurrency N] [-- --worker-pool N] [-- --target-rate 100000] [-- --drain-timeout 120] [-- --load-timeout 300]
 *   [-- --grid-sweep-ms 2000] [-- --instance NAME] [-- --redis-db 9]`.
 *
 * 1. A fresh PostgreSQL database `linli_bench_sync` (dropped first if left over, migrated with `migrate()`), Redis
 *    database 9 (flushed: it belongs to this bench), a fresh MariaDB database `zz_grid_bench` for the zz-grid
 *    simulator.
 * 2. Residents created through the register's own write path in this process (ResidentEventsService.addResident and
 *    TagsService.assign inside IdempotencyService.run, as the mutations do, without GraphQL): every resident is
 *    FLOATING and VETERAN, so four real-time targets hold each one: ga-ldrk (tag FLOATING, SOAP/GBK), ty-veterans
 *    (tag VETERAN, REST), zz-grid (everyone, SQL staging in MariaDB) and a bench-only REST inbox (everyone).
 * 3. Simulators in this process on free ports (GaLdrkSimulator always open with a high rate limit, two
 *    RestInboxSimulators, ZzGridSimulator on its own database); target files rewritten from deploy/targets into a
 *    temporary SYNC_TARGETS_DIR (bench/sync/targets.ts).
 * 4. Raw BullMQ reference, before the hub runs: four queues with the hub's queue and worker options and the same
 *    concurrency and limiter as the four targets, consumed by a child process (bench/sync/raw-queue.main.ts) for
 *    --raw-seconds with (a) a no-op processor and (b) one bare HTTP PUT per job to a plain HTTP server in this process.
 * 5. The hub: the real worker (`dist/apps/worker/src/main.js`) as a child process. Its start-up load (relay of the
 *    set-up outbox and the reconciler's initial load: every resident to every target) is measured as a backlog drain.
 * 6. Sustained changes: --rate phone changes per second for --seconds (updateResident through the same write path),
 *    each a new phone number that encodes the change's number. Measured: deliveries/s per target (the hub's
 *    linli_sync_delivered_total counter, and writes seen at the targets), commit→acknowledgement latency per change
 *    and target (outbox occurred_at → the target's write, observed in the simulators; see bench/sync/receipts.ts),
 *    the hub's own linli_sync_commit_to_ack_seconds histogram, queue depth every 5 s, and the time to drain.
 * 7. Everything is stopped and removed: worker, simulators, databases (PostgreSQL and MariaDB), Redis database 9,
 *    the temporary directory. Figures only; nothing is asserted (exit 1 only when the bench cannot do its job).
 */

/**
 * `--instance NAME` suffixes the bench's databases (and `--redis-db` picks its Redis database), so two engineers can
 * run the bench on one machine without dropping each other's databases; the defaults are the names above.
 */
const INSTANCE = instanceOptions();
const BENCH_DB = `linli_bench_sync${INSTANCE.suffix}`;
const BENCH_URL = `postgres://postgres@localhost:5432/${BENCH_DB}`;
const REDIS_URL = `redis://127.0.0.1:6379/${INSTANCE.redisDb}`;
const MYSQL_SERVER = 'mysql://root@127.0.0.1:3306';
const GRID_DB = `zz_grid_bench${INSTANCE.suffix}`;
const TARGETS = { deliveriesOverRawHttp: 0.5, p99Seconds: 1, atRate: 200, targetCount: 4 } as const;
const CREDENTIALS = {
  GA_LDRK_USER: 'ldrk-bench',
  GA_LDRK_PASSWORD: 'bench-ga-ldrk-password',
  REST_INBOX_TOKEN: 'bench-rest-inbox-token',
  [BENCH_INBOX_TOKEN_ENV]: 'bench-inbox-token',
  ZZ_GRID_DB_URL: `${MYSQL_SERVER}/${GRID_DB}`,
};

/** The instance flags alone (read before the others, since the database names are module constants). */
function instanceOptions(): { suffix: string; redisDb: number } {
  const instance = parseArgs({ args: process.argv.slice(2), options: { instance: { type: 'string', default: '' }, 'redis-db': { type: 'string', default: '9' } }, strict: false }).values;
  const name = String(instance.instance ?? '');
  if (!/^[a-z0-9_]{0,20}$/.test(name)) throw new Error('--instance must be up to 20 characters a-z, 0-9, _');
  const redisDb = Number(instance['redis-db']);
  if (!Number.isInteger(redisDb) || redisDb < 0 || redisDb > 15) throw new Error('--redis-db must be an integer from 0 to 15');
  return { suffix: name ? `_${name}` : '', redisDb };
}

function options() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      rate: { type: 'string', default: '200' },
      seconds: { type: 'string', default: '60' },
      residents: { type: 'string', default: '3000' },
      'raw-seconds': { type: 'string', default: '10' },
      concurrency: { type: 'string' },
      'target-rate': { type: 'string', default: '100000' },
      'worker-pool': { type: 'string' },
      'drain-timeout': { type: 'string', default: '120' },
      'load-timeout': { type: 'string', default: '300' },
      'grid-sweep-ms': { type: 'string', default: '2000' },
      instance: { type: 'string', default: '' },
      'redis-db': { type: 'string', default: '9' },
    },
    strict: true,
  });
  const int = (name: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}`);
    return n;
  };
  return {
    rate: int('rate', values.rate, 1, 5000),
    seconds: int('seconds', values.seconds, 5, 3600),
    residents: int('residents', values.residents, 100, 200_000),
    rawSeconds: int('raw-seconds', values['raw-seconds'], 2, 120),
    concurrency: values.concurrency === undefined ? null : int('concurrency', values.concurrency, 1, 32),
    targetRate: int('target-rate', values['target-rate'], 1, 1_000_000),
    /** DATABASE_POOL_SIZE of the worker child; the product default (10) when absent. */
    workerPool: values['worker-pool'] === undefined ? null : int('worker-pool', values['worker-pool'], 1, 200),
    drainTimeout: int('drain-timeout', values['drain-timeout'], 5, 3600),
    loadTimeout: int('load-timeout', values['load-timeout'], 10, 3600),
    /** The zz-grid simulator's processing sweep (its default 2000 ms; 0 = off). */
    gridSweepMs: int('grid-sweep-ms', values['grid-sweep-ms'], 0, 600_000),
  };
}


const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const f0 = (n: number | null) => (n === null || !Number.isFinite(n) ? 'n/a' : Math.round(n).toLocaleString('en-US'));
const f1 = (n: number | null) => (n === null || !Number.isFinite(n) ? 'n/a' : n.toFixed(1));
const f2 = (n: number | null) => (n === null || !Number.isFinite(n) ? 'n/a' : n.toFixed(2));
const ms = (n: number | null) => (n === null ? 'n/a' : `${Math.round(n)} ms`);


async function mysqlAdmin(sql: string): Promise<void> {
  const conn = await mysql.createConnection({ uri: MYSQL_SERVER });
  try {
    await conn.query(sql);
  } finally {
    await conn.end();
  }
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Cleanup steps, run once in reverse order (also on SIGINT / SIGTERM). */
const cleanups: { what: string; run: () => Promise<unknown> }[] = [];
let cleaning: Promise<void> | null = null;
function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    for (const c of cleanups.reverse()) {
      await Promise.race([c.run(), sleep(40_000).then(() => { throw new Error('timed out'); })])
        .catch((err: unknown) => console.error(`cleanup (${c.what}) failed: ${err instanceof Error ? err.message : String(err)}`));
    }
  })();
  return cleaning;
}

/** Stops a child process we started: SIGTERM, then SIGKILL after `graceMs`. */
async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    child.kill('SIGKILL');
    await exited;
  }
}

function waitMessage(child: ChildProcess, type: string, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child did not report ${type} within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: unknown) => {
      if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === type) {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m as Record<string, unknown>);
      }
    };
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code}) before reporting ${type}`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

// ------------------------------------------------------------------------------------------------ raw BullMQ

interface RawResult {
  mode: 'noop' | 'http';
  jobsPerSecond: number;
  ranDry: boolean;
  perQueue: Record<string, number>;
  seconds: number;
  cpu: CpuSplit | null;
}

async function rawPhase(mode: 'noop' | 'http', specs: RawQueueSpec[], httpUrl: string, seconds: number): Promise<RawResult> {
  const connection = bullConnection(REDIS_URL);
  const backlog = new Backlog(connection, specs);
  // Enough for the whole measurement at a rate well above what this machine gives, so the consumer never waits.
  await backlog.fill((mode === 'noop' ? 3000 : 1000) * seconds);
  const child = fork(join(__dirname, 'sync', 'raw-queue.main.js'), [], {
    env: { ...process.env, RAW_REDIS_URL: REDIS_URL, RAW_MODE: mode, RAW_HTTP_URL: httpUrl, RAW_QUEUES: JSON.stringify(specs), RAW_SECONDS: String(seconds) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const cleanup = { what: `raw ${mode} consumer`, run: () => stopChild(child, 5000) };
  cleanups.push(cleanup);
  try {
    await waitMessage(child, 'ready', 60_000);
    backlog.start();
    const before = sampleCpu();
    child.send({ type: 'go' });
    const done = (await waitMessage(child, 'done', (seconds + 60) * 1000)) as { elapsed: number; completed: Record<string, number> };
    const after = sampleCpu();
    await backlog.stop();
    await stopChild(child, 5000);
    const ranDry = backlog.ranDry;
    const completed = Object.values(done.completed).reduce((a, b) => a + b, 0);
    return {
      mode, seconds: done.elapsed, jobsPerSecond: completed / done.elapsed, ranDry,
      perQueue: Object.fromEntries(Object.entries(done.completed).map(([k, v]) => [k, v / done.elapsed])),
      cpu: cpuSplit(mode === 'noop' ? 'raw BullMQ, no-op' : 'raw BullMQ + HTTP', before, after, child.pid, BENCH_DB),
    };
  } finally {
    await backlog.stop();
    await stopChild(child, 5000);
    cleanups.splice(cleanups.indexOf(cleanup), 1);
    await backlog.obliterate();
    await connection.quit();
  }
}

// ------------------------------------------------------------------------------------------------ the hub

interface DepthSample {
  t: number;
  queues: Record<string, { waiting: number; delayed: number; active: number }>;
  outbox: number;
  pending: number;
}

class Probe {
  readonly queues: Map<string, Queue>;
  constructor(private readonly connection: Redis, targets: BenchTarget[], private readonly db: Client) {
    this.queues = new Map(targets.map((t) => [t.name, new Queue(queueName(t.name), { connection })]));
  }

  async depth(t0: number): Promise<DepthSample> {
    const queues: DepthSample['queues'] = {};
    for (const [name, q] of this.queues) {
      const c = await q.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
      queues[name] = { waiting: (c.waiting ?? 0) + (c.prioritized ?? 0), delayed: c.delayed ?? 0, active: c.active ?? 0 };
    }
    const [{ outbox, pending }] = (await this.db.query(
      `SELECT (SELECT count(*)::int FROM outbox_event WHERE relayed_at IS NULL) AS outbox,
              (SELECT count(*)::int FROM sync_state WHERE status = 'PENDING') AS pending`,
    )).rows as [{ outbox: number; pending: number }];
    return { t: (Date.now() - t0) / 1000, queues, outbox, pending };
  }

  static idle(s: DepthSample): boolean {
    return s.outbox === 0 && s.pending === 0 && Object.values(s.queues).every((q) => q.waiting + q.delayed + q.active === 0);
  }

  async close(): Promise<void> {
    for (const q of this.queues.values()) await q.close();
  }
}

/** Samples every `everyMs` until stopped. */
function sampler(probe: Probe, t0: number, everyMs: number): { samples: DepthSample[]; stop: () => Promise<void> } {
  const samples: DepthSample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      samples.push(await probe.depth(t0).catch(() => ({ t: (Date.now() - t0) / 1000, queues: {}, outbox: -1, pending: -1 })));
      const until = Date.now() + everyMs;
      while (!stopped && Date.now() < until) await sleep(100);
    }
  })();
  return { samples, stop: async () => { stopped = true; await loop; } };
}

interface Activity {
  samples: number;
  /** Sum over samples of connections per (application, state, statement, wait event). */
  tally: Map<string, number>;
}

/**
 * Samples what the bench database's client connections are doing (pg_stat_activity) every `everyMs`: which
 * statements the worker is running or waiting on, and how many of its connections sit idle or idle in transaction.
 */
function activitySampler(db: Client, everyMs: number): { stop: () => Promise<Activity> } {
  const a: Activity = { samples: 0, tally: new Map() };
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const rows = (await db.query(
          `SELECT COALESCE(NULLIF(application_name, ''), '(no name: relay listener)') AS app, state,
                  COALESCE(wait_event_type || ':' || wait_event, '') AS wait,
                  CASE WHEN state = 'active' THEN left(regexp_replace(query, '[[:space:]]+', ' ', 'g'), 70) ELSE '' END AS q
             FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
        )).rows as { app: string; state: string; wait: string; q: string }[];
        a.samples += 1;
        for (const r of rows) {
          const key = JSON.stringify([r.app, r.state, r.q, r.state === 'active' ? r.wait : '']);
          a.tally.set(key, (a.tally.get(key) ?? 0) + 1);
        }
      } catch {
        // a failed sample is skipped
      }
      await sleep(everyMs);
    }
  })();
  return { stop: async () => { stopped = true; await loop; return a; } };
}

function reportActivity(a: Activity): string[] {
  if (a.samples === 0) return ['   (no samples)'];
  const byApp = new Map<string, Map<string, number>>();
  const statements = new Map<string, number>();
  for (const [key, n] of a.tally) {
    const [app, state, q, wait] = JSON.parse(key) as [string, string, string, string];
    const states = byApp.get(app) ?? new Map<string, number>();
    states.set(state, (states.get(state) ?? 0) + n / a.samples);
    byApp.set(app, states);
    if (state === 'active' && app === 'linli') statements.set(`${q}${wait ? `  [waiting ${wait}]` : ''}`, (statements.get(`${q}${wait ? `  [waiting ${wait}]` : ''}`) ?? 0) + n / a.samples);
  }
  const lines = [`   connections on average over ${a.samples} samples (linli = the hub's worker, ${LOAD_APPLICATION_NAME} = the load generator):`];
  for (const [app, states] of byApp) lines.push(`     ${app.padEnd(30)} ${[...states.entries()].map(([st, n]) => `${st} ${n.toFixed(2)}`).join(', ')}`);
  lines.push('   the worker\'s active statements (average number of connections running each):');
  for (const [q, n] of [...statements.entries()].sort((x, y) => y[1] - x[1]).slice(0, 10)) lines.push(`     ${n.toFixed(2).padStart(5)}  ${q}`);
  return lines;
}

async function startWorker(env: Record<string, string>, logPath: string, metricsPort: number): Promise<ChildProcess> {
  const out = createWriteStream(logPath);
  const child = fork(join(__dirname, '..', 'apps', 'worker', 'src', 'main.js'), [], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  cleanups.push({ what: 'hub worker', run: () => stopChild(child, 30_000) });
  const until = Date.now() + 90_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) break;
    try {
      await scrape(metricsPort);
      return child;
    } catch {
      await sleep(200);
    }
  }
  await sleep(200);
  const tail = readFileSync(logPath, 'utf8').split('\n').slice(-30).join('\n');
  throw new Error(`the hub worker did not start (exit ${child.exitCode}); its log:\n${tail}`);
}

/** The worker's warnings and errors (pino JSON lines), counted by message. */
function summarizeLog(path: string): string {
  const counts = new Map<string, number>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let msg = line.slice(0, 160);
    try {
      const j = JSON.parse(line) as { level?: number; msg?: string; err?: string };
      if ((j.level ?? 0) < 40) continue;
      msg = `${j.msg ?? ''}${j.err ? `: ${j.err}` : ''}`.slice(0, 160);
    } catch {
      // not JSON: keep the raw line
    }
    counts.set(msg, (counts.get(msg) ?? 0) + 1);
  }
  if (counts.size === 0) return 'no warnings or errors';
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([m, n]) => `${n}× ${m}`).join('; ');
}

// ------------------------------------------------------------------------------------------------ load

interface LoadResult {
  changes: Change[];
  errors: number;
  firstErrors: string[];
  maxInFlight: number;
  skippedBusy: number;
  elapsed: number;
}

/** Open loop: `rate` changes per second for `seconds`, one resident at a time never changed twice concurrently. */
async function driveChanges(register: BenchRegister, residents: BenchResident[], rate: number, seconds: number): Promise<LoadResult> {
  const changes: Change[] = [];
  const inFlight = new Set<number>();
  const running = new Set<Promise<void>>();
  const firstErrors: string[] = [];
  let errors = 0;
  let issued = 0;
  let cursor = 0;
  let maxInFlight = 0;
  let skippedBusy = 0;
  const started = Date.now();
  const end = started + seconds * 1000;
  while (Date.now() < end) {
    const due = Math.min(rate * seconds, Math.floor(((Date.now() - started) * rate) / 1000) + 1);
    while (issued < due) {
      const seq = issued++;
      let idx = -1;
      for (let tries = 0; tries < residents.length; tries++) {
        const candidate = cursor++ % residents.length;
        if (!inFlight.has(candidate)) {
          idx = candidate;
          break;
        }
      }
      if (idx < 0) {
        skippedBusy += 1;
        continue;
      }
      inFlight.add(idx);
      maxInFlight = Math.max(maxInFlight, inFlight.size);
      const p: Promise<void> = register.changePhone(residents[idx]!, seq)
        .then(() => { changes.push({ seq, resident: idx, occurredAt: 0, committedAt: Date.now() }); })
        .catch((err: unknown) => {
          errors += 1;
          if (firstErrors.length < 3) firstErrors.push(err instanceof Error ? err.message : String(err));
        })
        .finally(() => {
          inFlight.delete(idx);
          running.delete(p);
        });
      running.add(p);
    }
    await sleep(2);
  }
  await Promise.all([...running]);
  return { changes: changes.sort((a, b) => a.seq - b.seq), errors, firstErrors, maxInFlight, skippedBusy, elapsed: (Date.now() - started) / 1000 };
}

// ------------------------------------------------------------------------------------------------ main

async function main(): Promise<void> {
  const o = options();
  const machine = `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, `
    + `load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`;
  const command = `npm run bench:sync -- --rate ${o.rate} --seconds ${o.seconds} --residents ${o.residents} --raw-seconds ${o.rawSeconds}`
    + `${o.concurrency ? ` --concurrency ${o.concurrency}` : ''}${o.workerPool ? ` --worker-pool ${o.workerPool}` : ''} --target-rate ${o.targetRate} --grid-sweep-ms ${o.gridSweepMs}`;
  log(`Linli sync hub benchmark. machine: ${machine}`);
  log(`command: ${command}`);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      console.error(`\n${sig}: stopping and cleaning up…`);
      void cleanupAll().then(() => process.exit(130));
    });
  }

  // ---- 1. stores
  const redis = new Redis(REDIS_URL);
  const leftover = await redis.dbsize();
  if (leftover > 0) log(`Redis database ${INSTANCE.redisDb} held ${leftover} keys (a previous run?): flushed`);
  await redis.flushdb();
  cleanups.push({ what: `Redis database ${INSTANCE.redisDb}`, run: async () => { await redis.flushdb(); await redis.quit(); } });
  await adminQuery(`DROP DATABASE IF EXISTS ${BENCH_DB} WITH (FORCE)`);
  await mysqlAdmin(`DROP DATABASE IF EXISTS \`${GRID_DB}\``);
  cleanups.push({ what: `PostgreSQL database ${BENCH_DB}`, run: () => adminQuery(`DROP DATABASE IF EXISTS ${BENCH_DB} WITH (FORCE)`) });
  cleanups.push({ what: `MariaDB database ${GRID_DB}`, run: () => mysqlAdmin(`DROP DATABASE IF EXISTS \`${GRID_DB}\``) });
  const config = AppConfig.of({ DATABASE_URL: BENCH_URL, LOG_LEVEL: 'silent' });
  let t = Date.now();
  await migrate(config);
  log(`database ${BENCH_DB} migrated in ${f1((Date.now() - t) / 1000)} s`);
  const db = new Client({ connectionString: BENCH_URL, application_name: 'linli-bench-probe' });
  await db.connect();
  cleanups.push({ what: 'probe connection', run: () => db.end() });
  const [{ label: pg }] = (await db.query(POSTGRES_LABEL_SQL)).rows as [{ label: string }];

  // ---- 2. residents through the register's write path
  const register = await BenchRegister.open(config);
  cleanups.push({ what: 'register context', run: () => register.close() });
  const communities = communitySeeds(1);
  const perDwelling = 4;
  const dwellings = await register.places(communities, Math.ceil(o.residents / communities.length / perDwelling));
  t = Date.now();
  const residents: BenchResident[] = new Array(o.residents);
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < o.residents) {
      const i = next++;
      residents[i] = await register.addResident(i, dwellings[Math.floor(i / perDwelling) % dwellings.length]!);
    }
  }));
  const createSeconds = (Date.now() - t) / 1000;
  log(`${f0(o.residents)} residents (FLOATING + VETERAN) in ${communities.length} communities created in ${f1(createSeconds)} s (${f0(o.residents / createSeconds)}/s)`);
  const residentOfKey = new Map(residents.map((r, i) => [r.idNumber, i]));
  // The database went from empty to thousands of rows within the minute; autovacuum may not have analysed it yet, and
  // plans made from "the table is empty" statistics scan whole tables per record. A district's database has current
  // statistics, so the bench measures with them too.
  t = Date.now();
  await db.query('ANALYZE');
  log(`statistics gathered (ANALYZE) in ${f1((Date.now() - t) / 1000)} s`);

  // ---- 3. simulators and target files
  const ga = new GaLdrkSimulator({ port: 0, serviceHours: null, ratePerSecond: 1_000_000, credentials: { username: CREDENTIALS.GA_LDRK_USER, password: CREDENTIALS.GA_LDRK_PASSWORD } });
  const veterans = new RestInboxSimulator({ port: 0, name: 'ty-veterans', token: CREDENTIALS.REST_INBOX_TOKEN });
  const inbox = new RestInboxSimulator({ port: 0, name: 'bench-inbox', token: CREDENTIALS[BENCH_INBOX_TOKEN_ENV] });
  const grid = new ZzGridSimulator({ mysqlUrl: MYSQL_SERVER, database: GRID_DB, processIntervalMs: o.gridSweepMs });
  for (const s of [ga, veterans, inbox, grid]) {
    await s.start();
    cleanups.push({ what: `simulator ${s.name}`, run: () => s.stop() });
  }
  await installGridObserver(MYSQL_SERVER, GRID_DB);
  const receipts: Record<string, Receipt[]> = {
    'ga-ldrk': observeStore(ga, (r) => r['LXDH']),
    'ty-veterans': observeStore(veterans, (r) => (r['fields'] as Record<string, unknown>)['lxdh']),
    'bench-inbox': observeStore(inbox, (r) => (r['fields'] as Record<string, unknown>)['lxdh']),
  };
  const dir = mkdtempSync(join(tmpdir(), 'linli-bench-sync-'));
  cleanups.push({ what: 'temporary directory', run: async () => rmSync(dir, { recursive: true, force: true }) });
  const targets = writeBenchTargets(dir, {
    gaUrl: ga.url, veteransUrl: veterans.url, benchInboxUrl: inbox.url, zzGridUrl: CREDENTIALS.ZZ_GRID_DB_URL,
    ratePerSecond: o.targetRate, concurrency: o.concurrency,
  });
  log(`simulators: ga-ldrk ${ga.url}, ty-veterans ${veterans.url}, bench-inbox ${inbox.url}, zz-grid MariaDB ${GRID_DB}; targets in ${dir}`);

  // ---- 4. raw BullMQ
  const httpServer: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = '{"ref":"RAW-00000001"}';
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(body.length) });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  cleanups.push({ what: 'bare HTTP server', run: () => new Promise<void>((resolve) => { httpServer.close(() => resolve()); httpServer.closeAllConnections(); }) });
  const httpUrl = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/records`;
  const specs: RawQueueSpec[] = targets.map((tg) => ({ name: `bench-raw-${tg.name}`, concurrency: tg.concurrency, ratePerSecond: tg.ratePerSecond }));
  const raw: RawResult[] = [];
  for (const mode of ['noop', 'http'] as const) {
    log(`raw BullMQ (${mode === 'noop' ? 'no-op processor' : 'bare HTTP PUT per job'}), ${o.rawSeconds} s…`);
    const r = await rawPhase(mode, specs, httpUrl, o.rawSeconds);
    raw.push(r);
    log(`  ${f0(r.jobsPerSecond)} jobs/s`);
  }
  await redis.flushdb();

  // ---- 5. the hub: start-up (initial load of every resident to every target)
  const metricsPort = await freePort();
  const workerEnv: Record<string, string> = {
    NODE_ENV: 'development', LOG_LEVEL: 'warn', DATABASE_URL: BENCH_URL, REDIS_URL, SYNC_TARGETS_DIR: dir, METRICS_PORT: String(metricsPort),
    ...CREDENTIALS,
    ...(o.workerPool ? { DATABASE_POOL_SIZE: String(o.workerPool) } : {}),
  };
  const probeConnection = bullConnection(REDIS_URL);
  cleanups.push({ what: 'probe Redis connection', run: () => probeConnection.quit() });
  const probe = new Probe(probeConnection, targets, db);
  cleanups.push({ what: 'probe queues', run: () => probe.close() });
  const expected = o.residents * targets.length;
  log(`starting the hub worker (initial load: ${f0(expected)} deliveries)…`);
  const loadCpu0 = sampleCpu();
  const loadT0 = Date.now();
  const worker = await startWorker(workerEnv, join(dir, 'worker.log'), metricsPort);
  const readyAt = Date.now();
  const loadSampler = sampler(probe, loadT0, 5000);
  let loadDoneAt: number | null = null;
  while (Date.now() < readyAt + o.loadTimeout * 1000) {
    const [{ n, pending }] = (await db.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'PENDING')::int AS pending FROM sync_state`)).rows as [{ n: number; pending: number }];
    if (n >= expected && pending === 0) {
      loadDoneAt = Date.now();
      break;
    }
    if (worker.exitCode !== null) throw new Error(`the hub worker exited (${worker.exitCode}); see ${join(dir, 'worker.log')}`);
    await sleep(250);
  }
  await loadSampler.stop();
  const loadCpu1 = sampleCpu();
  const afterLoad = await scrape(metricsPort);
  const [loadStates] = (await db.query(`SELECT count(*) FILTER (WHERE status = 'DELIVERED')::int AS delivered, count(*) FILTER (WHERE status IN ('DEAD','FAILED'))::int AS failed FROM sync_state`)).rows as [{ delivered: number; failed: number }];
  const loadSeconds = ((loadDoneAt ?? Date.now()) - loadT0) / 1000;
  log(`initial load ${loadDoneAt ? 'done' : 'NOT done'} in ${f1(loadSeconds)} s after the worker was started (${f1((readyAt - loadT0) / 1000)} s to start): `
    + `${f0(loadStates.delivered)} delivered, ${loadStates.failed} failed`);
  await sleep(2000);

  // ---- 6. sustained changes
  const [{ startEvent }] = (await db.query(`SELECT COALESCE(max(id), 0)::text AS "startEvent" FROM outbox_event`)).rows as [{ startEvent: string }];
  const m0 = await scrape(metricsPort);
  const cpu0 = sampleCpu();
  const t0 = Date.now();
  const depth = sampler(probe, t0, 5000);
  const activityDb = new Client({ connectionString: BENCH_URL, application_name: 'linli-bench-activity' });
  await activityDb.connect();
  cleanups.push({ what: 'activity connection', run: () => activityDb.end() });
  const activity = activitySampler(activityDb, 250);
  log(`sustained: ${o.rate} changes/s for ${o.seconds} s…`);
  const load = await driveChanges(register, residents, o.rate, o.seconds);
  const t1 = Date.now();
  const pgActivity = await activity.stop();
  const m1 = await scrape(metricsPort);
  const cpu1 = sampleCpu();
  log(`  ${f0(load.changes.length)} changes committed in ${f1(load.elapsed)} s (${f1(load.changes.length / load.elapsed)}/s), ${load.errors} errors`);
  let drainedAt: number | null = null;
  while (Date.now() < t1 + o.drainTimeout * 1000) {
    if (Probe.idle(await probe.depth(t0))) {
      drainedAt = Date.now();
      break;
    }
    if (worker.exitCode !== null) throw new Error(`the hub worker exited (${worker.exitCode}); see ${join(dir, 'worker.log')}`);
    await sleep(250);
  }
  await depth.stop();
  const m2 = await scrape(metricsPort);
  log(drainedAt ? `  drained ${f1((drainedAt - t1) / 1000)} s after the last change` : `  NOT drained within ${o.drainTimeout} s`);

  // commit timestamps: the k-th updateResident outbox event of a resident is its k-th change (never concurrent)
  const events = (await db.query(
    `SELECT o.aggregate_id::text AS resident, (extract(epoch FROM o.occurred_at) * 1000)::float8 AS at FROM outbox_event o
      WHERE o.id > $1::bigint AND o.event_type = 'updateResident' ORDER BY o.id`, [startEvent],
  )).rows as { resident: string; at: number }[];
  const eventsOf = new Map<string, number[]>();
  for (const e of events) eventsOf.set(e.resident, [...(eventsOf.get(e.resident) ?? []), e.at]);
  const used = new Map<number, number>();
  for (const c of load.changes) {
    const k = used.get(c.resident) ?? 0;
    used.set(c.resident, k + 1);
    c.occurredAt = eventsOf.get(residents[c.resident]!.id)?.[k] ?? c.committedAt;
  }
  receipts['zz-grid'] = await readGridReceipts(MYSQL_SERVER, GRID_DB);

  // ---- 7. results
  const window = (t1 - t0) / 1000;
  const withDrain = ((drainedAt ?? Date.now()) - t0) / 1000;
  const rows = targets.map((tg) => {
    const lat = latencies(load.changes, receipts[tg.name] ?? [], residentOfKey);
    const sorted = lat.ms.sort((a, b) => a - b);
    const inWindow = (receipts[tg.name] ?? []).filter((r) => r.at >= t0 && r.at <= t1).length;
    const buckets = bucketsBetween(m0, m2, 'linli_sync_commit_to_ack_seconds', tg.name);
    return {
      target: tg.name, protocol: tg.protocol, concurrency: tg.concurrency,
      delivered: (total(m1, 'linli_sync_delivered_total', { target: tg.name }) - total(m0, 'linli_sync_delivered_total', { target: tg.name })) / window,
      deliveredWithDrain: (total(m2, 'linli_sync_delivered_total', { target: tg.name }) - total(m0, 'linli_sync_delivered_total', { target: tg.name })) / withDrain,
      writes: inWindow / window,
      p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? null, n: sorted.length, missing: lat.missing,
      fromCommit: latencies(load.changes, receipts[tg.name] ?? [], residentOfKey, (c) => c.committedAt).ms.sort((a, b) => a - b),
      hubP50: histogramQuantile(buckets, 0.5), hubP99: histogramQuantile(buckets, 0.99), hubUnder1s: shareAtOrUnder(buckets, 1),
      stale: total(m2, 'linli_sync_stale_skipped_total', { target: tg.name }) - total(m0, 'linli_sync_stale_skipped_total', { target: tg.name }),
      retried: total(m2, 'linli_sync_retried_total', { target: tg.name }) - total(m0, 'linli_sync_retried_total', { target: tg.name }),
      dead: total(m2, 'linli_sync_dead_letters_total', { target: tg.name }) - total(m0, 'linli_sync_dead_letters_total', { target: tg.name }),
      sorted, slowest: lat.slowest,
    };
  });
  const all = rows.flatMap((r) => r.sorted).sort((a, b) => a - b);
  const allBuckets = bucketsBetween(m0, m2, 'linli_sync_commit_to_ack_seconds', null);
  const totalDelivered = rows.reduce((a, r) => a + r.delivered, 0);
  const totalWithDrain = rows.reduce((a, r) => a + r.deliveredWithDrain, 0);
  const loadDelivered = total(afterLoad, 'linli_sync_delivered_total');
  // From the first write any target saw (the worker delivers before its metrics endpoint answers) to the end.
  const firstWrite = Math.min(readyAt, ...Object.values(receipts).flatMap((list) => (list[0] && list[0].at >= loadT0 ? [list[0].at] : [])));
  const loadRate = loadDelivered / ((loadDoneAt ?? Date.now()) - firstWrite) * 1000;
  const rawNoop = raw.find((r) => r.mode === 'noop')!;
  const rawHttp = raw.find((r) => r.mode === 'http')!;

  console.log('');
  console.log('=== Linli sync hub benchmark ===');
  console.log(`machine: ${machine}; PostgreSQL ${pg}`);
  console.log(`command: ${command}`);
  console.log(`setup:   ${f0(o.residents)} residents, each held by ${targets.length} real-time targets; created through the register's write path in ${f1(createSeconds)} s`);
  console.log(`targets (rewritten from deploy/targets + bench-inbox; no service hours, ratePerSecond raised to --target-rate); worker DATABASE_POOL_SIZE ${o.workerPool ?? '10 (default)'}:`);
  for (const tg of targets) console.log(`  ${tg.name.padEnd(12)} ${tg.protocol.padEnd(12)} concurrency ${tg.concurrency}, ratePerSecond ${tg.ratePerSecond}, timeoutMs ${tg.timeoutMs}`);
  console.log('');
  console.log(`1. Raw BullMQ, same 4 queues / options / concurrency (${specs.map((s) => s.concurrency).join('+')}), consumer in a child process, ${o.rawSeconds} s each:`);
  for (const r of raw) {
    console.log(`   ${r.mode === 'noop' ? 'no-op processor     ' : 'bare HTTP PUT per job'}  ${f0(r.jobsPerSecond).padStart(7)} jobs/s   (${Object.entries(r.perQueue).map(([k, v]) => `${k.replace('bench-raw-', '')} ${f0(v)}`).join(', ')})`
      + `${r.ranDry ? '  LOWER BOUND: a queue ran dry' : ''}`);
  }
  console.log('');
  console.log(`2. Hub start-up / backlog drain: relay of the set-up outbox (${f0(o.residents * 3)} events) + reconciler initial load, ${f0(expected)} deliveries`);
  console.log(`   worker up in ${f1((readyAt - loadT0) / 1000)} s; all delivered ${loadDoneAt ? `${f1((loadDoneAt - firstWrite) / 1000)} s after the first write` : 'NOT within --load-timeout'}: `
    + `${f0(loadRate)} deliveries/s (hub counter ${f0(loadDelivered)}); ${loadStates.failed} dead/failed`);
  console.log('');
  console.log(`3. Sustained: offered ${o.rate} changes/s × ${o.seconds} s = ${f0(o.rate * o.seconds)}; committed ${f0(load.changes.length)} (${f1(load.changes.length / load.elapsed)}/s), `
    + `${load.errors} errors${load.firstErrors.length ? ` (${load.firstErrors.join(' | ')})` : ''}, max ${load.maxInFlight} changes in flight${load.skippedBusy ? `, ${load.skippedBusy} skipped` : ''}`);
  console.log('   deliveries/s: hub counter linli_sync_delivered_total over the window; "writes/s": records written at the target in the window');
  console.log('   commit→ack: outbox occurred_at → write at the target, per change (a change overtaken before delivery counts from its own commit to the newer state\'s arrival)');
  console.log('   target        deliv/s  +drain  writes/s    p50      p99      max   changes missing | hub histogram p50 / p99 / ≤1s | stale retried dead');
  for (const r of rows) {
    console.log(`   ${r.target.padEnd(12)} ${f1(r.delivered).padStart(7)} ${f1(r.deliveredWithDrain).padStart(7)} ${f1(r.writes).padStart(8)} ${ms(r.p50).padStart(8)} ${ms(r.p99).padStart(8)} ${ms(r.max).padStart(8)}`
      + ` ${String(r.n).padStart(8)} ${String(r.missing).padStart(7)} | ${f2(r.hubP50)} s / ${f2(r.hubP99)} s / ${r.hubUnder1s === null ? 'n/a' : `${(r.hubUnder1s * 100).toFixed(1)}%`}`
      + ` | ${r.stale} ${r.retried} ${r.dead}`);
  }
  console.log(`   ${'total'.padEnd(12)} ${f1(totalDelivered).padStart(7)} ${f1(totalWithDrain).padStart(7)} ${f1(rows.reduce((a, r) => a + r.writes, 0)).padStart(8)} ${ms(percentile(all, 50)).padStart(8)} ${ms(percentile(all, 99)).padStart(8)} ${ms(all.at(-1) ?? null).padStart(8)}`
    + ` ${String(all.length).padStart(8)} ${String(rows.reduce((a, r) => a + r.missing, 0)).padStart(7)} | ${f2(histogramQuantile(allBuckets, 0.5))} s / ${f2(histogramQuantile(allBuckets, 0.99))} s / ${shareAtOrUnder(allBuckets, 1) === null ? 'n/a' : `${(shareAtOrUnder(allBuckets, 1)! * 100).toFixed(1)}%`}`);
  const allFromCommit = rows.flatMap((r) => r.fromCommit).sort((a, b) => a - b);
  console.log(`   from the commit as the writer saw it return (the outbox row is written earlier in the same transaction, and a`
    + ` saturated load generator keeps transactions open): ${rows.map((r) => `${r.target} ${ms(percentile(r.fromCommit, 50))} / ${ms(percentile(r.fromCommit, 99))}`).join(', ')};`
    + ` all ${ms(percentile(allFromCommit, 50))} / ${ms(percentile(allFromCommit, 99))} (p50 / p99)`);
  console.log(`   slowest changes (change #, at t s into the window, latency): ${rows.map((r) => `${r.target} ${r.slowest.map((x) => `#${x.change.seq}@${f1((x.change.occurredAt - t0) / 1000)}s ${ms(x.ms)}`).join(', ')}`).join('; ')}`);
  console.log(`   drain: ${drainedAt ? `${f1((drainedAt - t1) / 1000)} s from the last change to empty queues, empty outbox and no pending state` : `NOT drained within ${o.drainTimeout} s`}`);
  console.log(`   outbox events relayed: ${f0(total(m2, 'linli_sync_outbox_relayed_total') - total(m0, 'linli_sync_outbox_relayed_total'))}`);
  console.log('');
  console.log('   queue depth (waiting / delayed / active per target; outbox = unrelayed events; pending = sync_state PENDING):');
  console.log(`   ${'t (s)'.padStart(6)}  ${targets.map((tg) => tg.name.padStart(16)).join(' ')} ${'outbox'.padStart(7)} ${'pending'.padStart(8)}`);
  for (const s of depth.samples) {
    console.log(`   ${f0(s.t).padStart(6)}  ${targets.map((tg) => {
      const q = s.queues[tg.name];
      return (q ? `${q.waiting}/${q.delayed}/${q.active}` : '?').padStart(16);
    }).join(' ')} ${String(s.outbox).padStart(7)} ${String(s.pending).padStart(8)}`);
  }
  console.log('');
  console.log('   PostgreSQL during the sustained window (pg_stat_activity every 250 ms):');
  for (const line of reportActivity(pgActivity)) console.log(line);
  console.log('');
  const splits = [rawNoop.cpu, rawHttp.cpu, cpuSplit('hub start-up load', loadCpu0, loadCpu1, worker.pid, BENCH_DB), cpuSplit('hub sustained window', cpu0, cpu1, worker.pid, BENCH_DB)];
  console.log(`4. CPU (cores; the machine has ${cpus().length}): consumer = the raw consumer or the hub worker; bench = this process (load generator, simulators, HTTP server)`);
  console.log(`   ${'phase'.padEnd(22)} consumer  bench  postgres  mariadb  redis  other  machine`);
  for (const s of splits) {
    if (!s) continue;
    console.log(`   ${s.phase.padEnd(22)} ${f2(s.child).padStart(8)} ${f2(s.bench).padStart(6)} ${f2(s.postgres).padStart(9)} ${f2(s.mariadb).padStart(8)} ${f2(s.redis).padStart(6)} ${f2(s.other).padStart(6)} ${f2(s.machine).padStart(8)}`);
  }
  console.log('');
  const overallP99 = percentile(all, 99);
  const worstP99 = Math.max(...rows.map((r) => r.p99 ?? Infinity));
  console.log('5. Against the targets (figures, not assertions):');
  console.log(`   deliveries ≥ ${TARGETS.deliveriesOverRawHttp}× bare BullMQ+HTTP (${f0(rawHttp.jobsPerSecond)} jobs/s → ${f0(rawHttp.jobsPerSecond * TARGETS.deliveriesOverRawHttp)}/s):`);
  console.log(`     hub capacity (start-up backlog drain) ${f0(loadRate)}/s = ${f2(loadRate / rawHttp.jobsPerSecond)}×`);
  console.log(`     sustained window ${f0(totalDelivered)}/s = ${f2(totalDelivered / rawHttp.jobsPerSecond)}× (bounded by the offered ${o.rate} changes/s × ${targets.length} targets = ${f0(o.rate * targets.length)}/s)`);
  console.log(`     (no-op BullMQ: ${f0(rawNoop.jobsPerSecond)} jobs/s)`);
  console.log(`   p99 commit→ack < ${TARGETS.p99Seconds} s at ${TARGETS.atRate} changes/s with ${TARGETS.targetCount} targets: this run ${o.rate} changes/s, ${targets.length} targets: `
    + `p99 over all ${ms(overallP99)}, worst target ${ms(Number.isFinite(worstP99) ? worstP99 : null)} → ${overallP99 !== null && worstP99 < TARGETS.p99Seconds * 1000 ? 'met' : 'NOT met'}`
    + ` (from the outbox row); from the commit as its writer saw it: p99 over all ${ms(percentile(allFromCommit, 99))};`
    + ` committed ${f1(load.changes.length / load.elapsed)} changes/s of the ${o.rate} offered`);
  console.log('');
  console.log(`worker log: ${summarizeLog(join(dir, 'worker.log'))}`);
}

main()
  .then(() => cleanupAll())
  .then(() => {
    log(`cleaned up: worker stopped, simulators stopped, databases dropped, Redis database ${INSTANCE.redisDb} flushed`);
    process.exit(0);
  })
  .catch(async (err: unknown) => {
    console.error(err instanceof Error ? err.stack ?? err.message : err);
    await cleanupAll();
    process.exit(1);
  });
