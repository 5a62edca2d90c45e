import { Inject, Injectable, OnApplicationBootstrap, BeforeApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Job, Queue, Worker } from 'bullmq';
import { createServer, Server } from 'http';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AppConfig, createLogger } from '@linli/core';
import { BatchRunJob, DeliverJob, queueName, SyncJobName } from './jobs/sync-jobs';
import { TargetRegistry } from './targets/target-registry';
import { enqueueBatchRun, SYNC_QUEUES } from './sync.service';
import { bullConnection, requireNoEviction } from './redis-connection';
import { OutboxRelay } from './outbox-relay';
import { backoffWithJitter, DeliveryProcessor } from './delivery.processor';
import { BatchRunner } from './batch.runner';
import { Reconciler, upsertBatchScheduler } from './reconciler';
import { SyncStateStore } from './sync-state.store';
import { SyncMetrics } from './sync-metrics';

/**
 * The worker's sync machinery: relay, one BullMQ worker per target (its own concurrency and rate limit), batch
 * schedules, the periodic reconciler and the metrics endpoint. On SIGTERM the relay stops, workers finish their
 * active jobs (or BullMQ hands them back as stalled), then connections close.
 */
@Injectable()
export class SyncWorkerHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly metrics = new SyncMetrics();
  private readonly logger: Logger;
  private relay: OutboxRelay | null = null;
  readonly workers: Worker[] = [];
  private reconcileTimer: NodeJS.Timeout | null = null;
  private metricsServer: Server | null = null;
  private reconciler: Reconciler;
  private delivery: DeliveryProcessor | null = null;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly registry: TargetRegistry,
    @Inject(SYNC_QUEUES) private readonly queues: Map<string, Queue>,
    private readonly config: AppConfig,
  ) {
    this.logger = createLogger(config.get('LOG_LEVEL'), 'sync');
    this.reconciler = new Reconciler(ds, registry.targets, queues);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.registry.requireCredentials();
    const check = bullConnection(this.config.get('REDIS_URL'));
    try {
      await requireNoEviction(check);
    } finally {
      await check.quit().catch(() => undefined);
    }
    const redisUrl = this.config.get('REDIS_URL');
    const delivery = new DeliveryProcessor(this.ds, this.registry, this.metrics, this.logger, this.config.get('DATABASE_URL'));
    this.delivery = delivery;
    const batch = new BatchRunner(this.ds, this.registry, this.metrics);
    for (const t of this.registry.targets) {
      const worker = new Worker(
        queueName(t.name),
        async (job: Job<DeliverJob | BatchRunJob>, token?: string) => {
          if (job.name === SyncJobName.DELIVER) return delivery.process(job as Job<DeliverJob>, token);
          if (job.name === SyncJobName.BATCH_RUN) {
            const outcome = await batch.run(t, AbortSignal.timeout(Math.max(60_000, t.limits.timeoutMs * 4)));
            if (outcome === 'UPLOADED_WAITING' || outcome === 'BUSY') {
              // The target has not answered yet, or another run of this target is in progress: look again
              // shortly, without using an attempt.
              await job.moveToDelayed(Date.now() + 2000, token);
              const { DelayedError } = await import('bullmq');
              throw new DelayedError();
            }
            return outcome;
          }
          throw new Error(`unknown job ${job.name}`);
        },
        {
          connection: bullConnection(redisUrl),
          concurrency: t.limits.concurrency,
          limiter: { max: Math.max(1, Math.round(t.limits.ratePerSecond)), duration: 1000 },
          settings: { backoffStrategy: (attemptsMade: number) => backoffWithJitter(attemptsMade, t.retry.backoffMs, t.retry.maxBackoffMs) },
          // A worker that dies mid-job (SIGKILL) stops renewing its lock; another worker takes the job over once
          // the lock expires, so keep the lock short: a few delivery timeouts.
          lockDuration: Math.max(5_000, t.limits.timeoutMs * 3),
          stalledInterval: Math.max(5_000, t.limits.timeoutMs * 3),
          autorun: true,
        },
      );
      worker.on('error', (err) => this.logger.warn({ target: t.name, err: err.message }, 'queue worker error'));
      // A job that failed for good on something other than the target's answer (a bug, a broken adapter): the record
      // is not forgotten, it waits in dead letters with the reason, and its state says FAILED.
      worker.on('failed', (job, err) => {
        if (!job || job.name !== SyncJobName.DELIVER || job.attemptsMade < (job.opts.attempts ?? 1)) return;
        const data = job.data as DeliverJob;
        const store = new SyncStateStore(this.ds.manager);
        void store.deadLetter(t.name, data.aggregateId, data.version, `GAVE UP: ${err.message}`)
          .then(() => store.failedAttempt(t.name, data.aggregateId, err.message, 'FAILED'))
          .catch((e: unknown) => this.logger.error({ target: t.name, err: e instanceof Error ? e.message : String(e) }, 'could not record a failed job'));
      });
      this.workers.push(worker);
      if (t.schedule.mode === 'batch') {
        // Registered again by every reconciler pass when Redis has lost it.
        await upsertBatchScheduler(this.queues.get(t.name)!, t);
      }
    }
    this.relay = new OutboxRelay(this.ds, this.registry.targets, this.queues, this.logger, this.metrics, this.config.get('SYNC_RELAY_INTERVAL_MS'), this.config.get('DATABASE_URL'));
    await this.relay.start();
    const every = this.config.get('SYNC_RECONCILE_INTERVAL_MS');
    this.reconcileTimer = setInterval(() => {
      this.reconciler.reconcileAll().catch((err: unknown) => this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'reconcile failed'));
    }, every);
    void this.reconciler.reconcileAll().catch((err: unknown) => this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'initial reconcile failed'));
    const port = this.config.get('METRICS_PORT');
    if (port > 0) {
      this.metricsServer = createServer(async (req, res) => {
        if (req.url !== '/metrics') {
          res.writeHead(404).end();
          return;
        }
        for (const [name, q] of this.queues) {
          const c = await q.getJobCounts('waiting', 'delayed', 'prioritized').catch(() => null);
          if (c) this.metrics.queueDepth.set({ target: name }, (c.waiting ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0));
        }
        res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
        res.end(await this.metrics.registry.metrics());
      });
      await new Promise<void>((resolve) => this.metricsServer!.listen(port, '127.0.0.1', resolve));
    }
    this.logger.info({ targets: this.registry.targets.map((t) => t.name) }, 'sync hub running');
  }

  /** Runs one batch target now (tests; operators use runSyncBatch or `npm run sync -- run-batch`). */
  async runBatchNow(target: string): Promise<void> {
    await enqueueBatchRun(this.queues.get(target)!, target);
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    await this.relay?.stop();
    // close() waits for active jobs to finish; jobs it cannot finish are returned to the queue as stalled.
    await Promise.allSettled(this.workers.map((w) => w.close()));
    await this.delivery?.close().catch(() => undefined);
    await new Promise<void>((resolve) => (this.metricsServer ? this.metricsServer.close(() => resolve()) : resolve()));
  }
}
