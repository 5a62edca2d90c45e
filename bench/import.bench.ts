import 'reflect-metadata';
import { DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { once } from 'events';
import { createReadStream, createWriteStream } from 'fs';
import { rm, stat } from 'fs/promises';
import { cpus, tmpdir } from 'os';
import { join } from 'path';
import { Client } from 'pg';
import { parseArgs } from 'util';
import { DataSource } from 'typeorm';
import { communitySeeds, generateIdNumber, upsertDivisions } from '@linli/codes';
import { AppConfig, ConfigModule, postgresOptions, systemContext } from '@linli/core';
import { adminQuery, POSTGRES_LABEL_SQL } from './support';
import { copyFromStdin, ImporterModule, ImportService, loadMapping } from '@linli/importer';
import { migrate } from '../apps/cli/src/migrate';

/**
 * Import benchmark: `npm run bench:import [-- --rows N] [--batch N] [--writers N] [--keep]`.
 * 1. Generates N valid-looking resident rows (about 1% with a bad ID check character) as a hub CSV in the temp dir.
 * 2. Imports the file through ImportService into a fresh database `linli_bench_import` (indexes, history, report).
 * 3. COPYs the same file into `resident_copy`, a bare copy of the resident table (same columns and defaults, no
 *    indexes, no constraints besides NOT NULL), with PostgreSQL's own CSV parser.
 * 4. For reference, COPYs it again into `resident_indexed_copy` (LIKE resident INCLUDING ALL: the same indexes and
 *    CHECK constraints, no foreign keys): the ceiling for any path that writes into the real, indexed table.
 * Prints rows/s for each, both ratios (import / raw COPY into the index-free copy, the target; import / COPY
 * into the indexed copy, the ceiling), the peak RSS sampled during the import, where the import's time went
 * (ImportSummary.timings) and how much WAL each load wrote (bytes per row, checkpoints; `--keep` keeps the database for
 * pg_walinspect). Defaults: batches of 5,000 rows, 3 writer connections, as ImportService. Figures only; nothing is
 * asserted. The machine may be shared: compare the ratios of one run rather than rows/s across runs.
 */

const BENCH_DB = 'linli_bench_import';
const BENCH_URL = `postgres://postgres@localhost:5432/${BENCH_DB}`;

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢';
const GIVEN = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力志国春晓波宁海燕云飞鹏浩宇欣怡佳琪子涵';
const ADDRESS_CODES = ['330203', '330204', '330205', '330206', '330212', '330281', '330282', '330226'];
const ETHNICITIES = ['01', '01', '01', '01', '01', '01', '01', '01', '03', '22'];
const DAYS = 20000; // distinct birth dates per address code, from 1940-01-01

function args() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      rows: { type: 'string', default: '1000000' }, batch: { type: 'string', default: '5000' }, writers: { type: 'string', default: '3' },
      keep: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const rows = Number(values.rows);
  const batch = Number(values.batch);
  if (!Number.isInteger(rows) || rows < 1 || rows > 100_000_000) throw new Error('--rows must be a positive integer');
  const writers = Number(values.writers);
  if (!Number.isInteger(batch) || batch < 1) throw new Error('--batch must be a positive integer');
  if (!Number.isInteger(writers) || writers < 1) throw new Error('--writers must be a positive integer');
  return { rows, batch, writers, keep: values.keep ?? false };
}

/** Deterministic small PRNG so every run generates the same file. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Row i: a unique (address code, birth date, sequence) triple, so every ID number of the file is distinct. */
function row(i: number, communities: string[], random: () => number): string {
  const address = ADDRESS_CODES[i % ADDRESS_CODES.length]!;
  const k = Math.floor(i / ADDRESS_CODES.length);
  const birth = new Date(Date.UTC(1940, 0, 1) + (k % DAYS) * 86_400_000).toISOString().slice(0, 10);
  const sequence = Math.floor(k / DAYS) % 1000;
  let id = generateIdNumber(address, birth, sequence);
  if (i % 100 === 37) id = id.slice(0, 17) + (id[17] === '0' ? '1' : '0'); // ~1% bad check characters
  const pick = (s: string) => s[Math.floor(random() * s.length)]!;
  const name = pick(SURNAMES) + pick(GIVEN) + (random() < 0.6 ? pick(GIVEN) : '');
  const sex = sequence % 2 === 1 ? '1' : '2';
  const phone = `13${String(Math.floor(random() * 1e9)).padStart(9, '0')}`;
  const ethnicity = ETHNICITIES[Math.floor(random() * ETHNICITIES.length)]!;
  return `${id},${name},${sex},${birth},${ethnicity},${phone},${communities[i % communities.length]}\n`;
}

/** Writes the CSV with backpressure: the file is never held in memory. */
async function generate(path: string, rows: number, communities: string[]): Promise<void> {
  const out = createWriteStream(path);
  const random = prng(20_240_601);
  out.write('idNumber,name,sex,birthDate,ethnicity,phone,communityCode\n');
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    chunk += row(i, communities, random);
    if (chunk.length > 256 * 1024 || i === rows - 1) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end();
  await once(out, 'finish');
}

@Module({})
class BenchModule {
  static with(config: AppConfig): DynamicModule {
    return {
      module: BenchModule,
      imports: [
        ConfigModule.withConfig(config),
        TypeOrmModule.forRoot({ ...postgresOptions(config), autoLoadEntities: true }),
        ImporterModule,
      ],
    };
  }
}



interface WalMark {
  lsn: string;
  checkpoints: number;
}

/** The WAL position and the number of checkpoints so far, to tell how much WAL a phase wrote. */
async function walMark(client: Client): Promise<WalMark> {
  const { rows } = await client.query<{ lsn: string; checkpoints: string }>(
    `SELECT pg_current_wal_lsn()::text AS lsn, (checkpoints_timed + checkpoints_req)::text AS checkpoints FROM pg_stat_bgwriter`,
  );
  return { lsn: rows[0]!.lsn, checkpoints: Number(rows[0]!.checkpoints) };
}

async function walSince(client: Client, since: WalMark, rows: number): Promise<string> {
  const now = await walMark(client);
  const { rows: r } = await client.query<{ bytes: string }>(`SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::text AS bytes`, [now.lsn, since.lsn]);
  const bytes = Number(r[0]!.bytes);
  // Checkpoints are server-wide: other databases' work on a shared machine can add some.
  return `WAL written: ${mb(bytes)} (${fmt(bytes / rows)} bytes/row; ${since.lsn}..${now.lsn}), checkpoints: ${now.checkpoints - since.checkpoints}`;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

async function main(): Promise<void> {
  const { rows, batch, writers, keep } = args();
  const config = AppConfig.of({ DATABASE_URL: BENCH_URL, LOG_LEVEL: 'silent', IMPORT_REPORT_DIR: tmpdir() });
  const csvPath = join(tmpdir(), `linli-bench-import-${process.pid}.csv`);
  const reportPath = join(tmpdir(), `linli-bench-import-${process.pid}-report.csv`);

  console.log(`Linli import benchmark: ${fmt(rows)} rows, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}`);
  await adminQuery(`DROP DATABASE IF EXISTS ${BENCH_DB} WITH (FORCE)`);
  await migrate(config);
  const seeds = communitySeeds(3);
  const ds = new DataSource(postgresOptions(config));
  await ds.initialize();
  await upsertDivisions(ds.manager, seeds);
  const [{ label: version }] = (await ds.query(POSTGRES_LABEL_SQL)) as [{ label: string }];
  await ds.destroy();
  const communities = seeds.map((s) => s.code);

  let t = Date.now();
  await generate(csvPath, rows, communities);
  const size = (await stat(csvPath)).size;
  console.log(`PostgreSQL ${version}; generated ${csvPath} (${mb(size)}) in ${((Date.now() - t) / 1000).toFixed(1)} s`);

  // (a) through the import path (after a checkpoint, as before each COPY below)
  const client = new Client({ connectionString: BENCH_URL });
  await client.connect();
  await client.query('CHECKPOINT');
  let wal = await walMark(client);
  const app = await NestFactory.createApplicationContext(BenchModule.with(config), { logger: false, abortOnError: false });
  // The shipped hub mapping (dist/bench → repository root).
  const mapping = await loadMapping(join(__dirname, '..', '..', 'deploy', 'import-mappings', 'hub-csv.yaml'));
  const baselineRss = process.memoryUsage.rss();
  let peakRss = baselineRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 50);
  t = Date.now();
  const summary = await app.get(ImportService).importFile(systemContext('bench'), {
    filePath: csvPath, mapping, reportPath, batchSize: batch, writers,
  });
  const importSeconds = (Date.now() - t) / 1000;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  await app.close();
  const importRate = summary.rows / importSeconds;
  console.log(`import (ImportService, batches of ${fmt(batch)}, ${writers} writer connection(s)): ${importSeconds.toFixed(1)} s → ${fmt(importRate)} rows/s`);
  console.log(`  accepted ${fmt(summary.accepted)}, quarantined ${fmt(summary.quarantined)}, matched ${fmt(summary.matched)}, rejected ${fmt(summary.rejected)}`);
  console.log(`  peak RSS during import: ${mb(peakRss)} (at start ${mb(baselineRss)})`);
  console.log(`  ${await walSince(client, wal, summary.rows)}`);
  const tm = summary.timings;
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  console.log(`  time (s; writer phases summed over ${writers} connection(s)): read+map+check ${s(tm.readAndCheck)}, waiting for a writer ${s(tm.waitForWriters)}; `
    + `COPY to staging ${s(tm.stage)}, write statement ${s(tm.write)}, lookup ${s(tm.lookup)}, COMMIT ${s(tm.commit)}; report ${s(tm.report)}; ANALYZE ${s(tm.analyze)}`);

  // (b) raw COPY of the same file into a bare copy of the table; (c) for reference, into a copy with all its indexes
  const copyInto = async (table: string, like: string): Promise<number> => {
    await client.query(`CREATE TABLE ${table} (LIKE resident ${like})`);
    // LIKE keeps NOT NULL; columns the file does not carry get the values the import would store.
    await client.query(`ALTER TABLE ${table} ALTER COLUMN id_type SET DEFAULT 'RESIDENT_ID', ALTER COLUMN id_number_status SET DEFAULT 'VALID',
                        ALTER COLUMN name_pinyin SET DEFAULT '', ALTER COLUMN population_type SET DEFAULT 'REGISTERED'`);
    await client.query('CHECKPOINT');
    wal = await walMark(client);
    const started = Date.now();
    const copied = await copyFromStdin(
      client,
      `COPY ${table} (id_number, name, sex, birth_date, ethnicity, phone, community_code) FROM STDIN WITH (FORMAT csv, HEADER true)`,
      createReadStream(csvPath, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>,
    );
    const seconds = (Date.now() - started) / 1000;
    console.log(`COPY into ${table} (${like}): ${seconds.toFixed(1)} s → ${fmt(copied / seconds)} rows/s (${fmt(copied)} rows)`);
    console.log(`  ${await walSince(client, wal, copied)}`);
    return copied / seconds;
  };
  const copyRate = await copyInto('resident_copy', 'INCLUDING DEFAULTS');
  const indexedRate = await copyInto('resident_indexed_copy', 'INCLUDING ALL');
  await client.end();
  console.log(`ratio import / raw COPY into the index-free bare copy: ${(importRate / copyRate).toFixed(2)} (the issue's target: ≥ 0.5)`);
  console.log(`ratio import / COPY into the copy with resident's indexes and checks: ${(importRate / indexedRate).toFixed(2)} (the ceiling for the real table)`);
  console.log(`ratio indexed COPY / raw COPY: ${(indexedRate / copyRate).toFixed(2)}; peak RSS during import: ${mb(peakRss)}`);

  await rm(csvPath, { force: true });
  await rm(reportPath, { force: true });
  if (!keep) await adminQuery(`DROP DATABASE IF EXISTS ${BENCH_DB} WITH (FORCE)`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack ?? err.message : err);
  process.exit(1);
});
