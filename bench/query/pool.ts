import { DataSource } from 'typeorm';

/**
 * What the server's database connections are doing during a measurement, sampled from pg_stat_activity every
 * `intervalMs`: running a statement, waiting on an advisory lock (the audit chain), waiting on another lock, idle
 * inside a transaction (waiting for the Node process to send the next statement), idle in the pool.
 * Averages over the samples, in connections.
 */

export interface PoolSnapshot {
  samples: number;
  running: number;
  advisoryWait: number;
  otherWait: number;
  idleInTransaction: number;
  idle: number;
}

export interface PoolSampler {
  stop(): Promise<PoolSnapshot>;
}

export function samplePool(ds: DataSource, database: string, applicationName: string, intervalMs = 500): PoolSampler {
  const sums = { running: 0, advisoryWait: 0, otherWait: 0, idleInTransaction: 0, idle: 0 };
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const rows = (await ds.query(
        `SELECT count(*) FILTER (WHERE state = 'active' AND wait_event_type = 'Lock' AND wait_event = 'advisory')::int AS advisory,
                count(*) FILTER (WHERE state = 'active' AND wait_event_type = 'Lock' AND wait_event <> 'advisory')::int AS other_lock,
                count(*) FILTER (WHERE state = 'active' AND wait_event_type IS DISTINCT FROM 'Lock')::int AS running,
                count(*) FILTER (WHERE state LIKE 'idle in transaction%')::int AS idle_tx,
                count(*) FILTER (WHERE state = 'idle')::int AS idle
           FROM pg_stat_activity WHERE datname = $1 AND application_name = $2`,
        [database, applicationName],
      ).catch(() => [])) as { advisory: number; other_lock: number; running: number; idle_tx: number; idle: number }[];
      const r = rows[0];
      if (r) {
        samples += 1;
        sums.running += r.running;
        sums.advisoryWait += r.advisory;
        sums.otherWait += r.other_lock;
        sums.idleInTransaction += r.idle_tx;
        sums.idle += r.idle;
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      const avg = (v: number) => (samples ? v / samples : 0);
      return {
        samples, running: avg(sums.running), advisoryWait: avg(sums.advisoryWait), otherWait: avg(sums.otherWait),
        idleInTransaction: avg(sums.idleInTransaction), idle: avg(sums.idle),
      };
    },
  };
}

export function formatPool(p: PoolSnapshot | null): string {
  if (!p || p.samples === 0) return 'n/a';
  const f = (v: number) => v.toFixed(1);
  return `running ${f(p.running)}, waiting on the advisory lock ${f(p.advisoryWait)}, waiting on other locks ${f(p.otherWait)}, `
    + `idle in transaction ${f(p.idleInTransaction)}, idle ${f(p.idle)} (${p.samples} samples)`;
}
