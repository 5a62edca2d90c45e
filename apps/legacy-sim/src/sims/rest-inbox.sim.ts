import { createHash, timingSafeEqual } from 'crypto';
import { IncomingMessage, ServerResponse } from 'http';
import { Chaos, Simulator } from '../chaos';
import { LoopbackHttpServer, readBody } from './http-scaffold';

/**
 * Simulator of a generic departmental REST/JSON system (an "inbox" of records by key), for targets with
 * `protocol: rest`.
 *
 *   PUT    /records/:key   body: a JSON object of fields. 201 `{ ref }` when new, 200 `{ ref }` when changed,
 *                          409 `{ error: 'duplicate', ref }` when it equals what is held (a resent record)
 *   DELETE /records/:key   200 `{ ref }`, 404 when not held
 *   GET    /records/:key   200 `{ key, ref, hash, fields }`, 404 when not held
 *   GET    /records        200 `[{ key, ref, hash }]`
 *
 * `hash` is the SHA-256 (hex) of the fields as JSON with keys sorted. Authentication: a bearer token and / or basic
 * credentials given to the constructor (either is accepted when both are set); without either, everyone is let in;
 * 401 otherwise. 422 `{ error }` for a body that is not a JSON object, or whose field `invalid` is true (so tests can
 * force a rejection).
 *
 * Chaos: FAIL → 500; TOO_MANY → 429 with Retry-After: 1; UNAVAILABLE → 503; TIMEOUT → no answer, the socket is
 * destroyed after 30 s; DOWN → **503** with Retry-After until the end of the downtime (the listening socket stays
 * open). A duplicate acknowledgement (acknowledgeTwice) stores the record once (`writeCount`), counts two
 * acknowledgements (`ackCount`) and adds `duplicateAck: true` to the answer.
 */

export interface RestInboxRecord {
  key: string;
  ref: string;
  hash: string;
  fields: Record<string, unknown>;
  /** Acknowledgements sent for this key (2xx and 409 answers; two for a duplicated acknowledgement). */
  ackCount: number;
  /** How often the record was actually written. */
  writeCount: number;
}

export interface RestInboxSimulatorOptions {
  /** 0 for a free port (read it back from `port` after start). Listens on 127.0.0.1 only. */
  port: number;
  /** Simulator name (for the control API); default `rest-inbox`. */
  name?: string;
  token?: string;
  basic?: { user: string; password: string };
}

const HUNG_REQUEST_MS = 30_000;
const MAX_BODY_BYTES = 1024 * 1024;

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly problem: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(problem);
  }
}

function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${sortedJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function contentHash(fields: Record<string, unknown>): string {
  return createHash('sha256').update(sortedJson(fields)).digest('hex');
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class RestInboxSimulator implements Simulator {
  readonly name: string;
  readonly chaos = new Chaos();

  private readonly store = new Map<string, RestInboxRecord>();
  private readonly http = new LoopbackHttpServer((req, res) => this.handle(req, res), HUNG_REQUEST_MS);
  private nextRef = 1;

  constructor(private readonly options: RestInboxSimulatorOptions) {
    this.name = options.name ?? 'rest-inbox';
  }

  get port(): number {
    return this.http.port;
  }

  /** The collection URL (after start), i.e. the `endpoint.url` of a rest target. */
  get url(): string {
    return `http://127.0.0.1:${this.http.port}/records`;
  }

  async start(): Promise<void> {
    await this.http.start(this.options.port);
  }

  async stop(): Promise<void> {
    await this.http.stop();
  }

  async records(): Promise<RestInboxRecord[]> {
    return [...this.store.values()].map((r) => ({ ...r, fields: { ...r.fields } }));
  }

  async reset(): Promise<void> {
    this.store.clear();
    this.nextRef = 1;
  }

  describe(): string {
    return `${this.url} (REST/JSON)`;
  }

  // ------------------------------------------------------------------ HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const outcome = await this.chaos.decide();
      if (outcome === 'TIMEOUT') return this.hang(req);
      if (outcome === 'DOWN') {
        const seconds = Math.max(1, Math.ceil((this.chaos.current().downUntil - Date.now()) / 1000));
        throw new HttpProblem(503, 'down for maintenance', seconds);
      }
      if (outcome === 'TOO_MANY') throw new HttpProblem(429, 'too many requests', 1);
      if (outcome === 'UNAVAILABLE') throw new HttpProblem(503, 'service unavailable');
      if (outcome === 'FAIL') throw new HttpProblem(500, 'internal error');
      this.authenticate(req.headers.authorization);

      const path = new URL(req.url ?? '/', 'http://inbox').pathname;
      const parts = path.split('/').filter(Boolean);
      if (parts[0] !== 'records' || parts.length > 2) throw new HttpProblem(404, 'not found');
      if (parts.length === 1) {
        if (req.method !== 'GET') throw new HttpProblem(405, 'method not allowed');
        return this.send(res, 200, [...this.store.values()].map(({ key, ref, hash }) => ({ key, ref, hash })));
      }
      let key: string;
      try {
        key = decodeURIComponent(parts[1]);
      } catch {
        throw new HttpProblem(400, 'key is not a valid URL component');
      }
      switch (req.method) {
        case 'PUT':
          return this.put(res, key, await readBody(req, MAX_BODY_BYTES, () => new HttpProblem(413, 'body too large')));
        case 'DELETE':
          return this.remove(res, key);
        case 'GET': {
          const held = this.store.get(key);
          if (!held) throw new HttpProblem(404, 'not found');
          return this.send(res, 200, { key: held.key, ref: held.ref, hash: held.hash, fields: held.fields });
        }
        default:
          throw new HttpProblem(405, 'method not allowed');
      }
    } catch (err) {
      const problem = err instanceof HttpProblem ? err : new HttpProblem(500, 'internal error');
      const headers: Record<string, string> = {};
      if (problem.retryAfterSeconds !== undefined) headers['retry-after'] = String(problem.retryAfterSeconds);
      if (problem.status === 401) headers['www-authenticate'] = 'Bearer, Basic realm="rest-inbox"';
      this.send(res, problem.status, { error: problem.problem }, headers);
    }
  }

  private authenticate(header: string | undefined): void {
    const { token, basic } = this.options;
    if (!token && !basic) return;
    const [scheme, value] = (header ?? '').split(/\s+/, 2);
    if (token && scheme?.toLowerCase() === 'bearer' && value && sameSecret(value, token)) return;
    if (basic && scheme?.toLowerCase() === 'basic' && value) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      if (sameSecret(decoded, `${basic.user}:${basic.password}`)) return;
    }
    throw new HttpProblem(401, 'unauthorized');
  }

  private put(res: ServerResponse, key: string, raw: Buffer): void {
    let fields: unknown;
    try {
      fields = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HttpProblem(422, 'body is not valid JSON');
    }
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw new HttpProblem(422, 'body must be a JSON object');
    const record = fields as Record<string, unknown>;
    if (record['invalid'] === true) throw new HttpProblem(422, 'record marked invalid');
    const hash = contentHash(record);
    const held = this.store.get(key);
    if (held && held.hash === hash) {
      held.ackCount += 1;
      return this.send(res, 409, { error: 'duplicate', ref: held.ref });
    }
    const twice = this.chaos.acknowledgeTwice();
    const ref = held?.ref ?? `RI-${String(this.nextRef++).padStart(8, '0')}`;
    this.store.set(key, {
      key,
      ref,
      hash,
      fields: record,
      ackCount: (held?.ackCount ?? 0) + (twice ? 2 : 1),
      writeCount: (held?.writeCount ?? 0) + 1,
    });
    this.send(res, held ? 200 : 201, twice ? { ref, duplicateAck: true } : { ref });
  }

  private remove(res: ServerResponse, key: string): void {
    const held = this.store.get(key);
    if (!held) throw new HttpProblem(404, 'not found');
    this.store.delete(key);
    this.send(res, 200, { ref: held.ref });
  }

  private hang(req: IncomingMessage): void {
    this.http.hung.hold(req.socket);
    req.resume();
  }

  private send(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return;
    const body = Buffer.from(JSON.stringify(value), 'utf8');
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(body.length), ...headers });
    res.end(body);
  }
}
