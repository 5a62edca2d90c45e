import { createHash } from 'crypto';
import ExcelJS from 'exceljs';
import { readFile } from 'fs/promises';
import { join } from 'path';
import { ImportErrorCode } from '../import-error';
import { CellValue, detectFormat, openSource, SourceOptions, SourceRow } from '../sources';
import { encodeGbk, removeTempDirs, tempDir, writeCsv } from './fixtures';

async function readAll(path: string, options: Partial<SourceOptions> & Pick<SourceOptions, 'format'>): Promise<{ rows: SourceRow[]; sha256: string }> {
  const source = openSource(path, { encoding: 'auto', delimiter: ',', ...options });
  const rows: SourceRow[] = [];
  for await (const row of source) rows.push(row);
  return { rows, sha256: await source.sha256() };
}

const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

describe('streaming sources', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await tempDir();
  });

  afterAll(removeTempDirs);

  it('reads GBK and UTF-8 (with BOM) CSV alike, across chunk boundaries, and hashes the file', async () => {
    const rows = [['姓名', '备注'], ...Array.from({ length: 5000 }, (_, i) => [`张${i}`, '海曙区月湖街道，"天一"社区'])];
    const gbk = await writeCsv(dir, 'gbk.csv', rows, { encode: encodeGbk });
    const utf8 = await writeCsv(dir, 'utf8.csv', rows, { bom: true });

    const fromGbk = await readAll(gbk, { format: 'csv' });
    const fromUtf8 = await readAll(utf8, { format: 'csv' });

    expect(fromGbk.rows).toHaveLength(5001);
    expect(fromGbk.rows[4321]).toEqual({ row: 4322, cells: ['张4320', '海曙区月湖街道，"天一"社区'] });
    expect(fromUtf8.rows).toEqual(fromGbk.rows);
    expect(fromGbk.sha256).toBe(await sha256(gbk));
    expect(fromUtf8.sha256).toBe(await sha256(utf8));
  });

  it('reads the first or a named worksheet of a workbook, with typed cells', async () => {
    const workbook = new ExcelJS.Workbook();
    workbook.addWorksheet('户主').addRows([['姓名', '出生日期'], ['甲', new Date(Date.UTC(1985, 2, 12))]]);
    workbook.addWorksheet('成员').addRows([['姓名', '家庭月收入'], ['乙', 1200.5], ['丙', { richText: [{ text: '富' }, { text: '文本' }] }]]);
    const path = join(dir, 'book.xlsx');
    await workbook.xlsx.writeFile(path);

    const first = await readAll(path, { format: 'xlsx' });
    const members = await readAll(path, { format: 'xlsx', sheet: '成员' });

    expect(first.rows.map((r) => r.cells)).toEqual([['姓名', '出生日期'], ['甲', new Date(Date.UTC(1985, 2, 12))]] as CellValue[][]);
    expect(members.rows).toEqual([{ row: 1, cells: ['姓名', '家庭月收入'] }, { row: 2, cells: ['乙', 1200.5] }, { row: 3, cells: ['丙', '富文本'] }]);
    expect(first.sha256).toBe(await sha256(path));
    expect(members.sha256).toBe(await sha256(path));
    await expect(readAll(path, { format: 'xlsx', sheet: '家庭' })).rejects.toMatchObject({
      code: ImportErrorCode.SHEET_NOT_FOUND, details: { sheets: ['户主', '成员'] },
    });
    expect(await detectFormat(path)).toBe('xlsx');
  });
});
