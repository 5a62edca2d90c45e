import { readFile } from 'fs/promises';
import { basename, extname } from 'path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { ResidentFieldsRaw } from '@linli/registry';
import { ImportErrorCode, ImportException } from './import-error';
import type { CellValue } from './sources';

/**
 * Import mapping (导入映射): how the columns of one kind of legacy export become a resident's fields. A mapping is a
 * YAML or JSON file (see deploy/import-mappings/); it names the column of each field, translates legacy codes
 * (e.g. 性别 "男" → GB/T 2261.1 "1"), gives per-field date formats and defaults, and says where the community comes from.
 * It only reshapes values: the field rules themselves live in checkResidentFields (@linli/registry).
 */

/** The resident fields a mapping may fill: exactly the fields checkResidentFields reads. */
export const MAPPABLE_FIELDS = [
  'idType', 'idNumber', 'name', 'formerName', 'sex', 'birthDate', 'ethnicity', 'politicalStatus', 'education',
  'maritalStatus', 'employment', 'phone', 'populationType', 'householdRelation',
] as const satisfies readonly (keyof ResidentFieldsRaw)[];

export type MappableField = (typeof MAPPABLE_FIELDS)[number];

const DATE_TOKENS = /YYYY|MM|M|DD|D/g;

const columnName = z.string().trim().min(1);

/** One field: a column name, or an object with the column and how to translate its values. */
const fieldObject = z
  .strictObject({
    /** Header text of the column, exactly as in the file (after trimming). */
    column: columnName.optional(),
    /** When true, a file without this column is accepted and the field is left empty (or defaulted). */
    optional: z.boolean().optional(),
    /** Used when the cell is empty or the column is absent. */
    default: z.string().optional(),
    /** Legacy value → platform code, e.g. { 男: '1', 女: '2' }. Values not listed pass through unchanged. */
    values: z.record(z.string(), z.string()).optional(),
    /** Accepted date layouts, e.g. YYYYMMDD or YYYY/M/D; the value is stored as YYYY-MM-DD. */
    dateFormat: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    /** Left-pads a numeric code with zeros to this length (e.g. ethnicity "1" → "01"). */
    padStart: z.number().int().min(1).max(4).optional(),
  })
  .superRefine((f, ctx) => {
    if (f.column === undefined && f.default === undefined) {
      ctx.addIssue({ code: 'custom', message: 'give a column or a default / 请指定列名或默认值' });
    }
    const formats = f.dateFormat === undefined ? [] : Array.isArray(f.dateFormat) ? f.dateFormat : [f.dateFormat];
    formats.forEach((format, i) => {
      const tokens = format.match(DATE_TOKENS) ?? [];
      const has = (...alternatives: string[]) => tokens.filter((t) => alternatives.includes(t)).length === 1;
      if (!has('YYYY') || !has('MM', 'M') || !has('DD', 'D')) {
        ctx.addIssue({
          code: 'custom',
          path: Array.isArray(f.dateFormat) ? ['dateFormat', i] : ['dateFormat'],
          message: `date format "${format}" needs YYYY, M or MM, and D or DD once each / 日期格式须各含一次 YYYY、M(M)、D(D)`,
        });
      }
    });
  });

const fieldSpec = z.preprocess((v) => (typeof v === 'string' ? { column: v } : v), fieldObject);

const fieldsSchema = z.strictObject({
  idType: fieldSpec.optional(),
  idNumber: fieldSpec,
  name: fieldSpec,
  formerName: fieldSpec.optional(),
  sex: fieldSpec.optional(),
  birthDate: fieldSpec.optional(),
  ethnicity: fieldSpec.optional(),
  politicalStatus: fieldSpec.optional(),
  education: fieldSpec.optional(),
  maritalStatus: fieldSpec.optional(),
  employment: fieldSpec.optional(),
  phone: fieldSpec.optional(),
  populationType: fieldSpec.optional(),
  householdRelation: fieldSpec.optional(),
});

const DIVISION_CODE = /^\d{12}$/;

/** Where each row's community (社区) comes from: one fixed code, or a column holding a code or a name. */
const communitySchema = z
  .strictObject({
    /** A fixed 12-digit community code for every row (the command line's --community overrides it). */
    code: z.string().regex(DIVISION_CODE, '12 digits / 12 位数字').optional(),
    /** Column holding the community. */
    column: columnName.optional(),
    /** Whether the column holds the 12-digit code or the community's name. */
    by: z.enum(['code', 'name']).optional(),
    /** For names: only communities under this division are considered (e.g. the district 330203000000). */
    within: z.string().regex(DIVISION_CODE, '12 digits / 12 位数字').optional(),
    /** Legacy value → code or name, applied before the lookup. */
    values: z.record(z.string(), z.string()).optional(),
  })
  .superRefine((c, ctx) => {
    if ((c.code === undefined) === (c.column === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give either code or column / 请指定 code 或 column 之一' });
    }
    if (c.code !== undefined && (c.by !== undefined || c.within !== undefined || c.values !== undefined)) {
      ctx.addIssue({ code: 'custom', message: 'by / within / values only go with column / by、within、values 只能与 column 一起使用' });
    }
  });

export const importMappingSchema = z.strictObject({
  /** Free text: which system exports this layout. */
  description: z.string().optional(),
  /** File format; by default taken from the file name (.csv / .txt / .xlsx) or its first bytes. */
  format: z.enum(['csv', 'xlsx']).optional(),
  /** CSV text encoding; `auto` reads UTF-8 (with or without BOM) and falls back to GB18030 / GBK. */
  encoding: z.enum(['auto', 'utf-8', 'gbk', 'gb18030']).default('auto'),
  /** CSV field delimiter. */
  delimiter: z.string().length(1).default(','),
  /** XLSX: name of the worksheet to read; the first worksheet by default. */
  sheet: z.string().min(1).optional(),
  /** Row number of the header row (1 = first row); rows above it (titles) are skipped. */
  headerRow: z.number().int().min(1).max(100).default(1),
  fields: fieldsSchema,
  community: communitySchema.optional(),
});

export type ImportMapping = z.infer<typeof importMappingSchema>;
export type FieldMapping = z.infer<typeof fieldObject>;
export type CommunityMapping = z.infer<typeof communitySchema>;

const ISSUE_ZH: Record<string, string> = {
  invalid_type: '类型不符或缺失',
  unrecognized_keys: '未知的键',
  too_small: '值过小或为空',
  too_big: '值过大',
  invalid_value: '取值无效',
  invalid_format: '格式无效',
  invalid_union: '取值无效',
  custom: '取值无效',
};

/** Validates parsed YAML / JSON against the mapping schema; the error names the file and the first offending key. */
export function parseMapping(value: unknown, label: string): ImportMapping {
  const result = importMappingSchema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const path = issue.path.map(String);
    const key = issue.code === 'unrecognized_keys' ? [...path, issue.keys[0] ?? ''].join('.') : path.join('.') || '(root)';
    const missing = issue.code === 'invalid_type' && /received undefined/.test(issue.message);
    return {
      key,
      zh: missing ? '缺少必填项' : ISSUE_ZH[issue.code] ?? '取值无效',
      en: missing ? 'required key is missing' : issue.message,
    };
  });
  // A misspelt key usually explains a "missing" one: unknown keys are named first.
  problems.sort((a, b) => Number(b.zh === ISSUE_ZH.unrecognized_keys) - Number(a.zh === ISSUE_ZH.unrecognized_keys));
  const shown = problems.slice(0, 5);
  const more = problems.length > shown.length ? ` (+${problems.length - shown.length})` : '';
  throw new ImportException(
    ImportErrorCode.MAPPING_INVALID,
    `映射文件 ${label} 无效：${shown.map((p) => `键 ${p.key}：${p.zh}`).join('；')}${more}`,
    `Mapping file ${label} is invalid: ${shown.map((p) => `key ${p.key}: ${p.en}`).join('; ')}${more}`,
    { file: label, key: shown[0]!.key, problems: problems.map((p) => ({ key: p.key, message: p.en })) },
  );
}

/** A mapping read from disk, with the label used in messages and in the import run record. */
export interface LoadedMapping {
  label: string;
  mapping: ImportMapping;
}

/** Reads a mapping file (.yaml / .yml / .json; anything else is read as YAML, which also covers JSON). */
export async function loadMapping(path: string): Promise<LoadedMapping> {
  const label = basename(path);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? 'read error';
    throw new ImportException(ImportErrorCode.MAPPING_UNREADABLE, `无法读取映射文件 ${path}（${reason}）`, `Cannot read mapping file ${path} (${reason})`, { file: label });
  }
  let parsed: unknown;
  try {
    parsed = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new ImportException(ImportErrorCode.MAPPING_UNREADABLE, `映射文件 ${label} 不是有效的 YAML / JSON：${reason}`, `Mapping file ${label} is not valid YAML / JSON: ${reason}`, { file: label });
  }
  return { label, mapping: parseMapping(parsed, label) };
}

/** A problem found while reshaping a cell (before the field rules run); it rejects the row. */
export interface MappingProblem {
  field: string;
  messageZh: string;
  messageEn: string;
}

/** The community a row names: a code or a name still to be looked up. */
export type CommunityRef = { by: 'code' | 'name'; value: string };

export interface MappedRow {
  raw: ResidentFieldsRaw;
  community: CommunityRef | null;
  problems: MappingProblem[];
}

/** Turns one data row into raw resident fields; built once per file from the mapping and the header row. */
export interface RowMapper {
  map(cells: readonly CellValue[]): MappedRow;
  /** Fields the mapping fills (from a column or a default): the fields compared with the register on a match. */
  readonly providedFields: readonly MappableField[];
  /** The community column's lookup mode, or null when the community is fixed. */
  readonly communityBy: 'code' | 'name' | null;
}

/** Date layout → matcher returning YYYY-MM-DD, or null when the text does not follow the layout. */
function dateParser(format: string): (text: string) => string | null {
  const order: string[] = [];
  let pattern = '';
  let last = 0;
  for (const m of format.matchAll(DATE_TOKENS)) {
    pattern += format.slice(last, m.index).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    pattern += m[0] === 'YYYY' ? '(\\d{4})' : m[0].length === 2 ? '(\\d{2})' : '(\\d{1,2})';
    order.push(m[0][0]!);
    last = m.index + m[0].length;
  }
  pattern += format.slice(last).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const re = new RegExp(`^${pattern}$`);
  return (text) => {
    const m = re.exec(text);
    if (!m) return null;
    const part = (token: string) => m[order.indexOf(token) + 1]!.padStart(2, '0');
    return `${part('Y')}-${part('M')}-${part('D')}`;
  };
}

/** Excel keeps numbers as doubles: integers beyond 2^53 (an 18-digit ID typed as a number) have lost digits. */
const PRECISION_LOST: Omit<MappingProblem, 'field'> = {
  messageZh: '单元格为数字格式，已丢失位数；请将该列设为文本后重新导出',
  messageEn: 'The cell holds a number that has lost digits; format the column as text and export again',
};

/** Text of a cell, or a problem when the cell cannot be trusted as text. */
function cellText(cell: CellValue | undefined): { text: string | null; lostPrecision: boolean } {
  if (cell === null || cell === undefined) return { text: null, lostPrecision: false };
  if (typeof cell === 'string') return { text: cell, lostPrecision: false };
  if (typeof cell === 'number') {
    if (Number.isInteger(cell) && !Number.isSafeInteger(cell)) return { text: null, lostPrecision: true };
    return { text: Number.isInteger(cell) ? cell.toFixed(0) : String(cell), lostPrecision: false };
  }
  if (typeof cell === 'boolean') return { text: cell ? 'true' : 'false', lostPrecision: false };
  // Workbook dates are calendar days at UTC midnight.
  return { text: cell.toISOString().slice(0, 10), lostPrecision: false };
}

interface CompiledField {
  field: MappableField;
  index: number | null;
  spec: FieldMapping;
  dates: ((text: string) => string | null)[];
  formats: string;
}

/**
 * Binds a mapping to a file's header row. Every column the mapping names must be in the header, unless the field
 * is marked optional; otherwise the whole file is refused with the missing columns named.
 */
export function compileRowMapper(mapping: ImportMapping, header: readonly CellValue[], label: string, fixedCommunity: boolean): RowMapper {
  const positions = new Map<string, number>();
  header.forEach((cell, i) => {
    const name = cellText(cell).text?.replace(/^\uFEFF/, '').trim();
    if (name && !positions.has(name)) positions.set(name, i);
  });
  const missing: string[] = [];
  const fields: CompiledField[] = [];
  for (const field of MAPPABLE_FIELDS) {
    const spec = mapping.fields[field];
    if (!spec) continue;
    let index: number | null = null;
    if (spec.column !== undefined) {
      index = positions.get(spec.column) ?? null;
      if (index === null && !spec.optional) missing.push(spec.column);
      if (index === null && spec.default === undefined) continue;
    }
    const formats = spec.dateFormat === undefined ? [] : Array.isArray(spec.dateFormat) ? spec.dateFormat : [spec.dateFormat];
    fields.push({ field, index, spec, dates: formats.map(dateParser), formats: formats.join(' | ') });
  }
  const community = fixedCommunity ? null : mapping.community ?? null;
  let communityIndex: number | null = null;
  if (community?.column !== undefined) {
    communityIndex = positions.get(community.column) ?? null;
    if (communityIndex === null) missing.push(community.column);
  }
  if (missing.length) {
    throw new ImportException(
      ImportErrorCode.COLUMN_MISSING,
      `文件 ${label} 的表头缺少映射所需的列：${missing.join('、')}`,
      `The header row of ${label} lacks columns the mapping needs: ${missing.join(', ')}`,
      { file: label, columns: missing },
    );
  }
  const communityBy = community?.column !== undefined ? community.by ?? 'code' : null;
  const communityValues = community?.values;

  return {
    providedFields: fields.map((f) => f.field),
    communityBy,
    map(cells) {
      const raw: ResidentFieldsRaw = {};
      const problems: MappingProblem[] = [];
      for (const f of fields) {
        const cell = f.index === null ? null : cells[f.index];
        const { text, lostPrecision } = cellText(cell);
        if (lostPrecision) {
          problems.push({ field: f.field, ...PRECISION_LOST });
          continue;
        }
        let value = text?.trim() || null;
        if (value !== null && f.spec.values) value = f.spec.values[value] ?? value;
        if (value === null) value = f.spec.default ?? null;
        if (value !== null && f.dates.length && !(cell instanceof Date)) {
          const parsed = f.dates.reduce<string | null>((found, parse) => found ?? parse(value!), null);
          if (parsed === null) {
            problems.push({ field: f.field, messageZh: `日期格式应为 ${f.formats}`, messageEn: `Date must be in the form ${f.formats}` });
            continue;
          }
          value = parsed;
        }
        if (value !== null && f.spec.padStart && /^\d+$/.test(value)) value = value.padStart(f.spec.padStart, '0');
        raw[f.field] = value;
      }
      let communityRef: CommunityRef | null = null;
      if (communityBy !== null && communityIndex !== null) {
        const { text } = cellText(cells[communityIndex]);
        let value = text?.trim() || null;
        if (value !== null && communityValues) value = communityValues[value] ?? value;
        if (value !== null) communityRef = { by: communityBy, value };
      }
      return { raw, community: communityRef, problems };
    },
  };
}
