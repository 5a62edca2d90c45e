import { XMLParser, XMLValidator } from 'fast-xml-parser';
import * as iconv from 'iconv-lite';
import { z } from 'zod';
import { AdapterFactory, DeliveryResult, OutboundRecord, RealtimeAdapter } from './adapter';
import { backPressure, describeEndpointProblem, maskPersonalData, transportFailure } from './adapter-helpers';
import { HttpAnswer, HttpClient } from './http-client';

/**
 * SOAP 1.1 connector (document/literal over HTTP POST) for departmental web services such as P1, the police floating
 * population registration (公安流动人口登记, `ga-ldrk`).
 *
 * Target file:
 *   protocol: soap
 *   endpoint:
 *     url: http://host:port/ldrk
 *     operation: uploadLdrk            # takes one record
 *     namespace: http://…              # optional; the operation elements are qualified with it
 *     encoding: GBK | UTF-8            # request body encoding (answers are decoded by their own charset)
 *     soapAction: '…'                  # optional SOAPAction of `operation` (other operations send "")
 *     deleteOperation: logout          # optional; OutboundRecord DELETE calls it (without it, DELETE is refused)
 *     queryOperation: queryByGmsfhm    # optional; enables readBack
 *     recordElement: record            # optional, default `record`; null puts the fields directly in the operation
 *     keyParameter: gmsfhm             # optional, default `gmsfhm`: the key element of delete and query
 *   credentials: { username: ENV_NAME, password: ENV_NAME }   # optional
 *
 * Credentials (already read from the environment variables) go in a WS-Security UsernameToken with a PasswordText
 * password in the SOAP Header; like HTTP basic it is clear text, so such a target belongs on the government
 * intranet or behind https.
 *
 * The delete operation follows P1's `logout(gmsfhm, zxrq, zxyy)`: 注销日期 zxrq is today's date in China (YYYYMMDD)
 * and 注销原因 zxyy is `fields.ZXYY` when the hub sends one, else 迁出 (moved away).
 *
 * Answer codes follow P1 (返回代码 FHDM, 返回信息 FHXX; no other target needs different ones yet, so they are not
 * configurable): 0000 → DELIVERED (targetRef from DJBH 登记编号 or YWLSH 业务流水号 when given); 0001 (重复提交,
 * already held) → DELIVERED duplicate; 1xxx (invalid record) and 2xxx (e.g. 2001 不在本辖区) → REJECTED with
 * "FHDM FHXX"; 3001 (无此记录) on delete → DELIVERED (nothing left to log out), on query → null; 9xxx and
 * unknown codes → RETRY using an attempt. HTTP 429 / 503 (rate limit, outside service hours, maintenance) → RETRY
 * without using an attempt, delay from Retry-After; SOAP faults, other HTTP errors, timeouts and refused connections
 * → RETRY using an attempt. Characters the encoding cannot carry (rare characters 生僻字 outside GBK) are sent as
 * XML character references rather than being replaced by '?'.
 */

const XML_NAME = /^[A-Za-z_][\w.-]*$/;

const soapEndpointSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  operation: z.string().regex(XML_NAME, 'must be an XML element name'),
  namespace: z.string().min(1).optional(),
  encoding: z.enum(['GBK', 'UTF-8']),
  soapAction: z.string().optional(),
  deleteOperation: z.string().regex(XML_NAME, 'must be an XML element name').optional(),
  queryOperation: z.string().regex(XML_NAME, 'must be an XML element name').optional(),
  recordElement: z.string().regex(XML_NAME, 'must be an XML element name').nullable().optional(),
  keyParameter: z.string().regex(XML_NAME, 'must be an XML element name').optional(),
});

export type SoapEndpoint = z.infer<typeof soapEndpointSchema>;

const SOAP_ENV = 'http://schemas.xmlsoap.org/soap/envelope/';
const WSSE_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const PASSWORD_TEXT = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText';
const CHINA_OFFSET_MS = 8 * 3600 * 1000;
/** P1 answer codes (see above). */
const FHDM_OK = '0000';
const FHDM_DUPLICATE = '0001';
const FHDM_NOT_FOUND = '3001';
/** Elements of a P1 answer that carry the target's own reference, in order of preference. */
const REFERENCE_ELEMENTS = ['DJBH', 'YWLSH'];
const DEFAULT_LOGOUT_REASON = '迁出';

type XmlNode = string | XmlObject | XmlNode[];
interface XmlObject {
  [name: string]: XmlNode;
}

function isXmlObject(node: XmlNode | undefined): node is XmlObject {
  return typeof node === 'object' && node !== null && !Array.isArray(node);
}

function textOf(node: XmlNode | undefined): string | undefined {
  return typeof node === 'string' ? node : undefined;
}

/** Today in China (UTC+8) as YYYYMMDD. */
export function chinaDate(now = Date.now()): string {
  return new Date(now + CHINA_OFFSET_MS).toISOString().slice(0, 10).replace(/-/g, '');
}

/** What one SOAP call came to: the answer element, or a retry decided at the HTTP / SOAP level. */
type Exchange = { kind: 'ANSWER'; element: XmlObject } | { kind: 'RETRY'; result: DeliveryResult };

class SoapAdapter implements RealtimeAdapter {
  readonly kind = 'realtime' as const;
  readonly readBack?: (key: string, signal: AbortSignal) => Promise<Record<string, unknown> | null>;

  private readonly encoding: 'gbk' | 'utf8';
  private readonly prefix: string;
  private readonly recordElement: string | null;
  private readonly keyParameter: string;
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

  private readonly http = new HttpClient();

  constructor(
    private readonly targetName: string,
    private readonly endpoint: SoapEndpoint,
    private readonly credentials: { username: string; password: string } | null,
  ) {
    this.encoding = endpoint.encoding === 'GBK' ? 'gbk' : 'utf8';
    this.prefix = endpoint.namespace ? 'tns:' : '';
    this.recordElement = endpoint.recordElement === undefined ? 'record' : endpoint.recordElement;
    this.keyParameter = endpoint.keyParameter ?? 'gmsfhm';
    const query = endpoint.queryOperation;
    if (query) this.readBack = (key, signal) => this.query(query, key, signal);
  }

  async deliver(record: OutboundRecord, signal: AbortSignal): Promise<DeliveryResult> {
    if (record.operation === 'DELETE') return this.remove(record, signal);
    const parts: string[] = [];
    for (const [name, value] of Object.entries(record.fields)) {
      if (!XML_NAME.test(name)) return { kind: 'REJECTED', answer: `field name "${name}" is not an XML element name` };
      if (value === null) continue;
      parts.push(this.element(name, String(value)));
    }
    const inner = this.recordElement ? `<${this.recordElement}>${parts.join('')}</${this.recordElement}>` : parts.join('');
    const exchange = await this.call(this.endpoint.operation, inner, signal, this.endpoint.soapAction ?? '');
    return exchange.kind === 'RETRY' ? exchange.result : this.outcome(exchange.element, false);
  }

  async close(): Promise<void> {
    this.http.close();
  }

  private async remove(record: OutboundRecord, signal: AbortSignal): Promise<DeliveryResult> {
    const operation = this.endpoint.deleteOperation;
    if (!operation) return { kind: 'REJECTED', answer: `${this.targetName} has no delete operation configured (endpoint.deleteOperation)` };
    const given = record.fields['ZXYY'];
    const reason = typeof given === 'string' && given.trim() !== '' ? given : DEFAULT_LOGOUT_REASON;
    const inner = this.element(this.keyParameter, record.key) + this.element('zxrq', chinaDate()) + this.element('zxyy', reason);
    const exchange = await this.call(operation, inner, signal, '');
    return exchange.kind === 'RETRY' ? exchange.result : this.outcome(exchange.element, true);
  }

  private async query(operation: string, key: string, signal: AbortSignal): Promise<Record<string, unknown> | null> {
    const exchange = await this.call(operation, this.element(this.keyParameter, key), signal, '');
    if (exchange.kind === 'RETRY') {
      const reason = exchange.result.kind === 'RETRY' ? exchange.result.reason : exchange.result.kind;
      throw new Error(`${this.targetName}: read-back failed: ${reason}`);
    }
    const code = textOf(exchange.element['FHDM']);
    if (code === FHDM_NOT_FOUND) return null;
    if (code !== FHDM_OK) throw new Error(`${this.targetName}: read-back answered ${maskPersonalData(this.answerText(exchange.element))}`);
    const record = exchange.element['record'];
    if (!isXmlObject(record)) return null;
    const fields: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(record)) fields[name] = value;
    return fields;
  }

  /** Maps a P1 answer element to a result. */
  private outcome(element: XmlObject, deleting: boolean): DeliveryResult {
    const code = textOf(element['FHDM']);
    const targetRef = REFERENCE_ELEMENTS.map((name) => textOf(element[name])).find((v) => v !== undefined && v !== '') ?? null;
    if (code === FHDM_OK) return { kind: 'DELIVERED', targetRef };
    if (code === FHDM_DUPLICATE) return { kind: 'DELIVERED', targetRef, duplicate: true };
    if (code === FHDM_NOT_FOUND && deleting) return { kind: 'DELIVERED', targetRef: null };
    const answer = maskPersonalData(this.answerText(element));
    if (code !== undefined && /^[12]\d{3}$/.test(code)) return { kind: 'REJECTED', answer };
    return { kind: 'RETRY', reason: code === undefined ? 'answer without FHDM' : `answer ${answer}`, countsAsAttempt: true };
  }

  private answerText(element: XmlObject): string {
    return [textOf(element['FHDM']), textOf(element['FHXX'])].filter((v) => v !== undefined && v !== '').join(' ');
  }

  /** Posts one operation and reads its answer element (the first copy when the target acknowledged twice). */
  private async call(operation: string, inner: string, signal: AbortSignal, soapAction: string): Promise<Exchange> {
    const body = iconv.encode(this.envelope(operation, inner), this.encoding);
    let answer: HttpAnswer;
    try {
      answer = await this.http.request(this.endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': `text/xml; charset=${this.endpoint.encoding}`,
          accept: 'text/xml',
          soapaction: `"${soapAction.replace(/"/g, '')}"`,
        },
        body,
        signal,
      });
    } catch (err) {
      return { kind: 'RETRY', result: transportFailure(err, signal) };
    }
    const { status, headers, body: raw } = answer;
    const document = this.parse(raw, headers.get('content-type'));
    const fault = document ? this.faultOf(document) : undefined;
    if (status === 429 || status === 503) return { kind: 'RETRY', result: backPressure(status, headers, fault) };
    if (status !== 200 || fault !== undefined || !document) {
      const detail = [`HTTP ${status}`, fault ? `fault ${fault}` : document ? '' : 'unreadable answer'].filter(Boolean).join(' ');
      return { kind: 'RETRY', result: { kind: 'RETRY', reason: detail, countsAsAttempt: true } };
    }
    const element = this.answerElement(document, operation);
    if (!element) return { kind: 'RETRY', result: { kind: 'RETRY', reason: 'answer without a response element', countsAsAttempt: true } };
    return { kind: 'ANSWER', element };
  }

  private envelope(operation: string, inner: string): string {
    const declaration = `<?xml version="1.0" encoding="${this.endpoint.encoding}"?>`;
    const namespaces = `xmlns:soapenv="${SOAP_ENV}"${this.endpoint.namespace ? ` xmlns:tns="${this.escape(this.endpoint.namespace)}"` : ''}`;
    const header = this.credentials
      ? `<soapenv:Header><wsse:Security xmlns:wsse="${WSSE_NS}" soapenv:mustUnderstand="1"><wsse:UsernameToken>` +
        `<wsse:Username>${this.escape(this.credentials.username)}</wsse:Username>` +
        `<wsse:Password Type="${PASSWORD_TEXT}">${this.escape(this.credentials.password)}</wsse:Password>` +
        `</wsse:UsernameToken></wsse:Security></soapenv:Header>`
      : '';
    const op = `${this.prefix}${operation}`;
    return `${declaration}<soapenv:Envelope ${namespaces}>${header}<soapenv:Body><${op}>${inner}</${op}></soapenv:Body></soapenv:Envelope>`;
  }

  private element(name: string, value: string): string {
    return `<${name}>${this.escape(value)}</${name}>`;
  }

  /**
   * Escapes markup, drops characters XML 1.0 cannot hold, and writes characters the body encoding cannot carry as
   * character references.
   */
  private escape(text: string): string {
    let out = '';
    for (const ch of text) {
      const cp = ch.codePointAt(0) as number;
      if (ch === '&') out += '&amp;';
      else if (ch === '<') out += '&lt;';
      else if (ch === '>') out += '&gt;';
      else if (ch === '"') out += '&quot;';
      else if (ch === "'") out += '&apos;';
      else if ((cp < 0x20 && cp !== 0x9 && cp !== 0xa && cp !== 0xd) || cp === 0xfffe || cp === 0xffff || (cp >= 0xd800 && cp <= 0xdfff)) continue;
      else if (cp > 0x7f && this.encoding === 'gbk' && iconv.decode(iconv.encode(ch, 'gbk'), 'gbk') !== ch) out += `&#x${cp.toString(16).toUpperCase()};`;
      else out += ch;
    }
    return out;
  }

  /** Decodes an answer by its declared charset (header, then XML declaration, then the endpoint's encoding). */
  private parse(raw: Buffer, contentType: string | null): XmlObject | undefined {
    if (raw.length === 0) return undefined;
    const fromHeader = /charset\s*=\s*"?([\w-]+)"?/i.exec(contentType ?? '')?.[1];
    const fromDeclaration = /^<\?xml[^>]*encoding\s*=\s*["']([\w-]+)["']/i.exec(raw.subarray(0, 200).toString('latin1'))?.[1];
    const charset = [fromHeader, fromDeclaration, this.encoding].find((c): c is string => c !== undefined && iconv.encodingExists(c)) ?? 'utf8';
    const xml = iconv.decode(raw, charset);
    if (/<!DOCTYPE/i.test(xml) || XMLValidator.validate(xml) !== true) return undefined;
    const envelope = (this.parser.parse(xml) as XmlObject)['Envelope'];
    return isXmlObject(envelope) ? envelope : undefined;
  }

  private faultOf(envelope: XmlObject): string | undefined {
    const body = envelope['Body'];
    const fault = isXmlObject(body) ? body['Fault'] : undefined;
    if (fault === undefined) return undefined;
    const text = isXmlObject(fault) ? textOf(fault['faultstring']) : undefined;
    return maskPersonalData(text || 'SOAP fault');
  }

  private answerElement(envelope: XmlObject, operation: string): XmlObject | undefined {
    const body = envelope['Body'];
    if (!isXmlObject(body)) return undefined;
    const node = body[`${operation}Response`] ?? Object.values(body)[0];
    const first = Array.isArray(node) ? node[0] : node;
    return isXmlObject(first) ? first : undefined;
  }
}

function parseEndpoint(endpoint: unknown): SoapEndpoint {
  const parsed = soapEndpointSchema.safeParse(endpoint);
  if (!parsed.success) throw new Error(describeEndpointProblem('soap', parsed.error));
  return parsed.data;
}

export const soapAdapterFactory: AdapterFactory = {
  protocol: 'soap',
  validateEndpoint(endpoint: unknown): void {
    parseEndpoint(endpoint);
  },
  create(target) {
    const endpoint = parseEndpoint(target.endpoint);
    const { username, password } = target.credentials;
    if ((username === undefined) !== (password === undefined)) {
      throw new Error(`${target.name}: credentials need both username and password, or neither`);
    }
    const credentials = username !== undefined && password !== undefined ? { username, password } : null;
    return new SoapAdapter(target.name, endpoint, credentials);
  },
};
