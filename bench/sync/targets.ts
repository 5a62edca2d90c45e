import { existsSync, readFileSync, writeFileSync } from 'fs';
import { dirname, join } from 'path';
import { parse, stringify } from 'yaml';

/**
 * BENCH ONLY: the target files of `npm run bench:sync`, written into a temporary SYNC_TARGETS_DIR.
 *
 * The three real-time targets of deploy/targets (ga-ldrk, ty-veterans, zz-grid) are read and rewritten like
 * test/support/sync-harness.ts does: endpoints pointing at the simulators on their free ports, no closing hours,
 * and a rate limit above the offered load (the committed limits of 20 and 50 deliveries/s per target would be the
 * bottleneck at 200 changes/s, and they stand for the legacy systems' limits, not the hub's). Concurrency, timeouts
 * and retries are kept as committed unless `concurrency` is given. A fourth, bench-only REST target (`bench-inbox`)
 * subscribes to every resident, so that each resident is held by four real-time targets.
 */

export interface BenchTargetOptions {
  gaUrl: string;
  veteransUrl: string;
  benchInboxUrl: string;
  /** mysql://root@127.0.0.1:3306/<database> of the zz-grid simulator. */
  zzGridUrl: string;
  /** limits.ratePerSecond written into every file. */
  ratePerSecond: number;
  /** limits.concurrency for every file; the committed values when null. */
  concurrency: number | null;
}

export interface BenchTarget {
  name: string;
  file: string;
  protocol: string;
  concurrency: number;
  ratePerSecond: number;
  timeoutMs: number;
}

/** Environment variable the bench-only target names for its bearer token. */
export const BENCH_INBOX_TOKEN_ENV = 'BENCH_INBOX_TOKEN';

/** The repository root (the directory holding deploy/targets), from src (bench/sync) or dist (dist/bench/sync). */
export function repositoryRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'deploy', 'targets', 'ga-ldrk.yaml'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find deploy/targets above ' + __dirname);
}

type TargetDoc = Record<string, unknown> & {
  name: string;
  protocol: string;
  endpoint: Record<string, unknown>;
  limits?: { ratePerSecond?: number; concurrency?: number; timeoutMs?: number };
};

function finish(dir: string, file: string, t: TargetDoc, o: BenchTargetOptions): BenchTarget {
  t.serviceHours = null;
  const committed = t.limits ?? {};
  t.limits = {
    ratePerSecond: o.ratePerSecond,
    concurrency: o.concurrency ?? committed.concurrency ?? 2,
    timeoutMs: committed.timeoutMs ?? 5000,
  };
  writeFileSync(join(dir, file), stringify(t));
  return { name: t.name, file, protocol: t.protocol, concurrency: t.limits.concurrency!, ratePerSecond: o.ratePerSecond, timeoutMs: t.limits.timeoutMs! };
}

export function writeBenchTargets(dir: string, o: BenchTargetOptions): BenchTarget[] {
  const source = join(repositoryRoot(), 'deploy', 'targets');
  const read = (file: string) => parse(readFileSync(join(source, file), 'utf8')) as TargetDoc;
  const out: BenchTarget[] = [];

  const ga = read('ga-ldrk.yaml');
  ga.endpoint.url = o.gaUrl;
  out.push(finish(dir, 'ga-ldrk.yaml', ga, o));

  const veterans = read('ty-veterans.yaml');
  veterans.endpoint.url = o.veteransUrl;
  out.push(finish(dir, 'ty-veterans.yaml', veterans, o));

  const grid = read('zz-grid.yaml');
  grid.endpoint.url = o.zzGridUrl; // credentials.url (ZZ_GRID_DB_URL) is set to the same URL for the worker
  out.push(finish(dir, 'zz-grid.yaml', grid, o));

  // Bench only: a second REST inbox that holds everyone (no tags, no population types).
  const inbox: TargetDoc = {
    name: 'bench-inbox',
    title: 'Bench-only REST inbox (all residents)',
    line: 'BENCH',
    protocol: 'rest',
    endpoint: { url: o.benchInboxUrl, auth: 'bearer' },
    credentials: { token: BENCH_INBOX_TOKEN_ENV },
    subscribe: { aggregate: 'RESIDENT' },
    key: 'sfzh',
    fields: {
      sfzh: { from: 'idNumber' },
      xm: { from: 'name' },
      xb: { from: 'sex' },
      csrq: { from: 'birthDate', format: 'YYYY-MM-DD' },
      lxdh: { from: 'phone', optional: true },
      sq: { from: 'communityName' },
      dz: { from: 'residence.address', optional: true },
    },
    schedule: { mode: 'realtime' },
    limits: { ratePerSecond: 50, concurrency: 32, timeoutMs: 5000 },
    retry: { attempts: 8, backoffMs: 500, maxBackoffMs: 60000 },
  };
  out.push(finish(dir, 'bench-inbox.yaml', inbox, o));
  return out;
}
