/**
 * Problems that stop a whole import run (导入失败), as opposed to a problem with one row, which only rejects that
 * row. Every code carries a bilingual message a community worker can act on; `details` hold machine-readable facts
 * (file names, keys, column names), never personal data.
 */
export enum ImportErrorCode {
  /** The data file is missing, not a file, or cannot be read. */
  FILE_UNREADABLE = 'FILE_UNREADABLE',
  /** The data file is not CSV / XLSX, or is malformed (bad CSV quoting, corrupt workbook, no header row). */
  FILE_FORMAT = 'FILE_FORMAT',
  /** The named worksheet is not in the workbook. */
  SHEET_NOT_FOUND = 'SHEET_NOT_FOUND',
  /** A column the mapping needs is not in the header row. */
  COLUMN_MISSING = 'COLUMN_MISSING',
  /** The mapping file cannot be read or parsed as YAML / JSON. */
  MAPPING_UNREADABLE = 'MAPPING_UNREADABLE',
  /** The mapping file parses but does not follow the mapping schema. */
  MAPPING_INVALID = 'MAPPING_INVALID',
  /** The fixed community (mapping or --community) is unknown, not a community, or missing altogether. */
  COMMUNITY_INVALID = 'COMMUNITY_INVALID',
  /** The report file cannot be created. */
  REPORT_UNWRITABLE = 'REPORT_UNWRITABLE',
}

export class ImportException extends Error {
  constructor(
    readonly code: ImportErrorCode,
    readonly messageZh: string,
    readonly messageEn: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(`${messageZh} / ${messageEn}`);
    this.name = 'ImportException';
  }
}
