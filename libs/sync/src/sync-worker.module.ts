import { Module } from '@nestjs/common';
import { SyncModule } from './sync.module';
import { SyncWorkerHost } from './sync-worker.host';

/** The sync hub as the worker runs it: relay, queue workers, batch schedules, reconciler, metrics. */
@Module({ imports: [SyncModule], providers: [SyncWorkerHost], exports: [SyncWorkerHost] })
export class SyncWorkerModule {}
