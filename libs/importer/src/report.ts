import { createWriteStream, WriteStream } from 'fs';
import { mkdir } from 'fs/promises';
import { dirname } from 'path';
import { maskIdNumber } from '@linli/codes';
import { ImportErrorCode, ImportException } from './import-error';

/**
 * The import report (导入报告): one CSV line per data row saying what became of it. UTF-8 with a BOM so that Excel on
 * Chinese Windows opens it correctly. It never holds a name or a full ID number: IDs are masked, reasons are the
 * platform's own messages, and matched rows list only the *names* of the fields that differ from the register.
 */

export type ImportOutcome = 'ACCEPTED' | 'MATCHED' | 'QUARANTINED' | 'REJECTED';

export interface ReportLine {
  /** Row number as a spreadsheet shows it (the header is row 1 unless the mapping says otherwise). */
  row: number;
  outcome: ImportOutcome;
  residentId: string | null;
  /** Already masked; see maskReportIdNumber. */
  idNumberMasked: string;
  /** Field(s) a rejection or quarantine is about, `;`-separated. */
  field: string;
  reasonZh: string;
  reasonEn: string;
  differingFields: readonly string[];
}

export const REPORT_COLUMNS = ['row', 'outcome', 'residentId', 'idNumber', 'field', 'reasonZh', 'reasonEn', 'differingFields'] as const;

/**
 * Masks an ID number for the report. ID-like values keep their first and last four characters
 * (`3302**********1234`); anything else (a misplaced name, free text) is masked completely.
 */
export function maskReportIdNumber(value: string | null | undefined): string {
  const v = (value ?? '').trim();
  if (!v) return '';
  return /^[0-9A-Za-z]{9,}$/.test(v) ? maskIdNumber(v) : '*'.repeat(Math.min(v.length, 18));
}

/**
 * Rule messages quote the offending value (e.g. 性别代码“男”无效). Plain codes and single characters are kept so the
 * worker can fix the file; anything longer is masked, since a shifted column could put a name or an ID number there.
 */
export function maskQuoted(message: string): string {
  return message.replace(/([“"])([^”"]*)([”"])/g, (all: string, open: string, value: string, close: string) =>
    /^[0-9A-Za-z_.-]{0,12}$/.test(value) || [...value].length <= 1 ? all : `${open}${'*'.repeat(Math.min([...value].length, 8))}${close}`);
}

/** A CSV cell: quoted when needed, and never read by a spreadsheet as a formula. */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function formatLine(l: ReportLine): string {
  return [
    String(l.row), l.outcome, l.residentId ?? '', l.idNumberMasked, l.field, l.reasonZh, l.reasonEn, l.differingFields.join(';'),
  ].map(csvCell).join(',') + '\r\n';
}

/** Streams report lines to disk, waiting for the disk when its buffer is full (memory stays flat). */
export class ImportReportWriter {
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;

  private constructor(readonly path: string, private readonly out: WriteStream) {
    out.on('error', (err) => {
      this.failure = err;
    });
  }

  static async open(path: string): Promise<ImportReportWriter> {
    try {
      await mkdir(dirname(path), { recursive: true });
      const out = createWriteStream(path, { flags: 'wx' });
      await new Promise<void>((resolve, reject) => {
        out.once('open', () => resolve());
        out.once('error', reject);
      });
      const writer = new ImportReportWriter(path, out);
      await writer.writeText(`\uFEFF${REPORT_COLUMNS.join(',')}\r\n`);
      return writer;
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? 'write error';
      throw new ImportException(ImportErrorCode.REPORT_UNWRITABLE, `无法创建报告文件 ${path}（${reason}）`, `Cannot create report file ${path} (${reason})`, { path, reason });
    }
  }

  /** Writes lines in one chunk; resolves once the stream can take more. */
  async write(lines: readonly ReportLine[]): Promise<void> {
    if (lines.length === 0) return;
    let text = '';
    for (const l of lines) text += formatLine(l);
    await this.writeText(text);
  }

  /** Flushes and closes the file; safe to call more than once. */
  async close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => this.out.end(() => resolve()));
    await this.closing;
    if (this.failure) throw this.failure;
  }

  private async writeText(text: string): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.out.write(text)) {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        this.out.once('error', onError);
        this.out.once('drain', () => {
          this.out.off('error', onError);
          resolve();
        });
      });
    }
  }
}
