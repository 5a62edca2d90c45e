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

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
