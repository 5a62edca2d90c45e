import { createHash } from 'crypto';
import { z } from 'zod';
import { AdapterFactory, DeliveryResult, OutboundRecord, RealtimeAdapter } from './adapter';
import { backPressure, describeEndpointProblem, maskPersonalData, transportFailure } from './adapter-helpers';
import { HttpAnswer, HttpClient, textOf } from './http-client';

/**
 * REST/JSON connector for departmental systems that keep one resource per record key.
 *
 * Target file:
 *   protocol: rest
 *   endpoint: { url: http://host:port/records, auth: bearer | basic | none }
 *   credentials: { token: ENV_NAME } for bearer, { username: ENV_NAME, password: ENV_NAME } for basic
 *
 * `url` is the collection: a record lives at `{url}/{key}` (key URL-encoded).
 *   UPSERT → PUT {url}/{key} with the mapped fields as a JSON object
 *   DELETE → DELETE {url}/{key} (404 counts as done: the record is already gone)
 *   readBack → GET {url}/{key} (the body, or its `fields` member when it wraps the record; 404 → null)
 *   listKeys → GET {url}, an array of `{ key, hash }` (or `{ items: [...] }`); `hash` is the SHA-256 (hex) of the
 *              record's JSON with its keys sorted, which `contentHash` computes from the mapped fields
 *
 * Answers: 2xx → DELIVERED (targetRef from the body's `ref` or `id`); 409 → DELIVERED duplicate; 400 / 413 / 415 /
 * 422 → REJECTED with the body text; 429 / 503 → RETRY without using an attempt (delay from Retry-After);
 * timeouts, refused connections, other 5xx, 401 / 403 (wrong credentials) and other 4xx (a wrong URL) → RETRY that
 * uses an attempt, so a misconfigured target ends in dead letters rather than looping.
 *
 * `credentials` passed to `create` are the values already read from the environment variables the target file
 * names. Answer texts are kept to 500 characters with ID-number-like and mobile-number-like digit runs masked, as
 * they end up in dead letters and logs.
 */

const restEndpointSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  auth: z.enum(['bearer', 'basic', 'none']),
});

export type RestEndpoint = z.infer<typeof restEndpointSchema>;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** JSON with object keys sorted at every level: the form a listing's `hash` is taken over. */
function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (isObject(value)) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${sortedJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function referenceIn(text: string): string | null {
  const body = parseJson(text);
  if (!isObject(body)) return null;
  const ref = body['ref'] ?? body['id'];
  return typeof ref === 'string' || typeof ref === 'number' ? String(ref) : null;
}

class RestAdapter implements RealtimeAdapter {
  readonly kind = 'realtime' as const;
  private readonly base: string;
  private readonly http = new HttpClient();

  constructor(
    private readonly targetName: string,
    endpoint: RestEndpoint,
    private readonly authorization: string | null,
  ) {
    this.base = endpoint.url.replace(/\/+$/, '');
  }

  async deliver(record: OutboundRecord, signal: AbortSignal): Promise<DeliveryResult> {
    const put = record.operation === 'UPSERT';
    let answer: HttpAnswer;
    try {
      answer = await this.http.request(this.recordUrl(record.key), {
        method: put ? 'PUT' : 'DELETE',
        headers: this.headers(put),
        body: put ? JSON.stringify(record.fields) : undefined,
        signal,
      });
    } catch (err) {
      return transportFailure(err, signal);
    }
    const { status, headers } = answer;
    const text = textOf(answer);
    if (status >= 200 && status < 300) return { kind: 'DELIVERED', targetRef: referenceIn(text) };
    if (status === 404 && !put) return { kind: 'DELIVERED', targetRef: null };
    if (status === 409) return { kind: 'DELIVERED', targetRef: referenceIn(text), duplicate: true };
    if (status === 400 || status === 413 || status === 415 || status === 422) {
      return { kind: 'REJECTED', answer: maskPersonalData(`HTTP ${status} ${text.trim()}`) };
    }
    if (status === 429 || status === 503) return backPressure(status, headers);
    if (status === 401 || status === 403) return { kind: 'RETRY', reason: `HTTP ${status} authentication refused`, countsAsAttempt: true };
    return { kind: 'RETRY', reason: `HTTP ${status}`, countsAsAttempt: true };
  }

  async readBack(key: string, signal: AbortSignal): Promise<Record<string, unknown> | null> {
    const answer = await this.http.request(this.recordUrl(key), { method: 'GET', headers: this.headers(false), signal });
    const text = textOf(answer);
    if (answer.status === 404) return null;
    if (answer.status !== 200) throw new Error(`${this.targetName}: read-back answered HTTP ${answer.status}`);
    const body = parseJson(text);
    if (!isObject(body)) throw new Error(`${this.targetName}: read-back answer is not a JSON object`);
    const fields = body['fields'];
    return isObject(fields) ? fields : body;
  }

  async listKeys(signal: AbortSignal): Promise<Map<string, string> | null> {
    const answer = await this.http.request(this.base, { method: 'GET', headers: this.headers(false), signal });
    const text = textOf(answer);
    if (answer.status === 404 || answer.status === 405) return null;
    if (answer.status !== 200) throw new Error(`${this.targetName}: listing answered HTTP ${answer.status}`);
    const body = parseJson(text);
    const items = Array.isArray(body) ? body : isObject(body) && Array.isArray(body['items']) ? body['items'] : null;
    if (!items) throw new Error(`${this.targetName}: listing is not an array`);
    const keys = new Map<string, string>();
    for (const item of items as unknown[]) {
      if (!isObject(item) || typeof item['key'] !== 'string' || typeof item['hash'] !== 'string') {
        throw new Error(`${this.targetName}: listing entries need a key and a hash`);
      }
      keys.set(item['key'], item['hash']);
    }
    return keys;
  }

  contentHash(record: OutboundRecord): string {
    return createHash('sha256').update(sortedJson(record.fields)).digest('hex');
  }

  async close(): Promise<void> {
    this.http.close();
  }

  private recordUrl(key: string): string {
    return `${this.base}/${encodeURIComponent(key)}`;
  }

  private headers(json: boolean): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (json) headers['content-type'] = 'application/json; charset=utf-8';
    if (this.authorization) headers['authorization'] = this.authorization;
    return headers;
  }
}

function authorizationFor(targetName: string, endpoint: RestEndpoint, credentials: Record<string, string>): string | null {
  switch (endpoint.auth) {
    case 'none':
      return null;
    case 'bearer': {
      const token = credentials['token'];
      if (!token) throw new Error(`${targetName}: credentials.token is required for auth: bearer`);
      return `Bearer ${token}`;
    }
    case 'basic': {
      const { username, password } = credentials;
      if (!username || password === undefined) throw new Error(`${targetName}: credentials.username and credentials.password are required for auth: basic`);
      if (username.includes(':')) throw new Error(`${targetName}: credentials.username must not contain ':' for auth: basic`);
      return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
    }
  }
}

function parseEndpoint(endpoint: unknown): RestEndpoint {
  const parsed = restEndpointSchema.safeParse(endpoint);
  if (!parsed.success) throw new Error(describeEndpointProblem('rest', parsed.error));
  return parsed.data;
}

export const restAdapterFactory: AdapterFactory = {
  protocol: 'rest',
  validateEndpoint(endpoint: unknown): void {
    parseEndpoint(endpoint);
  },
  create(target) {
    const endpoint = parseEndpoint(target.endpoint);
    return new RestAdapter(target.name, endpoint, authorizationFor(target.name, endpoint, target.credentials));
  },
};
