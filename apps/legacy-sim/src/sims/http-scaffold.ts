import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import { AddressInfo, Socket } from 'net';

/**
 * The plumbing the HTTP simulators share: listening on loopback, closing with every connection, reading a bounded
 * body, and holding requests unanswered (the "time out" chaos). Each simulator keeps its own protocol and errors.
 */

/** Listens on 127.0.0.1 (port 0: any free port) and returns the bound port. */
export async function listenLocal(server: Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Stops listening and drops every open connection, so a stop never waits on a keep-alive client. */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** The request body, refused with `tooLarge()` (and the connection dropped) past `maxBytes`. */
export function readBody(req: IncomingMessage, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(tooLarge());
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Requests held without an answer: each connection is dropped after `ms`, or all at once on `releaseAll`. */
export class HungRequests {
  private readonly held = new Map<Socket, NodeJS.Timeout>();

  constructor(private readonly ms: number) {}

  hold(socket: Socket): void {
    const timer = setTimeout(() => {
      this.held.delete(socket);
      socket.destroy();
    }, this.ms);
    timer.unref();
    this.held.set(socket, timer);
    socket.once('close', () => {
      clearTimeout(timer);
      this.held.delete(socket);
    });
  }

  releaseAll(): void {
    for (const [socket, timer] of this.held) {
      clearTimeout(timer);
      socket.destroy();
    }
    this.held.clear();
  }
}

/**
 * A simulator's HTTP endpoint on loopback: started once, answering with `handle`, holding "timed out" requests, and
 * stopped with every connection dropped.
 */
export class LoopbackHttpServer {
  readonly hung: HungRequests;
  private server: Server | null = null;
  private boundPort = 0;

  constructor(private readonly handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>, hangMs: number) {
    this.hung = new HungRequests(hangMs);
  }

  /** The bound port (after start). */
  get port(): number {
    return this.boundPort;
  }

  async start(port: number): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => void this.handle(req, res));
    this.boundPort = await listenLocal(server, port);
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    this.hung.releaseAll();
    await closeServer(server);
  }
}
