import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import * as iconv from 'iconv-lite';
import JSZip from 'jszip';
import { Chaos, Simulator } from '../chaos';
import { closeServer, HungRequests, listenLocal } from './http-scaffold';

/**
 * Simulator of P4, the health / family planning information system (卫生健康·计划生育, `js-wis`), which exchanges
 * zipped XML data packages (数据包) over HTTP, on 127.0.0.1 only.
 *
 *   POST /packages            body: a zip (application/zip) with one or more XML messages of type 通报 (notice) or
 *                             协查 (assist request), all with the same package id:
 *                               <message><head><packageId/><messageType/><sendTime/><recordCount/></head>
 *                                 <body><record seq="1" op="A|D"><womanIdcardNo/>…</record>…</body></message>
 *                             Encoding as declared (UTF-8 or GBK). Answer 200 application/zip: the feedback
 *                             package 协查反馈 `<packageId>_FK.xml` with one
 *                             `<result seq=".." key=".." code="0|1" msg=".."/>` per record.
 *   GET /feedback/:packageId  the same feedback zip again (404 while the package is unknown).
 *
 * Records are keyed by the wife's ID number (womanIdcardNo); fields as sent (firstMarriageTime, boyNumber,
 * girlNumber, fertilityServicesNo, singleChildCardno, manName, manIdcardNo, manNation with UNPADDED ethnicity codes
 * "1" not "01", 57 / 58 for other / foreign-born, one-digit relationship codes). Quirk kept on purpose: ID checksums
 * are never validated and values are stored exactly as sent (a padded "01" stays "01"). Only structurally invalid
 * records are refused (code 1): no womanIdcardNo, boyNumber / girlNumber not a whole number, a field given twice
 * or with child elements. op="A" replaces the stored record, op="D" removes it (注销).
 *
 * Package level: the same package id again → the first feedback, byte for byte, with header
 * `x-duplicate-package: 1`, and nothing stored twice. Not a zip, no XML, malformed XML, no / differing package ids, or
 * an unknown message type → 400 with a text/plain reason; another content type → 415; over 20 MB → 413.
 *
 * Chaos: TOO_MANY → 429 with Retry-After: 1; UNAVAILABLE → 503 with Retry-After: 2; FAIL → 500; TIMEOUT → no answer,
 * the socket is destroyed after 30 s; DOWN → connection refused: the listening socket is closed (and open connections
 * dropped) while the chaos says down and reopened on the same port afterwards (within ~100 ms, or at once through
 * `syncChaos()`). A duplicate acknowledgement (acknowledgeTwice) lists an accepted record's <result> twice in the
 * feedback and counts two acknowledgements (`ackCount`); the record is written once (`writeCount`).
 */

export interface JsWisSimulatorOptions {
  /** 0 for a free port (read it back from `port` after start). Listens on 127.0.0.1 only. */
  port: number;
}

/** One woman's record as P4 holds it. */
export interface JsWisStoredRecord {
  womanIdcardNo: string;
  /** Every field of the record as sent (strings, empty when the element was empty). */
  fields: Record<string, string>;
  packageId: string;
  messageType: string;
  /** How often the record was written (insert or replacement). */
  writeCount: number;
  /** Acknowledgements sent for this key (two for a duplicated acknowledgement). */
  ackCount: number;
}

/** One package as P4 received it. */
export interface JsWisPackage {
  packageId: string;
  messageType: string;
  recordCount: number;
  accepted: number;
  rejected: number;
  /** Times the package was posted (repeats are answered from the first feedback). */
  uploads: number;
  feedback: Buffer;
}

const MAX_BODY_BYTES = 20 * 1024 * 1024;
const HANG_MS = 30_000;
const PACKAGE_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const MESSAGE_TYPES = new Set(['通报', '协查']);

class PackageError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

interface IncomingRecord {
  seq: number;
  op: 'A' | 'D';
  fields: Record<string, string>;
  /** Why the record is structurally invalid, or null. */
  problem: string | null;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function decode(bytes: Buffer): string {
  const declared = /<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_-]+)["']/.exec(bytes.subarray(0, 200).toString('latin1'))?.[1];
  return iconv.decode(bytes, declared && iconv.encodingExists(declared) ? declared : 'utf8').replace(/^\uFEFF/, '');
}

function chinaTime(at: Date): string {
  const t = new Date(at.getTime() + 8 * 3600_000).toISOString();
  return `${t.slice(0, 10)} ${t.slice(11, 19)}`;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => (size > MAX_BODY_BYTES ? reject(new PackageError(413, '数据包过大 (package over 20 MB)')) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(text);
}

export class JsWisSimulator implements Simulator {
  readonly name = 'js-wis';
  readonly chaos = new Chaos();
  private readonly stored = new Map<string, JsWisStoredRecord>();
  private readonly packages = new Map<string, JsWisPackage>();
  private readonly hung = new HungRequests(HANG_MS);
  private readonly parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    ignoreDeclaration: true,
    ignorePiTags: true,
    removeNSPrefix: true,
    isArray: (_name, jPath) => String(jPath) === 'message.body.record',
  });
  private server: Server | null = null;
  private listening = false;
  private boundPort = 0;
  private watcher: NodeJS.Timeout | null = null;
  private switching: Promise<void> = Promise.resolve();

  constructor(private readonly options: JsWisSimulatorOptions) {}

  /** The bound port (after start). */
  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    if (this.server) return;
    this.server = createServer((req, res) => void this.handle(req, res));
    this.boundPort = this.options.port;
    await this.listen();
    this.watcher = setInterval(() => void this.syncChaos().catch(() => undefined), 100);
    this.watcher.unref();
  }

  async stop(): Promise<void> {
    if (this.watcher) clearInterval(this.watcher);
    this.watcher = null;
    this.hung.releaseAll();
    await this.switching;
    await this.unlisten();
    this.server = null;
  }

  /** Closes or reopens the listening socket so that it matches `chaos.isDown()`. */
  syncChaos(): Promise<void> {
    this.switching = this.switching.then(async () => {
      if (!this.server) return;
      const down = this.chaos.isDown();
      if (down && this.listening) await this.unlisten();
      else if (!down && !this.listening) await this.listen();
    });
    return this.switching;
  }

  async records(): Promise<JsWisStoredRecord[]> {
    return [...this.stored.values()].map((r) => ({ ...r, fields: { ...r.fields } }));
  }

  /** The packages received, in arrival order. */
  receivedPackages(): JsWisPackage[] {
    return [...this.packages.values()].map((p) => ({ ...p }));
  }

  async reset(): Promise<void> {
    this.stored.clear();
    this.packages.clear();
  }

  describe(): string {
    return `http://127.0.0.1:${this.boundPort} (POST /packages zipped XML, GET /feedback/:packageId)`;
  }

  private async listen(): Promise<void> {
    if (!this.server) return;
    this.boundPort = await listenLocal(this.server, this.boundPort);
    this.listening = true;
  }

  private async unlisten(): Promise<void> {
    if (!this.server || !this.listening) return;
    this.listening = false;
    await closeServer(this.server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const body = await readBody(req);
      const outcome = await this.chaos.decide();
      switch (outcome) {
        case 'DOWN':
          req.socket.destroy();
          return;
        case 'TIMEOUT':
          this.hung.hold(req.socket);
          return;
        case 'TOO_MANY':
          return sendText(res, 429, '请求过于频繁 (too many requests)', { 'retry-after': '1' });
        case 'UNAVAILABLE':
          return sendText(res, 503, '系统繁忙 (service unavailable)', { 'retry-after': '2' });
        case 'FAIL':
          return sendText(res, 500, '系统内部错误 (internal error)');
        case 'OK':
          break;
      }
      const path = new URL(req.url ?? '/', 'http://sim').pathname;
      if (req.method === 'POST' && path === '/packages') return await this.receive(req, res, body);
      const feedbackFor = /^\/feedback\/([^/]+)$/.exec(path)?.[1];
      if (req.method === 'GET' && feedbackFor !== undefined) {
        const found = this.packages.get(decodeURIComponent(feedbackFor));
        if (!found) return sendText(res, 404, '无此数据包 (unknown package)');
        return this.sendFeedback(res, found, false);
      }
      return sendText(res, 404, 'not found');
    } catch (err) {
      if (err instanceof PackageError) return sendText(res, err.status, err.message);
      return sendText(res, 500, '系统内部错误 (internal error)');
    }
  }

  private sendFeedback(res: ServerResponse, pkg: JsWisPackage, duplicate: boolean): void {
    const headers: Record<string, string> = {
      'content-type': 'application/zip',
      'content-length': String(pkg.feedback.length),
      'x-package-id': pkg.packageId,
    };
    if (duplicate) headers['x-duplicate-package'] = '1';
    res.writeHead(200, headers);
    res.end(pkg.feedback);
  }

  private async receive(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/zip' && type !== 'application/x-zip-compressed') throw new PackageError(415, '数据包须为zip (expected application/zip)');
    const messages = await this.readPackage(body);
    const packageId = messages[0].packageId;
    const known = this.packages.get(packageId);
    if (known) {
      known.uploads += 1;
      return this.sendFeedback(res, known, true);
    }
    const results: string[] = [];
    let accepted = 0;
    let rejected = 0;
    let recordCount = 0;
    for (const message of messages) {
      for (const record of message.records) {
        recordCount += 1;
        const key = record.fields['womanIdcardNo'] ?? '';
        const result = (code: '0' | '1', msg: string): string =>
          `    <result seq="${record.seq}" key="${escapeXml(key)}" code="${code}" msg="${escapeXml(msg)}"/>`;
        if (record.problem) {
          rejected += 1;
          results.push(result('1', record.problem));
          continue;
        }
        accepted += 1;
        let msg = '接收成功';
        if (record.op === 'D') {
          msg = this.stored.delete(key) ? '已注销' : '无此记录，已忽略';
        } else {
          const previous = this.stored.get(key);
          this.stored.set(key, {
            womanIdcardNo: key,
            fields: record.fields,
            packageId,
            messageType: message.messageType,
            writeCount: (previous?.writeCount ?? 0) + 1,
            ackCount: previous?.ackCount ?? 0,
          });
        }
        const twice = this.chaos.acknowledgeTwice();
        const held = this.stored.get(key);
        if (held) held.ackCount += twice ? 2 : 1;
        results.push(result('0', msg));
        if (twice) results.push(result('0', msg));
      }
    }
    const xml = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<message>',
      '  <head>',
      `    <packageId>${escapeXml(packageId)}</packageId>`,
      '    <messageType>协查反馈</messageType>',
      `    <replyTo>${escapeXml(messages[0].messageType)}</replyTo>`,
      `    <sendTime>${chinaTime(new Date())}</sendTime>`,
      `    <recordCount>${recordCount}</recordCount>`,
      `    <acceptedCount>${accepted}</acceptedCount>`,
      `    <rejectedCount>${rejected}</rejectedCount>`,
      '  </head>',
      '  <body>',
      ...results,
      '  </body>',
      '</message>',
      '',
    ].join('\n');
    const zip = new JSZip();
    zip.file(`${packageId}_FK.xml`, Buffer.from(xml, 'utf8'), { date: new Date(), createFolders: false });
    const feedback = await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
    const pkg: JsWisPackage = { packageId, messageType: messages[0].messageType, recordCount, accepted, rejected, uploads: 1, feedback };
    this.packages.set(packageId, pkg);
    this.sendFeedback(res, pkg, false);
  }

  /** The package's XML messages, checked for structure; records are checked one by one later. */
  private async readPackage(body: Buffer): Promise<{ packageId: string; messageType: string; records: IncomingRecord[] }[]> {
    let zip: JSZip;
    try {
      zip = await JSZip.loadAsync(body);
    } catch {
      throw new PackageError(400, '数据包不是有效的zip文件 (not a zip file)');
    }
    const entries = Object.values(zip.files)
      .filter((f) => !f.dir && /\.xml$/i.test(f.name))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (entries.length === 0) throw new PackageError(400, '数据包中没有XML报文 (no XML message in the zip)');
    const messages: { packageId: string; messageType: string; records: IncomingRecord[] }[] = [];
    for (const entry of entries) {
      const xml = decode(await entry.async('nodebuffer'));
      if (XMLValidator.validate(xml) !== true) throw new PackageError(400, `报文格式错误 (${entry.name} is not well-formed XML)`);
      const doc: unknown = this.parser.parse(xml);
      const message = isObject(doc) ? doc['message'] : undefined;
      const head = isObject(message) ? message['head'] : undefined;
      if (!isObject(message) || !isObject(head)) throw new PackageError(400, `报文缺少message/head (${entry.name})`);
      const packageId = typeof head['packageId'] === 'string' ? head['packageId'] : '';
      const messageType = typeof head['messageType'] === 'string' ? head['messageType'] : '';
      if (!PACKAGE_ID.test(packageId)) throw new PackageError(400, `数据包编号无效 (${entry.name}: packageId missing or not 1-64 letters, digits, _ . -)`);
      if (!MESSAGE_TYPES.has(messageType)) throw new PackageError(400, `报文类型无效 (${entry.name}: messageType must be 通报 or 协查)`);
      if (messages.length > 0 && messages[0].packageId !== packageId) throw new PackageError(400, '同一数据包中的报文编号不一致 (messages carry different package ids)');
      const bodyNode = message['body'];
      const items = isObject(bodyNode) && Array.isArray(bodyNode['record']) ? (bodyNode['record'] as unknown[]) : [];
      const offset = messages.reduce((n, m) => n + m.records.length, 0);
      messages.push({ packageId, messageType, records: items.map((item, i) => this.readRecord(item, offset + i + 1)) });
    }
    return messages;
  }

  private readRecord(item: unknown, position: number): IncomingRecord {
    const node = isObject(item) ? item : {};
    const seqAttr = Number(node['@_seq']);
    const seq = Number.isInteger(seqAttr) && seqAttr > 0 ? seqAttr : position;
    const op = node['@_op'] === 'D' ? 'D' : 'A';
    const fields: Record<string, string> = {};
    const problems: string[] = [];
    for (const [name, value] of Object.entries(node)) {
      if (name.startsWith('@_')) continue;
      if (typeof value === 'string') fields[name] = value;
      else if (Array.isArray(value)) problems.push(`字段重复 (${name} given twice)`);
      else problems.push(`字段结构错误 (${name} has child elements)`);
    }
    if (!fields['womanIdcardNo']) problems.push('缺少女方身份证号 (womanIdcardNo missing)');
    for (const count of ['boyNumber', 'girlNumber']) {
      const v = fields[count];
      if (v !== undefined && v !== '' && !/^\d{1,2}$/.test(v)) problems.push(`${count}须为整数 (${count} not a whole number)`);
    }
    return { seq, op, fields, problem: problems.length > 0 ? problems.join('; ') : null };
  }
}
