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
}

export interface CpuSplit {
  server: number;
  postgres: number;
  autocannon: number;
  other: number;
  machine: number;
}

/** Fields of /proc/<pid>/stat after the command name (which may contain spaces): state, ppid, … */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** utime + stime of a /proc/<pid>/stat line split into fields. */
function ticksOf(fields: string[]): number {
  return Number(fields[11]) + Number(fields[12]);
}

function processTicks(pid: number): number | null {
  const fields = statFields(pid);
  return fields ? ticksOf(fields) : null;
}

/** A server process and its children (the workers of an API started with API_PROCESSES > 1). */
function serverTicks(pid: number): number | null {
  const own = processTicks(pid);
  if (own === null) return null;
  let total = own;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields && Number(fields[1]) === pid) total += ticksOf(fields);
  }
  return total;
}

function machineBusyTicks(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, ...values] = line.trim().split(/\s+/);
  const n = values.map(Number);
  const idle = (n[3] ?? 0) + (n[4] ?? 0); // idle + iowait
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0); // without guest time (already in user)
  return total - idle;
}

/** PostgreSQL backends connected to `database` (their command line reads `postgres: … <user> <database> <host>`). */
function postgresBackends(database: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (!cmdline.startsWith('postgres:') || !cmdline.includes(` ${database} `)) continue;
    const ticks = processTicks(Number(entry));
    if (ticks !== null) out.set(Number(entry), ticks);
  }
  return out;
}

export function sampleCpu(serverPid: number | undefined, database: string): CpuSample | null {
  if (process.platform !== 'linux' || serverPid === undefined) return null;
  try {
    const server = serverTicks(serverPid);
    if (server === null) return null;
    const usage = process.cpuUsage();
    return { at: Date.now(), machineBusy: machineBusyTicks(), server, postgres: postgresBackends(database), selfMicros: usage.user + usage.system };
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
  return { server, postgres, autocannon, other: Math.max(0, machine - server - postgres - autocannon), machine };
}

export function formatSplit(split: CpuSplit | null): string {
  if (!split) return 'n/a';
  const f = (v: number) => v.toFixed(2);
  return `server ${f(split.server)} + postgres ${f(split.postgres)} + autocannon ${f(split.autocannon)} + other ${f(split.other)} = ${f(split.machine)} cores`;
}
