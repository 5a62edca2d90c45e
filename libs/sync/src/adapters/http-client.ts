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

class HeaderMap implements AnswerHeaders {
  constructor(private readonly raw: IncomingHttpHeaders) {}

  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }
}

/**
 * HTTP/1.1 on node:http / node:https with a keep-alive connection pool of its own (one per adapter). The delivery path
 * used the global `fetch` (undici) before: in the worker's CPU profile under bench:sync, fetch with its web streams,
 * header objects and abort plumbing was about a fifth of the worker's CPU for the ~1 KB bodies a target exchanges.
 * This client sends a body with its Content-Length (some legacy servers refuse chunked requests), reads the whole
 * answer into one buffer and stops at the caller's AbortSignal. Errors keep Node's system codes (ECONNREFUSED, …).
 */
export class HttpClient {
  private readonly http = new HttpAgent({ keepAlive: true, timeout: IDLE_MS });
  private readonly https = new HttpsAgent({ keepAlive: true, timeout: IDLE_MS });

  request(url: string, init: HttpRequest): Promise<HttpAnswer> {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    if (!secure && target.protocol !== 'http:') return Promise.reject(new Error(`unsupported protocol ${target.protocol}`));
    const { signal } = init;
    if (signal.aborted) return Promise.reject(signal.reason);
    const body = init.body === undefined ? undefined : typeof init.body === 'string' ? Buffer.from(init.body, 'utf8') : init.body;
    const headers: Record<string, string | number> = { ...init.headers };
    if (body) headers['content-length'] = body.length;
    const options: RequestOptions = { method: init.method, headers, agent: secure ? this.https : this.http, signal };
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
      req.on('error', (err) => reject(signal.aborted ? signal.reason : err));
      req.end(body);
    });
  }

  /** Closes the pooled connections. */
  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

/** The answer's body as text (UTF-8). */
export function textOf(answer: HttpAnswer): string {
  return answer.body.toString('utf8');
}
