import { Queue } from 'bullmq';
import { randomUUID } from 'crypto';
import Redis from 'ioredis';

/**
 * BENCH ONLY: the "raw BullMQ" reference of `npm run bench:sync`, producer side. One queue per hub target with the
 * hub's queue options (libs/sync/src/sync.service.ts createQueues) and jobs of the hub's DeliverJob shape; the
 * consumer runs in a child process (raw-queue.main.ts) with the hub's worker options.
 */

export interface RawQueueSpec {
  name: string;
  concurrency: number;
  ratePerSecond: number;
}

/** The hub's defaultJobOptions (createQueues): attempts, custom backoff, completed jobs kept for a day / 50,000. */
export const HUB_JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: 'custom' },
  removeOnComplete: { age: 24 * 3600, count: 50_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;

const LOW_WATER = 10_000;
const BATCH = 2000;

/**
 * A backlog the consumer cannot run dry: `fill` adds `perQueue` jobs to every queue before the measurement, then the
 * loop tops a queue up whenever it falls under LOW_WATER. `ranDry` tells whether a queue was ever seen empty (the
 * figure is then a lower bound).
 */
export class Backlog {
  private stopped = false;
  private loop: Promise<void> | null = null;
  private n = 0;
  ranDry = false;
  readonly queues: Queue[];

  constructor(private readonly connection: Redis, specs: RawQueueSpec[]) {
    this.queues = specs.map((s) => new Queue(s.name, { connection, defaultJobOptions: HUB_JOB_OPTIONS }));
  }

  async fill(perQueue: number): Promise<void> {
    for (const q of this.queues) for (let added = 0; added < perQueue; added += BATCH) await this.add(q);
  }

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        for (const q of this.queues) if (!this.stopped) await this.top(q);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  async obliterate(): Promise<void> {
    for (const q of this.queues) {
      await q.obliterate({ force: true }).catch(() => undefined);
      await q.close();
    }
  }

  private async top(q: Queue): Promise<void> {
    const waiting = await q.getWaitingCount();
    if (waiting === 0) this.ranDry = true;
    if (waiting < LOW_WATER) await this.add(q);
  }

  private async add(q: Queue): Promise<void> {
    const jobs = Array.from({ length: BATCH }, () => {
      this.n += 1;
      const data = { target: q.name, aggregateType: 'RESIDENT' as const, aggregateId: randomUUID(), event: this.n, version: 1 };
      return { name: 'deliver', data, opts: { jobId: `${data.target}|${data.aggregateId}|${data.event}` } };
    });
    await q.addBulk(jobs);
  }
}
