import { createHash } from 'crypto';
import type { Pool, PoolClient } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { QueryCounter } from './query-counter';

const names = new Map<string, string>();
/** Statement texts remembered; a caller that builds texts without bound would otherwise grow the map forever. */
const MAX_NAMES = 2_000;

function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `linli_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    if (names.size >= MAX_NAMES) names.clear();
    names.set(text, name);
  }
  return name;
}

/**
 * Runs a hot read as a **named prepared statement** on a pooled connection, outside any transaction: PostgreSQL parses
 * and plans it once per connection and then only binds and executes it. TypeORM's `query()` sends unnamed statements,
 * which PostgreSQL parses and plans on every call; for the register's lookup by ID number that was more than half of
 * the database's work (in a driver-level test on the 2-core bench machine: 4,600 lookups/s unnamed, 9,800 named).
 *
 * The statement's name is derived from its text, so the same text always reuses the same statement. Use it for
 * statements whose text comes from a bounded set (fixed SQL, or SQL assembled from a few optional filters), never
 * for text with values spliced in. After the first five executions PostgreSQL may switch a prepared statement to a
 * generic plan; the register's hot reads are index lookups and keyset scans whose plans do not depend on the values.
 * Counted by QueryCounter like TypeORM's statements. Needs a direct connection or session pooling (a transaction
 * pooler such as PgBouncer in transaction mode would lose the prepared statements between calls).
 */
export async function queryPrepared<T>(dataSource: DataSource, text: string, values: unknown[]): Promise<T[]> {
  return runNamed<T>((dataSource.driver as PostgresDriver).master as Pool, text, values);
}

/**
 * `queryPrepared` through an EntityManager: inside a transaction on the transaction's own connection (named statements
 * belong to a connection), otherwise on a pooled one.
 */
export async function queryPreparedIn<T>(m: EntityManager, text: string, values: unknown[]): Promise<T[]> {
  if (!m.queryRunner) return queryPrepared<T>(m.connection, text, values);
  return runNamed<T>((await m.queryRunner.connect()) as PoolClient, text, values);
}

async function runNamed<T>(on: Pool | PoolClient, text: string, values: unknown[]): Promise<T[]> {
  QueryCounter.shared.logQuery();
  const result = await on.query({ name: statementName(text), text, values });
  return result.rows as T[];
}
