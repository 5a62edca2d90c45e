import { readdirSync, readFileSync } from 'fs';

/**
 * Where the CPU went during a measurement, from /proc (Linux only; elsewhere `sample` returns null):
 * the server under test, the PostgreSQL backends of the bench database, this process (autocannon), and everything
 * else on the machine (other PostgreSQL work, other users' processes). In cores: 1.0 = one core fully busy.
 */

const TICKS_PER_SECOND = 100; // USER_HZ; 100 on every mainstream Linux build

export interface CpuSample {
  at: number;
  /** Busy ticks of the whole machine (all CPUs). */
  machineBusy: number;
  server: number;
  /** Per backend pid, so backends opened during the measurement count from zero. */
  postgres: Map<number, number>;
  /** This process, microseconds. */
  selfMicros: number;
  /** Per worker process: its main thread's nanoseconds on a CPU and waiting for one (/proc/<pid>/schedstat). */
  workerSched: Map<number, [number, number]>;
}

export interface CpuSplit {
  server: number;
  postgres: number;
  autocannon: number;
  other: number;
  machine: number;
  /**
   * Where the server's JavaScript thread (each worker's main thread, averaged) spent the wall time: on a CPU, ready but
   * waiting for one (preempted by PostgreSQL, autocannon or the other worker), or asleep with nothing to do (every
   * request waiting on I/O). Null when the kernel keeps no schedstat.
   */
  thread: { running: number; waiting: number; idle: number } | null;
}

/** A /proc/<pid>/stat line: the command name, and the fields after it (which may contain spaces): state, ppid, … */
function readStat(pid: number): { comm: string; fields: string[] } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    return { comm: stat.slice(stat.indexOf('(') + 1, close), fields: stat.slice(close + 2).split(' ') };
  } catch {
    return null;
  }
}

/** utime + stime of a /proc/<pid>/stat line split into fields. */
function ticksOf(fields: string[]): number {
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * One walk of /proc: the server's own ticks, its children (the workers under the API's cluster primary) and the
 * PostgreSQL backends connected to `database` (their command line reads `postgres: … <user> <database> <host>`).
 */
function scanProcesses(serverPid: number, database: string): { server: number; workers: number[]; postgres: Map<number, number> } | null {
  const own = readStat(serverPid);
  if (!own) return null;
  let server = ticksOf(own.fields);
  const workers: number[] = [];
  const postgres = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const stat = readStat(pid);
    if (!stat) continue;
    if (Number(stat.fields[1]) === serverPid) {
      server += ticksOf(stat.fields);
      workers.push(pid);
    } else if (stat.comm === 'postgres') {
      let cmdline: string;
      try {
        cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      } catch {
        continue;
      }
      if (cmdline.startsWith('postgres:') && cmdline.includes(` ${database} `)) postgres.set(pid, ticksOf(stat.fields));
    }
  }
  return { server, workers, postgres };
}

/** A process's main thread: nanoseconds run and waited for a CPU, or null without schedstat. */
function mainThreadSched(pid: number): [number, number] | null {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return Number.isFinite(run) && Number.isFinite(wait) ? [run, wait] : null;
  } catch {
    return null;
  }
}

function machineBusyTicks(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, ...values] = line.trim().split(/\s+/);
  const n = values.map(Number);
  const idle = (n[3] ?? 0) + (n[4] ?? 0); // idle + iowait
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0); // without guest time (already in user)
  return total - idle;
}

export function sampleCpu(serverPid: number | undefined, database: string): CpuSample | null {
  if (process.platform !== 'linux' || serverPid === undefined) return null;
  try {
    const scan = scanProcesses(serverPid, database);
    if (!scan) return null;
    // The JavaScript runs in the workers; a server without any runs it in its own process.
    const workerSched = new Map<number, [number, number]>();
    for (const pid of scan.workers.length ? scan.workers : [serverPid]) {
      const sched = mainThreadSched(pid);
      if (sched) workerSched.set(pid, sched);
    }
    const usage = process.cpuUsage();
    return { at: Date.now(), machineBusy: machineBusyTicks(), server: scan.server, postgres: scan.postgres, selfMicros: usage.user + usage.system, workerSched };
  } catch {
    return null;
  }
}

export function cpuSplit(before: CpuSample | null, after: CpuSample | null): CpuSplit | null {
  if (!before || !after) return null;
  const seconds = (after.at - before.at) / 1000;
  if (seconds <= 0) return null;
  let pgTicks = 0;
  for (const [pid, ticks] of after.postgres) pgTicks += ticks - (before.postgres.get(pid) ?? 0);
  const cores = (ticks: number) => ticks / TICKS_PER_SECOND / seconds;
  const server = cores(after.server - before.server);
  const postgres = cores(pgTicks);
  const autocannon = (after.selfMicros - before.selfMicros) / 1e6 / seconds;
  const machine = cores(after.machineBusy - before.machineBusy);
  return { server, postgres, autocannon, other: Math.max(0, machine - server - postgres - autocannon), machine, thread: threadSplit(before, after, seconds) };
}

/** The workers' main threads' time split (workers present at both samples only). */
function threadSplit(before: CpuSample, after: CpuSample, seconds: number): CpuSplit['thread'] {
  let run = 0;
  let wait = 0;
  let threads = 0;
  for (const [pid, [runAfter, waitAfter]] of after.workerSched) {
    const start = before.workerSched.get(pid);
    if (!start) continue;
    run += runAfter - start[0];
    wait += waitAfter - start[1];
    threads += 1;
  }
  if (threads === 0) return null;
  const wall = seconds * 1e9 * threads;
  const running = run / wall;
  const waiting = wait / wall;
  return { running, waiting, idle: Math.max(0, 1 - running - waiting) };
}

/** The average of several splits (the rounds of one measurement). */
export function averageSplits(splits: CpuSplit[]): CpuSplit | null {
  if (splits.length === 0) return null;
  const avg = (f: (s: CpuSplit) => number) => splits.reduce((a, s) => a + f(s), 0) / splits.length;
  const threads = splits.map((s) => s.thread).filter((t): t is NonNullable<CpuSplit['thread']> => t !== null);
  const avgThread = (k: 'running' | 'waiting' | 'idle') => threads.reduce((a, t) => a + t[k], 0) / threads.length;
  return {
    server: avg((s) => s.server), postgres: avg((s) => s.postgres), autocannon: avg((s) => s.autocannon), other: avg((s) => s.other), machine: avg((s) => s.machine),
    thread: threads.length ? { running: avgThread('running'), waiting: avgThread('waiting'), idle: avgThread('idle') } : null,
  };
}

export function formatSplit(split: CpuSplit | null): string {
  if (!split) return 'n/a';
  const f = (v: number) => v.toFixed(2);
  const pct = (v: number) => `${Math.round(v * 100)} %`;
  const thread = split.thread
    ? `; server's JavaScript thread running ${pct(split.thread.running)}, waiting for a CPU ${pct(split.thread.waiting)}, idle ${pct(split.thread.idle)}`
    : '';
  return `server ${f(split.server)} + postgres ${f(split.postgres)} + autocannon ${f(split.autocannon)} + other ${f(split.other)} = ${f(split.machine)} cores${thread}`;
}
