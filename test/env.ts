import 'reflect-metadata';
/** Loaded before every test file: tests run against their own database on the machine's PostgreSQL. */
process.env.NODE_ENV = 'test';
process.env.DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@localhost:5432/linli_test';
process.env.LOG_LEVEL = process.env.LOG_LEVEL ?? 'silent';
// Credentials the target files name (deploy/targets): development values for the simulators.
process.env.GA_LDRK_USER = process.env.GA_LDRK_USER ?? 'ldrk';
process.env.GA_LDRK_PASSWORD = process.env.GA_LDRK_PASSWORD ?? 'dev-ga-ldrk-password';
process.env.MZ_DIBAO_USER = process.env.MZ_DIBAO_USER ?? 'mzdibao';
process.env.MZ_DIBAO_PASSWORD = process.env.MZ_DIBAO_PASSWORD ?? 'dev-mz-dibao-password';
process.env.REST_INBOX_TOKEN = process.env.REST_INBOX_TOKEN ?? 'dev-rest-inbox-token';
process.env.METRICS_PORT = '0';
process.env.ZZ_GRID_DB_URL = process.env.ZZ_GRID_DB_URL ?? 'mysql://root@127.0.0.1:3306/zz_grid_sim';
