import 'reflect-metadata';
import { ChildProcess, spawn } from 'child_process';
import { once } from 'events';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { createRequire } from 'module';
import { cpus, loadavg, tmpdir, totalmem } from 'os';
import { join } from 'path';
import { parseArgs } from 'util';
import { buildSchema, Kind, OperationDefinitionNode, parse } from 'graphql';
import { DataSource } from 'typeorm';
import { AppConfig, postgresOptions } from '@linli/core';
import { operationCost, PURPOSE_HEADER } from '@linli/access';
import { migrate } from '../apps/cli/src/migrate';
import { formatSummary, MAX_RESIDENTS, seedDemoDistrict } from '../apps/cli/src/seed/demo-district.seed';
import { averageSplits, CpuSplit, cpuSplit, formatSplit, sampleCpu } from './query/cpu';
import { formatPool, PoolSnapshot, samplePool } from './query/pool';
import { POSTGRES_LABEL_SQL, sleep } from './support';

/**
 * Query benchmark: `npm run bench:query [-- --residents N] [-- --connections N,N,…] [-- --warmup S] [-- --duration S]
 *   [-- --port P] [-- --baseline-port P] [-- --only baseline|full] [-- --rounds N] [-- --scenarios page,pageCount,lookup]
 *   [-- --processes N] [-- --cpu-prof DIR]`.
 *
 * 1. Prepares the database `linli_bench_query` (created and migrated if needed) and fills it with the synthetic demo
 *    district (1,000,000 residents by default) unless it already holds at least that many residents; creates the demo
 *    accounts (`admin demo-accounts`, idempotent).
 * 2. BASELINE "register only": starts bench/query/register-only.main.ts as a child process — the same codes, places and
 *    registry modules (resolvers, services, DataLoaders) with Apollo, but no access module, no access plugin, no
 *    field access wrappers and no audit; every request has a full-access development context.
 * 3. FULL PLATFORM: starts the real API (`dist/apps/api/src/main.js`, NODE_ENV development, LOG_LEVEL warn) as a
 *    child process and calls it as the demo civil-affairs department client: bearer token from `clientToken`,
 *    purpose header SOCIAL_ASSISTANCE; access rules, the masking wrappers and the audit append all run.
 *    QUERY_COST_PER_MINUTE is raised to 1,000,000,000 for the child so the bench measures throughput, not the
 *    per-principal budget (the cost of each request and what the default budget would allow are printed).
 *    Unless SYNC_TARGETS_DIR is set, the API gets an empty sync targets directory (reads sync nothing, and the
 *    committed targets need legacy credentials in the environment before the API starts).
 *    `--cpu-prof DIR` starts both servers with `node --cpu-prof` (a .cpuprofile per process in DIR, written at exit).
 *    Both servers run as the API runs: a supervising primary with `--processes` workers (API_PROCESSES, default as
 *    configured: 1) started with the API's V8 flags (apps/api/src/cluster.ts). On a 2-core machine that also runs
 *    PostgreSQL and the load generator, a second worker only adds contention.
 * 4. Both servers stay up; per scenario each is warmed up, then, for each level of concurrent connections in turn
 *    (`--connections`, default 20, 50, 100), they are measured in `--rounds` alternating windows (default 3, of
 *    duration / rounds seconds each), so that load from elsewhere on a shared machine weighs on both alike. With
 *    autocannon, three GraphQL scenarios:
 *    - a 50-row `residents` page of the largest community with household and tags (as the issue states it), and the
 *      same page with its totalCount (a list screen's "20,647 residents");
 *    - `residentByIdNumber` with a different existing ID number on every request.
 *    One response per scenario is checked first (no errors, the expected shape, the same rows on both servers).
 * 5. The verdict compares capacities: each server's best requests/s over the levels. The ratio at every level is
 *    printed beside it (see CONNECTION_LEVELS for why one level alone does not measure the access layer's cost).
 * Prints req/s, p50 / p99 latency, errors, the ratio full / baseline, the targets, the audit rows written, where
 * the CPU went, and whether the server's JavaScript thread was running, waiting for a CPU or idle (a server can fall
 * short by its own work per request, by being preempted on a busy machine, or by waiting on I/O with nothing to do).
 * Figures only; nothing is asserted.
 */

const BENCH_DB = 'linli_bench_query';
const TARGETS = { page: 1_000, lookup: 4_000, fullOverBaseline: 0.8 } as const;
const ID_SAMPLE = 20_000;
/**
 * Concurrent connections measured, in turn, for every scenario and server. A server's requests/s is its capacity: the
 * most it answers when offered enough load. A closed loop of few connections measures something else for a server
 * whose requests wait longer on I/O: every audited read of the full platform also waits for its audit row's commit, so
 * at 20 connections it answers well below what it answers at 50 or 100, while the register-only server is near its
 * plateau at 20 already. Each level is reported; the verdict compares each server's best level.
 */
const CONNECTION_LEVELS = [20, 50, 100];
/** Warm-up before the second and later levels: the server is warm already; autocannon only opens its connections. */
const LEVEL_WARMUP_SECONDS = 3;
/** After a window, the requests still in flight finish and append their audit rows within this time. */
const AUDIT_SETTLE_MS = 300;
/** The demo department client created by `admin demo-accounts` (never valid in production). */
const CLIENT = { id: 'demo-civil-affairs', secret: 'demo-civil-affairs-secret-2026', purpose: 'SOCIAL_ASSISTANCE' } as const;
/** Raised for the API child so that the per-principal budget does not throttle the bench (default 600,000). */
const BENCH_COST_PER_MINUTE = 1_000_000_000;
const DEFAULT_COST_PER_MINUTE = 600_000;
/** application_name of the servers' connections (postgresOptions); the bench's own connections use another. */
const SERVER_APPLICATION_NAME = 'linli';

/** DATABASE_POOL_SIZE as the server children see it (inherited from this environment). */
function poolSize(): number {
  return AppConfig.fromEnv().get('DATABASE_POOL_SIZE');
}

// ---- autocannon has no type declarations; these describe the part of its programmatic API used here.
interface CannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (request: CannonRequest, context: Record<string, unknown>) => CannonRequest;
  onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
}
interface CannonOptions {
  url: string;
  connections: number;
  pipelining: number;
  duration: number;
  method: string;
  headers: Record<string, string>;
  body?: string;
  requests?: CannonRequest[];
}
interface CannonHistogram {
  mean: number;
  p50: number;
  p99: number;
  max: number;
  total?: number;
}
interface CannonResult {
  requests: CannonHistogram;
  latency: CannonHistogram;
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
}
type Autocannon = (options: CannonOptions) => PromiseLike<CannonResult>;
const autocannon = createRequire(__filename)('autocannon') as Autocannon;

type ScenarioKey = 'page' | 'pageCount' | 'lookup';
type TargetKey = 'baseline' | 'full';

interface Scenario {
  key: ScenarioKey;
  name: string;
  target: number;
  query: string;
  /** Variables of the next request (rotating for the lookup). */
  variables: () => Record<string, unknown>;
  /** Text of a response that found nothing (counted, not an error). */
  notFound?: string;
}

interface ScenarioResult {
  target: TargetKey;
  scenario: ScenarioKey;
  name: string;
  /** autocannon's concurrent connections (a closed loop: each sends its next request when the answer arrives). */
  connections: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  total: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  graphqlErrors: number;
  misses: number;
  /** Rows added to audit_log during the measurement (warm-up excluded). */
  auditRows: number;
  /** Seconds measured (the rounds together). */
  seconds: number;
  /** Requests/s of each round, in order (rounds alternate between the servers, so round i of each forms a pair). */
  roundRates: number[];
  cpu: CpuSplit | null;
  /** The server's database connections during the measurement (pg_stat_activity). */
  pool: PoolSnapshot | null;
}

function options() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      residents: { type: 'string', default: String(MAX_RESIDENTS) },
      connections: { type: 'string', default: CONNECTION_LEVELS.join(',') },
      warmup: { type: 'string', default: '10' },
      duration: { type: 'string', default: '30' },
      port: { type: 'string', default: '3300' },
      'baseline-port': { type: 'string', default: '3301' },
      only: { type: 'string' },
      rounds: { type: 'string', default: '3' },
      scenarios: { type: 'string', default: 'page,pageCount,lookup' },
      processes: { type: 'string', default: String(AppConfig.fromEnv().get('API_PROCESSES')) },
      'cpu-prof': { type: 'string' },
    },
    strict: true,
  });
  const int = (name: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}`);
    return n;
  };
  if (values.only !== undefined && values.only !== 'baseline' && values.only !== 'full') throw new Error('--only must be baseline or full');
  const o = {
    residents: int('residents', values.residents, 1, MAX_RESIDENTS),
    connections: [...new Set((values.connections ?? '').split(',').map((x) => int('connections', x.trim(), 1, 1000)))].sort((a, b) => a - b),
    warmup: int('warmup', values.warmup, 0, 600),
    duration: int('duration', values.duration, 1, 3600),
    port: int('port', values.port, 1, 65535),
    baselinePort: int('baseline-port', values['baseline-port'], 1, 65535),
    only: values.only as TargetKey | undefined,
    rounds: int('rounds', values.rounds, 1, 100),
    processes: int('processes', values.processes, 1, 64),
    cpuProfDir: values['cpu-prof'],
    scenarios: (values.scenarios ?? '').split(',').map((x) => x.trim()).filter(Boolean) as ScenarioKey[],
  };
  const known: ScenarioKey[] = ['page', 'pageCount', 'lookup'];
  if (o.scenarios.length === 0 || o.scenarios.some((x) => !known.includes(x))) throw new Error(`--scenarios takes a comma-separated list of ${known.join(', ')}`);
  if (o.port === o.baselinePort) throw new Error('--port and --baseline-port must differ');
  return o;
}

const log = (line: string) => console.log(`[bench:query] ${line}`);

/** The bench database: same server and credentials as the configured DATABASE_URL, database `linli_bench_query`. */
function benchDatabaseUrl(): string {
  const url = new URL(AppConfig.fromEnv().get('DATABASE_URL'));
  url.pathname = `/${BENCH_DB}`;
  return url.toString();
}

async function prepareDatabase(databaseUrl: string, residents: number): Promise<DataSource> {
  const config = AppConfig.of({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' });
  await migrate(config, (line) => log(line));
  const ds = new DataSource({ ...postgresOptions(config), extra: { max: 2, application_name: 'linli-bench' } });
  await ds.initialize();
  const [{ n }] = (await ds.query(`SELECT count(*)::int AS n FROM resident`)) as { n: number }[];
  if (n >= residents) {
    log(`database already holds ${n} residents (≥ ${residents}); not seeding`);
    return ds;
  }
  log(`database holds ${n} residents; seeding ${residents} …`);
  const summary = await seedDemoDistrict(ds, { residents, reset: true, log: (line) => log(line) });
  for (const line of formatSummary(summary).split('\n')) log(line);
  const started = Date.now();
  await ds.query(`VACUUM (ANALYZE) resident, household, household_member, residence, resident_tag, household_tag, change_history, dwelling, building`);
  log(`VACUUM ANALYZE in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return ds;
}

/** Runs a node script to completion with the bench's database; returns its stdout. */
async function runNode(script: string, args: string[], env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => { out += c.toString('utf8'); });
  child.stderr?.on('data', (c: Buffer) => { err += c.toString('utf8'); });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${script} ${args.join(' ')} exited with ${code}: ${err.trim() || out.trim()}`);
  return out;
}

interface Server {
  label: string;
  process: ChildProcess;
  baseUrl: string;
  stderr: () => string;
}

async function portInUse(baseUrl: string): Promise<boolean> {
  try {
    await fetch(baseUrl, { signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}

/** Starts a server child process and waits until `ready` answers true. */
async function startServer(label: string, script: string, port: number, env: Record<string, string>, ready: (baseUrl: string) => Promise<boolean>, cpuProfDir?: string): Promise<Server> {
  const baseUrl = `http://localhost:${port}`;
  if (await portInUse(baseUrl)) throw new Error(`port ${port} is already in use; stop that server or pass another port`);
  // The child inherits this environment (PATH, REDIS_URL …) with the bench's database and settings on top.
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const child = spawn(process.execPath, [...nodeArgs, script], { env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'inherit', 'pipe'] });
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    errors = (errors + chunk.toString('utf8')).slice(-4000);
  });
  const server: Server = { label, process: child, baseUrl, stderr: () => errors };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      const hint = errors.includes("Cannot find module '@linli/")
        ? '\n(dist/ holds unaliased @linli imports: another build is running or failed after tsc and before tsc-alias; rerun the bench once it is done)' : '';
      throw new Error(`${label} exited with code ${child.exitCode} before it was ready: ${errors.trim()}${hint}`);
    }
    if (await ready(baseUrl).catch(() => false)) return server;
    if (Date.now() > deadline) {
      await stopServer(server);
      throw new Error(`${label} was not ready within 60 s`);
    }
    await sleep(250);
  }
}

async function stopServer(server: Server): Promise<void> {
  const child = server.process;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** The page as the issue states it: 50 rows of one community with household and tags. */
const PAGE_QUERY = `query BenchPage($code: String!) {
  residents(filter: { divisionCode: $code }, first: 50) {
    edges { node { id name sex birthDate household { id householdNumber } tags { code } } }
  }
}`;
/** The same page with its totalCount, as a list screen shows it ("20,647 residents"): one count per request. */
const PAGE_COUNT_QUERY = `query BenchPageCount($code: String!) {
  residents(filter: { divisionCode: $code }, first: 50) {
    totalCount
    edges { node { id name sex birthDate household { id householdNumber } tags { code } } }
  }
}`;
const LOOKUP_QUERY = `query BenchLookup($idNumber: String!) { residentByIdNumber(idNumber: $idNumber) { id name } }`;
const TOKEN_MUTATION = `mutation BenchToken($clientId: String!, $clientSecret: String!) {
  clientToken(clientId: $clientId, clientSecret: $clientSecret) { accessToken expiresIn }
}`;

const JSON_HEADERS = { 'content-type': 'application/json' };

async function graphql(baseUrl: string, headers: Record<string, string>, query: string, variables: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await fetch(`${baseUrl}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  let body: { data?: Record<string, unknown> | null; errors?: unknown[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`GraphQL check failed (${res.status}): not JSON: ${text.slice(0, 300)}`);
  }
  if (!res.ok || body.errors?.length || !body.data) throw new Error(`GraphQL check failed (${res.status}): ${text.slice(0, 500)}`);
  return body.data;
}

// ---- shape checks of one response per scenario

interface PageNode { id: string; name: string; sex: string; birthDate: string; household: { id: string; householdNumber: string } | null; tags: { code: string }[] }
interface Page { totalCount: number; edges: { node: PageNode }[] }

function checkPage(data: Record<string, unknown>, label: string): Page {
  const page = data.residents as Page | undefined;
  const fail = (why: string) => { throw new Error(`${label}: residents page has the wrong shape: ${why}`); };
  if (!page || typeof page.totalCount !== 'number' || !Array.isArray(page.edges)) fail('no totalCount / edges');
  if (page!.edges.length !== 50) fail(`expected 50 rows, got ${page!.edges.length}`);
  if (page!.totalCount < 50) fail(`totalCount ${page!.totalCount} < 50`);
  for (const { node } of page!.edges) {
    if (!node || typeof node.id !== 'string' || typeof node.name !== 'string' || typeof node.sex !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(node.birthDate)) {
      fail(`bad node ${JSON.stringify(node)}`);
    }
    if (node.name.includes('*')) fail(`name is masked (${node.name}); the client should read names in clear`);
    if (node.household !== null && (typeof node.household?.id !== 'string' || typeof node.household.householdNumber !== 'string')) fail(`bad household ${JSON.stringify(node.household)}`);
    if (!Array.isArray(node.tags) || node.tags.some((t) => typeof t?.code !== 'string')) fail(`bad tags ${JSON.stringify(node.tags)}`);
  }
  if (!page!.edges.some(({ node }) => node.household !== null)) fail('no row has a household');
  return page!;
}

function checkLookup(data: Record<string, unknown>, label: string): { id: string; name: string } {
  const r = data.residentByIdNumber as { id?: unknown; name?: unknown } | null | undefined;
  if (!r || typeof r.id !== 'string' || typeof r.name !== 'string') throw new Error(`${label}: residentByIdNumber has the wrong shape: ${JSON.stringify(r)}`);
  return r as { id: string; name: string };
}

/** The query cost the access plugin charges for each scenario (computed from the committed schema.gql). */
function costs(): Partial<Record<ScenarioKey, number>> {
  try {
    const schema = buildSchema(readFileSync(join(__dirname, '..', '..', 'schema.gql'), 'utf8'));
    const cost = (q: string, variables: Record<string, unknown>) => {
      const op = parse(q).definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
      return operationCost(schema, op, {}, variables);
    };
    return { page: cost(PAGE_QUERY, { code: '330203003001' }), pageCount: cost(PAGE_COUNT_QUERY, { code: '330203003001' }), lookup: cost(LOOKUP_QUERY, { idNumber: 'x' }) };
  } catch {
    return {};
  }
}

async function auditCount(ds: DataSource): Promise<number> {
  const [{ n }] = (await ds.query(`SELECT count(*)::int AS n FROM audit_log`)) as { n: number }[];
  return n;
}

function cannonRequests(scenario: Scenario, counters: { graphqlErrors: number; misses: number }): CannonRequest[] {
  return [{
    method: 'POST', path: '/graphql',
    setupRequest: (request) => ({ ...request, body: JSON.stringify({ query: scenario.query, variables: scenario.variables() }) }),
    onResponse: (_status: number, body: string) => {
      if (body.includes('"errors"')) counters.graphqlErrors++;
      else if (scenario.notFound && body.includes(scenario.notFound)) counters.misses++;
    },
  }];
}

/** `connections` closed loops of the scenario's requests against one server for `seconds`. */
function load(server: Server, headers: Record<string, string>, requests: CannonRequest[], connections: number, seconds: number): PromiseLike<CannonResult> {
  return autocannon({ url: `${server.baseUrl}/graphql`, connections, pipelining: 1, method: 'POST', headers, requests, duration: seconds });
}

/** Warm-up before a level: the first level warms the server up; later ones only open autocannon's connections. */
function warmupSeconds(level: number, o: { warmup: number }): number {
  return level === 0 ? o.warmup : Math.min(o.warmup, LEVEL_WARMUP_SECONDS);
}

async function warmUp(server: Server, scenario: Scenario, headers: Record<string, string>, connections: number, seconds: number): Promise<void> {
  if (seconds === 0) return;
  log(`${server.label} / ${scenario.name}: warm-up ${seconds} s at ${connections} connections …`);
  await load(server, headers, cannonRequests(scenario, { graphqlErrors: 0, misses: 0 }), connections, seconds);
  await sleep(AUDIT_SETTLE_MS); // its last requests' audit rows, before the next window counts rows
}

/** One measured window of `seconds` against one server. */
async function measureOnce(
  ds: DataSource, server: Server, target: TargetKey, scenario: Scenario, headers: Record<string, string>, seconds: number, connections: number,
): Promise<ScenarioResult> {
  const counters = { graphqlErrors: 0, misses: 0 };
  const requests = cannonRequests(scenario, counters);
  const auditBefore = await auditCount(ds);
  const cpuBefore = sampleCpu(server.process.pid, BENCH_DB);
  const pool = samplePool(ds, BENCH_DB, SERVER_APPLICATION_NAME);
  const result = await load(server, headers, requests, connections, seconds);
  const cpuAfter = sampleCpu(server.process.pid, BENCH_DB);
  const poolSnapshot = await pool.stop();
  // autocannon returns without waiting for the answers still in flight; their audit rows belong to this window.
  await sleep(AUDIT_SETTLE_MS);
  const auditRows = (await auditCount(ds)) - auditBefore;
  const total = result.requests.total ?? 0;
  return {
    target, scenario: scenario.key, name: scenario.name, connections, requestsPerSecond: total / seconds, p50: result.latency.p50, p99: result.latency.p99,
    max: result.latency.max, total, errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx,
    ...counters, auditRows, cpu: cpuSplit(cpuBefore, cpuAfter), pool: poolSnapshot, seconds, roundRates: [total / seconds],
  };
}

/**
 * The rounds of one server and scenario as one result: requests over the whole measured time; p50 the median of the
 * rounds' p50, p99 and max the worst round's; CPU and connection samples averaged over the rounds.
 */
function mergeRounds(parts: ScenarioResult[]): ScenarioResult {
  const sum = (f: (r: ScenarioResult) => number) => parts.reduce((a, r) => a + f(r), 0);
  const seconds = sum((r) => r.seconds);
  const p50s = parts.map((r) => r.p50).sort((a, b) => a - b);
  const cpus = parts.map((r) => r.cpu).filter((c): c is CpuSplit => c !== null);
  const pools = parts.map((r) => r.pool).filter((x): x is PoolSnapshot => x !== null);
  const samples = pools.reduce((a, x) => a + x.samples, 0);
  const avgPool = (k: Exclude<keyof PoolSnapshot, 'samples'>) => (samples ? pools.reduce((a, x) => a + x[k] * x.samples, 0) / samples : 0);
  return {
    ...parts[0], seconds, total: sum((r) => r.total), requestsPerSecond: sum((r) => r.total) / seconds,
    p50: p50s[Math.floor(p50s.length / 2)], p99: Math.max(...parts.map((r) => r.p99)), max: Math.max(...parts.map((r) => r.max)),
    errors: sum((r) => r.errors), timeouts: sum((r) => r.timeouts), non2xx: sum((r) => r.non2xx), graphqlErrors: sum((r) => r.graphqlErrors),
    misses: sum((r) => r.misses), auditRows: sum((r) => r.auditRows), roundRates: parts.flatMap((r) => r.roundRates),
    cpu: averageSplits(cpus),
    pool: pools.length ? { samples, running: avgPool('running'), advisoryWait: avgPool('advisoryWait'), otherWait: avgPool('otherWait'), idleInTransaction: avgPool('idleInTransaction'), idle: avgPool('idle') } : null,
  };
}

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

const TARGET_LABEL: Record<TargetKey, string> = { baseline: 'register only (baseline)', full: 'full platform (civil-affairs client)' };

/** A server's results for a scenario, one per level of connections. */
function levelsOf(results: ScenarioResult[], target: TargetKey, scenario: ScenarioKey): ScenarioResult[] {
  return results.filter((r) => r.target === target && r.scenario === scenario);
}

/** A server's best level for a scenario: its capacity, the most requests/s it answered over the connection levels. */
function capacity(results: ScenarioResult[], target: TargetKey, scenario: ScenarioKey): ScenarioResult | undefined {
  return levelsOf(results, target, scenario).reduce<ScenarioResult | undefined>((best, r) => (!best || r.requestsPerSecond > best.requestsPerSecond ? r : best), undefined);
}

/** The ratio of each alternating pair of rounds: median and range, e.g. `0.76× (0.70–0.82×, 8 pairs)`. */
function pairedRatios(baseline: ScenarioResult | undefined, full: ScenarioResult | undefined): string {
  if (!baseline || !full) return 'n/a';
  const ratios = full.roundRates.map((f, i) => f / (baseline.roundRates[i] ?? NaN)).filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (ratios.length === 0) return 'n/a';
  const mid = ratios.length / 2;
  const median = ratios.length % 2 ? ratios[Math.floor(mid)] : (ratios[mid - 1] + ratios[mid]) / 2;
  return `${median.toFixed(2)}× (${ratios[0].toFixed(2)}–${ratios[ratios.length - 1].toFixed(2)}×, ${ratios.length} pair${ratios.length === 1 ? '' : 's'})`;
}

function report(results: ScenarioResult[], scenarios: Scenario[], machine: string, setup: string[], audit: { before: number; after: number } | null, cost: Partial<Record<ScenarioKey, number>>): void {
  console.log('');
  console.log(`machine: ${machine}`);
  for (const line of setup) console.log(`setup:   ${line}`);
  console.log('');
  table(
    ['server', 'scenario', 'connections', 'req/s (mean)', 'p50 ms', 'p99 ms', 'max ms', 'requests', 'errors', 'timeouts', 'non-2xx', 'GraphQL errors', 'not found', 'audit rows'],
    results.map((r) => [
      TARGET_LABEL[r.target], r.name, String(r.connections), r.requestsPerSecond.toFixed(0), String(r.p50), String(r.p99), String(r.max), String(r.total), String(r.errors),
      String(r.timeouts), String(r.non2xx), String(r.graphqlErrors), String(r.misses), String(r.auditRows),
    ]),
  );
  console.log('');
  const levels = [...new Set(results.map((r) => r.connections))];
  const ratioOf = (b: ScenarioResult | undefined, f: ScenarioResult | undefined) => (b && f && b.requestsPerSecond > 0 ? f.requestsPerSecond / b.requestsPerSecond : undefined);
  const times = (v: number | undefined) => (v === undefined ? 'n/a' : `${v.toFixed(2)}×`);
  // A table of scenarios × levels, each cell from the two servers' results at that level.
  const perLevel = (cell: (b: ScenarioResult | undefined, f: ScenarioResult | undefined) => string) => table(
    ['scenario', ...levels.map((c) => `${c} connections`)],
    scenarios.map((s) => [s.name, ...levels.map((c) => {
      const at = (t: TargetKey) => levelsOf(results, t, s.key).find((r) => r.connections === c);
      return cell(at('baseline'), at('full'));
    })]),
  );
  console.log('full / baseline at each level of connections:');
  perLevel((b, f) => `${b ? b.requestsPerSecond.toFixed(0) : 'n/a'} / ${f ? f.requestsPerSecond.toFixed(0) : 'n/a'}: ${times(ratioOf(b, f))}`);
  console.log('  (each cell: baseline req/s / full req/s: full / baseline)');
  console.log('');
  // On a shared VM one run's ratio moves by several percent; the spread of the paired rounds shows by how much.
  console.log('full / baseline round by round (each full round over the baseline round just before it):');
  perLevel(pairedRatios);
  console.log('');
  console.log(`verdict on capacity: each server's best requests/s over ${levels.join(', ')} connections`);
  table(
    ['scenario', 'register target', 'baseline (best)', 'full (best)', 'full / baseline', `access+audit target (≥ ${TARGETS.fullOverBaseline}×)`],
    scenarios.map((s) => {
      const b = capacity(results, 'baseline', s.key);
      const f = capacity(results, 'full', s.key);
      const met = (v: number | undefined, t: number) => (v === undefined ? 'n/a' : v >= t ? 'met' : 'not met');
      const ratio = ratioOf(b, f);
      const best = (r: ScenarioResult | undefined) => (r ? `${r.requestsPerSecond.toFixed(0)} at ${r.connections}` : 'n/a');
      return [
        s.name, `≥ ${s.target} req/s (baseline ${met(b?.requestsPerSecond, s.target)}, full ${met(f?.requestsPerSecond, s.target)})`,
        best(b), best(f), times(ratio), met(ratio, TARGETS.fullOverBaseline),
      ];
    }),
  );
  console.log('');
  console.log('CPU during each measurement (1.00 = one core busy; the machine has ' + cpus().length + '), and how the server\'s JavaScript thread spent the wall time:');
  for (const r of results) console.log(`  ${TARGET_LABEL[r.target]} / ${r.name} / ${r.connections} connections: ${formatSplit(r.cpu)}`);
  console.log('');
  console.log(`The server's PostgreSQL connections during each measurement (average of pg_stat_activity samples; pool size ${poolSize()}):`);
  for (const r of results) console.log(`  ${TARGET_LABEL[r.target]} / ${r.name} / ${r.connections} connections: ${formatPool(r.pool)}`);
  console.log('');
  if (audit) {
    const fullRequests = results.filter((r) => r.target === 'full').reduce((a, r) => a + r.total, 0);
    console.log(`audit_log: ${audit.before} rows before the full-platform run, ${audit.after} after: ${audit.after - audit.before} rows written `
      + `(warm-up, checks and measurement; ${fullRequests} measured requests wrote ${results.filter((r) => r.target === 'full').reduce((a, r) => a + r.auditRows, 0)}).`);
    console.log('          The audit trail is append-only: these rows stay in linli_bench_query.');
  }
  const perMinute = (c: number | undefined) => (c ? `${c} (default budget ${DEFAULT_COST_PER_MINUTE.toLocaleString('en')}/min ≈ ${Math.floor(DEFAULT_COST_PER_MINUTE / c).toLocaleString('en')} requests/min, ${(DEFAULT_COST_PER_MINUTE / c / 60).toFixed(1)}/s per principal)` : 'n/a');
  console.log(`query cost charged per request: page ${perMinute(cost.page)}; page + totalCount ${perMinute(cost.pageCount)}; lookup ${perMinute(cost.lookup)}.`);
  console.log(`QUERY_COST_PER_MINUTE was set to ${BENCH_COST_PER_MINUTE.toLocaleString('en')} for the API child, so the budget did not throttle the bench.`);
  console.log('');
}

async function main(): Promise<void> {
  const o = options();
  const started = Date.now();
  const machine = `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, `
    + `load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`;
  log(`machine: ${machine}`);
  const databaseUrl = benchDatabaseUrl();
  const ds = await prepareDatabase(databaseUrl, o.residents);
  const servers: Server[] = [];
  let noTargetsDir: string | null = null;
  try {
    const [pg] = (await ds.query(`SELECT (${POSTGRES_LABEL_SQL}) AS v, (SELECT count(*) FROM resident)::int AS residents`)) as { v: string; residents: number }[];
    // The largest community: the page's totalCount then counts the most rows (a conservative choice).
    const [community] = (await ds.query(
      `SELECT community_code AS code, count(*)::int AS n FROM resident GROUP BY community_code ORDER BY count(*) DESC, community_code LIMIT 1`,
    )) as { code: string; n: number }[];
    if (!community) throw new Error('the bench database holds no residents');
    // A fixed, well-spread sample of existing ID numbers (ordered by a hash, so every run uses the same list).
    const ids = ((await ds.query(
      `SELECT id_number FROM resident WHERE id_number IS NOT NULL AND merged_into_id IS NULL ORDER BY md5(id::text) LIMIT ${ID_SAMPLE}`,
    )) as { id_number: string }[]).map((r) => r.id_number);
    if (ids.length === 0) throw new Error('the bench database holds no live resident with an ID number');

    const childEnv: Record<string, string> = { DATABASE_URL: databaseUrl, NODE_ENV: 'development', LOG_LEVEL: 'warn', API_PROCESSES: String(o.processes) };
    // The sync hub's targets (deploy/targets) need their legacy systems' credentials in the environment, and the API
    // refuses to start without them. Nothing is synced by reads, so unless SYNC_TARGETS_DIR is set the API gets an
    // empty targets directory: no targets, nothing else changed.
    if (!process.env.SYNC_TARGETS_DIR) {
      noTargetsDir = mkdtempSync(join(tmpdir(), 'linli-bench-no-sync-targets-'));
      childEnv.SYNC_TARGETS_DIR = noTargetsDir;
    }
    if (o.only !== 'baseline') {
      log('creating the demo accounts (idempotent) …');
      await runNode(join(__dirname, '..', 'apps', 'cli', 'src', 'admin.js'), ['demo-accounts'], childEnv);
    }

    let next = 0;
    const allScenarios: Scenario[] = [
      { key: 'page', name: 'residents page (50 rows)', target: TARGETS.page, query: PAGE_QUERY, variables: () => ({ code: community.code }) },
      { key: 'pageCount', name: 'page + totalCount', target: TARGETS.page, query: PAGE_COUNT_QUERY, variables: () => ({ code: community.code }) },
      {
        key: 'lookup', name: 'residentByIdNumber', target: TARGETS.lookup, query: LOOKUP_QUERY, notFound: '"residentByIdNumber":null',
        variables: () => ({ idNumber: ids[next++ % ids.length] }),
      },
    ];
    const scenarios = allScenarios.filter((x) => o.scenarios.includes(x.key));
    const results: ScenarioResult[] = [];
    let reference: { pageIds: string; totalCount: number; lookupId: string } | null = null;
    const sameRows = (label: string, page: Page, lookup: { id: string }) => {
      const pageIds = page.edges.map((e) => e.node.id).join(',');
      if (!reference) {
        reference = { pageIds, totalCount: page.totalCount, lookupId: lookup.id };
        return;
      }
      if (reference.pageIds !== pageIds || reference.totalCount !== page.totalCount || reference.lookupId !== lookup.id) {
        throw new Error(`${label} answers with other rows than the baseline: the two servers would not be doing the same work`);
      }
    };

    // ---- the two servers, both running for the whole measurement (each idle while the other is measured)
    const running: { target: TargetKey; server: Server; headers: () => Promise<Record<string, string>> }[] = [];
    if (o.only !== 'full') {
      log('starting the register-only baseline (no access module, no plugin, no field access wrappers, no audit) …');
      const server = await startServer(TARGET_LABEL.baseline, join(__dirname, 'query', 'register-only.main.js'), o.baselinePort, childEnv,
        async (baseUrl) => (await fetch(`${baseUrl}/graphql`, { method: 'POST', headers: JSON_HEADERS, body: '{"query":"{ __typename }"}' })).ok, o.cpuProfDir);
      servers.push(server);
      const page = checkPage(await graphql(server.baseUrl, JSON_HEADERS, PAGE_COUNT_QUERY, { code: community.code }), server.label);
      const found = checkLookup(await graphql(server.baseUrl, JSON_HEADERS, LOOKUP_QUERY, { idNumber: ids[0] }), server.label);
      sameRows(server.label, page, found);
      log(`checked: page of ${community.code} (totalCount ${page.totalCount}), lookup of ${ids[0]!.slice(0, 6)}… (${ids.length} sampled ID numbers)`);
      running.push({ target: 'baseline', server, headers: async () => JSON_HEADERS });
    }
    let audit: { before: number; after: number } | null = null;
    if (o.only !== 'baseline') {
      log(`starting the API (NODE_ENV development, LOG_LEVEL warn, QUERY_COST_PER_MINUTE ${BENCH_COST_PER_MINUTE}) …`);
      const server = await startServer(TARGET_LABEL.full, join(__dirname, '..', 'apps', 'api', 'src', 'main.js'), o.port,
        { ...childEnv, QUERY_COST_PER_MINUTE: String(BENCH_COST_PER_MINUTE) },
        async (baseUrl) => (await fetch(`${baseUrl}/health`)).ok, o.cpuProfDir);
      servers.push(server);
      audit = { before: await auditCount(ds), after: 0 };
      // A fresh token per scenario, so a long --duration never outlives ACCESS_TOKEN_TTL_SECONDS.
      const signedIn = async (): Promise<Record<string, string>> => {
        const data = await graphql(server.baseUrl, JSON_HEADERS, TOKEN_MUTATION, { clientId: CLIENT.id, clientSecret: CLIENT.secret });
        const { accessToken, expiresIn } = data.clientToken as { accessToken: string; expiresIn: number };
        const perScenario = 2 * o.connections.reduce((sum, _, level) => sum + warmupSeconds(level, o) + o.duration, 0);
        if (perScenario + 30 > expiresIn) log(`warning: the access token expires in ${expiresIn} s, before the scenario ends`);
        return { ...JSON_HEADERS, authorization: `Bearer ${accessToken}`, [PURPOSE_HEADER]: CLIENT.purpose };
      };
      const headers = await signedIn();
      const page = checkPage(await graphql(server.baseUrl, headers, PAGE_COUNT_QUERY, { code: community.code }), server.label);
      const found = checkLookup(await graphql(server.baseUrl, headers, LOOKUP_QUERY, { idNumber: ids[0] }), server.label);
      sameRows(server.label, page, found);
      const checkedAudit = (await auditCount(ds)) - audit.before;
      if (checkedAudit !== 2) throw new Error(`expected the two checked requests to write 2 audit rows, found ${checkedAudit}`);
      log(`checked: ${CLIENT.id} with purpose ${CLIENT.purpose} reads the same page and lookup; 2 audit rows written`);
      running.push({ target: 'full', server, headers: signedIn });
    }

    // ---- per scenario and level of connections: warm both up, then alternate baseline and full in short rounds, so
    // that whatever else the machine is doing weighs on both alike (a shared 2-core machine drifts over minutes).
    const seconds = o.duration / o.rounds;
    for (const scenario of scenarios) {
      const headers = new Map<TargetKey, Record<string, string>>();
      for (const r of running) headers.set(r.target, await r.headers());
      for (const [level, connections] of o.connections.entries()) {
        for (const r of running) await warmUp(r.server, scenario, headers.get(r.target)!, connections, warmupSeconds(level, o));
        const parts = new Map<TargetKey, ScenarioResult[]>(running.map((r) => [r.target, []]));
        for (let round = 1; round <= o.rounds; round++) {
          for (const r of running) {
            log(`${r.server.label} / ${scenario.name} / ${connections} connections: round ${round} of ${o.rounds}, ${seconds.toFixed(1)} s …`);
            parts.get(r.target)!.push(await measureOnce(ds, r.server, r.target, scenario, headers.get(r.target)!, seconds, connections));
          }
        }
        for (const r of running) results.push(mergeRounds(parts.get(r.target)!));
      }
    }
    for (const r of running) {
      await stopServer(r.server);
      const stderr = r.server.stderr().trim();
      if (stderr) log(`${r.server.label} stderr (last lines):\n${stderr}`);
    }
    if (audit) audit.after = await auditCount(ds);

    report(results, scenarios, machine, [
      `PostgreSQL ${pg?.v}, ${pg?.residents} residents, community ${community.code} with ${community.n} residents (page and totalCount), `
        + `${ids.length} rotating ID numbers (lookup)`,
      `${o.connections.join(', ')} connections in turn (a closed loop each), pipelining 1; per scenario and server ${o.warmup} s warm-up, `
        + `then per level ${o.duration} s measured in ${o.rounds} alternating rounds (both servers up, the other idle; `
        + `${warmupSeconds(1, o)} s warm-up before each further level); `
        + `${o.processes} process${o.processes === 1 ? '' : 'es'} per server (API_PROCESSES), DATABASE_POOL_SIZE ${poolSize()} per process; `
        + 'autocannon runs in this process, on the same machine as the servers and PostgreSQL',
      'baseline: bench/query/register-only.main.ts (codes, places, registry; no access module / plugin / field access wrappers / audit; full-access context)',
      `full: dist/apps/api/src/main.js, NODE_ENV development, LOG_LEVEL warn, QUERY_COST_PER_MINUTE ${BENCH_COST_PER_MINUTE} (raised for the bench), `
        + `client ${CLIENT.id}, ${PURPOSE_HEADER}: ${CLIENT.purpose}`
        + (noTargetsDir ? ', SYNC_TARGETS_DIR an empty directory (no sync targets)' : `, SYNC_TARGETS_DIR ${process.env.SYNC_TARGETS_DIR}`),
    ], audit, costs());
  } finally {
    for (const server of servers) await stopServer(server).catch(() => undefined);
    if (ds.isInitialized) await ds.destroy();
    if (noTargetsDir) rmSync(noTargetsDir, { recursive: true, force: true });
    log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack ?? err.message : err);
  process.exit(1);
});
