import { once } from 'events';
import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import { AddressInfo, Socket } from 'net';
import { transportFailure } from '../adapters/adapter-helpers';
import { HttpClient, textOf } from '../adapters/http-client';

/** The adapters' HTTP client against a real local HTTP server. */
describe('HttpClient', () => {
  let server: Server;
  let base: string;
  let client: HttpClient;
  const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string; port: number }[] = [];
  const held: Socket[] = [];
  const perSocket = new WeakMap<Socket, number>();
  let other: string;
  let otherServer: Server;
  const otherSeen: IncomingMessage['headers'][] = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), port: req.socket.remotePort! });
        if (req.url === '/hang') {
          held.push(req.socket); // never answers
          return;
        }
        if (req.url === '/bom') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"ref":"R-9"}')]));
          return;
        }
        if (req.url === '/moved' || req.url === '/moved-away') {
          res.writeHead(req.method === 'POST' ? 302 : 307, { location: req.url === '/moved' ? '/records/2' : `${other}/records/3` });
          res.end();
          return;
        }
        if (req.url === '/flaky') {
          const n = (perSocket.get(req.socket) ?? 0) + 1;
          perSocket.set(req.socket, n);
          if (n === 2) {
            req.socket.destroy(); // the target drops a kept-alive connection as the request arrives
            return;
          }
        }
        if (req.url === '/busy') {
          res.writeHead(429, { 'retry-after': '7', 'set-cookie': ['a=1', 'b=2'] });
          res.end('slow down');
          return;
        }
        res.writeHead(201, { 'content-type': 'application/json; charset=utf-8', 'x-ref': 'R-1' });
        res.end(JSON.stringify({ ref: '记录-1', echo: Buffer.concat(chunks).toString('utf8') }));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Another origin (another port), to which a redirect must not carry the credentials.
    otherServer = createServer((req, res) => {
      otherSeen.push(req.headers);
      req.resume();
      req.on('end', () => res.end('{"ref":"elsewhere"}'));
    });
    otherServer.listen(0, '127.0.0.1');
    await once(otherServer, 'listening');
    other = `http://127.0.0.1:${(otherServer.address() as AddressInfo).port}`;
    client = new HttpClient();
  });

  afterAll(async () => {
    client.close();
    held.forEach((s) => s.destroy());
    server.close();
    otherServer.close();
  });

  beforeEach(() => {
    seen.length = 0;
  });

  it('sends method, headers and a body with its Content-Length, and returns status, headers and the whole body', async () => {
    const answer = await client.request(`${base}/records/1`, {
      method: 'PUT', headers: { 'content-type': 'application/json', authorization: 'Bearer t' }, body: '{"姓名":"张三"}', signal: AbortSignal.timeout(5_000),
    });
    expect(answer.status).toBe(201);
    expect(answer.headers.get('X-Ref')).toBe('R-1');
    expect(answer.headers.get('missing')).toBeNull();
    expect(JSON.parse(textOf(answer))).toEqual({ ref: '记录-1', echo: '{"姓名":"张三"}' });
    expect(seen[0]).toMatchObject({ method: 'PUT', url: '/records/1', body: '{"姓名":"张三"}' });
    expect(seen[0]!.headers['content-length']).toBe(String(Buffer.byteLength('{"姓名":"张三"}')));
    expect(seen[0]!.headers['transfer-encoding']).toBeUndefined();
    expect(seen[0]!.headers.authorization).toBe('Bearer t');
  });

  it('keeps the connection alive between requests', async () => {
    await client.request(`${base}/a`, { method: 'GET', signal: AbortSignal.timeout(5_000) });
    await client.request(`${base}/b`, { method: 'DELETE', signal: AbortSignal.timeout(5_000) });
    expect(seen.map((s) => s.port)).toEqual([seen[0]!.port, seen[0]!.port]);
  });

  it('joins repeated headers and leaves back-pressure answers to the caller', async () => {
    const answer = await client.request(`${base}/busy`, { method: 'POST', body: Buffer.from('x'), signal: AbortSignal.timeout(5_000) });
    expect(answer.status).toBe(429);
    expect(answer.headers.get('retry-after')).toBe('7');
    expect(answer.headers.get('set-cookie')).toBe('a=1, b=2');
  });

  it('stops at the deadline: the promise rejects and the failure reads as a timeout', async () => {
    const signal = AbortSignal.timeout(200);
    const err = await client.request(`${base}/hang`, { method: 'POST', body: 'x', signal }).catch((e: unknown) => e);
    expect(signal.aborted).toBe(true);
    expect(transportFailure(err, signal)).toEqual({ kind: 'RETRY', reason: 'timed out', countsAsAttempt: true });
  });

  it('rejects at once for an aborted signal, and names the system error of a refused connection', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stopping'));
    await expect(client.request(`${base}/a`, { method: 'GET', signal: controller.signal })).rejects.toThrow('stopping');
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const signal = AbortSignal.timeout(5_000);
    const err = await client.request(`http://127.0.0.1:${port}/`, { method: 'GET', signal }).catch((e: unknown) => e);
    expect(transportFailure(err, signal)).toEqual({ kind: 'RETRY', reason: 'connection failed (ECONNREFUSED)', countsAsAttempt: true });
  });

  it('drops a UTF-8 byte-order mark from text, as fetch did', async () => {
    const answer = await client.request(`${base}/bom`, { method: 'GET', signal: AbortSignal.timeout(5_000) });
    expect(JSON.parse(textOf(answer))).toEqual({ ref: 'R-9' });
  });

  it('follows a 307 with the same method and body; credentials do not follow to another origin; a POST is not turned into a GET', async () => {
    const same = await client.request(`${base}/moved`, { method: 'PUT', headers: { authorization: 'Bearer t' }, body: '{"a":1}', signal: AbortSignal.timeout(5_000) });
    expect(same.status).toBe(201);
    expect(seen.map((x) => [x.method, x.url, x.body, x.headers.authorization])).toEqual([['PUT', '/moved', '{"a":1}', 'Bearer t'], ['PUT', '/records/2', '{"a":1}', 'Bearer t']]);
    const away = await client.request(`${base}/moved-away`, { method: 'PUT', headers: { authorization: 'Bearer t' }, body: '{"a":1}', signal: AbortSignal.timeout(5_000) });
    expect(away.status).toBe(200);
    expect(otherSeen.at(-1)!.authorization).toBeUndefined();
    expect(otherSeen.at(-1)!['user-agent']).toBe('linli-sync/1.0');
    const post = await client.request(`${base}/moved`, { method: 'POST', body: 'x', signal: AbortSignal.timeout(5_000) });
    expect(post.status).toBe(302);
  });

  it('sends an idempotent request again on a fresh connection when the target drops the pooled one', async () => {
    const fresh = new HttpClient();
    try {
      await fresh.request(`${base}/flaky`, { method: 'GET', signal: AbortSignal.timeout(5_000) });
      const again = await fresh.request(`${base}/flaky`, { method: 'PUT', body: '{}', signal: AbortSignal.timeout(5_000) });
      expect(again.status).toBe(201);
      expect(seen.filter((x) => x.url === '/flaky')).toHaveLength(3); // the first, the dropped one, the resend
      expect(new Set(seen.map((x) => x.port)).size).toBe(2);
    } finally {
      fresh.close();
    }
  });
});
