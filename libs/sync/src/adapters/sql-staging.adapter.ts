import { createHash } from 'crypto';
import * as mysql from 'mysql2/promise';
import { Pool as PgPool, PoolClient as PgPoolClient, types as pgTypes } from 'pg';
import { z } from 'zod';
import { AdapterFactory, DeliveryResult, OutboundRecord, RealtimeAdapter } from './adapter';
import { describeEndpointProblem } from './adapter-helpers';

/**
 * SQL staging connector (中间库 / 前置库): the hub writes rows straight into staging tables of the target's own
 * database, and the target picks them up from there (P2 grid governance, `zz-grid`).
 *
 * Target file:
 *   protocol: sql-staging
 *   endpoint:
 *     driver: mysql | postgres
 *     url: mysql://user@host:3306/database            (no password in the URL)
 *     tables:                                          (the first table is the primary one)
 *       - { table: stg_person, key: IDCARDNO, columns: [NAME, GENDER, ...] }
 *       - { table: stg_floating, key: IDCARDNO, columns: [...], when: inflowingDate, softDelete: { logOut: 1 } }
 *     versionColumn: UPDATE_VERSION                    (optional, a column of the primary table)
 *     errorTable: { table: stg_error, key: IDCARDNO, message: ERR_MSG }   (optional)
 *     poolSize: 2, lockWaitMs: 2000, connectTimeoutMs: 5000               (optional)
 *   credentials: { password: ENV_NAME, username?: ENV_NAME, url?: ENV_NAME }
 *
 * `credentials` given to `create` are values (read from the environment by the hub): `password` is the database
 * password, `username` overrides the URL's user, `url` overrides `endpoint.url` (so a deployment can keep the whole
 * address in the environment).
 *
 * One delivery = one transaction:
 *   1. With `versionColumn`, the primary row is read with a row lock (SELECT … FOR UPDATE). A stored version newer
 *      than the record's means the record is stale (out-of-order delivery): nothing is written and the answer is
 *      DELIVERED with `duplicate: true` (the newer row stands).
 *   2. UPSERT: each table gets the record's fields named in its `columns` (MySQL `INSERT … ON DUPLICATE KEY UPDATE`,
 *      PostgreSQL `INSERT … ON CONFLICT DO UPDATE`); the primary table also gets `version` in `versionColumn`.
 *      Fields absent from the record are left alone; fields that are null are written as NULL. A table with `when`
 *      holds a row only while that field has a value (e.g. the floating table while there is an inflow date):
 *      otherwise the table is treated as for a DELETE.
 *   3. DELETE (and tables whose `when` field is empty): a table with `softDelete` keeps its row and gets those
 *      column values (a logout flag, like `logOut: 1`); other tables lose the row. Nothing is inserted by a DELETE.
 *   4. With `errorTable`, the target's error row for the key (written by the target's validation, e.g. a trigger)
 *      is read inside the same transaction: present → REJECTED with its message. The rows stay in staging (that is
 *      where the target keeps rejected input) and the transaction commits.
 *
 * Failures: refused / lost connections, lock wait timeouts (tables locked by the target, see `lockWaitMs`),
 * deadlocks, missing tables and timeouts of the AbortSignal → RETRY using an attempt; "too many connections" and
 * "database starting up" → RETRY without using an attempt; data errors (value too long, bad date, NOT NULL) →
 * REJECTED with the database's message, quoted values masked.
 *
 * readBack(key) reads every table's columns for the key (plus the version); listKeys() hashes each key's columns
 * with `stagingRowHash`, which the hub can compute the same way from `OutboundRecord.fields`. A key counts as held
 * while the primary table has its row (rows kept by softDelete in other tables are history).
 */

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'an SQL identifier (letters, digits, _; at most 64)');
const flagValue = z.union([z.string(), z.number(), z.boolean()]);

const tableSchema = z.strictObject({
  table: identifier,
  key: identifier,
  columns: z.array(identifier).min(1),
  /** A field that must have a value for this table to hold a row for the record. */
  when: identifier.optional(),
  /** On DELETE keep the row and set these columns (e.g. `{ logOut: 1 }`) instead of deleting it. */
  softDelete: z.record(identifier, flagValue).optional(),
});

const sqlStagingEndpointSchema = z
  .strictObject({
    driver: z.enum(['mysql', 'postgres']),
    url: z.string().refine((u) => URL.canParse(u), 'a URL like mysql://user@host:3306/database'),
    tables: z.array(tableSchema).min(1),
    versionColumn: identifier.optional(),
    errorTable: z.strictObject({ table: identifier, key: identifier, message: identifier }).optional(),
    poolSize: z.number().int().min(1).max(10).default(2),
    /** How long a write waits for a lock held by the target before failing (rounded up to seconds on MySQL). */
    lockWaitMs: z.number().int().min(100).max(120_000).default(2000),
    connectTimeoutMs: z.number().int().min(100).max(120_000).default(5000),
    /** Added by the hub's target registry (the target's key field); not used here. */
    keyField: z.string().optional(),
  })
  .superRefine((e, ctx) => {
    if (!URL.canParse(e.url)) return;
    const url = new URL(e.url);
    const scheme = url.protocol.replace(/:$/, '');
    const expected = e.driver === 'mysql' ? ['mysql', 'mariadb'] : ['postgres', 'postgresql'];
    if (!expected.includes(scheme)) ctx.addIssue({ code: 'custom', path: ['url'], message: `scheme must be ${expected.join(' or ')} for driver ${e.driver}` });
    if (url.password) ctx.addIssue({ code: 'custom', path: ['url'], message: 'must not contain a password (put it in credentials.password)' });
    if (!/^\/[^/]+$/.test(url.pathname)) ctx.addIssue({ code: 'custom', path: ['url'], message: 'must name the database as its path, e.g. /zz_grid' });
    const names = new Set<string>();
    e.tables.forEach((t, i) => {
      if (names.has(t.table)) ctx.addIssue({ code: 'custom', path: ['tables', i, 'table'], message: `table ${t.table} is listed twice` });
      names.add(t.table);
      if (t.when && !t.columns.includes(t.when)) ctx.addIssue({ code: 'custom', path: ['tables', i, 'when'], message: `${t.when} is not among the table's columns` });
    });
  });

export type SqlStagingEndpoint = z.infer<typeof sqlStagingEndpointSchema>;
type StagingTable = SqlStagingEndpoint['tables'][number];
type SqlValue = string | number | null;
type Row = Record<string, unknown>;

/** Canonical text of one value for hashing: null stays null, booleans become 1 / 0, everything else a string. */
function canonicalValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('hex');
  return String(value);
}

/**
 * Content hash of a staged record: SHA-256 over the fields sorted by name with canonical values (see
 * `canonicalValue`). Feed it the columns of all tables, without the key and version columns.
 */
export function stagingRowHash(fields: Record<string, unknown>): string {
  const entries = Object.keys(fields)
    .sort()
    .map((name) => [name, canonicalValue(fields[name])]);
  return createHash('sha256').update(JSON.stringify(entries)).digest('hex');
}

function toSqlValue(value: string | number | boolean | null | undefined): SqlValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

function errorProp(err: unknown, name: 'code' | 'errno' | 'sqlMessage' | 'message' | 'column'): unknown {
  for (let current: unknown = err, depth = 0; typeof current === 'object' && current !== null && depth < 4; depth++) {
    const value = (current as Record<string, unknown>)[name];
    if (value !== undefined) return value;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A database message without the values it quotes (they may be personal data). */
function maskQuoted(message: string): string {
  const masked = message.replace(/'[^']*'/g, "'***'").replace(/"[^"]*"/g, '"***"');
  return masked.length > 300 ? `${masked.slice(0, 300)}…` : masked;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/** One SQL statement and its parameters. */
interface Statement {
  sql: string;
  params: SqlValue[];
}

/** One checked-out connection, the same shape for both drivers. */
interface StagingSession {
  query(sql: string, params: SqlValue[]): Promise<Row[]>;
  /**
   * Runs statements in order and returns the rows of each; the first failure stops the rest. MySQL sends them in one
   * round trip (a multi-statement query); PostgreSQL runs them one by one.
   */
  script(statements: Statement[]): Promise<Row[][]>;
  rollback(): Promise<void>;
  /** Back to the pool. */
  release(): void;
  /** Closed for good (after an abort or an error that may have left it in an unknown state). */
  destroy(): void;
}

interface StagingDriver {
  quote(name: string): string;
  /** Placeholder of the n-th parameter (1-based). */
  param(n: number): string;
  /** INSERT … of `rows` rows (key first, then the columns) that replaces the columns of a key already there. */
  upsert(table: string, key: string, columns: string[], rows?: number): string;
  /** The statement that opens a transaction. */
  readonly begin: string;
  session(): Promise<StagingSession>;
  classify(err: unknown): DeliveryResult;
  /** The database chose this transaction as a deadlock victim and rolled it back whole: it can simply run again. */
  isDeadlock(err: unknown): boolean;
  close(): Promise<void>;
}

interface ConnectionSettings {
  host: string;
  port: number | undefined;
  user: string | undefined;
  password: string | undefined;
  database: string;
  poolSize: number;
  lockWaitMs: number;
  connectTimeoutMs: number;
}

class MysqlDriver implements StagingDriver {
  private readonly pool: mysql.Pool;
  /** Server thread ids of connections whose session lock timeouts are set. */
  private readonly prepared = new Set<number>();
  private readonly lockWaitSeconds: number;

  constructor(settings: ConnectionSettings) {
    this.pool = mysql.createPool({
      host: settings.host,
      port: settings.port ?? 3306,
      user: settings.user,
      password: settings.password,
      database: settings.database,
      connectionLimit: settings.poolSize,
      connectTimeout: settings.connectTimeoutMs,
      dateStrings: true,
      charset: 'utf8mb4',
      supportBigNumbers: true,
      bigNumberStrings: true,
      // A delivery batch's writes, its error-table read and its COMMIT go in one round trip (`script`). Every value
      // is a placeholder and every identifier is checked by the endpoint schema.
      multipleStatements: true,
    });
    this.lockWaitSeconds = Math.max(1, Math.ceil(settings.lockWaitMs / 1000));
  }

  readonly begin = 'START TRANSACTION';

  quote(name: string): string {
    return `\`${name}\``;
  }

  param(): string {
    return '?';
  }

  upsert(table: string, key: string, columns: string[], rows = 1): string {
    const all = [key, ...columns];
    const update = columns.length > 0 ? columns.map((c) => `${this.quote(c)} = VALUES(${this.quote(c)})`).join(', ') : `${this.quote(key)} = ${this.quote(key)}`;
    const tuple = `(${all.map(() => '?').join(', ')})`;
    return `INSERT INTO ${this.quote(table)} (${all.map((c) => this.quote(c)).join(', ')}) VALUES ${Array.from({ length: rows }, () => tuple).join(', ')} ON DUPLICATE KEY UPDATE ${update}`;
  }

  async session(): Promise<StagingSession> {
    const conn = await this.pool.getConnection();
    const threadId = conn.threadId;
    if (!this.prepared.has(threadId)) {
      try {
        await conn.query(`SET SESSION lock_wait_timeout = ${this.lockWaitSeconds}, innodb_lock_wait_timeout = ${this.lockWaitSeconds}`);
      } catch (err) {
        conn.destroy();
        throw err;
      }
      this.prepared.add(threadId);
    }
    return {
      query: async (sql, params) => {
        const [rows] = await conn.query(sql, params);
        return Array.isArray(rows) ? (rows as Row[]) : [];
      },
      script: async (statements) => {
        if (statements.length === 0) return [];
        const [result] = await conn.query(statements.map((st) => st.sql).join(';\n'), statements.flatMap((st) => st.params));
        // One statement answers with its own result; several with one result per statement.
        const results: unknown[] = statements.length === 1 ? [result] : (result as unknown[]);
        return results.map((r) => (Array.isArray(r) ? (r as Row[]) : []));
      },
      rollback: () => conn.rollback(),
      release: () => conn.release(),
      destroy: () => {
        this.prepared.delete(threadId);
        conn.destroy();
      },
    };
  }

  classify(err: unknown): DeliveryResult {
    const code = errorProp(err, 'code');
    const errno = errorProp(err, 'errno');
    const text = String(errorProp(err, 'sqlMessage') ?? errorProp(err, 'message') ?? 'database error');
    const label = typeof code === 'string' ? code : `errno ${String(errno)}`;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || code.startsWith('PROTOCOL_'))) {
      return { kind: 'RETRY', reason: `connection failed (${code})`, countsAsAttempt: true };
    }
    switch (errno) {
      case 1040: // ER_CON_COUNT_ERROR: too many connections, back-pressure
        return { kind: 'RETRY', reason: 'ER_CON_COUNT_ERROR: too many connections', delayMs: 1000, countsAsAttempt: false };
      case 1205: // ER_LOCK_WAIT_TIMEOUT: the target holds the staging tables (processing run, downtime)
      case 1213: // ER_LOCK_DEADLOCK
        return { kind: 'RETRY', reason: `${label}: ${maskQuoted(text)}`, countsAsAttempt: true };
      case 1048: // ER_BAD_NULL_ERROR
      case 1264: // ER_WARN_DATA_OUT_OF_RANGE
      case 1265: // WARN_DATA_TRUNCATED
      case 1292: // ER_TRUNCATED_WRONG_VALUE (bad date …)
      case 1364: // ER_NO_DEFAULT_FOR_FIELD
      case 1366: // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
      case 1406: // ER_DATA_TOO_LONG
      case 1452: // ER_NO_REFERENCED_ROW_2
      case 3819: // ER_CHECK_CONSTRAINT_VIOLATED (MySQL)
      case 4025: // ER_CONSTRAINT_FAILED (MariaDB CHECK)
        return { kind: 'REJECTED', answer: `${label}: ${maskQuoted(text)}` };
      default:
        return { kind: 'RETRY', reason: `${label}: ${maskQuoted(text)}`, countsAsAttempt: true };
    }
  }

  isDeadlock(err: unknown): boolean {
    return errorProp(err, 'errno') === 1213;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** DATE and TIMESTAMP values come back as the database's text, like MySQL's `dateStrings`. */
const PG_TEXT_TYPES = new Set<number>([1082, 1083, 1114, 1184]);

class PostgresDriver implements StagingDriver {
  private readonly pool: PgPool;

  constructor(settings: ConnectionSettings) {
    this.pool = new PgPool({
      host: settings.host,
      port: settings.port ?? 5432,
      user: settings.user,
      password: settings.password,
      database: settings.database,
      max: settings.poolSize,
      connectionTimeoutMillis: settings.connectTimeoutMs,
      lock_timeout: settings.lockWaitMs,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          PG_TEXT_TYPES.has(oid) ? (value: string) => value : pgTypes.getTypeParser(oid, format)) as typeof pgTypes.getTypeParser,
      },
    });
    // An idle client that loses its server emits here; without a listener that would crash the process.
    this.pool.on('error', () => undefined);
  }

  readonly begin = 'BEGIN';

  quote(name: string): string {
    return `"${name}"`;
  }

  param(n: number): string {
    return `$${n}`;
  }

  upsert(table: string, key: string, columns: string[], rows = 1): string {
    const all = [key, ...columns];
    const action = columns.length > 0 ? `DO UPDATE SET ${columns.map((c) => `${this.quote(c)} = EXCLUDED.${this.quote(c)}`).join(', ')}` : 'DO NOTHING';
    const tuples = Array.from({ length: rows }, (_, r) => `(${all.map((_c, i) => `$${r * all.length + i + 1}`).join(', ')})`);
    return `INSERT INTO ${this.quote(table)} (${all.map((c) => this.quote(c)).join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (${this.quote(key)}) ${action}`;
  }

  async session(): Promise<StagingSession> {
    const client: PgPoolClient = await this.pool.connect();
    let done = false;
    const finish = (destroy: boolean): void => {
      if (done) return;
      done = true;
      client.release(destroy ? new Error('staging session destroyed') : undefined);
    };
    return {
      query: async (sql, params) => (await client.query(sql, params)).rows as Row[],
      script: async (statements) => {
        const results: Row[][] = [];
        for (const st of statements) results.push((await client.query(st.sql, st.params)).rows as Row[]);
        return results;
      },
      rollback: async () => void (await client.query('ROLLBACK')),
      release: () => finish(false),
      destroy: () => finish(true),
    };
  }

  classify(err: unknown): DeliveryResult {
    const code = errorProp(err, 'code');
    const text = String(errorProp(err, 'message') ?? 'database error');
    if (typeof code !== 'string') return { kind: 'RETRY', reason: `database error: ${maskQuoted(text)}`, countsAsAttempt: true };
    if (NETWORK_CODES.has(code) || code.startsWith('08')) return { kind: 'RETRY', reason: `connection failed (${code})`, countsAsAttempt: true };
    if (code === '53300' || code === '57P03') {
      return { kind: 'RETRY', reason: `${code}: ${maskQuoted(text)}`, delayMs: 1000, countsAsAttempt: false };
    }
    if (code.startsWith('22') || code === '23502' || code === '23503' || code === '23514') {
      const column = errorProp(err, 'column');
      return { kind: 'REJECTED', answer: `${code}: ${maskQuoted(text)}${typeof column === 'string' ? ` (column ${column})` : ''}` };
    }
    return { kind: 'RETRY', reason: `${code}: ${maskQuoted(text)}`, countsAsAttempt: true };
  }

  isDeadlock(err: unknown): boolean {
    return errorProp(err, 'code') === '40P01';
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * How often a batch chosen as a deadlock victim runs before its records are answered RETRY; it runs again after a
 * pause of a few milliseconds (random, growing), so that it does not meet the same transactions in the same order.
 */
const DEADLOCK_TRIES = 5;

class AbortedError extends Error {}

class SqlStagingAdapter implements RealtimeAdapter {
  readonly kind = 'realtime' as const;
  private readonly primary: StagingTable;

  constructor(
    private readonly endpoint: SqlStagingEndpoint,
    private readonly driver: StagingDriver,
  ) {
    this.primary = endpoint.tables[0];
  }

  async deliver(record: OutboundRecord, signal: AbortSignal): Promise<DeliveryResult> {
    try {
      return (await this.transaction(signal, [record]))[0];
    } catch (err) {
      if (err instanceof AbortedError || signal.aborted) return { kind: 'RETRY', reason: this.abortReason(signal), countsAsAttempt: true };
      return this.driver.classify(err);
    }
  }

  /**
   * The records of one delivery batch in ONE staging transaction: one commit (and one wait for the target's disk)
   * instead of one per record, in key order so that two batches lock rows in the same order. Each record gets the
   * answer `deliver` would give it. If a statement fails, the transaction is rolled back: a failure the target would
   * repeat for everyone (lock wait, connection) is every record's answer; a record the target refuses (bad data) is
   * isolated by delivering the batch again one record per transaction, so it does not take the others down with it.
   * On MySQL the transaction is two round trips: the version read, then every write with the error-table read and the
   * COMMIT (`writeMany`).
   */
  async deliverMany(records: OutboundRecord[], signal: AbortSignal): Promise<DeliveryResult[]> {
    if (records.length <= 1 || new Set(records.map((r) => r.key)).size < records.length) return Promise.all(records.map((r) => this.deliver(r, signal)));
    const order = records.map((_, i) => i).sort((a, b) => (records[a].key < records[b].key ? -1 : records[a].key > records[b].key ? 1 : 0));
    try {
      const sorted = await this.transaction(signal, order.map((i) => records[i]));
      const results: DeliveryResult[] = new Array(records.length);
      order.forEach((i, j) => (results[i] = sorted[j]));
      return results;
    } catch (err) {
      if (err instanceof AbortedError || signal.aborted) {
        const retry: DeliveryResult = { kind: 'RETRY', reason: this.abortReason(signal), countsAsAttempt: true };
        return records.map(() => retry);
      }
      const verdict = this.driver.classify(err);
      if (verdict.kind !== 'REJECTED') return records.map(() => verdict);
      const results: DeliveryResult[] = [];
      for (const record of records) results.push(await this.deliver(record, signal));
      return results;
    }
  }

  async readBack(key: string, signal: AbortSignal): Promise<Record<string, unknown> | null> {
    const held = await this.inSession(signal, (s) => this.readRows(s, key));
    return held.get(key) ?? null;
  }

  async listKeys(signal: AbortSignal): Promise<Map<string, string> | null> {
    const held = await this.inSession(signal, (s) => this.readRows(s, null));
    const hashes = new Map<string, string>();
    for (const [key, fields] of held) {
      const content = { ...fields };
      if (this.endpoint.versionColumn) delete content[this.endpoint.versionColumn];
      hashes.set(key, stagingRowHash(content));
    }
    return hashes;
  }

  async close(): Promise<void> {
    await this.driver.close();
  }

  /** Runs `work` on a pooled connection; an abort destroys the connection so a waiting statement stops at once. */
  private async inSession<T>(signal: AbortSignal, work: (s: StagingSession) => Promise<T>): Promise<T> {
    if (signal.aborted) throw new AbortedError(this.abortReason(signal));
    let session: StagingSession | null = null;
    let aborted = false;
    let rejectAbort: (err: Error) => void = () => undefined;
    const abortion = new Promise<never>((_, reject) => {
      rejectAbort = reject;
    });
    const onAbort = (): void => {
      aborted = true;
      session?.destroy();
      rejectAbort(new AbortedError(this.abortReason(signal)));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const run = (async () => {
        session = await this.driver.session();
        if (aborted) {
          session.destroy();
          throw new AbortedError(this.abortReason(signal));
        }
        return work(session);
      })();
      // A late failure of the abandoned work must not surface as an unhandled rejection.
      run.catch(() => undefined);
      const result = await Promise.race([run, abortion]);
      (session as StagingSession | null)?.release();
      return result;
    } catch (err) {
      if (!aborted) (session as StagingSession | null)?.destroy();
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private abortReason(signal: AbortSignal): string {
    // DOMException from AbortSignal.timeout(); checked by name, as it may come from another realm.
    const reason: unknown = signal.reason;
    const name = typeof reason === 'object' && reason !== null ? (reason as { name?: unknown }).name : undefined;
    return name === 'TimeoutError' ? 'timed out' : 'aborted';
  }

  /**
   * One staging transaction for `records` (distinct keys, in key order). A deadlock victim was rolled back whole by
   * the database, so it runs again shortly (a few times) rather than costing each record a retry with backoff.
   */
  private async transaction(signal: AbortSignal, records: OutboundRecord[]): Promise<DeliveryResult[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.inSession(signal, async (s) => {
          try {
            return await this.writeMany(s, records);
          } catch (err) {
            await s.rollback().catch(() => undefined);
            throw err;
          }
        });
      } catch (err) {
        if (attempt >= DEADLOCK_TRIES || signal.aborted || !this.driver.isDeadlock(err)) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
      }
    }
  }

  /** Placeholders of `n` parameters from the `from`-th on, for `IN (…)`. */
  private paramList(from: number, n: number): string {
    return Array.from({ length: n }, (_, i) => this.driver.param(from + i)).join(', ');
  }

  /**
   * Writes records (distinct keys, in key order) in one transaction, set-based: one version read for all (FOR UPDATE),
   * then per table one multi-row upsert for the records present there and one statement for those that left it, one
   * read of the error table and the COMMIT, sent together (`script`). When every record is stale nothing is written
   * and the transaction is rolled back. The answer of each record is the one it would get written alone.
   */
  private async writeMany(s: StagingSession, records: OutboundRecord[]): Promise<DeliveryResult[]> {
    const d = this.driver;
    const { versionColumn, errorTable } = this.endpoint;
    const keys = records.map((r) => r.key);
    const results: (DeliveryResult | null)[] = records.map(() => null);
    const begin: Statement = { sql: d.begin, params: [] };
    let opened = false;
    if (versionColumn) {
      const [, rows] = await s.script([
        begin,
        {
          sql: `SELECT ${d.quote(this.primary.key)} AS k, ${d.quote(versionColumn)} AS v FROM ${d.quote(this.primary.table)}
                 WHERE ${d.quote(this.primary.key)} IN (${this.paramList(1, keys.length)}) ORDER BY ${d.quote(this.primary.key)} FOR UPDATE`,
          params: keys,
        },
      ]);
      opened = true;
      const stored = new Map(rows.map((r) => [String(r['k']), r['v']]));
      records.forEach((record, i) => {
        const v = stored.get(record.key);
        if (v !== null && v !== undefined && Number(v) > record.version) results[i] = { kind: 'DELIVERED', targetRef: null, duplicate: true };
      });
    }
    const live = records.filter((_, i) => results[i] === null);
    if (live.length === 0) {
      if (opened) await s.rollback();
      return results as DeliveryResult[];
    }
    const statements: Statement[] = opened ? [] : [begin];
    for (const table of this.endpoint.tables) {
      const isPrimary = table === this.primary;
      const upserts = new Map<string, { columns: string[]; rows: SqlValue[][] }>();
      const gone: OutboundRecord[] = [];
      for (const record of live) {
        const columns = table.columns.filter((c) => c !== table.key && c !== versionColumn && Object.prototype.hasOwnProperty.call(record.fields, c));
        const values: SqlValue[] = columns.map((c) => toSqlValue(record.fields[c]));
        if (isPrimary && versionColumn) {
          columns.push(versionColumn);
          values.push(record.version);
        }
        const present = record.operation === 'UPSERT' && (!table.when || toSqlValue(record.fields[table.when]) !== null);
        if (present) {
          const group = upserts.get(columns.join('\u0001')) ?? { columns, rows: [] };
          group.rows.push([record.key, ...values]);
          upserts.set(columns.join('\u0001'), group);
        } else {
          gone.push(record);
        }
      }
      if (gone.length > 0) statements.push(...this.removals(table, isPrimary, gone));
      for (const { columns, rows } of upserts.values()) statements.push({ sql: d.upsert(table.table, table.key, columns, rows.length), params: rows.flat() });
    }
    const checked = live.filter((r) => r.operation === 'UPSERT').map((r) => r.key);
    const readErrors = errorTable !== undefined && checked.length > 0;
    if (readErrors) {
      statements.push({
        sql: `SELECT ${d.quote(errorTable.key)} AS k, ${d.quote(errorTable.message)} AS m FROM ${d.quote(errorTable.table)}
               WHERE ${d.quote(errorTable.key)} IN (${this.paramList(1, checked.length)})`,
        params: checked,
      });
    }
    statements.push({ sql: 'COMMIT', params: [] });
    const answers = await s.script(statements);
    const rejected = new Map<string, string>();
    if (readErrors) {
      for (const row of answers[answers.length - 2]) {
        const message = canonicalValue(row['m']);
        rejected.set(String(row['k']), `${errorTable.table}: ${message && message.trim() !== '' ? message.trim() : 'rejected without a message'}`);
      }
    }
    return records.map((record, i) => {
      if (results[i]) return results[i]!;
      const answer = record.operation === 'UPSERT' ? rejected.get(record.key) : undefined;
      return answer !== undefined ? { kind: 'REJECTED', answer } : { kind: 'DELIVERED', targetRef: null };
    });
  }

  /**
   * Records that are not (or no longer) in a table: soft-deleted where the table says so (a DELETE carries at most the
   * key: what the target holds stays, the flags and, in the primary table, the version are set), otherwise removed.
   * One statement for all of them (one per version where the version is set).
   */
  private removals(table: StagingTable, isPrimary: boolean, records: OutboundRecord[]): Statement[] {
    const d = this.driver;
    const { versionColumn } = this.endpoint;
    if (!table.softDelete) {
      const keys = records.map((r) => r.key);
      return [{ sql: `DELETE FROM ${d.quote(table.table)} WHERE ${d.quote(table.key)} IN (${this.paramList(1, keys.length)})`, params: keys }];
    }
    const flags: [string, SqlValue][] = Object.entries(table.softDelete).map(([c, v]) => [c, toSqlValue(v)]);
    const setVersion = isPrimary && versionColumn !== undefined;
    if (flags.length === 0 && !setVersion) return []; // `softDelete: {}`: the row stays as it is
    const byVersion = new Map<number | null, string[]>();
    for (const r of records) {
      const v = setVersion ? r.version : null;
      byVersion.set(v, [...(byVersion.get(v) ?? []), r.key]);
    }
    return [...byVersion].map(([version, keys]) => {
      const set: [string, SqlValue][] = version === null ? flags : [...flags, [versionColumn!, version]];
      const assignments = set.map(([c], i) => `${d.quote(c)} = ${d.param(i + 1)}`).join(', ');
      return {
        sql: `UPDATE ${d.quote(table.table)} SET ${assignments} WHERE ${d.quote(table.key)} IN (${this.paramList(set.length + 1, keys.length)})`,
        params: [...set.map(([, v]) => v), ...keys],
      };
    });
  }

  /**
   * Every table's configured columns for one key (or all keys), merged per key, plus the version. Only keys with a
   * row in the primary table count as held: a soft-deleted row left in another table is history, not a record.
   */
  private async readRows(s: StagingSession, key: string | null): Promise<Map<string, Row>> {
    const d = this.driver;
    const held = new Map<string, Row>();
    for (const table of this.endpoint.tables) {
      const isPrimary = table === this.primary;
      const columns = table.columns.filter((c) => c !== table.key);
      if (isPrimary && this.endpoint.versionColumn && !columns.includes(this.endpoint.versionColumn)) columns.push(this.endpoint.versionColumn);
      const select = [table.key, ...columns].map((c) => d.quote(c)).join(', ');
      const where = key === null ? '' : ` WHERE ${d.quote(table.key)} = ${d.param(1)}`;
      const rows = await s.query(`SELECT ${select} FROM ${d.quote(table.table)}${where}`, key === null ? [] : [key]);
      for (const row of rows) {
        const rowKey = String(row[table.key]);
        if (!isPrimary && !held.has(rowKey)) continue;
        const merged = held.get(rowKey) ?? {};
        for (const c of columns) merged[c] = row[c];
        held.set(rowKey, merged);
      }
    }
    return held;
  }
}

function parseEndpoint(endpoint: unknown): SqlStagingEndpoint {
  const parsed = sqlStagingEndpointSchema.safeParse(endpoint);
  if (!parsed.success) throw new Error(describeEndpointProblem('sql-staging', parsed.error));
  return parsed.data;
}

function connectionSettings(targetName: string, endpoint: SqlStagingEndpoint, credentials: Record<string, string>): ConnectionSettings {
  const urlText = credentials['url'] && credentials['url'].trim() !== '' ? credentials['url'] : endpoint.url;
  if (!URL.canParse(urlText)) throw new Error(`${targetName}: credentials.url is not a URL`);
  const url = new URL(urlText);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database) throw new Error(`${targetName}: the staging URL must name the database`);
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    user: credentials['username'] ?? (url.username ? decodeURIComponent(url.username) : undefined),
    password: credentials['password'] ?? (url.password ? decodeURIComponent(url.password) : undefined),
    database,
    poolSize: endpoint.poolSize,
    lockWaitMs: endpoint.lockWaitMs,
    connectTimeoutMs: endpoint.connectTimeoutMs,
  };
}

export const sqlStagingAdapterFactory: AdapterFactory = {
  protocol: 'sql-staging',
  validateEndpoint(endpoint: unknown): void {
    parseEndpoint(endpoint);
  },
  create(target) {
    const endpoint = parseEndpoint(target.endpoint);
    const settings = connectionSettings(target.name, endpoint, target.credentials);
    const driver = endpoint.driver === 'mysql' ? new MysqlDriver(settings) : new PostgresDriver(settings);
    return new SqlStagingAdapter(endpoint, driver);
  },
};
