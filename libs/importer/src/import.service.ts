import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { basename, join } from 'path';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { CodesService, DivisionEntity } from '@linli/codes';
import { AppConfig, RequestContext } from '@linli/core';
import { checkResidentFields, NOTIFY_OUTBOX, quarantineReasonOf, ResidentRecord } from '@linli/registry';
import { BatchPipeline } from './batch-pipeline';
import { CommunityResolver, RowProblem } from './community-resolver';
import { ImportErrorCode, ImportException } from './import-error';
import { compileRowMapper, LoadedMapping, MappableField, RowMapper } from './mapping';
import { TimeOrderedUuids } from './time-ordered-uuid';
import { copyFromStdin, copyText } from './pg-copy';
import { ImportOutcome, ImportReportWriter, maskQuoted, maskReportIdNumber, ReportLine } from './report';
import { detectFormat, openSource, requireReadableFile, SourceRow } from './sources';

/**
 * Bulk import of residents from legacy exports (批量导入). Each data row ends as exactly one of:
 * - ACCEPTED: a new resident, stored;
 * - QUARANTINED: a new resident, stored in quarantine (bad ID check character, retired community);
 * - MATCHED: the ID number already belongs to a live resident (or to an earlier row of the file); nothing is changed,
 *   the register being the system of record, and the report names the fields that differ;
 * - REJECTED: not stored, with the field and the reason.
 *
 * The file is streamed; rows are written in batches, one transaction per batch holding the residents, their
 * history rows and their outbox events (one statement writes all three). A crash loses nothing already committed and re-running the file completes it: rows already stored are
 * MATCHED, never duplicated. While one batch is being written the next one is being read and checked.
 */

export interface ImportCounts {
  accepted: number;
  matched: number;
  quarantined: number;
  rejected: number;
}

export interface ImportProgress extends ImportCounts {
  /** Data rows handled so far (header and blank rows not counted). */
  rows: number;
}

export interface ImportFileOptions {
  filePath: string;
  mapping: LoadedMapping;
  /** Where the report goes; `<IMPORT_REPORT_DIR>/import-<timestamp>.csv` by default. */
  reportPath?: string;
  /** A fixed community for every row; overrides the mapping's community. */
  communityCode?: string;
  /** Rows per transaction (default 5,000). */
  batchSize?: number;
  /** Database connections writing batches at the same time (default 3). */
  writers?: number;
  /** Called after each batch is committed and reported; throwing from it stops the run (committed batches stay). */
  onProgress?: (progress: ImportProgress) => void;
}

/**
 * Where the run's time went, in milliseconds. The writer phases are summed over the writer connections, which work
 * at the same time, so they can add up to more than the run took.
 */
export interface ImportTimings {
  /** Reading, parsing, mapping and checking rows (the reading loop, waits for a free writer excluded). */
  readAndCheck: number;
  /** The reading loop waiting for a writer connection to become free. */
  waitForWriters: number;
  /** COPY of the batches into the staging tables. */
  stage: number;
  /** The one statement writing residents, history rows and outbox events. */
  write: number;
  /** Looking up the residents already present (matched rows). */
  lookup: number;
  /** COMMIT, i.e. mostly waiting for the WAL to be flushed. */
  commit: number;
  /** Report lines and counts. */
  report: number;
  /** ANALYZE of the written tables after a large run (ANALYZE_AFTER_ROWS). */
  analyze: number;
}

export interface ImportSummary extends ImportProgress {
  runId: string;
  fileName: string;
  fileSha256: string;
  reportPath: string;
  durationMs: number;
  timings: ImportTimings;
}

interface RejectedRow {
  kind: 'rejected';
  row: number;
  maskedId: string;
  problems: RowProblem[];
}

interface CandidateRow {
  kind: 'candidate';
  row: number;
  maskedId: string;
  record: ResidentRecord & { idNumber: string };
  communityCode: string;
  /** Why the row is kept in quarantine (empty when it is clean). */
  quarantine: RowProblem[];
}

type PreparedRow = RejectedRow | CandidateRow;

/** The register's view of a resident, for telling which fields of a matched row differ. */
type Snapshot = Partial<Record<MappableField | 'communityCode', string | null>>;

/** What became of one distinct ID number of a batch. */
type Written = { residentId: string; created: true } | { residentId: string; created: false; register: Snapshot };

interface RegisterRow {
  id: string;
  id_number: string;
  id_type: string;
  name: string;
  former_name: string | null;
  sex: string;
  birth_date: string;
  ethnicity: string | null;
  political_status: string | null;
  education: string | null;
  marital_status: string | null;
  employment: string | null;
  phone: string | null;
  population_type: string;
  household_relation: string | null;
  community_code: string;
}

/** The outcome of writing one batch, before it is reported. */
interface BatchResult {
  /** First row of the batch for each distinct ID number. */
  first: Map<string, CandidateRow>;
  written: Map<string, Written>;
  refused: Map<string, RowProblem>;
}

interface RunState {
  runId: string;
  fileName: string;
  actor: string;
  requestId: string;
  mapper: RowMapper | null;
  report: ImportReportWriter;
  counts: ImportProgress;
  onProgress?: (progress: ImportProgress) => void;
  timings: ImportTimings;
  ids: TimeOrderedUuids;
}

/** Milliseconds since `since` (a process.hrtime.bigint() value). */
function msSince(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e6;
}

/**
 * Measured on the 2-core machine (docs/import.md): 5,000 rows per batch is as fast as 10,000 with less memory held,
 * and a third writer connection helps although there are only two cores, because each writer spends part of its
 * time waiting (COPY round trips, WAL flush at COMMIT) while the others compute; a fourth did not help.
 */
const DEFAULT_BATCH_SIZE = 5000;
const MAX_BATCH_SIZE = 20000;
const DEFAULT_WRITERS = 3;
const MAX_WRITERS = 4;
/** Deadlock or serialization failure: the batch's transaction is simply run again. */
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 5;

const NO_ID_NUMBER: RowProblem = {
  field: 'idNumber',
  messageZh: '导入需要证件号码以匹配居民',
  messageEn: 'Import needs an ID number to match residents',
};

/** Columns written per row, in COPY order; names as in the resident table. */
const STAGE_COLUMNS = [
  'id_type', 'id_number', 'id_number_status', 'quarantine_reason', 'name', 'name_pinyin', 'former_name', 'sex', 'birth_date',
  'ethnicity', 'political_status', 'education', 'marital_status', 'employment', 'phone', 'population_type', 'household_relation',
  'community_code',
] as const;

const STAGE_TABLE = `CREATE TEMP TABLE IF NOT EXISTS import_stage (
  row_no integer NOT NULL, id uuid NOT NULL, id_type text, id_number text, id_number_status text, quarantine_reason text, name text,
  name_pinyin text, former_name text, sex text, birth_date date, ethnicity text, political_status text, education text,
  marital_status text, employment text, phone text, population_type text, household_relation text, community_code text
) ON COMMIT DELETE ROWS`;

/**
 * A run that wrote this many residents ANALYZEs what it wrote, once it is recorded as finished. Autovacuum would,
 * within a minute or so; until then PostgreSQL plans with the statistics of the table as it was, and after a first
 * import into an empty register those say "empty": the sync worker's reads of the new records then scan whole tables
 * (seen in bench:sync, 28 ms instead of 4 ms per batch of views).
 */
const ANALYZE_AFTER_ROWS = 10_000;

const COPY_STAGE = `COPY import_stage (row_no, id, ${STAGE_COLUMNS.join(', ')}) FROM STDIN`;

/**
 * One statement per batch writes the new residents, their history rows and their outbox events: the rows never
 * travel back to Node and out again, and PostgreSQL plans the three inserts once. Residents are inserted in ID-number
 * order, so concurrent writers take the unique index's locks in the same order; `ON CONFLICT DO NOTHING` leaves the
 * ID numbers already live to the lookup that follows. The history row and the outbox event are the same as the
 * register's writers make (HistoryService.record, recordOutbox): operation `import`, the `created` change naming the
 * file and row, and version 1 (a new resident's). A foreign key ties each history row to its resident; its check
 * runs at the end of this statement and sees the residents the first part inserted.
 */
const WRITE_FROM_STAGE = `
  WITH created AS (
    INSERT INTO resident (id, ${STAGE_COLUMNS.join(', ')}, source)
    SELECT id, ${STAGE_COLUMNS.join(', ')}, 'IMPORT' FROM import_stage ORDER BY id_number
    ON CONFLICT (id_number) WHERE merged_into_id IS NULL AND id_number IS NOT NULL DO NOTHING
    RETURNING id, id_number
  ), history AS (
    INSERT INTO change_history (resident_id, operation, actor, request_id, reason, changes)
    SELECT c.id, 'import', $1, $2, $3,
           jsonb_build_array(jsonb_build_object('field', 'created', 'old', NULL,
                                                'new', jsonb_build_object('source', 'IMPORT', 'file', $4::text, 'row', s.row_no)))
      FROM created c JOIN import_stage s ON s.id = c.id
  ), outbox AS (
    INSERT INTO outbox_event (aggregate_type, aggregate_id, version, event_type, changed_fields)
    SELECT 'RESIDENT', c.id, 1, 'import', ARRAY['created'] FROM created c
  )
  SELECT id, id_number FROM created`;

const SELECT_LIVE = `
  SELECT id, id_number, id_type, name, former_name, sex, birth_date::text AS birth_date, ethnicity, political_status,
         education, marital_status, employment, phone, population_type, household_relation, community_code
    FROM resident WHERE id_number = ANY($1::text[]) AND merged_into_id IS NULL`;

/** Record field → value as the register keeps it, for the fields a mapping can fill. */
function snapshotOfRecord(record: ResidentRecord, communityCode: string): Snapshot {
  return { ...record, communityCode };
}

function snapshotOfRow(r: RegisterRow): Snapshot {
  return {
    idType: r.id_type, idNumber: r.id_number, name: r.name, formerName: r.former_name, sex: r.sex, birthDate: r.birth_date,
    ethnicity: r.ethnicity, politicalStatus: r.political_status, education: r.education, maritalStatus: r.marital_status,
    employment: r.employment, phone: r.phone, populationType: r.population_type, householdRelation: r.household_relation,
    communityCode: r.community_code,
  };
}

/** PostgreSQL refused a value (class 22) or a constraint (class 23): a problem of one row, not of the run. */
function isRowDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

@Injectable()
export class ImportService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly codes: CodesService,
    private readonly config: AppConfig,
  ) {}

  /** Imports one file. Throws ImportException for problems of the whole file; row problems only reject rows. */
  async importFile(ctx: RequestContext, options: ImportFileOptions): Promise<ImportSummary> {
    const started = Date.now();
    const { mapping, label: mappingLabel } = options.mapping;
    const batchSize = Math.min(Math.max(options.batchSize ?? DEFAULT_BATCH_SIZE, 1), MAX_BATCH_SIZE);
    await requireReadableFile(options.filePath);
    const format = await detectFormat(options.filePath, mapping.format);
    const fileName = basename(options.filePath);

    // Reference data may have changed since start (a new or retired community): read it fresh for the run.
    await this.codes.reload();
    const communities = new CommunityResolver(this.codes);
    const fixedCode = options.communityCode ?? mapping.community?.code;
    let fixed: DivisionEntity | null = null;
    if (fixedCode !== undefined) {
      const d = this.codes.division(fixedCode);
      if (!d || d.level !== 'COMMUNITY') {
        throw new ImportException(ImportErrorCode.COMMUNITY_INVALID, `社区代码“${fixedCode}”不存在`, `Community code "${fixedCode}" does not exist`, { communityCode: fixedCode });
      }
      fixed = d;
    } else if (!mapping.community) {
      throw new ImportException(
        ImportErrorCode.COMMUNITY_INVALID,
        `映射 ${mappingLabel} 未指定所属社区：请在映射中给出 community，或使用 --community 参数`,
        `Mapping ${mappingLabel} gives no community: add community to the mapping or pass --community`,
        { file: mappingLabel },
      );
    } else if (mapping.community.by === 'name') {
      const within = mapping.community.within;
      if (within !== undefined && !this.codes.division(within)) {
        throw new ImportException(ImportErrorCode.COMMUNITY_INVALID, `映射中的区划代码“${within}”不存在`, `Division code "${within}" in the mapping does not exist`, { within });
      }
      await communities.loadNames(this.dataSource, within);
    }

    const reportPath = options.reportPath ?? join(this.config.get('IMPORT_REPORT_DIR'), `import-${new Date().toISOString().replace(/[:.]/g, '-')}.csv`);
    const report = await ImportReportWriter.open(reportPath);
    const writers = Math.min(Math.max(options.writers ?? DEFAULT_WRITERS, 1), MAX_WRITERS);
    const runners = Array.from({ length: writers }, () => this.dataSource.createQueryRunner());
    const clients: PoolClient[] = [];
    const source = openSource(options.filePath, { format, encoding: mapping.encoding, delimiter: mapping.delimiter, sheet: mapping.sheet });
    let run: RunState | null = null;
    let pipeline: BatchPipeline<PoolClient, PreparedRow[], BatchResult> | null = null;
    try {
      for (const runner of runners) clients.push(await runner.connect());
      const client = clients[0]!;
      const [{ id: runId }] = (
        await client.query<{ id: string }>(
          `INSERT INTO import_run (file_name, file_sha256, mapping, actor, report_path) VALUES ($1, '', $2, $3, $4) RETURNING id`,
          [fileName, JSON.stringify({ file: mappingLabel, communityOverride: options.communityCode ?? null, ...mapping }), ctx.actor.id, reportPath],
        )
      ).rows as [{ id: string }];
      run = {
        runId, fileName, actor: ctx.actor.id, requestId: ctx.requestId, mapper: null, report,
        counts: { rows: 0, accepted: 0, matched: 0, quarantined: 0, rejected: 0 }, onProgress: options.onProgress,
        timings: { readAndCheck: 0, waitForWriters: 0, stage: 0, write: 0, lookup: 0, commit: 0, report: 0, analyze: 0 }, ids: new TimeOrderedUuids(),
      };
      for (const c of clients) await c.query(STAGE_TABLE);
      const state = run;
      pipeline = new BatchPipeline(clients, idNumbersOf, (c, batch: PreparedRow[]) => this.writeRows(c, state, batch), (batch, result) => this.reportBatch(state, batch, result));

      let batch: PreparedRow[] = [];
      let readingSince = process.hrtime.bigint();
      const submit = async (full: PreparedRow[]) => {
        state.timings.readAndCheck += msSince(readingSince);
        const waiting = process.hrtime.bigint();
        await pipeline!.submit(full);
        state.timings.waitForWriters += msSince(waiting);
        readingSince = process.hrtime.bigint();
      };
      for await (const src of source) {
        if (src.row < mapping.headerRow) continue;
        if (!run.mapper) {
          run.mapper = compileRowMapper(mapping, src.cells, fileName, fixed !== null);
          continue;
        }
        if (isBlank(src)) continue;
        batch.push(this.prepare(src, run.mapper, fixed, communities));
        if (batch.length >= batchSize) {
          await submit(batch);
          batch = [];
        }
      }
      if (!run.mapper) {
        throw new ImportException(ImportErrorCode.FILE_FORMAT, `文件 ${fileName} 没有表头行`, `File ${fileName} has no header row`, { file: fileName });
      }
      if (batch.length) await submit(batch);
      else state.timings.readAndCheck += msSince(readingSince);
      const waiting = process.hrtime.bigint();
      await pipeline.finish();
      state.timings.waitForWriters += msSince(waiting);

      const fileSha256 = await source.sha256();
      await report.close();
      await client.query(
        `UPDATE import_run SET file_sha256 = $2, accepted = $3, matched = $4, quarantined = $5, rejected = $6, finished_at = now() WHERE id = $1`,
        [runId, fileSha256, run.counts.accepted, run.counts.matched, run.counts.quarantined, run.counts.rejected],
      );
      if (run.counts.accepted + run.counts.quarantined >= ANALYZE_AFTER_ROWS) {
        // After the run is recorded as finished: statistics are a courtesy to the next reads, and if ANALYZE fails (a
        // lock timeout, a role that does not own the tables) autovacuum does it later; the import stands.
        const analysing = process.hrtime.bigint();
        await client.query(`ANALYZE resident, change_history, outbox_event`).catch(() => undefined);
        run.timings.analyze += msSince(analysing);
      }
      return { runId, fileName, fileSha256, reportPath, durationMs: Date.now() - started, ...run.counts, timings: { ...run.timings } };
    } catch (err) {
      // What was committed stays; the run keeps its counts so far and no finished_at (it did not finish).
      await pipeline?.settle();
      if (run) {
        const c = run.counts;
        await clients[0]!
          .query(`UPDATE import_run SET accepted = $2, matched = $3, quarantined = $4, rejected = $5 WHERE id = $1`, [run.runId, c.accepted, c.matched, c.quarantined, c.rejected])
          .catch(() => undefined);
      }
      throw err;
    } finally {
      source.close();
      await report.close().catch(() => undefined);
      for (const c of clients) await c.query(`DROP TABLE IF EXISTS pg_temp.import_stage`).catch(() => undefined);
      for (const runner of runners) await runner.release();
    }
  }

  /** Maps and checks one row; pure, no database access (the community cache is in memory). */
  private prepare(src: SourceRow, mapper: RowMapper, fixed: DivisionEntity | null, communities: CommunityResolver): PreparedRow {
    const mapped = mapper.map(src.cells);
    const problems: RowProblem[] = [...mapped.problems];
    const flagged = new Set(problems.map((p) => p.field));
    if (!mapped.raw.idNumber && !flagged.has('idNumber')) {
      problems.push(NO_ID_NUMBER);
      flagged.add('idNumber');
    }
    // Without a usable ID number, an empty sex or birth date cannot be derived from it: that is the same problem.
    if (flagged.has('idNumber')) {
      if (!mapped.raw.sex) flagged.add('sex');
      if (!mapped.raw.birthDate) flagged.add('birthDate');
    }
    const checked = checkResidentFields(mapped.raw, this.codes, '');
    for (const p of checked.problems) {
      if (p.severity === 'REJECT' && !flagged.has(p.field)) problems.push({ field: p.field, messageZh: maskQuoted(p.messageZh), messageEn: maskQuoted(p.messageEn) });
    }
    const community = fixed ? { division: fixed } : communities.resolve(mapped.community);
    if ('problem' in community) problems.push(community.problem);
    const record = checked.record;
    const maskedId = maskReportIdNumber(record?.idNumber ?? mapped.raw.idNumber);
    if (problems.length || !record || !record.idNumber || !('division' in community)) {
      return { kind: 'rejected', row: src.row, maskedId, problems };
    }
    const division = community.division;
    const retired = communities.isRetired(division);
    const quarantine: RowProblem[] = checked.problems
      .filter((p) => p.severity === 'QUARANTINE')
      .map((p) => ({ field: p.field, messageZh: maskQuoted(p.messageZh), messageEn: maskQuoted(p.messageEn) }));
    if (retired) {
      quarantine.push({
        field: 'communityCode',
        messageZh: `社区“${division.name}”（${division.code}）已于 ${division.validTo} 撤销`,
        messageEn: `Community "${division.name}" (${division.code}) was retired on ${division.validTo}`,
      });
    }
    return {
      kind: 'candidate',
      row: src.row,
      maskedId,
      record: { ...record, idNumber: record.idNumber, quarantineReason: quarantineReasonOf(record.idNumberStatus, retired) },
      communityCode: division.code,
      quarantine,
    };
  }

  /** Writes one batch's new residents (the first row of each distinct ID number) and finds those already present. */
  private async writeRows(client: PoolClient, run: RunState, batch: PreparedRow[]): Promise<BatchResult> {
    const first = new Map<string, CandidateRow>();
    for (const r of batch) {
      if (r.kind === 'candidate' && !first.has(r.record.idNumber)) first.set(r.record.idNumber, r);
    }
    const written = new Map<string, Written>();
    const refused = new Map<string, RowProblem>();
    await this.writeCandidates(client, run, [...first.values()], written, refused);
    return { first, written, refused };
  }

  /** Reports every row of a written batch, in file order, and counts the outcomes. */
  private async reportBatch(run: RunState, batch: PreparedRow[], { first, written, refused }: BatchResult): Promise<void> {
    const started = process.hrtime.bigint();
    const provided = run.mapper!.providedFields;
    const lines: ReportLine[] = [];
    const count = (outcome: ImportOutcome) => {
      const key = outcome === 'ACCEPTED' ? 'accepted' : outcome === 'MATCHED' ? 'matched' : outcome === 'QUARANTINED' ? 'quarantined' : 'rejected';
      run.counts[key] += 1;
    };
    for (const r of batch) {
      run.counts.rows += 1;
      if (r.kind === 'rejected') {
        lines.push(rejectedLine(r.row, r.maskedId, r.problems));
        count('REJECTED');
        continue;
      }
      const id = r.record.idNumber;
      const w = written.get(id);
      if (!w) {
        lines.push(rejectedLine(r.row, r.maskedId, [refused.get(id) ?? { field: '', messageZh: '未能写入', messageEn: 'Could not be written' }]));
        count('REJECTED');
        continue;
      }
      if (w.created && first.get(id) === r) {
        const outcome: ImportOutcome = r.quarantine.length ? 'QUARANTINED' : 'ACCEPTED';
        lines.push({
          row: r.row, outcome, residentId: w.residentId, idNumberMasked: r.maskedId, field: r.quarantine.map((q) => q.field).join(';'),
          reasonZh: r.quarantine.map((q) => q.messageZh).join('；'), reasonEn: r.quarantine.map((q) => q.messageEn).join('; '), differingFields: [],
        });
        count(outcome);
        continue;
      }
      // Already in the register, or an earlier row of this file: matched, nothing changed.
      const register = w.created ? snapshotOfRecord(first.get(id)!.record, first.get(id)!.communityCode) : w.register;
      const mine = snapshotOfRecord(r.record, r.communityCode);
      const differing = [...provided, 'communityCode' as const].filter((f) => (mine[f] ?? null) !== (register[f] ?? null));
      lines.push({ row: r.row, outcome: 'MATCHED', residentId: w.residentId, idNumberMasked: r.maskedId, field: '', reasonZh: '', reasonEn: '', differingFields: differing });
      count('MATCHED');
    }
    await run.report.write(lines);
    run.timings.report += msSince(started);
    run.onProgress?.({ ...run.counts });
  }

  /**
   * Writes the batch's new residents and their history in one transaction and finds the residents already present.
   * If PostgreSQL refuses a value, the batch is retried row by row so that only the offending row is rejected.
   */
  private async writeCandidates(
    client: PoolClient, run: RunState, rows: CandidateRow[], written: Map<string, Written>, refused: Map<string, RowProblem>, attempt = 1,
  ): Promise<void> {
    if (rows.length === 0) return;
    const outcome = new Map<string, Written>();
    try {
      await client.query('BEGIN');
      await this.upsert(client, run, rows, outcome);
      const committing = process.hrtime.bigint();
      await client.query('COMMIT');
      run.timings.commit += msSince(committing);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      const code = String((err as { code?: unknown } | null)?.code ?? '');
      if (RETRYABLE.has(code) && attempt < MAX_ATTEMPTS) return this.writeCandidates(client, run, rows, written, refused, attempt + 1);
      if (!isRowDataError(err)) throw err;
      if (rows.length === 1) {
        refused.set(rows[0]!.record.idNumber, { field: '', messageZh: `数据库拒绝了此行（${code}）`, messageEn: `The database refused this row (SQLSTATE ${code})` });
        return;
      }
      for (const row of rows) await this.writeCandidates(client, run, [row], written, refused);
      return;
    }
    for (const [idNumber, w] of outcome) written.set(idNumber, w);
    for (const r of rows) {
      // A conflicting record merged away between the insert and the lookup: extremely rare; the row is reported.
      if (!written.has(r.record.idNumber)) {
        refused.set(r.record.idNumber, { field: 'idNumber', messageZh: '该证件号码的记录正在变更，请重新导入', messageEn: 'The record with this ID number was changing; import the file again' });
      }
    }
  }

  /**
   * Inside the caller's transaction: the batch is COPYed into the session's staging table with a new id per row,
   * one statement writes the residents not yet live with their history rows and outbox events, and the rest is
   * looked up.
   */
  private async upsert(client: PoolClient, run: RunState, rows: CandidateRow[], outcome: Map<string, Written>): Promise<void> {
    let since = process.hrtime.bigint();
    await this.stage(client, run, rows);
    run.timings.stage += msSince(since);
    since = process.hrtime.bigint();
    const inserted = (
      await client.query<{ id: string; id_number: string }>(WRITE_FROM_STAGE, [run.actor, run.requestId, historyReason(run.fileName), run.fileName])
    ).rows;
    if (inserted.length) await client.query(NOTIFY_OUTBOX);
    run.timings.write += msSince(since);
    for (const i of inserted) outcome.set(i.id_number, { residentId: i.id, created: true });
    if (inserted.length === rows.length) return;
    since = process.hrtime.bigint();
    const present = rows.filter((r) => !outcome.has(r.record.idNumber)).map((r) => r.record.idNumber);
    const found = (await client.query<RegisterRow>(SELECT_LIVE, [present])).rows;
    for (const f of found) outcome.set(f.id_number, { residentId: f.id, created: false, register: snapshotOfRow(f) });
    run.timings.lookup += msSince(since);
  }

  /** Loads the batch into the session's temporary staging table with COPY; each row gets the id it will keep if new. */
  private async stage(client: PoolClient, run: RunState, rows: CandidateRow[]): Promise<void> {
    let text = '';
    for (const r of rows) text += `${r.row}\t${run.ids.next()}\t${stageLine(r)}`;
    await copyFromStdin(client, COPY_STAGE, [Buffer.from(text, 'utf8')]);
  }
}

/** A row's stored columns in COPY text format, in STAGE_COLUMNS order, ending with a newline. */
function stageLine(r: CandidateRow): string {
  const x = r.record;
  return `${copyText(x.idType)}\t${copyText(x.idNumber)}\t${copyText(x.idNumberStatus)}\t${copyText(x.quarantineReason)}\t`
    + `${copyText(x.name)}\t${copyText(x.namePinyin)}\t${copyText(x.formerName)}\t${copyText(x.sex)}\t${copyText(x.birthDate)}\t`
    + `${copyText(x.ethnicity)}\t${copyText(x.politicalStatus)}\t${copyText(x.education)}\t${copyText(x.maritalStatus)}\t`
    + `${copyText(x.employment)}\t${copyText(x.phone)}\t${copyText(x.populationType)}\t${copyText(x.householdRelation)}\t`
    + `${copyText(r.communityCode)}\n`;
}

function historyReason(fileName: string): string {
  return `导入 import: ${fileName}`;
}

function idNumbersOf(batch: PreparedRow[]): Set<string> {
  const ids = new Set<string>();
  for (const r of batch) if (r.kind === 'candidate') ids.add(r.record.idNumber);
  return ids;
}

function isBlank(src: SourceRow): boolean {
  return src.cells.every((c) => c === null || (typeof c === 'string' && c.trim() === ''));
}

function rejectedLine(row: number, maskedId: string, problems: RowProblem[]): ReportLine {
  return {
    row, outcome: 'REJECTED', residentId: null, idNumberMasked: maskedId, field: problems.map((p) => p.field).join(';'),
    reasonZh: problems.map((p) => p.messageZh).join('；'), reasonEn: problems.map((p) => p.messageEn).join('; '), differingFields: [],
  };
}
