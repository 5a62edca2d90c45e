import 'reflect-metadata';
import { DataSource } from 'typeorm';
// Deep imports on purpose: the migration runner must not load the GraphQL types (it also runs in jest's
// globalSetup, where decorators registered in the parent process would poison the test processes' schema).
import { AppConfig } from '../../../libs/core/src/config/app-config';
import { postgresOptions } from '../../../libs/core/src/database/postgres-options';
import { syncCodeLists, syncOfficialDivisions } from '../../../libs/codes/src/reference-data';
import { syncTagDefinitions } from '../../../libs/registry/src/tags/tag-definitions.data';
import { syncAccessReferenceData } from '../../../libs/access/src/reference-data';
import { ALL_MIGRATIONS } from '../../../migrations';

/** Creates the database named in the URL when it does not exist yet (local development and CI). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const ds = new DataSource({ type: 'postgres', url: admin.toString() });
  await ds.initialize();
  try {
    const rows = await ds.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [name]);
    if (rows.length === 0) await ds.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await ds.destroy();
  }
}

/** Runs pending migrations, then brings reference data (code lists, official divisions, tag definitions) up to date. */
export async function migrate(config: AppConfig, log: (line: string) => void = () => undefined): Promise<void> {
  await ensureDatabase(config.get('DATABASE_URL'));
  const ds = new DataSource({ ...postgresOptions(config), migrations: ALL_MIGRATIONS, migrationsTransactionMode: 'each' });
  await ds.initialize();
  try {
    const applied = await ds.runMigrations();
    for (const m of applied) log(`applied migration ${m.name}`);
    await ds.transaction(async (manager) => {
      await syncCodeLists(manager);
      await syncOfficialDivisions(manager);
      await syncTagDefinitions(manager);
      await syncAccessReferenceData(manager);
    });
    log('reference data up to date');
  } finally {
    await ds.destroy();
  }
}

if (require.main === module) {
  migrate(AppConfig.fromEnv(), (line) => console.log(line)).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
