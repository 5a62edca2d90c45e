import { Agent as HttpAgent, IncomingHttpHeaders, IncomingMessage, request as httpRequest, RequestOptions } from 'http';
import { Agent as HttpsAgent, request as httpsRequest } from 'https';

/** A response header looked up by name, case-insensitively (what the adapters read of `Headers`). */
export interface AnswerHeaders {
  get(name: string): string | null;
}

/** A target's whole answer: status, headers and body. */
export interface HttpAnswer {
  status: number;
  headers: AnswerHeaders;
  body: Buffer;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Aborts the request (and its connection) when it fires; the promise rejects with the signal's reason. */
  signal: AbortSignal;
}

/**
 * Idle pooled connections are closed after this long. Below the 5 s keep-alive timeout of Node's HTTP server (and of
 * most servers), so the client, not the target, closes an idle connection and a request is not sent on a connection
 * the target is closing at that moment.
 */
const IDLE_MS = 4_000;

const USER_AGENT = 'linli-sync/1.0';

class HeaderMap implements AnswerHeaders {
  constructor(private readonly raw: IncomingHttpHeaders) {}

  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }
}

/** Redirects followed per request, as fetch would (it allows 20; a legacy target needs one or two). */
const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 307, 308]);
const IDEMPOTENT = new Set(['GET', 'PUT', 'DELETE']);

/**
 * HTTP/1.1 on node:http / node:https with a keep-alive connection pool of its own (one per adapter). The delivery path
 * used the global `fetch` (undici) before: in the worker's CPU profile under bench:sync, fetch with its web streams,
 * header objects and abort plumbing was about a fifth of the worker's CPU for the ~1 KB bodies a target exchanges.
 * What this client keeps of fetch's behaviour:
 * - redirects 307 / 308, and 301 / 302 for methods other than POST (fetch would turn that POST into a GET, which no
 *   target here means), are followed with the same method and body, at most MAX_REDIRECTS times; `authorization` is
 *   not sent to another origin. Other 3xx answers go back to the adapter, which reports them;
 * - a body sent with its Content-Length (some legacy servers refuse chunked requests), a User-Agent;
 * - the caller's AbortSignal stops the request; errors keep Node's system codes (ECONNREFUSED, …).
 * And one thing fetch does inside undici: an idempotent request that fails with ECONNRESET on a pooled connection
 * (the target closed it as the request went out) is sent once more on a fresh one.
 */
export class HttpClient {
  private readonly http = new HttpAgent({ keepAlive: true, timeout: IDLE_MS });
  private readonly https = new HttpsAgent({ keepAlive: true, timeout: IDLE_MS });

  async request(url: string, init: HttpRequest): Promise<HttpAnswer> {
    let target = new URL(url);
    let headers: Record<string, string> = { 'user-agent': USER_AGENT, ...init.headers };
    for (let hop = 0; ; hop++) {
      const answer = await this.once(target, init, headers);
      const location = answer.headers.get('location');
      if (!location || hop >= MAX_REDIRECTS || !REDIRECTS.has(answer.status) || (init.method === 'POST' && answer.status < 307)) return answer;
      const next = new URL(location, target);
      if (next.origin !== target.origin) headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
      target = next;
    }
  }

  private async once(target: URL, init: HttpRequest, headers: Record<string, string>): Promise<HttpAnswer> {
    try {
      return await this.exchange(target, init, headers);
    } catch (err) {
      const { code, reusedSocket } = err as { code?: unknown; reusedSocket?: boolean };
      if (!reusedSocket || code !== 'ECONNRESET' || init.signal.aborted || !IDEMPOTENT.has(init.method)) throw err;
      return this.exchange(target, init, headers);
    }
  }

  private exchange(target: URL, init: HttpRequest, headers: Record<string, string>): Promise<HttpAnswer> {
    const secure = target.protocol === 'https:';
    if (!secure && target.protocol !== 'http:') return Promise.reject(new Error(`unsupported protocol ${target.protocol}`));
    const { signal } = init;
    if (signal.aborted) return Promise.reject(signal.reason);
    const body = init.body === undefined ? undefined : typeof init.body === 'string' ? Buffer.from(init.body, 'utf8') : init.body;
    const sent: Record<string, string | number> = { ...headers };
    if (body) sent['content-length'] = body.length;
    const options: RequestOptions = { method: init.method, headers: sent, agent: secure ? this.https : this.http, signal };
    return new Promise<HttpAnswer>((resolve, reject) => {
      const onAnswer = (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('aborted', () => reject(signal.aborted ? signal.reason : new Error('the target closed the connection during its answer')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: new HeaderMap(res.headers), body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) }));
      };
      const req = secure ? httpsRequest(target, options, onAnswer) : httpRequest(target, options, onAnswer);
      // An abort destroys the request with an AbortError; the caller tells it from other failures by `signal.aborted`.
      req.on('error', (err) => reject(signal.aborted ? signal.reason : Object.assign(err, { reusedSocket: req.reusedSocket })));
      req.end(body);
    });
  }

  /** Closes the pooled connections. */
  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

/** The answer's body as text (UTF-8, without the byte-order mark some .NET and Java servers put first, as fetch drops it). */
export function textOf(answer: HttpAnswer): string {
  const text = answer.body.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
