import { Module } from '@nestjs/common';
import { ConfigModule, DatabaseModule, RedisModule } from '@linli/core';
import { SyncWorkerModule } from '@linli/sync';

/** The worker process (no GraphQL): the sync hub's relay, queue workers, batch schedules and reconciler. */
@Module({ imports: [ConfigModule, DatabaseModule, RedisModule, SyncWorkerModule] })
export class WorkerModule {}
