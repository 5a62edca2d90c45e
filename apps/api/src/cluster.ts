import cluster, { Worker } from 'cluster';
import type { Logger } from 'pino';

/** A worker that dies this soon after it was forked counts as a crash at start-up. */
const EARLY_EXIT_MS = 10_000;
/** Start-up crashes in a row after which the primary gives up (a bad configuration, a port in use). */
const MAX_EARLY_EXITS = 3;
/** How long workers get to finish their requests after SIGTERM before they are killed. */
const SHUTDOWN_GRACE_MS = 30_000;

/**
 * V8 flags of every API worker, here so that every way of starting the API (npm start, the container, the benches)
 * runs it alike. A young generation of 64 MB semi-spaces instead of V8's 16 MB: a request's objects (rows, DTOs, the
 * response, the audit row that waits a few ms for company) mostly die young instead of being promoted and collected
 * by the far dearer old-generation GC. In bench:query this took the full platform's page from 171 to 206–208 req/s
 * on the same machine, at ~150 MB more address space per process.
 */
export const API_WORKER_V8_FLAGS = ['--max-semi-space-size=64'];

/**
 * Runs the API in `processes` worker processes that share one listening port (node:cluster), started with
 * API_WORKER_V8_FLAGS. On a machine with cores to spare beside PostgreSQL, a process per core uses them.
 * The workers share nothing in memory: whatever must hold across them lives in PostgreSQL or Redis (the audit
 * chain, the per-principal query budget, sessions).
 *
 * The primary only supervises: it forks the workers, replaces one that dies unexpectedly (and gives up, exiting 1,
 * when workers keep dying at start-up), and on SIGTERM / SIGINT passes the signal on, waits for every worker to
 * finish its shutdown hooks (up to 30 s, then kills them) and exits.
 */
export function runClustered(processes: number, logger: Logger): void {
  let shuttingDown = false;
  let earlyExits = 0;
  const startedAt = new Map<number, number>();

  const fork = (): Worker => {
    const worker = cluster.fork();
    startedAt.set(worker.id, Date.now());
    return worker;
  };

  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker.id) ?? 0);
    startedAt.delete(worker.id);
    const remaining = Object.keys(cluster.workers ?? {}).length;
    if (shuttingDown) {
      if (remaining === 0) process.exit(process.exitCode ?? 0);
      return;
    }
    earlyExits = lived < EARLY_EXIT_MS ? earlyExits + 1 : 0;
    if (earlyExits >= MAX_EARLY_EXITS) {
      logger.fatal({ pid: worker.process.pid, code, signal }, `API workers keep exiting at start-up (${earlyExits} in a row); giving up`);
      process.exitCode = 1;
      shutdown('SIGTERM');
      return;
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'API worker exited unexpectedly; starting another');
    fork();
  });

  const shutdown = (signal: NodeJS.Signals): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'API primary: stopping the workers');
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    if (workers.length === 0) process.exit(process.exitCode ?? 0);
    for (const w of workers) w.process.kill(signal);
    setTimeout(() => {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  cluster.setupPrimary({ execArgv: [...process.execArgv, ...API_WORKER_V8_FLAGS] });
  for (let i = 0; i < processes; i++) fork();
}
