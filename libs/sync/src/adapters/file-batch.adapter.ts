import { readFile, rename, unlink, writeFile } from 'fs/promises';
import { connect as connectTcp, Socket } from 'net';
import { join, posix } from 'path';
import { parse as parseCsv } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import * as iconv from 'iconv-lite';
import JSZip from 'jszip';
import SftpClient from 'ssh2-sftp-client';
import { z } from 'zod';
import { AdapterFactory, BatchAdapter, BatchRowResult, DeliveryResult, OutboundRecord } from './adapter';

/**
 * The `file-batch` protocol: one file per run (monthly workbooks, DOMAIN.md P3) dropped where the target picks it
 * up, over SFTP or into a directory; the target answers with a result file that repeats the rows and adds a
 * check-result column (校验结果).
 *
 * Endpoint block:
 *   transport    sftp | directory
 *   host, port   SFTP server (port 22 when absent); credentials { username, password } name environment variables
 *   path         upload directory (remote for sftp, local for directory)
 *   resultPath   where the target writes `<file name without extension>.result.<xlsx|csv>`
 *   format       xlsx | csv
 *   sheets       one sheet { name, fields, keyField? } or a list of them; `fields` are target field names in
 *                column order and become the Chinese headers. Every record gives one row on every sheet.
 *                CSV takes exactly one sheet.
 *   keyField     the target's key field (the target file's `key`); `keyField` on a sheet overrides it for the
 *                result rows of that sheet (a member sheet keyed by 父ID)
 *   fileName     template: {YYYY} {YY} {MM} {M} (month of `now`, China time) and {run} (the run id, reduced to
 *                letters, digits, `-` and `_`), e.g. `低保_{YYYY}年{M}月_{run}.xlsx`
 *   resultColumn the column the target adds (default 校验结果); okValue: its text for a good row (default 通过)
 *   encoding     CSV only: UTF-8 (written with a BOM, the way Excel expects), GBK (a value outside GBK fails the
 *                render instead of turning into `?`) or GB18030
 *   decimals     { field: n }: numbers written with n decimals (XLSX number format `0.00`, CSV fixed text)
 *   operationColumn { name, upsert, delete }: how the file tells a record on the roll from one that left it (e.g.
 *                变更类型 with 正常 / 注销). The column is one of a sheet's `fields`; its cell is `upsert` on a live
 *                record's rows and `delete` on a removal's row. A removal (DELETE) gets one row on each sheet that
 *                has the column and is keyed by `keyField`: the key and the marker, every other cell empty. Without
 *                it, removals cannot be written and the adapter says so (`omitsDeletions`).
 *   timeoutMs    ceiling for one transport operation besides the caller's AbortSignal (default 30000)
 *
 * Rendering is deterministic: rows ordered by key (code-unit order, not locale), one row per key (a live record wins
 * over a removal with the same key, then the highest version), no timestamps that move:
 * the workbook's created/modified dates and every ZIP entry's date are the first day of `now`'s month.
 *
 * Upload writes `<name>.part`, removes an older `<name>` if one is there, then renames `.part` to `<name>`, so the
 * target never sees half a file; uploading the same file again is harmless (the target sees the same bytes again).
 *
 * Answers: every transport failure is RETRY. Connection refused or reset (DOWN simulated as a refused connection),
 * authentication failure, timeouts / abort and SFTP errors count as attempts; an SSH disconnect with reason
 * TOO_MANY_CONNECTIONS (12) or SERVICE_NOT_AVAILABLE (7) is back-pressure and does not. A batch file has no
 * "invalid record" answer at upload: rows are judged in the result file (fetchResult), so upload never REJECTs.
 * fetchResult throws `FileBatchTransportError` (carrying the RETRY to apply) when it cannot reach the target.
 * Errors and reasons never carry file content (no names or ID numbers), only codes and file names.
 */

const SHEET_NAME = /^[^[\]:*?/\\]{1,31}$/;
const TEMPLATE_TOKENS = new Set(['YYYY', 'YY', 'MM', 'M', 'run']);
const CHINA_UTC_OFFSET_MS = 8 * 60 * 60 * 1000;
const DEFAULT_TIMEOUT_MS = 30_000;
const SSH_DISCONNECT_SERVICE_NOT_AVAILABLE = 7;
const SSH_DISCONNECT_TOO_MANY_CONNECTIONS = 12;

const sheetSchema = z
  .object({
    name: z.string().regex(SHEET_NAME, 'a worksheet name of 1 to 31 characters without [ ] : * ? / \\'),
    fields: z.array(z.string().min(1)).min(1),
    keyField: z.string().min(1).optional(),
  })
  .strict();

const endpointSchema = z
  .object({
    transport: z.enum(['sftp', 'directory']),
    host: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    path: z.string().min(1),
    resultPath: z.string().min(1),
    format: z.enum(['xlsx', 'csv']),
    sheets: z.union([sheetSchema, z.array(sheetSchema).min(1)]),
    keyField: z.string().min(1),
    fileName: z.string().min(1),
    resultColumn: z.string().min(1).default('校验结果'),
    okValue: z.string().min(1).default('通过'),
    encoding: z.enum(['UTF-8', 'GBK', 'GB18030']).optional(),
    decimals: z.record(z.string().min(1), z.number().int().min(0).max(6)).optional(),
    operationColumn: z.object({ name: z.string().min(1), upsert: z.string().min(1), delete: z.string().min(1) }).strict()
      .refine((o) => o.upsert !== o.delete, { message: 'upsert and delete must differ', path: ['delete'] }).optional(),
    timeoutMs: z.number().int().positive().optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    const sheets = Array.isArray(e.sheets) ? e.sheets : [e.sheets];
    if (e.transport === 'sftp' && !e.host) ctx.addIssue({ code: 'custom', path: ['host'], message: 'required for transport sftp' });
    if (e.format === 'csv' && sheets.length !== 1) ctx.addIssue({ code: 'custom', path: ['sheets'], message: 'a CSV file holds exactly one sheet' });
    if (e.format !== 'csv' && e.encoding) ctx.addIssue({ code: 'custom', path: ['encoding'], message: 'only for format csv' });
    if (!e.fileName.toLowerCase().endsWith(`.${e.format}`)) ctx.addIssue({ code: 'custom', path: ['fileName'], message: `must end with .${e.format}` });
    if (/[/\\]/.test(e.fileName) || e.fileName.includes('..')) ctx.addIssue({ code: 'custom', path: ['fileName'], message: 'must be a plain file name' });
    for (const token of e.fileName.match(/\{[^}]*\}/g) ?? []) {
      if (!TEMPLATE_TOKENS.has(token.slice(1, -1))) ctx.addIssue({ code: 'custom', path: ['fileName'], message: `unknown placeholder ${token}` });
    }
    if (e.operationColumn) {
      if (e.operationColumn.name === e.resultColumn) ctx.addIssue({ code: 'custom', path: ['operationColumn', 'name'], message: `${e.resultColumn} is the target's result column` });
      if (!sheets.some((sheet) => (sheet.keyField ?? e.keyField) === e.keyField && sheet.fields.includes(e.operationColumn!.name))) {
        ctx.addIssue({ code: 'custom', path: ['operationColumn', 'name'], message: `must be one of the fields of a sheet keyed by ${e.keyField}` });
      }
    }
    const names = new Set<string>();
    sheets.forEach((sheet, i) => {
      const where = Array.isArray(e.sheets) ? ['sheets', i] : ['sheets'];
      if (names.has(sheet.name)) ctx.addIssue({ code: 'custom', path: [...where, 'name'], message: 'duplicate sheet name' });
      names.add(sheet.name);
      if (new Set(sheet.fields).size !== sheet.fields.length) ctx.addIssue({ code: 'custom', path: [...where, 'fields'], message: 'a field appears twice' });
      if (sheet.fields.includes(e.resultColumn)) ctx.addIssue({ code: 'custom', path: [...where, 'fields'], message: `${e.resultColumn} is the target's result column` });
      const key = sheet.keyField ?? e.keyField;
      if (!sheet.fields.includes(key)) ctx.addIssue({ code: 'custom', path: [...where, sheet.keyField ? 'keyField' : 'fields'], message: `the key field ${key} must be one of the sheet's fields` });
    });
  });

export type FileBatchEndpoint = z.infer<typeof endpointSchema>;
type FileBatchSheet = z.infer<typeof sheetSchema>;
type RetryResult = Extract<DeliveryResult, { kind: 'RETRY' }>;

/** fetchResult could not reach the target; `retry` says how the caller should treat it. */
export class FileBatchTransportError extends Error {
  constructor(readonly retry: RetryResult) {
    super(retry.reason);
    this.name = 'FileBatchTransportError';
  }
}

function parseEndpoint(endpoint: unknown): FileBatchEndpoint {
  const parsed = endpointSchema.safeParse(endpoint);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `endpoint.${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  throw new Error(`file-batch: ${problems.join('; ')}`);
}

export const fileBatchAdapterFactory: AdapterFactory = {
  protocol: 'file-batch',
  validateEndpoint(endpoint: unknown): void {
    parseEndpoint(endpoint);
  },
  create(target: { name: string; endpoint: Record<string, unknown>; credentials: Record<string, string> }): BatchAdapter {
    return new FileBatchAdapter(target.name, parseEndpoint(target.endpoint), target.credentials);
  },
};

/** Credentials arrive resolved: { username, password } values (the hub resolves the environment names). */
class FileBatchAdapter implements BatchAdapter {
  readonly kind = 'batch';
  readonly omitsDeletions: boolean;
  private readonly sheets: FileBatchSheet[];
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly targetName: string,
    private readonly endpoint: FileBatchEndpoint,
    private readonly credentials: Record<string, string>,
  ) {
    this.sheets = Array.isArray(endpoint.sheets) ? endpoint.sheets : [endpoint.sheets];
    this.omitsDeletions = !endpoint.operationColumn;
  }

  async render(records: OutboundRecord[], runId: string, now: Date): Promise<{ fileName: string; content: Buffer }> {
    const fileName = renderFileName(this.endpoint.fileName, runId, now);
    const rows = rowsOf(records).filter((r) => r.operation === 'UPSERT' || !this.omitsDeletions);
    const content = this.endpoint.format === 'xlsx' ? await this.renderWorkbook(rows, monthStart(now)) : this.renderCsv(rows);
    return { fileName, content };
  }

  async upload(file: { fileName: string; content: Buffer }, signal: AbortSignal): Promise<DeliveryResult> {
    const target = this.remote(this.endpoint.path, file.fileName);
    const part = `${target}.part`;
    try {
      if (this.endpoint.transport === 'directory') {
        await this.guard(signal, async () => {
          await writeFile(part, file.content);
          await rename(part, target);
        });
      } else {
        await this.withSftp(signal, async (sftp) => {
          await sftp.put(file.content, part);
          if (await sftp.exists(target)) await sftp.delete(target);
          await sftp.rename(part, target);
        });
      }
      return { kind: 'DELIVERED', targetRef: target };
    } catch (err) {
      if (this.endpoint.transport === 'directory') await unlink(part).catch(() => undefined);
      return this.retryOf(err, signal);
    }
  }

  async fetchResult(fileName: string, signal: AbortSignal): Promise<BatchRowResult[] | null> {
    const path = this.remote(this.endpoint.resultPath, resultFileName(fileName));
    let content: Buffer | null;
    try {
      if (this.endpoint.transport === 'directory') {
        content = await this.guard(signal, () => readFile(path).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? null : Promise.reject(err))));
      } else {
        content = await this.withSftp(signal, async (sftp) => {
          if (!(await sftp.exists(path))) return null;
          const data = await sftp.get(path);
          if (!Buffer.isBuffer(data)) throw new Error('sftp get did not return bytes');
          return data;
        });
      }
    } catch (err) {
      throw new FileBatchTransportError(this.retryOf(err, signal));
    }
    if (content === null) return null;
    return this.endpoint.format === 'xlsx' ? this.readWorkbookResult(content) : this.readCsvResult(content);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Rendering

  /** Whether a record gets a row on this sheet: every live record; a removal on sheets that can say so. */
  private hasRow(sheet: FileBatchSheet, record: OutboundRecord): boolean {
    if (record.operation === 'UPSERT') return true;
    const op = this.endpoint.operationColumn;
    return !!op && (sheet.keyField ?? this.endpoint.keyField) === this.endpoint.keyField && sheet.fields.includes(op.name);
  }

  private cellsOf(sheet: FileBatchSheet, record: OutboundRecord): (string | number | null)[] {
    const op = this.endpoint.operationColumn;
    return sheet.fields.map((field) => {
      if (op && field === op.name) return record.operation === 'DELETE' ? op.delete : op.upsert;
      if (record.operation === 'DELETE') return field === (sheet.keyField ?? this.endpoint.keyField) ? record.key : null;
      const value = record.fields[field];
      if (value === undefined || value === null) return null;
      if (typeof value === 'boolean') return value ? '是' : '否';
      if (typeof value === 'number') {
        const decimals = this.endpoint.decimals?.[field];
        if (decimals === undefined) return value;
        const scale = 10 ** decimals;
        return Math.round(value * scale) / scale;
      }
      return value;
    });
  }

  private async renderWorkbook(records: OutboundRecord[], fixedDate: Date): Promise<Buffer> {
    const workbook = new ExcelJS.Workbook();
    workbook.creator = 'Linli';
    workbook.lastModifiedBy = 'Linli';
    workbook.created = fixedDate;
    workbook.modified = fixedDate;
    for (const sheet of this.sheets) {
      const ws = workbook.addWorksheet(sheet.name);
      ws.columns = sheet.fields.map((field) => ({ header: field, key: field, width: Math.max(10, field.length * 2 + 4) }));
      for (const record of records) {
        if (!this.hasRow(sheet, record)) continue;
        const row = ws.addRow(this.cellsOf(sheet, record));
        sheet.fields.forEach((field, i) => {
          const decimals = this.endpoint.decimals?.[field];
          const cell = row.getCell(i + 1);
          if (decimals !== undefined && typeof cell.value === 'number') cell.numFmt = decimals === 0 ? '0' : `0.${'0'.repeat(decimals)}`;
          // IDs, phone numbers and account numbers are text: keep Excel from turning them into numbers.
          else if (typeof cell.value === 'string') cell.numFmt = '@';
        });
      }
    }
    const raw = Buffer.from((await workbook.xlsx.writeBuffer()) as ArrayBuffer);
    return normalizeZip(raw, fixedDate);
  }

  private renderCsv(records: OutboundRecord[]): Buffer {
    const sheet = this.sheets[0] as FileBatchSheet;
    const lines = [sheet.fields.map(csvCell)];
    for (const record of records) {
      if (!this.hasRow(sheet, record)) continue;
      lines.push(
        this.cellsOf(sheet, record).map((value, i) => {
          const decimals = this.endpoint.decimals?.[sheet.fields[i] as string];
          return csvCell(value === null ? '' : typeof value === 'number' && decimals !== undefined ? value.toFixed(decimals) : String(value));
        }),
      );
    }
    const text = lines.map((cells) => cells.join(',')).join('\r\n') + '\r\n';
    const encoding = this.endpoint.encoding ?? 'UTF-8';
    if (encoding === 'UTF-8') return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
    if (encoding === 'GBK') {
      lines.forEach((cells, row) =>
        cells.forEach((cell, column) => {
          if (iconv.decode(iconv.encode(cell, 'gbk'), 'gbk') !== cell) {
            throw new Error(`file-batch ${this.targetName}: row ${row + 1}, column ${sheet.fields[column] ?? column + 1} has characters GBK cannot hold (use encoding GB18030)`);
          }
        }),
      );
      return iconv.encode(text, 'gbk');
    }
    return iconv.encode(text, 'gb18030');
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Result files

  private keyFieldOf(sheetName: string | null): string {
    const sheet = sheetName === null ? this.sheets[0] : this.sheets.find((s) => s.name === sheetName);
    return sheet?.keyField ?? this.endpoint.keyField;
  }

  private async readWorkbookResult(content: Buffer): Promise<BatchRowResult[]> {
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(content as unknown as ExcelJS.Buffer);
    const tables = workbook.worksheets.map((ws) => {
      const rows: string[][] = [];
      ws.eachRow({ includeEmpty: false }, (row) => {
        const cells: string[] = [];
        for (let c = 1; c <= row.cellCount; c++) cells.push(row.getCell(c).text.trim());
        rows.push(cells);
      });
      return { keyField: this.keyFieldOf(ws.name), rows };
    });
    return this.mergeResults(tables);
  }

  private readCsvResult(content: Buffer): BatchRowResult[] {
    const encoding = this.endpoint.encoding ?? 'UTF-8';
    const text = encoding === 'UTF-8' ? content.toString('utf8') : iconv.decode(content, encoding === 'GBK' ? 'gbk' : 'gb18030');
    const rows = parseCsv(text, { bom: true, relax_column_count: true, skip_empty_lines: true }) as string[][];
    return this.mergeResults([{ keyField: this.keyFieldOf(null), rows: rows.map((r) => r.map((c) => c.trim())) }]);
  }

  /** One answer per key over all sheets: ok only when every row of the key is ok; the problems joined. */
  private mergeResults(tables: { keyField: string; rows: string[][] }[]): BatchRowResult[] {
    const byKey = new Map<string, { ok: boolean; problems: string[] }>();
    let usable = false;
    for (const table of tables) {
      const [header = [], ...rows] = table.rows;
      const keyAt = header.indexOf(table.keyField);
      const resultAt = header.indexOf(this.endpoint.resultColumn);
      if (keyAt < 0 || resultAt < 0) continue;
      usable = true;
      for (const row of rows) {
        const key = (row[keyAt] ?? '').toUpperCase();
        if (key === '') continue;
        const answer = row[resultAt] ?? '';
        const entry = byKey.get(key) ?? { ok: true, problems: [] };
        if (answer !== this.endpoint.okValue) {
          entry.ok = false;
          const problem = answer === '' ? '无校验结果' : answer;
          if (!entry.problems.includes(problem)) entry.problems.push(problem);
        }
        byKey.set(key, entry);
      }
    }
    if (!usable) {
      throw new FileBatchTransportError({ kind: 'RETRY', reason: `file-batch ${this.targetName}: result file has no ${this.endpoint.keyField} / ${this.endpoint.resultColumn} columns`, countsAsAttempt: true });
    }
    return [...byKey].map(([key, e]) => ({ key, ok: e.ok, answer: e.ok ? this.endpoint.okValue : e.problems.join('；') }));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Transport

  private remote(dir: string, name: string): string {
    return this.endpoint.transport === 'sftp' ? posix.join(dir, name) : join(dir, name);
  }

  private deadline(signal: AbortSignal): AbortSignal {
    return AbortSignal.any([signal, AbortSignal.timeout(this.endpoint.timeoutMs ?? DEFAULT_TIMEOUT_MS)]);
  }

  /** Runs a directory operation unless the caller gave up already. */
  private async guard<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    signal.throwIfAborted();
    const result = await work();
    signal.throwIfAborted();
    return result;
  }

  /**
   * One SFTP connection per operation (a batch run makes a handful): our own TCP socket, so that an abort or the
   * timeout can cut it at any stage, even before the SSH handshake answers.
   */
  private async withSftp<T>(callerSignal: AbortSignal, work: (sftp: SftpClient) => Promise<T>): Promise<T> {
    const signal = this.deadline(callerSignal);
    signal.throwIfAborted();
    const host = this.endpoint.host ?? '127.0.0.1';
    const port = this.endpoint.port ?? 22;
    const socket = connectTcp({ host, port });
    this.sockets.add(socket);
    const client = new SftpClient(this.targetName, { error: () => undefined, end: () => undefined, close: () => undefined });
    let onAbort = (): void => undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        socket.destroy();
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
    const session = (async () => {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      await client.connect({
        sock: socket,
        username: this.credentials.username ?? '',
        password: this.credentials.password ?? '',
        readyTimeout: this.endpoint.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      });
      return work(client);
    })();
    session.catch(() => undefined);
    try {
      return await Promise.race([session, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
      await Promise.race([client.end().catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
      socket.destroy();
      this.sockets.delete(socket);
    }
  }

  private retryOf(err: unknown, signal: AbortSignal): RetryResult {
    const where = `file-batch ${this.targetName}`;
    const code = (err as { code?: unknown } | null)?.code;
    if (signal.aborted || isTimeout(err)) return { kind: 'RETRY', reason: `${where}: timed out`, countsAsAttempt: true };
    if (code === SSH_DISCONNECT_TOO_MANY_CONNECTIONS) return { kind: 'RETRY', reason: `${where}: server busy (too many connections)`, countsAsAttempt: false };
    if (code === SSH_DISCONNECT_SERVICE_NOT_AVAILABLE) return { kind: 'RETRY', reason: `${where}: service not available`, countsAsAttempt: false };
    if (code === 'ECONNREFUSED') return { kind: 'RETRY', reason: `${where}: connection refused`, countsAsAttempt: true };
    const message = err instanceof Error ? err.message.split('\n')[0]?.slice(0, 200) : String(err);
    if (/authentication/i.test(message ?? '')) return { kind: 'RETRY', reason: `${where}: authentication failed`, countsAsAttempt: true };
    return { kind: 'RETRY', reason: `${where}: ${typeof code === 'string' || typeof code === 'number' ? `${code} ` : ''}${message}`, countsAsAttempt: true };
  }
}

function isTimeout(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return err.name === 'TimeoutError' || err.name === 'AbortError' || /timed out/i.test(err.message);
}

/** `x.xlsx` → `x.result.xlsx`: where the target answers. */
export function resultFileName(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot < 0 ? `${fileName}.result` : `${fileName.slice(0, dot)}.result${fileName.slice(dot).toLowerCase()}`;
}

/**
 * One record per key, ordered by key in code-unit order. A live record wins over a removal with the same key (a new
 * head's household row and the former head's removal share the household's key); then the highest version, then
 * the aggregate id.
 */
function rowsOf(records: OutboundRecord[]): OutboundRecord[] {
  const rank = (r: OutboundRecord): [number, number, string] => [r.operation === 'UPSERT' ? 1 : 0, r.version, r.aggregateId];
  const byKey = new Map<string, OutboundRecord>();
  for (const record of records) {
    const held = byKey.get(record.key);
    if (!held) {
      byKey.set(record.key, record);
      continue;
    }
    const [a, b] = [rank(record), rank(held)];
    if (a[0] > b[0] || (a[0] === b[0] && (a[1] > b[1] || (a[1] === b[1] && a[2] > b[2])))) byKey.set(record.key, record);
  }
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The first day of `now`'s month, 00:00 China time. */
function monthStart(now: Date): Date {
  const china = new Date(now.getTime() + CHINA_UTC_OFFSET_MS);
  return new Date(Date.UTC(china.getUTCFullYear(), china.getUTCMonth(), 1) - CHINA_UTC_OFFSET_MS);
}

function renderFileName(template: string, runId: string, now: Date): string {
  const china = new Date(now.getTime() + CHINA_UTC_OFFSET_MS);
  const year = String(china.getUTCFullYear());
  const month = china.getUTCMonth() + 1;
  const run = runId.replace(/[^\p{L}\p{N}_-]+/gu, '-').slice(0, 80) || 'run';
  const values: Record<string, string> = { YYYY: year, YY: year.slice(2), MM: String(month).padStart(2, '0'), M: String(month), run };
  return template.replace(/\{(YYYY|YY|MM|M|run)\}/g, (_, token: string) => values[token] ?? '');
}

/** Rewrites the XLSX (a ZIP) with one fixed date on every entry and no implicit folder entries: same input, same bytes. */
async function normalizeZip(raw: Buffer, fixedDate: Date): Promise<Buffer> {
  const source = await JSZip.loadAsync(raw);
  const out = new JSZip();
  for (const entry of Object.values(source.files)) {
    if (entry.dir) continue;
    out.file(entry.name, await entry.async('nodebuffer'), { date: fixedDate, createFolders: false });
  }
  return out.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE', compressionOptions: { level: 6 } });
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
