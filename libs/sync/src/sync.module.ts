import { Module } from '@nestjs/common';
import { AppConfig } from '@linli/core';
import { TargetRegistry } from './targets/target-registry';
import { createQueues, SYNC_QUEUES, SyncService } from './sync.service';
import { SyncResolver } from './sync.resolver';

/** The sync hub as the API sees it: targets, queues (producing only), status, dead letters, replays, dry runs. */
@Module({
  providers: [
    { provide: TargetRegistry, inject: [AppConfig], useFactory: (config: AppConfig) => new TargetRegistry(config) },
    { provide: SYNC_QUEUES, inject: [TargetRegistry, AppConfig], useFactory: (registry: TargetRegistry, config: AppConfig) => createQueues(registry, config.get('REDIS_URL')) },
    SyncService,
    SyncResolver,
  ],
  exports: [SyncService, TargetRegistry, SYNC_QUEUES],
})
export class SyncModule {}
