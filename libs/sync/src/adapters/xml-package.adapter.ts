import { XMLParser, XMLValidator } from 'fast-xml-parser';
import * as iconv from 'iconv-lite';
import JSZip from 'jszip';
import { z } from 'zod';
import { AdapterFactory, BatchAdapter, BatchRowResult, DeliveryResult, OutboundRecord } from './adapter';
import { backPressure, describeEndpointProblem, maskPersonalData, transportFailure } from './adapter-helpers';
import { HttpAnswer, HttpClient } from './http-client';

/**
 * Zipped XML data package connector (数据包), for P4 health / family planning (`js-wis`) and systems like it.
 *
 * Target file:
 *   protocol: xml-package
 *   endpoint: { url: http://host:port, messageType: 通报 | 协查, recordElement: record, packageIdPrefix: LINLI-JSWIS- }
 *   credentials: {} or { username: ENV_NAME, password: ENV_NAME } for HTTP basic authentication
 *
 * A run's package (render): one zip holding `<packageId>.xml`, package id = packageIdPrefix + runId, UTF-8:
 *   <?xml version="1.0" encoding="UTF-8"?>
 *   <message>
 *     <head><packageId>…</packageId><messageType>通报</messageType><sendTime>YYYY-MM-DD HH:mm:ss</sendTime>
 *           <recordCount>n</recordCount></head>
 *     <body><record seq="1" op="A"><womanIdcardNo>…</womanIdcardNo>…</record>…</body>
 *   </message>
 * Elements carry the target field names in the order the record lists them; null → empty element; booleans 1 / 0;
 * `op` A = add or update, D = delete (a DELETE record carries only its key). Records are sorted by key, the zip
 * entry has a fixed date and sendTime is `now` in China time, so the same records, run and time give the same bytes.
 *
 * upload → `POST {url}/packages` (application/zip). The target answers synchronously with the feedback package
 * (协查反馈, a zip of `<result seq key code msg/>` elements, code 0 = accepted), also kept at
 * `GET {url}/feedback/{packageId}`. 200 / 201 → DELIVERED (targetRef = package id; `x-duplicate-package` → duplicate:
 * the target had the package already and answers with its first feedback); 202 → DELIVERED, feedback later;
 * 400 / 413 / 415 / 422 → REJECTED (the whole package is unreadable); 429 / 503 → RETRY without using an attempt
 * (delay from Retry-After); timeouts, refused connections, other 5xx and other answers → RETRY using an attempt.
 *
 * fetchResult → the feedback kept from the upload answer, else `GET {url}/feedback/{packageId}`; 404 / 429 / 503 →
 * null (no answer yet). One row per record key; a result without a key (the record had none) is matched back by
 * its seq when this adapter rendered the package, else reported under `seq:<n>`. Answer texts are masked.
 */

const XML_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const PACKAGE_ID = /^[A-Za-z0-9_.-]{1,64}$/;
/** Zip entries carry this date so that a package's bytes depend on its content only. */
const ZIP_ENTRY_DATE = new Date(Date.UTC(2000, 0, 1, 0, 0, 0));
/** Rendered packages and feedback kept in memory, newest last. */
const MEMORY_LIMIT = 64;

const xmlPackageEndpointSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  messageType: z.enum(['通报', '协查']),
  recordElement: z.string().regex(XML_NAME, 'an XML element name').default('record'),
  packageIdPrefix: z.string().regex(/^[A-Za-z0-9_.-]{0,40}$/, 'letters, digits, _ . - (at most 40)'),
  /** Added by the hub's target registry (the target's key field); not used here. */
  keyField: z.string().optional(),
});

export type XmlPackageEndpoint = z.infer<typeof xmlPackageEndpointSchema>;

function escapeXml(text: string): string {
  return (
    text
      // Characters XML 1.0 cannot carry at all.
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

function xmlValue(value: string | number | boolean | null): string {
  if (value === null) return '';
  if (typeof value === 'boolean') return value ? '1' : '0';
  return escapeXml(String(value));
}

/** `now` as China Standard Time (UTC+8), YYYY-MM-DD HH:mm:ss. */
function chinaTime(now: Date): string {
  const t = new Date(now.getTime() + 8 * 3600_000).toISOString();
  return `${t.slice(0, 10)} ${t.slice(11, 19)}`;
}

/** Decodes an XML entry: the declared encoding (UTF-8, GBK, GB18030 …), UTF-8 when none is declared. */
export function decodeXml(bytes: Buffer): string {
  const head = bytes.subarray(0, 200).toString('latin1');
  const declared = /<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_-]+)["']/.exec(head)?.[1];
  const encoding = declared && iconv.encodingExists(declared) ? declared : 'utf8';
  return iconv.decode(bytes, encoding).replace(/^\uFEFF/, '');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const feedbackParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  removeNSPrefix: true,
  isArray: (name) => name === 'result',
});

interface FeedbackResult {
  seq: number | null;
  key: string;
  code: string;
  msg: string;
}

/** Reads a feedback zip (协查反馈): every `<result>` of every XML entry. Throws when it is not one. */
export async function readFeedbackPackage(content: Buffer): Promise<FeedbackResult[]> {
  const zip = await JSZip.loadAsync(content);
  const entries = Object.values(zip.files)
    .filter((f) => !f.dir && /\.xml$/i.test(f.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (entries.length === 0) throw new Error('feedback package holds no XML');
  const results: FeedbackResult[] = [];
  for (const entry of entries) {
    const xml = decodeXml(await entry.async('nodebuffer'));
    if (XMLValidator.validate(xml) !== true) throw new Error(`feedback ${entry.name} is not well-formed XML`);
    const doc: unknown = feedbackParser.parse(xml);
    const message = isObject(doc) ? doc['message'] : undefined;
    const body = isObject(message) ? message['body'] : undefined;
    const items = isObject(body) && Array.isArray(body['result']) ? (body['result'] as unknown[]) : [];
    for (const item of items) {
      if (!isObject(item)) continue;
      const seq = Number(item['@_seq']);
      results.push({
        seq: Number.isInteger(seq) && seq > 0 ? seq : null,
        key: typeof item['@_key'] === 'string' ? item['@_key'] : '',
        code: typeof item['@_code'] === 'string' ? item['@_code'] : '',
        msg: typeof item['@_msg'] === 'string' ? item['@_msg'] : '',
      });
    }
  }
  return results;
}

/** Keeps at most MEMORY_LIMIT entries, dropping the oldest. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > MEMORY_LIMIT) {
    const oldest = map.keys().next().value;
    if (oldest === undefined) break;
    map.delete(oldest);
  }
}

class XmlPackageAdapter implements BatchAdapter {
  readonly kind = 'batch' as const;
  private readonly base: string;
  /** Record keys of the packages this adapter rendered, by seq (index = seq - 1). */
  private readonly renderedKeys = new Map<string, string[]>();
  /** Feedback received with the upload answers, by package id. */
  private readonly feedback = new Map<string, BatchRowResult[]>();

  private readonly http = new HttpClient();

  constructor(
    private readonly targetName: string,
    private readonly endpoint: XmlPackageEndpoint,
    private readonly authorization: string | null,
  ) {
    this.base = endpoint.url.replace(/\/+$/, '');
  }

  async render(records: OutboundRecord[], runId: string, now: Date): Promise<{ fileName: string; content: Buffer }> {
    const packageId = `${this.endpoint.packageIdPrefix}${runId}`;
    if (!PACKAGE_ID.test(packageId)) throw new Error(`${this.targetName}: package id must be 1–64 letters, digits, _ . - (check packageIdPrefix and the run id)`);
    const sorted = [...records].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.aggregateId < b.aggregateId ? -1 : a.aggregateId > b.aggregateId ? 1 : 0));
    const element = this.endpoint.recordElement;
    const lines: string[] = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<message>',
      '  <head>',
      `    <packageId>${escapeXml(packageId)}</packageId>`,
      `    <messageType>${this.endpoint.messageType}</messageType>`,
      `    <sendTime>${chinaTime(now)}</sendTime>`,
      `    <recordCount>${sorted.length}</recordCount>`,
      '  </head>',
      '  <body>',
    ];
    sorted.forEach((record, index) => {
      lines.push(`    <${element} seq="${index + 1}" op="${record.operation === 'DELETE' ? 'D' : 'A'}">`);
      for (const [name, value] of Object.entries(record.fields)) {
        if (!XML_NAME.test(name)) throw new Error(`${this.targetName}: field name "${name}" cannot be an XML element name`);
        lines.push(`      <${name}>${xmlValue(value)}</${name}>`);
      }
      lines.push(`    </${element}>`);
    });
    lines.push('  </body>', '</message>', '');
    const zip = new JSZip();
    zip.file(`${packageId}.xml`, Buffer.from(lines.join('\n'), 'utf8'), { date: ZIP_ENTRY_DATE, createFolders: false });
    const content = await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE', compressionOptions: { level: 6 }, platform: 'DOS' });
    const fileName = `${packageId}.zip`;
    remember(this.renderedKeys, packageId, sorted.map((r) => r.key));
    return { fileName, content };
  }

  async upload(file: { fileName: string; content: Buffer }, signal: AbortSignal): Promise<DeliveryResult> {
    const packageId = this.packageIdOf(file.fileName);
    let answer: HttpAnswer;
    try {
      answer = await this.http.request(`${this.base}/packages`, {
        method: 'POST',
        headers: this.headers({ 'content-type': 'application/zip', accept: 'application/zip' }),
        body: file.content,
        signal,
      });
    } catch (err) {
      return transportFailure(err, signal);
    }
    const { status, headers, body } = answer;
    if (status === 200 || status === 201 || status === 202) {
      if (status !== 202 && body.length > 0) {
        try {
          remember(this.feedback, packageId, this.toRows(packageId, await readFeedbackPackage(body)));
        } catch {
          // An unreadable synchronous answer: fetchResult asks for the feedback again.
        }
      }
      const duplicate = /^(1|true|yes)$/i.test(headers.get('x-duplicate-package') ?? '');
      return duplicate ? { kind: 'DELIVERED', targetRef: packageId, duplicate: true } : { kind: 'DELIVERED', targetRef: packageId };
    }
    if (status === 400 || status === 413 || status === 415 || status === 422) {
      return { kind: 'REJECTED', answer: maskPersonalData(`HTTP ${status} ${body.toString('utf8').trim()}`) };
    }
    if (status === 429 || status === 503) return backPressure(status, headers);
    if (status === 401 || status === 403) return { kind: 'RETRY', reason: `HTTP ${status} authentication refused`, countsAsAttempt: true };
    return { kind: 'RETRY', reason: `HTTP ${status}`, countsAsAttempt: true };
  }

  async fetchResult(fileName: string, signal: AbortSignal): Promise<BatchRowResult[] | null> {
    const packageId = this.packageIdOf(fileName);
    const known = this.feedback.get(packageId);
    if (known) return known;
    const answer = await this.http.request(`${this.base}/feedback/${encodeURIComponent(packageId)}`, {
      method: 'GET',
      headers: this.headers({ accept: 'application/zip' }),
      signal,
    });
    if (answer.status === 404 || answer.status === 429 || answer.status === 503) return null;
    if (answer.status !== 200) throw new Error(`${this.targetName}: feedback for ${packageId} answered HTTP ${answer.status}`);
    const rows = this.toRows(packageId, await readFeedbackPackage(answer.body));
    remember(this.feedback, packageId, rows);
    return rows;
  }

  async close(): Promise<void> {
    this.http.close();
    this.renderedKeys.clear();
    this.feedback.clear();
  }

  private packageIdOf(fileName: string): string {
    return fileName.replace(/\.zip$/i, '');
  }

  /** One row per key; a key answered twice (a repeated acknowledgement) counts once, a refusal winning. */
  private toRows(packageId: string, results: FeedbackResult[]): BatchRowResult[] {
    const keys = this.renderedKeys.get(packageId);
    const rows = new Map<string, BatchRowResult>();
    for (const r of results) {
      const key = r.key !== '' ? r.key : r.seq !== null && keys?.[r.seq - 1] !== undefined ? keys[r.seq - 1] : `seq:${r.seq ?? '?'}`;
      const row: BatchRowResult = { key, ok: r.code === '0', answer: maskPersonalData(r.msg !== '' ? `${r.code} ${r.msg}` : r.code) };
      const seen = rows.get(key);
      if (!seen || (seen.ok && !row.ok)) rows.set(key, row);
    }
    return [...rows.values()];
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    return this.authorization ? { ...extra, authorization: this.authorization } : extra;
  }
}

function parseEndpoint(endpoint: unknown): XmlPackageEndpoint {
  const parsed = xmlPackageEndpointSchema.safeParse(endpoint);
  if (!parsed.success) throw new Error(describeEndpointProblem('xml-package', parsed.error));
  return parsed.data;
}

function authorizationFor(targetName: string, credentials: Record<string, string>): string | null {
  const { username, password } = credentials;
  if (username === undefined && password === undefined) return null;
  if (!username || password === undefined) throw new Error(`${targetName}: give both credentials.username and credentials.password, or neither`);
  if (username.includes(':')) throw new Error(`${targetName}: credentials.username must not contain ':'`);
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

export const xmlPackageAdapterFactory: AdapterFactory = {
  protocol: 'xml-package',
  validateEndpoint(endpoint: unknown): void {
    parseEndpoint(endpoint);
  },
  create(target) {
    return new XmlPackageAdapter(target.name, parseEndpoint(target.endpoint), authorizationFor(target.name, target.credentials));
  },
};
