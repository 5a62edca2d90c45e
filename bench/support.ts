import { Client } from 'pg';

/** The machine's PostgreSQL as its superuser, for creating and dropping the benchmarks' own databases. */
export const ADMIN_URL = 'postgres://postgres@localhost:5432/postgres';

/** Runs one statement on the `postgres` database (CREATE / DROP DATABASE cannot run in the bench database itself). */
export async function adminQuery(sql: string): Promise<void> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * The server's version and the settings that change what a benchmark measures, as one row `{ label }`, e.g.
 * `15.20 (autovacuum off, synchronous_commit on, shared_buffers 128MB, max_wal_size 1GB)`. The CI machines run
 * PostgreSQL with autovacuum off, so figures say so.
 */
export const POSTGRES_LABEL_SQL = `SELECT split_part(version(), ' ', 2) || ' (' || concat_ws(', ',
  'autovacuum ' || current_setting('autovacuum'), 'synchronous_commit ' || current_setting('synchronous_commit'),
  'shared_buffers ' || current_setting('shared_buffers'), 'max_wal_size ' || current_setting('max_wal_size')) || ')' AS label`;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
