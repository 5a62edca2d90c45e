import { createHash, generateKeyPairSync, timingSafeEqual } from 'crypto';
import { constants as fsConstants, Stats } from 'fs';
import { FileHandle, lstat, mkdir, mkdtemp, open, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'fs/promises';
import { AddressInfo, createServer, Server as NetServer, Socket } from 'net';
import { tmpdir } from 'os';
import { join, posix } from 'path';
import { parse as parseCsv } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import * as iconv from 'iconv-lite';
import { Attributes, Connection, FileEntry, Server as SshServer, SFTPWrapper, utils as sshUtils } from 'ssh2';
import { validateIdNumber } from '@linli/codes';
import { Chaos, ChaosOutcome, Simulator } from '../chaos';

/**
 * Simulator of P3, the civil-affairs minimum-income system (民政低保, `mz-dibao`): a real SFTP server (ssh2's
 * `Server`, password authentication, a host key generated at start) over a directory tree in a temp folder:
 *
 *   /inbox/    the hub drops the monthly workbooks here (XLSX; a one-sheet CSV in UTF-8 or GBK is read too)
 *   /outbox/   the system writes `<name without extension>.result.xlsx` (or `.result.csv`) for each workbook
 *
 * A workbook is picked up when it is complete: on CLOSE of a file opened for writing under its final name, or on
 * RENAME of a temporary name (e.g. `x.xlsx.part`) to `*.xlsx` / `*.csv` in /inbox. Files with any other name
 * (`.part`, `.tmp`) are never read, and a write that never reaches CLOSE is never processed. RENAME refuses to
 * overwrite an existing file (SFTP v3 / OpenSSH semantics): an uploader removes the old file first.
 *
 * Workbook layout (DOMAIN.md P3; header row 1, Chinese headers):
 *   household sheet 户主 (the first sheet with 身份证 and without 父ID): 类别 (城市低保 / 低保边缘 / 特困), 户主姓名,
 *     性别, 年龄, 身份证, 通讯住址, 所属社区, 电话号码, 银行帐号, optionally 家庭人数 / 保障人数 / 家庭月收入;
 *   member sheet 成员 (a sheet with 父ID, optional): 父ID (the head's 身份证), 姓名, 身份证, 家庭人数, 保障人数,
 *     家庭月收入 (yuan, at most 2 decimals), 成员类型.
 *   An optional household column 变更类型: 正常 (or empty) for a household on the roll, 注销 to remove the household and
 *   its members (only 身份证 is read on such a row).
 * Row checks: 身份证 18 characters with a valid GB 11643 check character; 类别 one of the three; 家庭月收入 a
 * non-negative number with at most 2 decimals; 家庭人数 / 保障人数 positive integers when given; names not empty;
 * a 身份证 only once per sheet; a member's 父ID must name a household that passed (in this file or held before).
 * Valid rows are stored (households upserted by 身份证, members by 身份证 within their household). The result file
 * repeats every sheet and row with an added column 校验结果: `通过` or the reasons joined by `；`.
 *
 * Idempotency: results are cached by the workbook's SHA-256. The same content uploaded again (under any name) is
 * not applied again and gets byte-identical result bytes. Result files are written to a temp name and renamed, so
 * a reader never sees half a result.
 *
 * Chaos, decided once per SSH connection (one connection = one request of the hub), before the SSH handshake:
 *   DOWN        the TCP connection is accepted and closed at once, before the SSH identification string (the
 *               listening socket stays open; clients see "connection lost before handshake" / a reset);
 *   TIMEOUT     the connection is held silently and destroyed after 30 s;
 *   TOO_MANY    SSH_MSG_DISCONNECT with reason 12 (TOO_MANY_CONNECTIONS), what a busy sshd does;
 *   UNAVAILABLE SSH_MSG_DISCONNECT with reason 7 (SERVICE_NOT_AVAILABLE);
 *   FAIL        the session works, but a workbook completed in it is not processed: no result appears until the
 *               file is uploaded again (the hub must retry);
 *   duplicate acknowledgement (acknowledgeTwice, per processed workbook) → the result file is written twice with
 *               the same content; `resultWrites` of the file record shows it, the households are stored once.
 * `scanInbox()` processes what lies in /inbox without SFTP (a nightly pick-up job; the directory transport's tests
 * use it); it decides the chaos once per file.
 */

/** The categories of the 类别 column. */
export const DIBAO_CATEGORIES = ['城市低保', '低保边缘', '特困'] as const;

/**
 * Optional column of the household sheet: 正常 (or empty, or no such column) keeps the household on the roll with the
 * row's data; 注销 removes it and its members (only 身份证 is read).
 */
const CHANGE_COLUMN = '变更类型';
const CHANGE_KEEP = '正常';
const CHANGE_REMOVE = '注销';

/** The column the system adds to each row of the result workbook. */
export const RESULT_COLUMN = '校验结果';
export const RESULT_OK = '通过';

export interface MzDibaoSimulatorOptions {
  /** 0 picks a free port; read it back from `port` after start(). */
  port: number;
  username: string;
  password: string;
  /** Directory that holds inbox/ and outbox/; a fresh temp directory (removed on stop) when absent. */
  root?: string;
}

/** A stored household (户): its columns under their Chinese names, and its members. */
export interface DibaoHousehold {
  kind: 'household';
  /** Every column of the household row except 校验结果, e.g. { 身份证, 户主姓名, 类别, 家庭月收入: '1234.50' }. */
  fields: Record<string, string>;
  /** Rows of the member sheet whose 父ID is this household's 身份证, keyed columns as in the workbook. */
  members: Record<string, string>[];
  /** The workbook that last wrote the household. */
  sourceFile: string;
}

/** A workbook the system has seen in /inbox. */
export interface DibaoProcessedFile {
  kind: 'file';
  name: string;
  sha256: string;
  /** PROCESSED: result written; FAILED: chaos left it unprocessed (no result); UNREADABLE: not a workbook. */
  status: 'PROCESSED' | 'FAILED' | 'UNREADABLE';
  rows: number;
  passed: number;
  failed: number;
  /** How many times a result file was written for it (2 for one processing = a duplicate acknowledgement). */
  resultWrites: number;
  /** How many times it landed in /inbox. */
  uploads: number;
}

export type MzDibaoRecord = DibaoHousehold | DibaoProcessedFile;

/** One cell as the system reads it. */
type CellValue = string | number | null;

interface SheetTable {
  name: string;
  header: string[];
  rows: CellValue[][];
}

type CsvEncoding = 'UTF-8-BOM' | 'UTF-8' | 'GB18030';

interface ParsedWorkbook {
  format: 'xlsx' | 'csv';
  sheets: SheetTable[];
  csvEncoding: CsvEncoding;
}

interface CachedResult {
  content: Buffer;
  rows: number;
  passed: number;
}

const { OPEN_MODE, STATUS_CODE } = sshUtils.sftp;
const CONNECTION_HOLD_MS = 30_000;
const SSH_DISCONNECT_SERVICE_NOT_AVAILABLE = 7;
const SSH_DISCONNECT_TOO_MANY_CONNECTIONS = 12;
/** Timestamp inside result workbooks: fixed, so that the same input always gives the same bytes. */
const RESULT_WORKBOOK_DATE = new Date(Date.UTC(2000, 0, 1));

export class MzDibaoSimulator implements Simulator {
  readonly name = 'mz-dibao';
  readonly chaos = new Chaos();

  private root = '';
  private ownsRoot = false;
  private listener: NetServer | null = null;
  private ssh: SshServer | null = null;
  private boundPort = 0;
  private readonly sockets = new Set<Socket>();
  /** Chaos outcome of each accepted connection, by remote port, until ssh2 reports the connection. */
  private readonly outcomes = new Map<number, ChaosOutcome>();
  private readonly households = new Map<string, { fields: Record<string, string>; members: Map<string, Record<string, string>>; sourceFile: string }>();
  private readonly files = new Map<string, DibaoProcessedFile>();
  private readonly resultsByHash = new Map<string, CachedResult>();
  /** Workbooks are processed one after the other, in the order they landed. */
  private queue: Promise<void> = Promise.resolve();
  private readonly passwordDigest: Buffer;

  constructor(private readonly options: MzDibaoSimulatorOptions) {
    this.passwordDigest = digest(`${options.username}\u0000${options.password}`);
  }

  /** The bound port (after start()). */
  get port(): number {
    return this.boundPort;
  }

  get inboxDir(): string {
    return join(this.root, 'inbox');
  }

  get outboxDir(): string {
    return join(this.root, 'outbox');
  }

  async start(): Promise<void> {
    if (this.listener) return;
    if (this.options.root) {
      this.root = this.options.root;
      this.ownsRoot = false;
    } else {
      this.root = await mkdtemp(join(tmpdir(), 'mz-dibao-'));
      this.ownsRoot = true;
    }
    await mkdir(this.inboxDir, { recursive: true });
    await mkdir(this.outboxDir, { recursive: true });

    const hostKey = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'pkcs1', format: 'pem' } }).privateKey;
    const ssh = new SshServer({ hostKeys: [hostKey], ident: 'OpenSSH_7.4' }, (conn, info) => this.onSshConnection(conn, info.port));
    this.ssh = ssh;

    const listener = createServer((socket) => this.onSocket(socket));
    this.listener = listener;
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(this.options.port, '127.0.0.1', () => {
        listener.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (listener.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const listener = this.listener;
    this.listener = null;
    this.ssh = null;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (listener) await new Promise<void>((resolve) => listener.close(() => resolve()));
    await this.whenIdle();
    if (this.ownsRoot && this.root) await rm(this.root, { recursive: true, force: true });
  }

  async records(): Promise<MzDibaoRecord[]> {
    await this.whenIdle();
    const households: DibaoHousehold[] = [...this.households.values()].map((h) => ({
      kind: 'household',
      fields: { ...h.fields },
      members: [...h.members.values()].map((m) => ({ ...m })),
      sourceFile: h.sourceFile,
    }));
    const files: DibaoProcessedFile[] = [...this.files.values()].map((f) => ({ ...f }));
    return [...households, ...files];
  }

  /** The stored households only, keyed by 身份证. */
  async storedHouseholds(): Promise<Map<string, DibaoHousehold>> {
    const all = await this.records();
    const result = new Map<string, DibaoHousehold>();
    for (const r of all) if (r.kind === 'household') result.set(r.fields['身份证'] ?? '', r);
    return result;
  }

  /** The workbooks seen in /inbox. */
  async processedFiles(): Promise<DibaoProcessedFile[]> {
    return (await this.records()).filter((r): r is DibaoProcessedFile => r.kind === 'file');
  }

  async reset(): Promise<void> {
    await this.whenIdle();
    this.households.clear();
    this.files.clear();
    this.resultsByHash.clear();
    if (this.root) {
      for (const dir of [this.inboxDir, this.outboxDir]) {
        await rm(dir, { recursive: true, force: true });
        await mkdir(dir, { recursive: true });
      }
    }
  }

  describe(): string {
    return `sftp://127.0.0.1:${this.boundPort} (inbox/ → outbox/ *.result.xlsx, root ${this.root})`;
  }

  /** Resolves once every workbook that has landed so far is processed. */
  async whenIdle(): Promise<void> {
    let current: Promise<void>;
    do {
      current = this.queue;
      await current;
    } while (current !== this.queue);
  }

  /**
   * Processes the workbooks lying in /inbox that were not processed with their current content (the nightly
   * pick-up; used when files arrive without SFTP). Returns the names it processed.
   */
  async scanInbox(): Promise<string[]> {
    await this.whenIdle();
    const processed: string[] = [];
    const names = (await readdir(this.inboxDir)).filter(isWorkbookName).sort();
    for (const name of names) {
      const content = await readFile(join(this.inboxDir, name));
      const known = this.files.get(name);
      if (known && known.status !== 'FAILED' && known.sha256 === sha256(content)) continue;
      const outcome = await this.chaos.decide();
      await this.enqueue(() => this.process(name, content, outcome));
      if (outcome === 'OK') processed.push(name);
    }
    return processed;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Connections

  private onSocket(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => this.sockets.delete(socket));
    void this.chaos.decide().then((outcome) => {
      if (socket.destroyed || !this.ssh) return;
      if (outcome === 'DOWN') {
        socket.destroy();
        return;
      }
      if (outcome === 'TIMEOUT') {
        const timer = setTimeout(() => socket.destroy(), CONNECTION_HOLD_MS);
        socket.once('close', () => clearTimeout(timer));
        return;
      }
      if (socket.remotePort !== undefined) this.outcomes.set(socket.remotePort, outcome);
      this.ssh.injectSocket(socket);
    });
  }

  private onSshConnection(conn: Connection, remotePort: number): void {
    const outcome = this.outcomes.get(remotePort) ?? 'OK';
    this.outcomes.delete(remotePort);
    conn.on('error', () => undefined);
    if (outcome === 'TOO_MANY' || outcome === 'UNAVAILABLE') {
      disconnectWithReason(conn, outcome === 'TOO_MANY' ? SSH_DISCONNECT_TOO_MANY_CONNECTIONS : SSH_DISCONNECT_SERVICE_NOT_AVAILABLE);
      return;
    }
    conn.on('authentication', (ctx) => {
      if (ctx.method === 'password' && timingSafeEqual(digest(`${ctx.username}\u0000${ctx.password}`), this.passwordDigest)) {
        ctx.accept();
      } else {
        ctx.reject(['password']);
      }
    });
    conn.on('ready', () => {
      conn.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('sftp', (acceptSftp) => {
          const sftp = acceptSftp();
          new SftpFileSession(sftp, this.root, (virtualPath) => this.onLanded(virtualPath, outcome));
        });
      });
    });
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Processing

  /** A file is complete under its final name: process it when it is a workbook in /inbox. */
  private onLanded(virtualPath: string, outcome: ChaosOutcome): void {
    const dir = posix.dirname(virtualPath);
    const name = posix.basename(virtualPath);
    if (dir !== '/inbox' || !isWorkbookName(name)) return;
    const real = join(this.inboxDir, name);
    void this.enqueue(async () => {
      const content = await readFile(real).catch(() => null);
      if (content) await this.process(name, content, outcome);
    });
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work).catch((err: unknown) => {
      console.error(`mz-dibao: processing failed: ${err instanceof Error ? err.message : String(err)}`);
    });
    this.queue = next;
    return next;
  }

  private async process(name: string, content: Buffer, outcome: ChaosOutcome): Promise<void> {
    const hash = sha256(content);
    const previous = this.files.get(name);
    const record: DibaoProcessedFile = {
      kind: 'file',
      name,
      sha256: hash,
      status: 'FAILED',
      rows: 0,
      passed: 0,
      failed: 0,
      resultWrites: previous?.resultWrites ?? 0,
      uploads: (previous?.uploads ?? 0) + 1,
    };
    this.files.set(name, record);
    // FAIL (or any trouble) while the file lands: nothing is read, no result is written, this time.
    if (outcome !== 'OK') return;

    const resultName = resultFileName(name);
    // The same bytes read as CSV or as XLSX are different uploads: the extension is part of the cache key.
    const cacheKey = `${resultName.slice(resultName.lastIndexOf('.'))}:${hash}`;
    let cached = this.resultsByHash.get(cacheKey);
    if (!cached) {
      let workbook: ParsedWorkbook;
      try {
        workbook = await readWorkbook(name, content);
      } catch {
        record.status = 'UNREADABLE';
        return;
      }
      cached = await writeResult(workbook, this.checkAndStore(name, workbook));
      this.resultsByHash.set(cacheKey, cached);
    }
    record.status = 'PROCESSED';
    record.rows = cached.rows;
    record.passed = cached.passed;
    record.failed = cached.rows - cached.passed;

    const writes = this.chaos.acknowledgeTwice() ? 2 : 1;
    for (let i = 0; i < writes; i++) {
      await this.writeResultFile(resultName, cached.content);
      record.resultWrites += 1;
    }
  }

  private async writeResultFile(resultName: string, content: Buffer): Promise<void> {
    const temp = join(this.outboxDir, `.${resultName}.tmp`);
    await writeFile(temp, content);
    await rename(temp, join(this.outboxDir, resultName));
  }

  /** Checks every row; stores the rows that pass; returns the answers per sheet and row. */
  private checkAndStore(fileName: string, workbook: ParsedWorkbook): string[][] {
    const householdIndex = workbook.sheets.findIndex((s) => s.header.includes('身份证') && !s.header.includes('父ID'));
    const answers: string[][] = workbook.sheets.map((s) => s.rows.map(() => '非户主表或成员表，未处理'));
    if (householdIndex < 0) {
      workbook.sheets.forEach((s, i) => (answers[i] = s.rows.map(() => '找不到户主表（须有身份证列）')));
      return answers;
    }

    const households = workbook.sheets[householdIndex] as SheetTable;
    const passedHeads = new Set<string>();
    const seen = new Set<string>();
    answers[householdIndex] = households.rows.map((row) => {
      const get = (column: string): CellValue => cellOf(households, row, column);
      const problems: string[] = [];
      const change = textOf(get(CHANGE_COLUMN));
      if (change === CHANGE_REMOVE) {
        // 注销: the household leaves the roll with its members; only the 身份证 is read. Removing a household the
        // system does not hold is accepted too (the same file may come twice).
        const id = checkIdNumber(get('身份证'), problems);
        if (id && seen.has(id)) problems.push('身份证重复');
        if (id) seen.add(id);
        if (problems.length > 0 || !id) return problems.join('；');
        this.households.delete(id);
        return RESULT_OK;
      }
      if (change !== '' && change !== CHANGE_KEEP) problems.push(`${CHANGE_COLUMN}无效，须为${CHANGE_KEEP}或${CHANGE_REMOVE}`);
      for (const column of ['户主姓名', '身份证', '类别']) if (!households.header.includes(column)) problems.push(`缺少列：${column}`);
      const id = checkIdNumber(get('身份证'), problems);
      if (id && seen.has(id)) problems.push('身份证重复');
      if (id) seen.add(id);
      if (households.header.includes('户主姓名') && textOf(get('户主姓名')) === '') problems.push('户主姓名不能为空');
      const category = textOf(get('类别'));
      if (households.header.includes('类别') && !(DIBAO_CATEGORIES as readonly string[]).includes(category)) problems.push('类别无效，须为城市低保、低保边缘或特困');
      const amount = households.header.includes('家庭月收入') ? checkAmount(get('家庭月收入'), problems) : null;
      for (const column of ['家庭人数', '保障人数']) checkCount(get(column), column, problems);
      if (problems.length > 0 || !id) return problems.join('；');

      passedHeads.add(id);
      const fields = rowFields(households, row);
      fields['身份证'] = id;
      if (amount !== null) fields['家庭月收入'] = amount;
      const existing = this.households.get(id);
      this.households.set(id, { fields, members: existing?.members ?? new Map(), sourceFile: fileName });
      return RESULT_OK;
    });

    workbook.sheets.forEach((sheet, index) => {
      if (index === householdIndex || !sheet.header.includes('父ID')) return;
      const seenMembers = new Set<string>();
      answers[index] = sheet.rows.map((row) => {
        const get = (column: string): CellValue => cellOf(sheet, row, column);
        const problems: string[] = [];
        const parent = textOf(get('父ID')).toUpperCase();
        if (parent === '') problems.push('父ID不能为空');
        else if (!passedHeads.has(parent) && !this.households.has(parent)) problems.push('父ID无对应户主');
        const id = checkIdNumber(get('身份证'), problems);
        if (id && seenMembers.has(id)) problems.push('身份证重复');
        if (id) seenMembers.add(id);
        if (textOf(get('姓名')) === '') problems.push('姓名不能为空');
        const amount = sheet.header.includes('家庭月收入') ? checkAmount(get('家庭月收入'), problems) : null;
        for (const column of ['家庭人数', '保障人数']) checkCount(get(column), column, problems);
        const household = this.households.get(parent);
        if (problems.length > 0 || !id || !household) return problems.join('；');

        const fields = rowFields(sheet, row);
        fields['父ID'] = parent;
        fields['身份证'] = id;
        if (amount !== null) fields['家庭月收入'] = amount;
        household.members.set(id, fields);
        return RESULT_OK;
      });
    });
    return answers;
  }
}

// -----------------------------------------------------------------------------------------------------------------
// SFTP: a handler per session, over the real directory tree below `fsRoot`

interface OpenFile {
  kind: 'file';
  fd: FileHandle;
  virtualPath: string;
  writable: boolean;
}

interface OpenDir {
  kind: 'dir';
  entries: FileEntry[];
  sent: boolean;
}

class SftpStatusError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Serves the SFTP requests of one session: OPEN, READ, WRITE, FSTAT, FSETSTAT, CLOSE, OPENDIR, READDIR, STAT,
 * LSTAT, SETSTAT, MKDIR, RMDIR, REMOVE, RENAME, REALPATH. Paths are virtual (`/` is the simulator's root; `..`
 * cannot climb above it).
 */
class SftpFileSession {
  private readonly handles = new Map<number, OpenFile | OpenDir>();
  private nextHandle = 1;

  constructor(
    private readonly sftp: SFTPWrapper,
    private readonly fsRoot: string,
    private readonly landed: (virtualPath: string) => void,
  ) {
    sftp.on('OPEN', (id, filename, flags, attrs) => this.run(id, () => this.open(id, filename, flags, attrs)));
    sftp.on('READ', (id, handle, offset, length) => this.run(id, () => this.read(id, handle, offset, length)));
    sftp.on('WRITE', (id, handle, offset, data) => this.run(id, () => this.write(id, handle, offset, data)));
    sftp.on('FSTAT', (id, handle) => this.run(id, async () => sftp.attrs(id, attributesOf(await this.file(handle).fd.stat()))));
    sftp.on('FSETSTAT', (id, handle) => this.run(id, async () => (this.file(handle), sftp.status(id, STATUS_CODE.OK))));
    sftp.on('CLOSE', (id, handle) => this.run(id, () => this.close(id, handle)));
    sftp.on('OPENDIR', (id, path) => this.run(id, () => this.openDir(id, path)));
    sftp.on('READDIR', (id, handle) => this.run(id, async () => this.readDir(id, handle)));
    sftp.on('STAT', (id, path) => this.run(id, async () => sftp.attrs(id, attributesOf(await stat(this.real(path))))));
    sftp.on('LSTAT', (id, path) => this.run(id, async () => sftp.attrs(id, attributesOf(await lstat(this.real(path))))));
    sftp.on('SETSTAT', (id, path) => this.run(id, async () => (await stat(this.real(path)), sftp.status(id, STATUS_CODE.OK))));
    sftp.on('MKDIR', (id, path) => this.run(id, async () => (await mkdir(this.real(path)), sftp.status(id, STATUS_CODE.OK))));
    sftp.on('RMDIR', (id, path) => this.run(id, async () => (await rmdir(this.real(path)), sftp.status(id, STATUS_CODE.OK))));
    sftp.on('REMOVE', (id, path) => this.run(id, async () => (await unlink(this.real(path)), sftp.status(id, STATUS_CODE.OK))));
    sftp.on('RENAME', (id, from, to) => this.run(id, () => this.rename(id, from, to)));
    sftp.on('REALPATH', (id, path) => this.run(id, () => this.realPath(id, path)));
    sftp.on('READLINK', (id) => this.run(id, async () => sftp.status(id, STATUS_CODE.OP_UNSUPPORTED)));
    sftp.on('SYMLINK', (id) => this.run(id, async () => sftp.status(id, STATUS_CODE.OP_UNSUPPORTED)));
    sftp.on('error', () => undefined);
    sftp.once('close', () => void this.releaseAll());
  }

  private run(id: number, op: () => Promise<void>): void {
    op().catch((err: unknown) => {
      const code = err instanceof SftpStatusError ? err.code : statusOfFsError(err);
      try {
        this.sftp.status(id, code, err instanceof SftpStatusError ? err.message : messageOfStatus(code));
      } catch {
        // The channel is gone; nothing to answer.
      }
    });
  }

  private virtual(path: string): string {
    return posix.resolve('/', path.replace(/\\/g, '/'));
  }

  private real(path: string): string {
    return join(this.fsRoot, ...this.virtual(path).split('/').filter(Boolean));
  }

  private newHandle(entry: OpenFile | OpenDir): Buffer {
    const n = this.nextHandle++;
    this.handles.set(n, entry);
    const buf = Buffer.alloc(4);
    buf.writeUInt32BE(n, 0);
    return buf;
  }

  private entry(handle: Buffer): OpenFile | OpenDir {
    const found = handle.length === 4 ? this.handles.get(handle.readUInt32BE(0)) : undefined;
    if (!found) throw new SftpStatusError(STATUS_CODE.FAILURE, 'invalid handle');
    return found;
  }

  private file(handle: Buffer): OpenFile {
    const found = this.entry(handle);
    if (found.kind !== 'file') throw new SftpStatusError(STATUS_CODE.FAILURE, 'not a file handle');
    return found;
  }

  private async open(id: number, filename: string, flags: number, attrs: Attributes): Promise<void> {
    const writable = (flags & (OPEN_MODE.WRITE | OPEN_MODE.APPEND)) !== 0;
    const readable = (flags & OPEN_MODE.READ) !== 0;
    let fsFlags = writable && readable ? fsConstants.O_RDWR : writable ? fsConstants.O_WRONLY : fsConstants.O_RDONLY;
    if (flags & OPEN_MODE.APPEND) fsFlags |= fsConstants.O_APPEND;
    if (flags & OPEN_MODE.CREAT) fsFlags |= fsConstants.O_CREAT;
    if (flags & OPEN_MODE.TRUNC) fsFlags |= fsConstants.O_TRUNC;
    if (flags & OPEN_MODE.EXCL) fsFlags |= fsConstants.O_EXCL;
    const mode = typeof attrs?.mode === 'number' ? attrs.mode & 0o777 : 0o644;
    const fd = await open(this.real(filename), fsFlags, mode);
    this.sftp.handle(id, this.newHandle({ kind: 'file', fd, virtualPath: this.virtual(filename), writable }));
  }

  private async read(id: number, handle: Buffer, offset: number, length: number): Promise<void> {
    const file = this.file(handle);
    const buf = Buffer.alloc(Math.min(length, 256 * 1024));
    const { bytesRead } = await file.fd.read(buf, 0, buf.length, offset);
    if (bytesRead === 0) this.sftp.status(id, STATUS_CODE.EOF);
    else this.sftp.data(id, buf.subarray(0, bytesRead));
  }

  private async write(id: number, handle: Buffer, offset: number, data: Buffer): Promise<void> {
    const file = this.file(handle);
    if (!file.writable) throw new SftpStatusError(STATUS_CODE.PERMISSION_DENIED, 'file not open for writing');
    await file.fd.write(data, 0, data.length, offset);
    this.sftp.status(id, STATUS_CODE.OK);
  }

  private async close(id: number, handle: Buffer): Promise<void> {
    const entry = this.entry(handle);
    this.handles.delete(handle.readUInt32BE(0));
    if (entry.kind === 'file') await entry.fd.close();
    this.sftp.status(id, STATUS_CODE.OK);
    if (entry.kind === 'file' && entry.writable) this.landed(entry.virtualPath);
  }

  private async openDir(id: number, path: string): Promise<void> {
    const dir = this.real(path);
    const info = await stat(dir);
    if (!info.isDirectory()) throw new SftpStatusError(STATUS_CODE.FAILURE, 'not a directory');
    const names = (await readdir(dir)).sort();
    const entries: FileEntry[] = [];
    for (const name of names) {
      const s = await lstat(join(dir, name)).catch(() => null);
      if (s) entries.push({ filename: name, longname: longNameOf(name, s), attrs: attributesOf(s) });
    }
    this.sftp.handle(id, this.newHandle({ kind: 'dir', entries, sent: false }));
  }

  private readDir(id: number, handle: Buffer): void {
    const dir = this.entry(handle);
    if (dir.kind !== 'dir') throw new SftpStatusError(STATUS_CODE.FAILURE, 'not a directory handle');
    if (dir.sent || dir.entries.length === 0) {
      this.sftp.status(id, STATUS_CODE.EOF);
      return;
    }
    dir.sent = true;
    this.sftp.name(id, dir.entries);
  }

  private async rename(id: number, from: string, to: string): Promise<void> {
    const target = this.real(to);
    if (await lstat(target).then(() => true, () => false)) throw new SftpStatusError(STATUS_CODE.FAILURE, 'target exists');
    await rename(this.real(from), target);
    this.sftp.status(id, STATUS_CODE.OK);
    this.landed(this.virtual(to));
  }

  private async realPath(id: number, path: string): Promise<void> {
    const virtualPath = this.virtual(path);
    const info = await stat(this.real(virtualPath)).catch(() => null);
    const attrs = info ? attributesOf(info) : { mode: 0, uid: 0, gid: 0, size: 0, atime: 0, mtime: 0 };
    this.sftp.name(id, [{ filename: virtualPath, longname: virtualPath, attrs }]);
  }

  /** The session ended: close what the client left open, without processing half-written files. */
  private async releaseAll(): Promise<void> {
    const open = [...this.handles.values()];
    this.handles.clear();
    for (const entry of open) if (entry.kind === 'file') await entry.fd.close().catch(() => undefined);
  }
}

/** Sends SSH_MSG_DISCONNECT with a reason code (ssh2 only exposes BY_APPLICATION publicly), then closes. */
function disconnectWithReason(conn: Connection, reason: number): void {
  const protocol: unknown = Reflect.get(conn, '_protocol');
  if (typeof protocol === 'object' && protocol !== null) {
    const disconnect: unknown = Reflect.get(protocol, 'disconnect');
    if (typeof disconnect === 'function') disconnect.call(protocol, reason);
  }
  conn.end();
}

function attributesOf(s: Stats): Attributes {
  return { mode: s.mode, uid: s.uid, gid: s.gid, size: s.size, atime: Math.floor(s.atimeMs / 1000), mtime: Math.floor(s.mtimeMs / 1000) };
}

function longNameOf(name: string, s: Stats): string {
  const type = s.isDirectory() ? 'd' : s.isSymbolicLink() ? 'l' : '-';
  const bits = 'rwxrwxrwx';
  let perms = '';
  for (let i = 0; i < 9; i++) perms += s.mode & (1 << (8 - i)) ? bits[i] : '-';
  const date = s.mtime.toISOString().slice(0, 16).replace('T', ' ');
  return `${type}${perms} 1 ${s.uid} ${s.gid} ${String(s.size).padStart(10)} ${date} ${name}`;
}

function statusOfFsError(err: unknown): number {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return STATUS_CODE.NO_SUCH_FILE;
  if (code === 'EACCES' || code === 'EPERM') return STATUS_CODE.PERMISSION_DENIED;
  return STATUS_CODE.FAILURE;
}

function messageOfStatus(code: number): string {
  if (code === STATUS_CODE.NO_SUCH_FILE) return 'No such file';
  if (code === STATUS_CODE.PERMISSION_DENIED) return 'Permission denied';
  return 'Failure';
}

// -----------------------------------------------------------------------------------------------------------------
// Workbooks

function isWorkbookName(name: string): boolean {
  return /\.(xlsx|csv)$/i.test(name) && !name.startsWith('.');
}

/** `低保_2024年3月_r1.xlsx` → `低保_2024年3月_r1.result.xlsx`. */
export function resultFileName(name: string): string {
  const dot = name.lastIndexOf('.');
  return `${name.slice(0, dot)}.result${name.slice(dot).toLowerCase()}`;
}

function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function textOf(value: CellValue | undefined): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'number' ? String(value) : value.trim();
}

function cellOf(sheet: SheetTable, row: CellValue[], column: string): CellValue {
  const index = sheet.header.indexOf(column);
  return index < 0 ? null : (row[index] ?? null);
}

function rowFields(sheet: SheetTable, row: CellValue[]): Record<string, string> {
  const fields: Record<string, string> = {};
  sheet.header.forEach((column, i) => {
    if (column !== '' && column !== RESULT_COLUMN) fields[column] = textOf(row[i] ?? null);
  });
  return fields;
}

/** Returns the normalised 18-character number when it passes, else adds the problem and returns null. */
function checkIdNumber(value: CellValue, problems: string[]): string | null {
  const text = textOf(value);
  if (text === '') {
    problems.push('身份证不能为空');
    return null;
  }
  if (!/^\d{17}[\dXx]$/.test(text)) {
    problems.push('身份证须为18位（末位可为X）');
    return null;
  }
  const checked = validateIdNumber(text);
  if (checked.ok) return checked.value.normalized;
  problems.push(checked.problem === 'CHECKSUM' ? '身份证校验位错误' : checked.problem === 'BIRTH_DATE' ? '身份证出生日期无效' : '身份证格式错误');
  return null;
}

/** 家庭月收入: a non-negative amount in yuan with at most 2 decimals; returns it with exactly 2 decimals. */
function checkAmount(value: CellValue, problems: string[]): string | null {
  if (typeof value === 'number') {
    const cents = value * 100;
    if (Number.isFinite(value) && value >= 0 && Math.abs(cents - Math.round(cents)) < 1e-6) return (Math.round(cents) / 100).toFixed(2);
  } else {
    const text = textOf(value);
    if (/^\d+(\.\d{1,2})?$/.test(text)) return Number(text).toFixed(2);
  }
  problems.push('家庭月收入须为数字，最多两位小数');
  return null;
}

function checkCount(value: CellValue, column: string, problems: string[]): void {
  const text = textOf(value);
  if (text !== '' && !/^[1-9]\d{0,2}$/.test(text)) problems.push(`${column}须为正整数`);
}

async function readWorkbook(name: string, content: Buffer): Promise<ParsedWorkbook> {
  if (/\.csv$/i.test(name)) {
    const { text, encoding } = decodeCsv(content);
    const records = parseCsv(text, { bom: true, relax_column_count: true, skip_empty_lines: true }) as string[][];
    const [header = [], ...rows] = records;
    return {
      format: 'csv',
      csvEncoding: encoding,
      sheets: [{ name: '户主', header: header.map((h) => h.trim()), rows: rows.filter((r) => r.some((c) => c.trim() !== '')).map((r) => header.map((_, i) => r[i] ?? null)) }],
    };
  }
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(content as unknown as ExcelJS.Buffer);
  const sheets: SheetTable[] = workbook.worksheets.map((ws) => {
    const first = ws.getRow(1);
    const header: string[] = [];
    for (let c = 1; c <= first.cellCount; c++) header.push(textOf(cellValueOf(first.getCell(c).value)));
    while (header.length > 0 && header[header.length - 1] === '') header.pop();
    const rows: CellValue[][] = [];
    for (let r = 2; r <= ws.rowCount; r++) {
      const row = ws.getRow(r);
      const cells = header.map((_, i) => cellValueOf(row.getCell(i + 1).value));
      if (cells.some((c) => textOf(c) !== '')) rows.push(cells);
    }
    return { name: ws.name, header, rows };
  });
  return { format: 'xlsx', sheets, csvEncoding: 'UTF-8' };
}

function cellValueOf(value: ExcelJS.CellValue): CellValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if ('richText' in value) return value.richText.map((r) => r.text).join('');
  if ('formula' in value || 'sharedFormula' in value) {
    const result = value.result;
    if (result === undefined || result === null) return null;
    if (typeof result === 'object' && !(result instanceof Date)) return 'error' in result ? String(result.error) : null;
    return cellValueOf(result);
  }
  if ('hyperlink' in value) return typeof value.text === 'string' ? value.text : null;
  if ('error' in value) return String(value.error);
  return null;
}

function decodeCsv(content: Buffer): { text: string; encoding: CsvEncoding } {
  if (content.length >= 3 && content[0] === 0xef && content[1] === 0xbb && content[2] === 0xbf) {
    return { text: content.subarray(3).toString('utf8'), encoding: 'UTF-8-BOM' };
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(content), encoding: 'UTF-8' };
  } catch {
    return { text: iconv.decode(content, 'gb18030'), encoding: 'GB18030' };
  }
}

/** The result: every sheet of the upload with 校验结果 added to each row; a CSV answers in the encoding it came in. */
async function writeResult(workbook: ParsedWorkbook, answers: string[][]): Promise<CachedResult> {
  let rows = 0;
  let passed = 0;
  for (const sheetAnswers of answers) {
    for (const answer of sheetAnswers) {
      rows += 1;
      if (answer === RESULT_OK) passed += 1;
    }
  }
  let content: Buffer;
  if (workbook.format === 'csv') {
    const sheet = workbook.sheets[0] as SheetTable;
    const lines = [[...sheet.header, RESULT_COLUMN], ...sheet.rows.map((row, i) => [...row.map(textOf), answers[0]?.[i] ?? ''])];
    const text = lines.map((cells) => cells.map(csvCell).join(',')).join('\r\n') + '\r\n';
    if (workbook.csvEncoding === 'GB18030') content = iconv.encode(text, 'gb18030');
    else if (workbook.csvEncoding === 'UTF-8-BOM') content = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
    else content = Buffer.from(text, 'utf8');
  } else {
    const out = new ExcelJS.Workbook();
    out.creator = 'mz-dibao';
    out.lastModifiedBy = 'mz-dibao';
    out.created = RESULT_WORKBOOK_DATE;
    out.modified = RESULT_WORKBOOK_DATE;
    workbook.sheets.forEach((sheet, s) => {
      const ws = out.addWorksheet(sheet.name);
      ws.addRow([...sheet.header, RESULT_COLUMN]);
      sheet.rows.forEach((row, i) => ws.addRow([...row, answers[s]?.[i] ?? '']));
    });
    content = Buffer.from((await out.xlsx.writeBuffer()) as ArrayBuffer);
  }
  return { content, rows, passed };
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
