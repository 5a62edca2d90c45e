import { createHash, Hash } from 'crypto';
import { createReadStream } from 'fs';
import { open, stat } from 'fs/promises';
import { extname } from 'path';
import { pipeline, Readable, Transform, TransformCallback } from 'stream';
import { TextDecoder } from 'util';
import { parse as parseCsv } from 'csv-parse';
import ExcelJS from 'exceljs';
import { ImportErrorCode, ImportException } from './import-error';

/**
 * Streaming row readers for legacy exports (CSV and XLSX). Rows are pulled one at a time with backpressure: memory
 * stays flat however long the file is. The file's SHA-256 is computed from the same bytes as they are read.
 */

/** One cell as read: CSV gives strings; a workbook also gives numbers, booleans and dates. */
export type CellValue = string | number | boolean | Date | null;

export interface SourceRow {
  /** Row number as a spreadsheet shows it (the first line or row of the file is 1). */
  row: number;
  cells: CellValue[];
}

export type SourceFormat = 'csv' | 'xlsx';
export type SourceEncoding = 'auto' | 'utf-8' | 'gbk' | 'gb18030';

export interface SourceOptions {
  format: SourceFormat;
  /** CSV only. */
  encoding: SourceEncoding;
  /** CSV only. */
  delimiter: string;
  /** XLSX only: the worksheet's name; the first worksheet when absent. */
  sheet?: string;
}

/** A file being read: iterate its rows once, then ask for its SHA-256. */
export interface TabularSource extends AsyncIterable<SourceRow> {
  /** Hex SHA-256 of the whole file; reads whatever the parser left unread. Call after iterating. */
  sha256(): Promise<string>;
  /** Releases the file when iteration stopped early. */
  close(): void;
}

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/** Fails fast, before any run is recorded, when the file is missing or is not a readable file. */
export async function requireReadableFile(path: string): Promise<number> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    const handle = await open(path, 'r');
    await handle.close();
    return info.size;
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? 'read error';
    throw new ImportException(ImportErrorCode.FILE_UNREADABLE, `无法读取数据文件 ${path}（${reason}）`, `Cannot read data file ${path} (${reason})`, { file: path, reason });
  }
}

/** The format named by the mapping, else by the file name, else by the first bytes (an XLSX is a ZIP archive). */
export async function detectFormat(path: string, declared?: SourceFormat): Promise<SourceFormat> {
  if (declared) return declared;
  const ext = extname(path).toLowerCase();
  if (ext === '.csv' || ext === '.txt') return 'csv';
  if (ext === '.xlsx') return 'xlsx';
  if (ext === '.xls') {
    throw new ImportException(ImportErrorCode.FILE_FORMAT, '不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV', 'Old .xls workbooks are not supported; save as .xlsx or CSV', { file: path });
  }
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    await handle.read(head, 0, 4, 0);
    return head.equals(ZIP_MAGIC) ? 'xlsx' : 'csv';
  } finally {
    await handle.close();
  }
}

/** Passes bytes through unchanged while hashing them and counting how many went by. */
class HashingTap extends Transform {
  readonly hash: Hash = createHash('sha256');
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }
}

/**
 * Decodes legacy Chinese text to UTF-8. `auto` looks at the first 64 KiB: valid UTF-8 (with or without BOM) passes
 * through untouched; anything else is read as GB18030, the superset of GBK that Excel on Chinese Windows writes.
 */
class LegacyTextDecoder extends Transform {
  private decoder: TextDecoder | null = null;
  private decided: boolean;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly encoding: SourceEncoding) {
    super();
    this.decided = encoding !== 'auto';
    if (encoding === 'gbk' || encoding === 'gb18030') this.decoder = new TextDecoder('gb18030');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.decided) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes < 65536) return callback();
      this.decide(false);
      return callback();
    }
    this.emitDecoded(chunk);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (!this.decided) this.decide(true);
    if (this.decoder) this.push(Buffer.from(this.decoder.decode(), 'utf8'));
    callback();
  }

  private decide(atEnd: boolean): void {
    const sample = Buffer.concat(this.pending);
    this.pending = [];
    this.decided = true;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: !atEnd });
    } catch {
      this.decoder = new TextDecoder('gb18030');
    }
    this.emitDecoded(sample);
  }

  private emitDecoded(chunk: Buffer): void {
    if (!this.decoder) {
      this.push(chunk);
      return;
    }
    const text = this.decoder.decode(chunk, { stream: true });
    if (text) this.push(Buffer.from(text, 'utf8'));
  }
}

/** Opens a CSV or XLSX file for streaming. Format problems surface while iterating, as ImportException. */
export function openSource(path: string, options: SourceOptions): TabularSource {
  const file = createReadStream(path, { highWaterMark: 256 * 1024 });
  const tap = new HashingTap();
  let finished = false;
  const streams: { destroy(): void }[] = [file, tap];

  const rows = options.format === 'csv' ? csvRows(file, tap, options, streams) : xlsxRows(file, tap, options, streams);

  return {
    [Symbol.asyncIterator]: () => rows[Symbol.asyncIterator](),
    async sha256() {
      if (!finished) {
        finished = true;
        // The parser may stop before the last bytes (a ZIP's central directory): hash the remainder from disk.
        const hashedUpTo = tap.bytes;
        for (const s of streams) s.destroy();
        for await (const chunk of createReadStream(path, { start: hashedUpTo })) tap.hash.update(chunk as Buffer);
      }
      return tap.hash.copy().digest('hex');
    },
    close() {
      for (const s of streams) s.destroy();
    },
  };
}

function formatError(err: unknown, what: string): ImportException {
  if (err instanceof ImportException) return err;
  const reason = err instanceof Error ? err.message.split('\n')[0]!.slice(0, 300) : String(err);
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code && /^E[A-Z]+$/.test(code)) {
    return new ImportException(ImportErrorCode.FILE_UNREADABLE, `读取数据文件时出错（${code}）`, `Error while reading the data file (${code})`, { reason: code });
  }
  return new ImportException(ImportErrorCode.FILE_FORMAT, `${what === 'csv' ? 'CSV' : 'XLSX'} 文件格式错误：${reason}`, `The ${what === 'csv' ? 'CSV' : 'XLSX'} file is malformed: ${reason}`, { reason });
}

async function* csvRows(file: Readable, tap: HashingTap, options: SourceOptions, streams: { destroy(): void }[]): AsyncGenerator<SourceRow> {
  const parser = parseCsv({ delimiter: options.delimiter, bom: true, relax_column_count: true, relax_quotes: false, skip_empty_lines: false });
  const decoder = new LegacyTextDecoder(options.encoding);
  streams.push(decoder, parser);
  // Errors from any stage destroy the parser with that error, which ends the iteration below with it.
  pipeline(file, tap, decoder, parser, () => undefined);
  let row = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      row += 1;
      yield { row, cells: record };
    }
  } catch (err) {
    throw formatError(err, 'csv');
  } finally {
    for (const s of streams) s.destroy();
  }
}

/** The workbook part of the streaming reader we rely on: sheet names live in xl/workbook.xml and its rels. */
interface WorkbookReaderModel {
  model?: { sheets?: { name?: string; rId?: string }[] };
  workbookRels?: { Id?: string; Target?: string }[];
}

function sheetNameOf(reader: unknown, sheetId: unknown): string | null {
  const { model, workbookRels } = reader as WorkbookReaderModel;
  for (const sheet of model?.sheets ?? []) {
    const target = workbookRels?.find((r) => r.Id === sheet.rId)?.Target ?? '';
    if (target.replace(/^.*\//, '') === `sheet${String(sheetId)}.xml`) return sheet.name ?? null;
  }
  return null;
}

function firstSheetName(reader: unknown): string | null {
  return (reader as WorkbookReaderModel).model?.sheets?.[0]?.name ?? null;
}

/** A workbook cell as plain data: rich text and hyperlinks become their text, formulas their cached result. */
function toCell(value: unknown): CellValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value instanceof Date) return value;
  if (typeof value === 'object') {
    const v = value as { richText?: { text?: string }[]; text?: unknown; result?: unknown; error?: unknown };
    if (Array.isArray(v.richText)) return v.richText.map((r) => r.text ?? '').join('');
    if ('result' in v) return toCell(v.result);
    if (typeof v.text === 'string') return v.text;
    if (typeof v.text === 'object') return toCell(v.text);
  }
  return null;
}

async function* xlsxRows(file: Readable, tap: HashingTap, options: SourceOptions, streams: { destroy(): void }[]): AsyncGenerator<SourceRow> {
  file.on('error', (err) => tap.destroy(err));
  const input = file.pipe(tap);
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(input, {
    worksheets: 'emit', sharedStrings: 'cache', styles: 'cache', hyperlinks: 'ignore', entries: 'ignore',
  });
  const seen: string[] = [];
  let found = false;
  try {
    for await (const worksheet of reader) {
      const id = (worksheet as unknown as { id?: unknown }).id;
      const name = sheetNameOf(reader, id);
      seen.push(name ?? `sheet${String(id)}`);
      const wanted = options.sheet === undefined ? name === null || name === firstSheetName(reader) : name === options.sheet;
      if (!wanted) continue;
      found = true;
      for await (const row of worksheet) {
        const values = Array.isArray(row.values) ? (row.values as unknown[]) : [];
        yield { row: row.number, cells: values.slice(1).map(toCell) };
      }
      break;
    }
  } catch (err) {
    throw formatError(err, 'xlsx');
  } finally {
    for (const s of streams) s.destroy();
  }
  if (!found) {
    const wanted = options.sheet ?? '(first)';
    throw new ImportException(
      ImportErrorCode.SHEET_NOT_FOUND,
      `工作簿中没有工作表“${wanted}”；现有：${seen.join('、') || '无'}`,
      `The workbook has no worksheet "${wanted}"; it has: ${seen.join(', ') || 'none'}`,
      { sheet: wanted, sheets: seen },
    );
  }
}
