import { mkdtemp, readFile, rm, writeFile } from 'fs/promises';
import { tmpdir } from 'os';
import { join } from 'path';
import { TextDecoder } from 'util';
import { parse } from 'csv-parse/sync';
import { DataSource } from 'typeorm';
import { generateIdNumber } from '@linli/codes';

/** Test data isolated per test: own communities under 南门街道 330203001000, own random ID numbers. */

export const MAPPINGS_DIR = join(__dirname, '..', '..', '..', '..', 'deploy', 'import-mappings');
const TOWNSHIP = '330203001000';

const randomInt = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));

export interface TestCommunity {
  code: string;
  name: string;
}

/**
 * A community of our own: a random 12-digit synthetic code under the township. With `name`, only a fresh code will
 * do (the name must be ours); without, an existing community in the same state (current / retired) is reused.
 */
export async function testCommunity(ds: DataSource, opts: { retired?: boolean; name?: string } = {}): Promise<TestCommunity> {
  const retired = opts.retired ?? false;
  for (let attempt = 0; attempt < 300; attempt++) {
    const code = `330203001${String(randomInt(0, 999)).padStart(3, '0')}`;
    const name = opts.name ?? `导入测试${code.slice(9)}${retired ? '旧' : ''}社区`;
    const inserted: unknown[] = await ds.query(
      `INSERT INTO division (code, name, level, parent_code, synthetic, valid_from, valid_to)
       VALUES ($1, $2, 'COMMUNITY', $3, true, '2000-01-01', $4) ON CONFLICT (code) DO NOTHING RETURNING code`,
      [code, name, TOWNSHIP, retired ? '2016-09-30' : null],
    );
    if (inserted.length) return { code, name };
    if (opts.name) continue;
    const [row] = (await ds.query(`SELECT name, level, valid_to::text AS valid_to FROM division WHERE code = $1`, [code])) as { name: string; level: string; valid_to: string | null }[];
    const state = row?.valid_to === null ? 'current' : row && row.valid_to < '2020-01-01' ? 'retired' : 'other';
    if (row?.level === 'COMMUNITY' && state === (retired ? 'retired' : 'current')) {
      return { code, name: row.name };
    }
  }
  throw new Error('no free synthetic community code under 330203001000');
}

/** A 12-digit code no division has. */
export async function unknownCommunityCode(ds: DataSource): Promise<string> {
  for (;;) {
    const code = `330203099${String(randomInt(0, 999)).padStart(3, '0')}`;
    const rows: unknown[] = await ds.query(`SELECT 1 FROM division WHERE code = $1`, [code]);
    if (rows.length === 0) return code;
  }
}

export interface TestPerson {
  idNumber: string;
  birthDate: string;
  sex: '1' | '2';
}

/** A valid, random ID number (random address code, birth date and sequence), so tests never collide. */
export function testPerson(opts: { sex?: '1' | '2'; checkChar?: string; from?: number; to?: number } = {}): TestPerson {
  for (;;) {
    const birthDate = `${randomInt(opts.from ?? 1940, opts.to ?? 2005)}-${String(randomInt(1, 12)).padStart(2, '0')}-${String(randomInt(1, 28)).padStart(2, '0')}`;
    let sequence = randomInt(0, 999);
    if (opts.sex === '1' && sequence % 2 === 0) sequence = (sequence + 1) % 1000;
    if (opts.sex === '2' && sequence % 2 === 1) sequence -= 1;
    const idNumber = generateIdNumber(String(randomInt(110000, 659999)), birthDate, sequence);
    if (opts.checkChar && idNumber[17] !== opts.checkChar) continue;
    return { idNumber, birthDate, sex: sequence % 2 === 1 ? '1' : '2' };
  }
}

/** The same ID with a wrong check character (a legacy record that must be quarantined, not dropped). */
export function withBadChecksum(idNumber: string): string {
  return idNumber.slice(0, 17) + (idNumber[17] === '3' ? '4' : '3');
}

/** The 15-digit (GB 11643-1989) form of an 18-digit ID of someone born in the 1900s. */
export function fifteenDigit(idNumber: string): string {
  return idNumber.slice(0, 6) + idNumber.slice(8, 17);
}

const created: string[] = [];

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'linli-import-test-'));
  created.push(dir);
  return dir;
}

/** Removes every directory tempDir made in this test file (call from afterAll). */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(created.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

function csvLine(cells: readonly string[]): string {
  return cells.map((c) => (/[",\n\r]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',');
}

export async function writeCsv(dir: string, name: string, rows: readonly (readonly string[])[], opts: { bom?: boolean; encode?: (text: string) => Buffer } = {}): Promise<string> {
  const text = `${opts.bom ? '\uFEFF' : ''}${rows.map(csvLine).join('\r\n')}\r\n`;
  const path = join(dir, name);
  await writeFile(path, opts.encode ? opts.encode(text) : text);
  return path;
}

export interface ReportRow {
  row: string;
  outcome: string;
  residentId: string;
  idNumber: string;
  field: string;
  reasonZh: string;
  reasonEn: string;
  differingFields: string;
}

export async function readReport(path: string): Promise<{ text: string; rows: ReportRow[] }> {
  const text = await readFile(path, 'utf8');
  expect(text.startsWith('\uFEFF')).toBe(true);
  const rows = parse(text.slice(1), { columns: true }) as ReportRow[];
  return { text, rows };
}

let gbkTable: Map<string, Buffer> | null = null;

/** GBK encoder for test files, built by decoding every double-byte GBK code (Node ships a decoder only). */
export function encodeGbk(text: string): Buffer {
  if (!gbkTable) {
    gbkTable = new Map();
    const decoder = new TextDecoder('gbk');
    for (let lead = 0x81; lead <= 0xfe; lead++) {
      for (let trail = 0x40; trail <= 0xfe; trail++) {
        if (trail === 0x7f) continue;
        const bytes = Buffer.from([lead, trail]);
        const ch = decoder.decode(bytes);
        if (ch.length === 1 && ch !== '\uFFFD' && !gbkTable.has(ch)) gbkTable.set(ch, bytes);
      }
    }
  }
  const parts: Buffer[] = [];
  for (const ch of text) {
    if (ch.charCodeAt(0) < 0x80) parts.push(Buffer.from(ch, 'latin1'));
    else {
      const bytes = gbkTable.get(ch);
      if (!bytes) throw new Error(`no GBK code for ${ch}`);
      parts.push(bytes);
    }
  }
  return Buffer.concat(parts);
}
