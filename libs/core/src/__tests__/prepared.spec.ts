import { DataSource } from 'typeorm';
import { PostgresDataSourceOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions';
import { postgresOptions } from '../database/postgres-options';
import { AppConfig } from '../config/app-config';
import { QueryCounter } from '../database/query-counter';
import { queryPrepared, queryPreparedIn } from '../database/prepared';

/** Against the test database: hot reads run as named prepared statements, reused per connection. */
describe('queryPrepared', () => {
  let ds: DataSource;
  beforeAll(async () => {
    ds = new DataSource({ ...(postgresOptions(AppConfig.fromEnv()) as PostgresDataSourceOptions), poolSize: 1 });
    await ds.initialize();
  });
  afterAll(() => ds.destroy());

  it('prepares a statement once per connection and then executes it by name, with its values', async () => {
    const text = 'SELECT name, statement, $1::int AS echo FROM pg_prepared_statements';
    const before = QueryCounter.shared.total;
    const first = await queryPrepared<{ name: string; statement: string; echo: number }>(ds, text, [7]);
    const second = await queryPrepared<{ name: string; statement: string; echo: number }>(ds, text, [8]);
    expect(QueryCounter.shared.total - before).toBe(2);
    // The session (one pooled connection) holds the statement under a name derived from its text, prepared once.
    const own = second.filter((r) => r.statement === text);
    expect(own).toHaveLength(1);
    expect(own[0]!.name).toMatch(/^linli_[0-9a-f]{20}$/);
    expect(first.find((r) => r.statement === text)?.name).toBe(own[0]!.name);
    expect(second[0]!.echo).toBe(8);
    // Another text gets a statement of its own beside it.
    const other = await queryPrepared<{ name: string }>(ds, 'SELECT name FROM pg_prepared_statements WHERE $1::bool', [true]);
    expect(other.map((r) => r.name)).toEqual(expect.arrayContaining([own[0]!.name]));
    expect(new Set(other.map((r) => r.name)).size).toBe(2);
  });

  it('inside a transaction runs on the transaction\'s connection: it sees the transaction\'s own uncommitted writes', async () => {
    const text = 'SELECT x FROM linli_prepared_probe WHERE x = ANY($1::int[]) ORDER BY x';
    await ds.query('CREATE TEMP TABLE IF NOT EXISTS linli_prepared_probe (x int)');
    await ds.transaction(async (m) => {
      await m.query('INSERT INTO linli_prepared_probe VALUES (1), (2), (3)');
      expect(await queryPreparedIn<{ x: number }>(m, text, [[2, 3]])).toEqual([{ x: 2 }, { x: 3 }]);
      const names = await m.query(`SELECT name FROM pg_prepared_statements WHERE statement = $1`, [text]);
      expect(names).toHaveLength(1);
    });
    // Outside a transaction the pooled connection serves it; the rolled-back rows are gone, the statement is reused.
    await ds.transaction(async (m) => {
      await m.query('INSERT INTO linli_prepared_probe VALUES (4)');
      throw new Error('roll back');
    }).catch(() => undefined);
    expect(await queryPreparedIn<{ x: number }>(ds.manager, text, [[2, 4]])).toEqual([{ x: 2 }]);
  });
});
