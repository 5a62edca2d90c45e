import 'reflect-metadata';
import { ChildProcess, spawn } from 'child_process';
import { once } from 'events';
import { createRequire } from 'module';
import { cpus, totalmem } from 'os';
import { join } from 'path';
import { parseArgs } from 'util';
import { DataSource } from 'typeorm';
import { AppConfig, postgresOptions } from '@linli/core';
import { migrate } from '../apps/cli/src/migrate';
import { formatSummary, MAX_RESIDENTS, seedDemoDistrict } from '../apps/cli/src/seed/demo-district.seed';

/**
 * Query benchmark: `npm run bench:query [-- --residents N] [-- --connections N] [-- --warmup S] [-- --duration S]
 *   [-- --port P] [-- --node-env development|test]`.
 * 1. Prepares the database `linli_bench_query` (created and migrated if needed) and fills it with the synthetic demo
 *    district (1,000,000 residents by default) unless it already holds at least that many residents.
 * 2. Starts the API as a child process (`dist/apps/api/src/main.js`, port 3300, NODE_ENV development, LOG_LEVEL warn)
 *    and waits for /health. Requests carry the development actor header.
 * 3. With autocannon (warm-up, then measurement) runs two GraphQL scenarios:
 *    - a 50-row `residents` page of one community with household, tags and totalCount;
 *    - `residentByIdNumber` with a different existing ID number on every request.
 * Prints requests/s, p50 / p99 latency and error counts beside the targets. Figures only; nothing is asserted.
 */

const BENCH_DB = 'linli_bench_query';
/** The development actor header (honoured only outside production; see AppConfig.devActorAllowed). */
const DEV_ACTOR_HEADER = 'x-linli-dev-actor';
const TARGETS = { page: 1_000, lookup: 4_000 } as const;
const ID_SAMPLE = 20_000;

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

interface Scenario {
  name: string;
  target: number;
  requests: CannonRequest[];
  /** Text of a response that found nothing (counted, not an error). */
  notFound?: string;
}

interface ScenarioResult {
  name: string;
  target: number;
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
}

function options() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      residents: { type: 'string', default: String(MAX_RESIDENTS) },
      connections: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '10' },
      duration: { type: 'string', default: '30' },
      port: { type: 'string', default: '3300' },
      // NODE_ENV of the API child: the development actor header must be honoured in that environment.
      'node-env': { type: 'string', default: 'development' },
    },
    strict: true,
  });
  const int = (name: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}`);
    return n;
  };
  return {
    residents: int('residents', values.residents, 1, MAX_RESIDENTS),
    connections: int('connections', values.connections, 1, 1000),
    warmup: int('warmup', values.warmup, 0, 600),
    duration: int('duration', values.duration, 1, 3600),
    port: int('port', values.port, 1, 65535),
    nodeEnv: nodeEnv(values['node-env']),
  };
}

function nodeEnv(value: string | undefined): 'development' | 'test' {
  if (value === 'development' || value === 'test') return value;
  throw new Error('--node-env must be development or test (the development actor header is refused in production)');
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
  const ds = new DataSource(postgresOptions(config));
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

async function waitForHealth(baseUrl: string, api: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (api.exitCode !== null) throw new Error(`the API exited with code ${api.exitCode} before it became healthy`);
    try {
      const res = await fetch(`${baseUrl}/health`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the API did not report healthy within ${timeoutMs / 1000} s`);
}

async function startApi(databaseUrl: string, port: number, nodeEnv: string): Promise<{ api: ChildProcess; baseUrl: string; stderr: () => string }> {
  const baseUrl = `http://localhost:${port}`;
  try {
    await fetch(`${baseUrl}/health`);
    throw new Error(`port ${port} is already in use; stop that server or pass --port`);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('port ')) throw err;
  }
  const main = join(__dirname, '..', 'apps', 'api', 'src', 'main.js');
  // The child inherits this environment (PATH, REDIS_URL …) with the bench's database and settings on top.
  const api = spawn(process.execPath, [main], {
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), NODE_ENV: nodeEnv, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let errors = '';
  api.stderr?.on('data', (chunk: Buffer) => {
    errors = (errors + chunk.toString('utf8')).slice(-4000);
  });
  await waitForHealth(baseUrl, api, 60_000);
  return { api, baseUrl, stderr: () => errors };
}

async function stopApi(api: ChildProcess): Promise<void> {
  if (api.exitCode !== null || api.signalCode !== null) return;
  const exited = once(api, 'exit');
  api.kill('SIGTERM');
  const timer = setTimeout(() => api.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

const PAGE_QUERY = `query BenchPage($code: String!) {
  residents(filter: { divisionCode: $code }, first: 50) {
    totalCount
    edges { node { id name sex birthDate household { id householdNumber } tags { code } } }
  }
}`;
const LOOKUP_QUERY = `query BenchLookup($idNumber: String!) { residentByIdNumber(idNumber: $idNumber) { id name } }`;

const HEADERS = { 'content-type': 'application/json', [DEV_ACTOR_HEADER]: 'bench-query' };

async function graphql(baseUrl: string, query: string, variables: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await fetch(`${baseUrl}/graphql`, { method: 'POST', headers: HEADERS, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  if (!res.ok || body.errors?.length || !body.data) throw new Error(`GraphQL check failed (${res.status}): ${JSON.stringify(body).slice(0, 500)}`);
  return body.data;
}

async function measure(baseUrl: string, scenario: Scenario, o: ReturnType<typeof options>): Promise<ScenarioResult> {
  const counters = { graphqlErrors: 0, misses: 0 };
  const requests = scenario.requests.map((r) => ({
    ...r,
    onResponse: (_status: number, body: string) => {
      if (body.includes('"errors"')) counters.graphqlErrors++;
      else if (scenario.notFound && body.includes(scenario.notFound)) counters.misses++;
    },
  }));
  const common = { url: `${baseUrl}/graphql`, connections: o.connections, pipelining: 1, method: 'POST', headers: HEADERS, requests };
  if (o.warmup > 0) {
    log(`${scenario.name}: warm-up ${o.warmup} s …`);
    await autocannon({ ...common, duration: o.warmup });
    counters.graphqlErrors = 0;
    counters.misses = 0;
  }
  log(`${scenario.name}: measuring ${o.duration} s with ${o.connections} connections …`);
  const result = await autocannon({ ...common, duration: o.duration });
  return {
    name: scenario.name, target: scenario.target, requestsPerSecond: result.requests.mean, p50: result.latency.p50, p99: result.latency.p99,
    max: result.latency.max, total: result.requests.total ?? 0, errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx,
    ...counters,
  };
}

function report(results: ScenarioResult[], machine: string, setup: string): void {
  console.log('');
  console.log(`machine: ${machine}`);
  console.log(`setup:   ${setup}`);
  console.log('');
  const header = ['scenario', 'req/s (mean)', 'target', 'p50 ms', 'p99 ms', 'max ms', 'requests', 'errors', 'timeouts', 'non-2xx', 'GraphQL errors', 'not found'];
  const rows = results.map((r) => [
    r.name, r.requestsPerSecond.toFixed(0), `≥ ${r.target} (${r.requestsPerSecond >= r.target ? 'met' : 'not met'})`, String(r.p50), String(r.p99),
    String(r.max), String(r.total), String(r.errors), String(r.timeouts), String(r.non2xx), String(r.graphqlErrors), String(r.misses),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
  console.log('');
}

async function main(): Promise<void> {
  const o = options();
  const started = Date.now();
  const machine = `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}`;
  log(`machine: ${machine}`);
  const databaseUrl = benchDatabaseUrl();
  const ds = await prepareDatabase(databaseUrl, o.residents);
  let api: ChildProcess | null = null;
  try {
    const [pg] = (await ds.query(`SELECT current_setting('server_version') AS v, (SELECT count(*) FROM resident)::int AS residents`)) as { v: string; residents: number }[];
    // The largest community: the page's totalCount then counts the most rows (a conservative choice).
    const [community] = (await ds.query(
      `SELECT community_code AS code, count(*)::int AS n FROM resident GROUP BY community_code ORDER BY count(*) DESC, community_code LIMIT 1`,
    )) as { code: string; n: number }[];
    if (!community) throw new Error('the bench database holds no residents');
    // A fixed, well-spread sample of existing ID numbers (ordered by a hash, so every run uses the same list).
    const ids = ((await ds.query(
      `SELECT id_number FROM resident WHERE id_number IS NOT NULL AND merged_into_id IS NULL ORDER BY md5(id::text) LIMIT ${ID_SAMPLE}`,
    )) as { id_number: string }[]).map((r) => r.id_number);
    await ds.destroy();

    log('starting the API …');
    const server = await startApi(databaseUrl, o.port, o.nodeEnv);
    api = server.api;
    const { baseUrl } = server;

    // One checked request per scenario before measuring: the figures mean nothing if the answers are wrong.
    const page = (await graphql(baseUrl, PAGE_QUERY, { code: community.code })).residents as { totalCount: number; edges: unknown[] };
    if (page.edges.length !== 50) throw new Error(`expected a 50-row page, got ${page.edges.length}`);
    const found = (await graphql(baseUrl, LOOKUP_QUERY, { idNumber: ids[0] })).residentByIdNumber;
    if (!found) throw new Error(`residentByIdNumber found nothing for ${ids[0]}`);
    log(`checked: page of ${community.code} (totalCount ${page.totalCount}), lookup of ${ids.length} sampled ID numbers`);

    const pageBody = JSON.stringify({ query: PAGE_QUERY, variables: { code: community.code } });
    let next = 0;
    const scenarios: Scenario[] = [
      { name: 'residents page (50 rows)', target: TARGETS.page, requests: [{ method: 'POST', path: '/graphql', body: pageBody }] },
      {
        name: 'residentByIdNumber', target: TARGETS.lookup, notFound: '"residentByIdNumber":null',
        requests: [{
          method: 'POST', path: '/graphql',
          setupRequest: (request) => {
            const idNumber = ids[next++ % ids.length];
            return { ...request, body: JSON.stringify({ query: LOOKUP_QUERY, variables: { idNumber } }) };
          },
        }],
      },
    ];
    const results: ScenarioResult[] = [];
    for (const scenario of scenarios) results.push(await measure(baseUrl, scenario, o));
    report(results, machine, `PostgreSQL ${pg?.v}, ${pg?.residents} residents, community ${community.code} with ${community.n} residents, `
      + `${o.connections} connections, pipelining 1, ${o.warmup} s warm-up + ${o.duration} s per scenario, API NODE_ENV ${o.nodeEnv}`);
    const apiErrors = server.stderr().trim();
    if (apiErrors) log(`API stderr (last lines):\n${apiErrors}`);
  } finally {
    if (ds.isInitialized) await ds.destroy();
    if (api) await stopApi(api);
    log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack ?? err.message : err);
  process.exit(1);
});
