import 'reflect-metadata';
/** Loaded before every test file: tests run against their own database on the machine's PostgreSQL. */
process.env.NODE_ENV = 'test';
process.env.DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@localhost:5432/linli_test';
process.env.LOG_LEVEL = process.env.LOG_LEVEL ?? 'silent';
