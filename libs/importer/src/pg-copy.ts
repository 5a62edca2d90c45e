import { once } from 'events';
import type { Duplex } from 'stream';
import type { Connection, Submittable } from 'pg';

/**
 * `COPY … FROM STDIN` over node-postgres without an extra package. node-postgres hands any object with a `submit`
 * method the connection and forwards the server's replies to it (the "Submittable" extension point); this class
 * speaks the copy-in sub-protocol: after CopyInResponse it sends CopyData messages, then CopyDone (or CopyFail when
 * the source fails), and settles on the CommandComplete / ErrorResponse that follows.
 */

/** The wire-level calls of node-postgres' Connection used for copy-in (present since pg 8; not in @types/pg). */
interface CopyInConnection {
  readonly stream: Duplex;
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
}

/** Anything node-postgres can run a Submittable on (a Client or a PoolClient). */
export interface SubmittableQueryable {
  query<T extends Submittable>(submittable: T): T;
}

class CopyFromStdin implements Submittable {
  readonly done: Promise<number>;
  private settle!: { resolve: (rows: number) => void; reject: (err: Error) => void };
  private connection: CopyInConnection | null = null;
  private failed = false;
  private rowCount = 0;

  constructor(private readonly sql: string, private readonly source: AsyncIterable<Buffer | string> | Iterable<Buffer | string>) {
    this.done = new Promise<number>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
  }

  submit(connection: Connection): void {
    this.connection = connection as unknown as CopyInConnection;
    this.connection.query(this.sql);
  }

  handleCopyInResponse(): void {
    void this.pump();
  }

  handleCommandComplete(message: { text?: string }): void {
    const m = /^COPY (\d+)/.exec(message.text ?? '');
    this.rowCount = m ? Number(m[1]) : 0;
  }

  handleReadyForQuery(): void {
    if (!this.failed) this.settle.resolve(this.rowCount);
  }

  handleError(err: Error): void {
    this.failed = true;
    this.settle.reject(err);
  }

  handleEmptyQuery(): void {
    // COPY always has a statement; nothing to do.
  }

  private async pump(): Promise<void> {
    const con = this.connection!;
    try {
      for await (const chunk of this.source) {
        if (this.failed) return; // the server gave up; it drops further copy data
        con.sendCopyFromChunk(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
        if (con.stream.writableNeedDrain) await once(con.stream, 'drain');
      }
      con.endCopyFrom();
    } catch (err) {
      con.sendCopyFail(err instanceof Error ? err.message : 'copy source failed');
    }
  }
}

/**
 * Runs `sql` (a `COPY … FROM STDIN …` statement) feeding it `source`; resolves with the number of rows copied.
 * Backpressure: the source is read only as fast as the socket drains.
 */
export function copyFromStdin(client: SubmittableQueryable, sql: string, source: AsyncIterable<Buffer | string> | Iterable<Buffer | string>): Promise<number> {
  return client.query(new CopyFromStdin(sql, source)).done;
}

/** One value in COPY's text format: `\N` for null; backslash, tab, newline and carriage return escaped. */
export function copyText(value: string | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : value;
}
