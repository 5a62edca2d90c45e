import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Per-target counters and latency histograms, served by the worker on METRICS_PORT (/metrics). */
export class SyncMetrics {
  readonly registry = new Registry();
  readonly delivered = new Counter({ name: 'linli_sync_delivered_total', help: 'Records acknowledged by a target', labelNames: ['target'], registers: [this.registry] });
  readonly retried = new Counter({ name: 'linli_sync_retried_total', help: 'Delivery attempts to be retried', labelNames: ['target', 'counted'], registers: [this.registry] });
  readonly deadLettered = new Counter({ name: 'linli_sync_dead_letters_total', help: 'Records moved to dead letters', labelNames: ['target'], registers: [this.registry] });
  readonly staleSkipped = new Counter({ name: 'linli_sync_stale_skipped_total', help: 'Older versions arriving after a newer one, not sent', labelNames: ['target'], registers: [this.registry] });
  readonly relayed = new Counter({ name: 'linli_sync_outbox_relayed_total', help: 'Outbox events relayed to queues', registers: [this.registry] });
  readonly commitToAck = new Histogram({
    name: 'linli_sync_commit_to_ack_seconds', help: 'From the register commit to the target\'s acknowledgement', labelNames: ['target'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300], registers: [this.registry],
  });
  readonly attemptSeconds = new Histogram({
    name: 'linli_sync_attempt_seconds', help: 'Duration of one delivery attempt', labelNames: ['target'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5], registers: [this.registry],
  });
  readonly queueDepth = new Gauge({ name: 'linli_sync_queue_depth', help: 'Jobs waiting or delayed per target', labelNames: ['target'], registers: [this.registry] });
}
