import { readdirSync, readFileSync } from 'fs';

/**
 * BENCH ONLY: where the CPU went during a phase, from /proc (Linux; elsewhere null). In cores: 1.00 = one core busy.
 * Groups: the process under test (the hub's worker or the raw BullMQ consumer), this process (load generator and
 * simulators), the PostgreSQL backends of the bench database, MariaDB (the zz-grid simulator's database), Redis,
 * and everything else on the machine.
 */

const TICKS_PER_SECOND = 100; // USER_HZ

interface ProcInfo {
  pid: number;
  comm: string;
  cmdline: string;
  ticks: number;
}

export interface CpuSample {
  at: number;
  machineBusy: number;
  procs: Map<number, ProcInfo>;
  selfMicros: number;
}

export interface CpuSplit {
  phase: string;
  child: number;
  bench: number;
  postgres: number;
  mariadb: number;
  redis: number;
  other: number;
  machine: number;
}

function readTicks(pid: string): { ticks: number; comm: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ticks: Number(fields[11]) + Number(fields[12]), comm };
  } catch {
    return null;
  }
}

function machineBusyTicks(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const n = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (n[3] ?? 0) + (n[4] ?? 0);
  return n.slice(0, 8).reduce((a, b) => a + b, 0) - idle;
}

export function sampleCpu(): CpuSample | null {
  if (process.platform !== 'linux') return null;
  try {
    const procs = new Map<number, ProcInfo>();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const t = readTicks(entry);
      if (!t) continue;
      let cmdline = '';
      if (t.comm.startsWith('postgres')) {
        try {
          cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
        } catch {
          continue;
        }
      }
      procs.set(Number(entry), { pid: Number(entry), comm: t.comm, cmdline, ticks: t.ticks });
    }
    const usage = process.cpuUsage();
    return { at: Date.now(), machineBusy: machineBusyTicks(), procs, selfMicros: usage.user + usage.system };
  } catch {
    return null;
  }
}

export function cpuSplit(phase: string, before: CpuSample | null, after: CpuSample | null, childPid: number | undefined, database: string): CpuSplit | null {
  if (!before || !after) return null;
  const seconds = (after.at - before.at) / 1000;
  if (seconds <= 0) return null;
  const cores = (ticks: number) => ticks / TICKS_PER_SECOND / seconds;
  let child = 0;
  let postgres = 0;
  let mariadb = 0;
  let redis = 0;
  for (const [pid, p] of after.procs) {
    if (pid === process.pid) continue;
    const delta = p.ticks - (before.procs.get(pid)?.ticks ?? 0);
    if (pid === childPid) child += delta;
    else if (p.comm.startsWith('postgres') && p.cmdline.includes(` ${database} `)) postgres += delta;
    else if (p.comm === 'mariadbd' || p.comm === 'mysqld') mariadb += delta;
    else if (p.comm.startsWith('redis-server')) redis += delta;
  }
  const bench = (after.selfMicros - before.selfMicros) / 1e6 / seconds;
  const machine = cores(after.machineBusy - before.machineBusy);
  const split = { phase, child: cores(child), bench, postgres: cores(postgres), mariadb: cores(mariadb), redis: cores(redis), other: 0, machine };
  split.other = Math.max(0, machine - split.child - split.bench - split.postgres - split.mariadb - split.redis);
  return split;
}
