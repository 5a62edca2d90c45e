import { IncomingMessage, ServerResponse } from 'http';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import * as iconv from 'iconv-lite';
import { Chaos, Simulator } from '../chaos';
import { LoopbackHttpServer, readBody } from './http-scaffold';

/**
 * Simulator of P1, the public security floating population registration service (公安流动人口登记, `ga-ldrk`):
 * SOAP 1.1 over HTTP at `POST /ldrk`, request and answer bodies GBK-encoded XML (`text/xml; charset=GBK`; a request
 * declared UTF-8 is accepted too, answers are always GBK).
 *
 * Operations (document/literal, element names as below, namespace ignored):
 *   uploadLdrk     <uploadLdrk><record><GMSFHM>…</GMSFHM>…</record></uploadLdrk>   (fields may also sit directly
 *                  under <uploadLdrk>); upsert by GMSFHM; answers FHDM / FHXX / DJBH (registration number 登记编号)
 *   queryByGmsfhm  <queryByGmsfhm><gmsfhm>…</gmsfhm></queryByGmsfhm>; answers FHDM / FHXX and <record>
 *   logout         <logout><gmsfhm/><zxrq>YYYYMMDD</zxrq><zxyy>reason</zxyy></logout>: 注销, marks the record
 *                  logged out (ZXBZ 注销标志 = '1', ZXRQ 注销日期, ZXYY 注销原因)
 *
 * Answer codes (返回代码 FHDM / 返回信息 FHXX):
 *   0000 成功 · 0001 重复提交 (identical content already held, or already logged out) ·
 *   1001 身份证号码校验失败 (GMSFHM not 17 digits + digit or upper-case X) · 1002 必填项缺失 (XM / XB / CSRQ) ·
 *   1003 日期格式错误 (CSRQ / DJRQ / zxrq not a YYYYMMDD date) · 2001 不在本辖区 (PCS given and not starting 3302,
 *   i.e. outside Ningbo) · 3001 无此记录 (query or logout of an unknown GMSFHM).
 *
 * HTTP level: outside the service hours (China time) 503 with the SOAP fault `SERVICE_CLOSED` and Retry-After in
 * seconds until opening; over `ratePerSecond` 429 `RATE_LIMITED` with Retry-After: 1; wrong WS-Security
 * UsernameToken (when the simulator was given credentials) 401 `AUTH_FAILED`.
 *
 * Chaos: FAIL → 500 fault `INTERNAL_ERROR`; TOO_MANY → 429; UNAVAILABLE → 503 `SERVICE_UNAVAILABLE`;
 * TIMEOUT → no answer, the socket is destroyed after 30 s; DOWN → **503** `SERVICE_DOWN` with Retry-After until the
 * end of the downtime (the listening socket stays open: P1 downtime is a maintenance window behind a gateway).
 * A duplicate acknowledgement (acknowledgeTwice) puts the answer element twice into the SOAP Body and counts two
 * acknowledgements for the key (`ackCount`), while the record is stored once (`writeCount`).
 */

/** P1 fields (DOMAIN.md §7), pinyin initials. */
export const LDRK_FIELDS = [
  'GMSFHM', // 公民身份号码 ID number
  'XM', // 姓名 name
  'XB', // 性别 sex (GB/T 2261.1)
  'MZ', // 民族 ethnicity (GB/T 3304, 2 digits)
  'CSRQ', // 出生日期 birth date YYYYMMDD
  'HJDZ_SSXQ', // 户籍地址省市县区 6-digit hukou division
  'HJDZ_XZ', // 户籍地址详址 hukou address
  'ZZDZ_JLX', // 暂住地址街路巷 street
  'ZZDZ_MLPH', // 暂住地址门楼牌号 door number
  'ZZDZ_MLXZ', // 暂住地址门楼详址 full address
  'PCS', // 派出所 police station
  'ZRQ', // 责任区 police beat
  'ZZSY', // 暂住事由 reason for stay
  'JZCS', // 居住处所 dwelling type
  'DJRQ', // 登记日期 registration date YYYYMMDD
  'NJZQX', // 拟居住期限 expected stay
  'JZZBH', // 居住证编号 residence permit number
  'FZXM', // 房主姓名 landlord's name
  'FZGMSFHM', // 房主公民身份号码 landlord's ID number
  'LXDH', // 联系电话 phone
] as const;

export type LdrkField = (typeof LDRK_FIELDS)[number];

/** One record as P1 holds it: the P1 fields sent, the logout state, and counters for tests. */
export type LdrkStoredRecord = Partial<Record<LdrkField, string>> & {
  GMSFHM: string;
  /** 登记编号 registration number assigned at the first upload; returned as the target reference. */
  DJBH: string;
  /** 注销标志 '1' when logged out. */
  ZXBZ: '0' | '1';
  ZXRQ?: string;
  ZXYY?: string;
  /** Acknowledgements sent for this key (0000 and 0001 answers; two for a duplicated acknowledgement). */
  ackCount: number;
  /** How often the record was actually written (insert, change, logout). */
  writeCount: number;
};

export interface GaLdrkSimulatorOptions {
  /** 0 for a free port (read it back from `port` after start). Listens on 127.0.0.1 only. */
  port: number;
  /** Opening hours in China time (UTC+8), 'HH:MM'; default 08:00–18:00; null = always open. */
  serviceHours?: { from: string; to: string } | null;
  /** Requests per second before 429; default 50. */
  ratePerSecond?: number;
  /** When given, requests must carry this WS-Security UsernameToken (PasswordText); otherwise any caller is let in. */
  credentials?: { username: string; password: string } | null;
}

const ANSWER = {
  OK: ['0000', '成功'],
  DUPLICATE: ['0001', '重复提交'],
  BAD_ID: ['1001', '身份证号码校验失败'],
  MISSING: ['1002', '必填项缺失'],
  BAD_DATE: ['1003', '日期格式错误'],
  NOT_HERE: ['2001', '不在本辖区'],
  NOT_FOUND: ['3001', '无此记录'],
} as const satisfies Record<string, readonly [string, string]>;

type Answer = (typeof ANSWER)[keyof typeof ANSWER];

const SOAP_ENV = 'http://schemas.xmlsoap.org/soap/envelope/';
const SIM_NS = 'http://ldrk.ga.sim/ws';
const CHINA_OFFSET_MS = 8 * 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;
const HUNG_REQUEST_MS = 30_000;
const MAX_BODY_BYTES = 1024 * 1024;
const ID_NUMBER = /^\d{17}[\dX]$/;
const DATE = /^\d{8}$/;
/** Ningbo's division prefix: a police station outside it is not in this bureau's jurisdiction. */
const JURISDICTION_PREFIX = '3302';

type XmlNode = string | XmlObject | XmlNode[];
interface XmlObject {
  [name: string]: XmlNode;
}

class SoapFault extends Error {
  constructor(
    readonly status: number,
    readonly faultCode: 'soap:Client' | 'soap:Server',
    readonly faultString: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(faultString);
  }
}

function parseClock(value: string, what: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(value);
  if (!m) throw new Error(`ga-ldrk simulator: serviceHours.${what} must be HH:MM`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** Escapes markup, and writes characters GBK cannot carry (rare characters 生僻字) as character references. */
function xmlEscape(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (ch === '&' || ch === '<' || ch === '>' || ch === '"' || ch === "'") out += `&#${cp};`;
    else if (cp > 0x7f && iconv.decode(iconv.encode(ch, 'gbk'), 'gbk') !== ch) out += `&#x${cp.toString(16).toUpperCase()};`;
    else out += ch;
  }
  return out;
}

function isXmlObject(node: XmlNode | undefined): node is XmlObject {
  return typeof node === 'object' && node !== null && !Array.isArray(node);
}

/** A date YYYYMMDD that exists in the calendar. */
function isCalendarDate(value: string): boolean {
  if (!DATE.test(value)) return false;
  const y = Number(value.slice(0, 4));
  const m = Number(value.slice(4, 6));
  const d = Number(value.slice(6, 8));
  const date = new Date(Date.UTC(y, m - 1, d));
  return y >= 1900 && date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

function charsetOf(contentType: string | undefined): string {
  const m = /charset\s*=\s*"?([\w-]+)"?/i.exec(contentType ?? '');
  return m ? m[1].toLowerCase() : 'gbk';
}

export class GaLdrkSimulator implements Simulator {
  readonly name = 'ga-ldrk';
  readonly chaos = new Chaos();

  private readonly store = new Map<string, LdrkStoredRecord>();
  private readonly openMinutes: { from: number; to: number } | null;
  private readonly ratePerSecond: number;
  private readonly credentials: { username: string; password: string } | null;
  private readonly recentRequests: number[] = [];
  private readonly http = new LoopbackHttpServer((req, res) => this.handle(req, res), HUNG_REQUEST_MS);
  private readonly parser = new XMLParser({
    removeNSPrefix: true,
    parseTagValue: false,
    ignoreAttributes: true,
    ignoreDeclaration: true,
    ignorePiTags: true,
    trimValues: true,
    processEntities: true,
    htmlEntities: true,
  });
  private nextRegistration = 1;

  constructor(private readonly options: GaLdrkSimulatorOptions) {
    const hours = options.serviceHours === undefined ? { from: '08:00', to: '18:00' } : options.serviceHours;
    this.openMinutes = hours === null ? null : { from: parseClock(hours.from, 'from'), to: parseClock(hours.to, 'to') };
    this.ratePerSecond = options.ratePerSecond ?? 50;
    if (!(this.ratePerSecond > 0)) throw new Error('ga-ldrk simulator: ratePerSecond must be positive');
    this.credentials = options.credentials ?? null;
  }

  /** The bound port (after start). */
  get port(): number {
    return this.http.port;
  }

  /** The service URL (after start). */
  get url(): string {
    return `http://127.0.0.1:${this.http.port}/ldrk`;
  }

  async start(): Promise<void> {
    await this.http.start(this.options.port);
  }

  async stop(): Promise<void> {
    await this.http.stop();
  }

  async records(): Promise<LdrkStoredRecord[]> {
    return [...this.store.values()].map((r) => ({ ...r }));
  }

  async reset(): Promise<void> {
    this.store.clear();
    this.recentRequests.length = 0;
    this.nextRegistration = 1;
  }

  describe(): string {
    return `${this.url} (SOAP 1.1, GBK)`;
  }

  // ------------------------------------------------------------------ HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const outcome = await this.chaos.decide();
      if (outcome === 'TIMEOUT') return this.hang(req);
      const path = (req.url ?? '').split('?')[0];
      if (path !== '/ldrk' && path !== '/ldrk/') throw new SoapFault(404, 'soap:Client', 'NO_SUCH_SERVICE');
      if (req.method !== 'POST') throw new SoapFault(405, 'soap:Client', 'POST_REQUIRED');
      if (outcome === 'DOWN') {
        const seconds = Math.max(1, Math.ceil((this.chaos.current().downUntil - Date.now()) / 1000));
        throw new SoapFault(503, 'soap:Server', 'SERVICE_DOWN', seconds);
      }
      const closedFor = this.secondsUntilOpen(Date.now());
      if (closedFor > 0) throw new SoapFault(503, 'soap:Server', 'SERVICE_CLOSED', closedFor);
      if (outcome === 'TOO_MANY' || !this.admit(Date.now())) throw new SoapFault(429, 'soap:Server', 'RATE_LIMITED', 1);
      if (outcome === 'UNAVAILABLE') throw new SoapFault(503, 'soap:Server', 'SERVICE_UNAVAILABLE');
      if (outcome === 'FAIL') throw new SoapFault(500, 'soap:Server', 'INTERNAL_ERROR');

      const raw = await readBody(req, MAX_BODY_BYTES, () => new SoapFault(413, 'soap:Client', 'REQUEST_TOO_LARGE'));
      const charset = charsetOf(req.headers['content-type']);
      if (!iconv.encodingExists(charset)) throw new SoapFault(415, 'soap:Client', 'UNSUPPORTED_CHARSET');
      const xml = iconv.decode(raw, charset);
      const envelope = this.parseEnvelope(xml);
      this.authenticate(envelope);
      const { operation, element } = this.operationOf(envelope);
      const reply = this.dispatch(operation, element);
      this.send(res, 200, reply);
    } catch (err) {
      if (err instanceof SoapFault) return this.sendFault(res, err);
      this.sendFault(res, new SoapFault(500, 'soap:Server', 'INTERNAL_ERROR'));
    }
  }

  /** Holds the request without answering, then drops the connection. */
  private hang(req: IncomingMessage): void {
    this.http.hung.hold(req.socket);
    req.resume();
  }

  /** Seconds until the service opens (0 while open), China time. */
  private secondsUntilOpen(now: number): number {
    const hours = this.openMinutes;
    if (!hours || hours.from === hours.to) return 0;
    const secondOfDay = Math.floor(((now + CHINA_OFFSET_MS) % DAY_MS) / 1000);
    const minute = Math.floor(secondOfDay / 60);
    const open = hours.from < hours.to ? minute >= hours.from && minute < hours.to : minute >= hours.from || minute < hours.to;
    if (open) return 0;
    return Math.max(1, (hours.from * 60 - secondOfDay + 86400) % 86400);
  }

  /** Sliding one-second window. */
  private admit(now: number): boolean {
    while (this.recentRequests.length > 0 && this.recentRequests[0] <= now - 1000) this.recentRequests.shift();
    if (this.recentRequests.length >= this.ratePerSecond) return false;
    this.recentRequests.push(now);
    return true;
  }

  private parseEnvelope(xml: string): XmlObject {
    // SOAP 1.1 forbids DTDs; refusing them also shuts out entity expansion.
    if (/<!DOCTYPE/i.test(xml)) throw new SoapFault(500, 'soap:Client', 'DTD_NOT_ALLOWED');
    if (XMLValidator.validate(xml) !== true) throw new SoapFault(500, 'soap:Client', 'MALFORMED_XML');
    const doc = this.parser.parse(xml) as XmlObject;
    const envelope = doc['Envelope'];
    if (!isXmlObject(envelope)) throw new SoapFault(500, 'soap:Client', 'NOT_A_SOAP_ENVELOPE');
    return envelope;
  }

  private authenticate(envelope: XmlObject): void {
    const expected = this.credentials;
    if (!expected) return;
    const header = envelope['Header'];
    const security = isXmlObject(header) ? header['Security'] : undefined;
    const token = isXmlObject(security) ? security['UsernameToken'] : undefined;
    const username = isXmlObject(token) ? token['Username'] : undefined;
    const password = isXmlObject(token) ? token['Password'] : undefined;
    if (username !== expected.username || password !== expected.password) throw new SoapFault(401, 'soap:Client', 'AUTH_FAILED');
  }

  private operationOf(envelope: XmlObject): { operation: string; element: XmlObject } {
    const body = envelope['Body'];
    if (!isXmlObject(body)) throw new SoapFault(500, 'soap:Client', 'NO_BODY');
    const names = Object.keys(body);
    if (names.length !== 1) throw new SoapFault(500, 'soap:Client', 'ONE_OPERATION_EXPECTED');
    const node = body[names[0]];
    return { operation: names[0], element: isXmlObject(node) ? node : {} };
  }

  // ------------------------------------------------------------------ operations

  private dispatch(operation: string, element: XmlObject): string {
    switch (operation) {
      case 'uploadLdrk':
        return this.upload(element);
      case 'queryByGmsfhm':
        return this.query(element);
      case 'logout':
        return this.logout(element);
      default:
        throw new SoapFault(500, 'soap:Client', 'UNKNOWN_OPERATION');
    }
  }

  private upload(element: XmlObject): string {
    const source = isXmlObject(element['record']) ? element['record'] : element;
    const fields: Partial<Record<LdrkField, string>> = {};
    for (const name of LDRK_FIELDS) {
      const value = source[name];
      if (value === undefined || value === '') continue;
      if (typeof value !== 'string') throw new SoapFault(500, 'soap:Client', 'FIELD_NOT_TEXT');
      fields[name] = value;
    }
    const invalid = this.validate(fields);
    if (invalid) return this.answer('uploadLdrk', invalid);
    const key = fields.GMSFHM as string;
    const held = this.store.get(key);
    if (held && held.ZXBZ === '0' && this.sameFields(held, fields)) {
      held.ackCount += 1;
      return this.answer('uploadLdrk', ANSWER.DUPLICATE, { DJBH: held.DJBH });
    }
    const twice = this.chaos.acknowledgeTwice();
    const djbh = held?.DJBH ?? `LD${String(this.nextRegistration++).padStart(10, '0')}`;
    this.store.set(key, {
      ...fields,
      GMSFHM: key,
      DJBH: djbh,
      ZXBZ: '0',
      ackCount: (held?.ackCount ?? 0) + (twice ? 2 : 1),
      writeCount: (held?.writeCount ?? 0) + 1,
    });
    return this.answer('uploadLdrk', ANSWER.OK, { DJBH: djbh }, twice);
  }

  private validate(fields: Partial<Record<LdrkField, string>>): Answer | null {
    if (!fields.GMSFHM || !ID_NUMBER.test(fields.GMSFHM)) return ANSWER.BAD_ID;
    if (fields.FZGMSFHM !== undefined && !ID_NUMBER.test(fields.FZGMSFHM)) return ANSWER.BAD_ID;
    if (!fields.XM || !fields.XB || !fields.CSRQ) return ANSWER.MISSING;
    if (!isCalendarDate(fields.CSRQ)) return ANSWER.BAD_DATE;
    if (fields.DJRQ !== undefined && !isCalendarDate(fields.DJRQ)) return ANSWER.BAD_DATE;
    if (fields.PCS !== undefined && !fields.PCS.startsWith(JURISDICTION_PREFIX)) return ANSWER.NOT_HERE;
    return null;
  }

  private sameFields(held: LdrkStoredRecord, fields: Partial<Record<LdrkField, string>>): boolean {
    return LDRK_FIELDS.every((name) => held[name] === fields[name]);
  }

  private query(element: XmlObject): string {
    const key = element['gmsfhm'];
    if (typeof key !== 'string' || key === '') return this.answer('queryByGmsfhm', ANSWER.MISSING);
    const held = this.store.get(key);
    if (!held) return this.answer('queryByGmsfhm', ANSWER.NOT_FOUND);
    const record: Record<string, string> = { DJBH: held.DJBH, ZXBZ: held.ZXBZ };
    for (const name of LDRK_FIELDS) {
      const value = held[name];
      if (value !== undefined) record[name] = value;
    }
    if (held.ZXRQ) record['ZXRQ'] = held.ZXRQ;
    if (held.ZXYY) record['ZXYY'] = held.ZXYY;
    return this.answer('queryByGmsfhm', ANSWER.OK, { DJBH: held.DJBH }, false, record);
  }

  private logout(element: XmlObject): string {
    const key = element['gmsfhm'];
    const date = element['zxrq'];
    const reason = element['zxyy'];
    if (typeof key !== 'string' || key === '' || typeof date !== 'string' || date === '') return this.answer('logout', ANSWER.MISSING);
    if (!isCalendarDate(date)) return this.answer('logout', ANSWER.BAD_DATE);
    const held = this.store.get(key);
    if (!held) return this.answer('logout', ANSWER.NOT_FOUND);
    if (held.ZXBZ === '1') {
      held.ackCount += 1;
      return this.answer('logout', ANSWER.DUPLICATE, { DJBH: held.DJBH });
    }
    const twice = this.chaos.acknowledgeTwice();
    held.ZXBZ = '1';
    held.ZXRQ = date;
    held.ZXYY = typeof reason === 'string' && reason !== '' ? reason : '迁出';
    held.writeCount += 1;
    held.ackCount += twice ? 2 : 1;
    return this.answer('logout', ANSWER.OK, { DJBH: held.DJBH }, twice);
  }

  // ------------------------------------------------------------------ answers

  private answer(
    operation: string,
    [code, message]: Answer,
    extra: Record<string, string> = {},
    twice = false,
    record?: Record<string, string>,
  ): string {
    const parts = [`<FHDM>${code}</FHDM>`, `<FHXX>${xmlEscape(message)}</FHXX>`];
    for (const [name, value] of Object.entries(extra)) parts.push(`<${name}>${xmlEscape(value)}</${name}>`);
    if (record) {
      const inner = Object.entries(record).map(([name, value]) => `<${name}>${xmlEscape(value)}</${name}>`);
      parts.push(`<record>${inner.join('')}</record>`);
    }
    const element = `<ns:${operation}Response>${parts.join('')}</ns:${operation}Response>`;
    return this.envelope(twice ? element + element : element);
  }

  private envelope(body: string): string {
    return (
      `<?xml version="1.0" encoding="GBK"?>` +
      `<soap:Envelope xmlns:soap="${SOAP_ENV}" xmlns:ns="${SIM_NS}"><soap:Body>${body}</soap:Body></soap:Envelope>`
    );
  }

  private sendFault(res: ServerResponse, fault: SoapFault): void {
    const headers: Record<string, string> = {};
    if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
    const body = this.envelope(
      `<soap:Fault><faultcode>${fault.faultCode}</faultcode><faultstring>${xmlEscape(fault.faultString)}</faultstring></soap:Fault>`,
    );
    this.send(res, fault.status, body, headers);
  }

  private send(res: ServerResponse, status: number, xml: string, headers: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return;
    const bytes = iconv.encode(xml, 'gbk');
    res.writeHead(status, { 'content-type': 'text/xml; charset=GBK', 'content-length': String(bytes.length), ...headers });
    res.end(bytes);
  }
}
