import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import Redis from 'ioredis';
import { REDIS } from '@linli/core';
import { WorkerModule } from '../worker.module';

describe('worker process context', () => {
  it('boots without HTTP, reaches PostgreSQL and Redis, and closes both connections on shutdown', async () => {
    const app = await NestFactory.createApplicationContext(WorkerModule, { logger: false });
    const db = app.get(DataSource);
    const redis = app.get<Redis>(REDIS);
    expect(await db.query('SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
    expect(await redis.ping()).toBe('PONG');
    await app.close();
    expect(db.isInitialized).toBe(false);
    expect(redis.status).toBe('end');
  });
});
