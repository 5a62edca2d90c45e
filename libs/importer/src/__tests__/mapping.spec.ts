import { readdir, writeFile } from 'fs/promises';
import { join } from 'path';
import { ImportErrorCode, ImportException } from '../import-error';
import { compileRowMapper, loadMapping, parseMapping } from '../mapping';
import { maskReportIdNumber } from '../report';
import { MAPPINGS_DIR, removeTempDirs, tempDir } from './fixtures';

async function mappingError(yaml: string, name = 'broken.yaml'): Promise<ImportException> {
  const dir = await tempDir();
  const path = join(dir, name);
  await writeFile(path, yaml);
  const error = await loadMapping(path).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ImportException);
  return error as ImportException;
}

describe('import mappings', () => {
  afterAll(removeTempDirs);

  it('loads every mapping shipped in deploy/import-mappings', async () => {
    const files = (await readdir(MAPPINGS_DIR)).filter((f) => /\.(ya?ml|json)$/.test(f));
    expect(files).toEqual(expect.arrayContaining(['hub-csv.yaml', 'mz-dibao-household.yaml', 'ga-ldrk-police.yaml']));
    for (const f of files) {
      const { label, mapping } = await loadMapping(join(MAPPINGS_DIR, f));
      expect(label).toBe(f);
      expect(mapping.fields.idNumber).toBeDefined();
    }
  });

  it('names the file and the misspelt key', async () => {
    const error = await mappingError('fields:\n  idNumber: GMSFHM\n  name: XM\n  sex:\n    column: XB\n    vaules: { 男: "1" }\n');
    expect(error.code).toBe(ImportErrorCode.MAPPING_INVALID);
    expect(error.details).toMatchObject({ file: 'broken.yaml', key: 'fields.sex.vaules' });
    expect(error.messageZh).toContain('broken.yaml');
    expect(error.messageZh).toContain('fields.sex.vaules');
    expect(error.messageEn).toContain('key fields.sex.vaules');
  });

  it('names a missing required key, a wrong type, an invalid community and a bad date format', async () => {
    expect((await mappingError('fields:\n  name: XM\n')).details).toMatchObject({ key: 'fields.idNumber' });
    expect((await mappingError('headerRow: first\nfields: { idNumber: a, name: b }\n')).details).toMatchObject({ key: 'headerRow' });
    const community = await mappingError('fields: { idNumber: a, name: b }\ncommunity: { code: "330203001001", column: c }\n');
    expect(community.details).toMatchObject({ key: 'community' });
    const date = await mappingError('fields: { idNumber: a, name: b, birthDate: { column: c, dateFormat: DD.MM.YY } }\n');
    expect(date.details).toMatchObject({ key: 'fields.birthDate.dateFormat' });
    expect(date.messageEn).toContain('DD.MM.YY');
  });

  it('reports YAML that does not parse as unreadable, with the file name', async () => {
    const error = await mappingError('fields: [idNumber\n', 'syntax.yaml');
    expect(error.code).toBe(ImportErrorCode.MAPPING_UNREADABLE);
    expect(error.messageEn).toContain('syntax.yaml');
  });

  it('maps cells: renames, code translations, date formats, padding, defaults and workbook dates', () => {
    const mapping = parseMapping({
      fields: {
        idNumber: '身份证', name: '姓名',
        sex: { column: '性别', values: { 男: '1', 女: '2' } },
        birthDate: { column: '出生日期', dateFormat: ['YYYYMMDD', 'YYYY/M/D', 'YYYY年M月D日'] },
        ethnicity: { column: '民族', padStart: 2 },
        populationType: { default: 'FLOATING' },
        phone: { column: '电话', optional: true },
      },
      community: { column: '社区', by: 'name', values: { 太阳: '太阳社区' } },
    }, 'inline');
    const mapper = compileRowMapper(mapping, ['姓名', '身份证', '性别', '出生日期', '民族', '社区'], 'x.csv', false);
    expect(mapper.providedFields).toEqual(['idNumber', 'name', 'sex', 'birthDate', 'ethnicity', 'populationType']);
    expect(mapper.map(['张三', '330203198503120040', '男', '1985/3/12', '1', ' 太阳 '])).toEqual({
      raw: { idNumber: '330203198503120040', name: '张三', sex: '1', birthDate: '1985-03-12', ethnicity: '01', populationType: 'FLOATING' },
      community: { by: 'name', value: '太阳社区' },
      problems: [],
    });
    expect(mapper.map(['李四', '330203198503120040', '女', '1985年3月12日', '', '']).raw.birthDate).toBe('1985-03-12');
    expect(mapper.map(['李四', '330203198503120040', '女', new Date(Date.UTC(1985, 2, 12)), '', '']).raw.birthDate).toBe('1985-03-12');
    expect(mapper.map(['王五', '330203198503120040', '男', '12.03.1985', '', '']).problems).toEqual([
      { field: 'birthDate', messageZh: '日期格式应为 YYYYMMDD | YYYY/M/D | YYYY年M月D日', messageEn: 'Date must be in the form YYYYMMDD | YYYY/M/D | YYYY年M月D日' },
    ]);
    // An 18-digit ID typed as a number in Excel arrives as a double that has lost its last digits.
    expect(mapper.map(['赵六', Number('330203198503120040'), '男', '19850312', '', '']).problems[0]).toMatchObject({ field: 'idNumber' });
  });

  it('masks ID numbers for the report, and anything that is not ID-like completely', () => {
    expect(maskReportIdNumber('330203198503120040')).toBe('3302**********0040');
    expect(maskReportIdNumber('张三丰')).toBe('***');
    expect(maskReportIdNumber('')).toBe('');
  });
});
