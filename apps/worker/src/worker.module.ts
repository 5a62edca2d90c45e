import { Module } from '@nestjs/common';
import { ConfigModule, DatabaseModule, RedisModule } from '@linli/core';

/** The worker process: no HTTP. It connects to PostgreSQL and Redis; sync jobs arrive with the sync issue. */
@Module({ imports: [ConfigModule, DatabaseModule, RedisModule] })
export class WorkerModule {}
