import { execFileSync } from 'child_process';
import { mkdtempSync, readFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { eventually } from './support/sync-harness';
import { API_MAIN, freePort, startProcess, WorkerProcess } from './support/processes';
import { API_WORKER_V8_FLAGS } from '../apps/api/src/cluster';

/** The pids of a process's children (the API's workers under its cluster primary). */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
  } catch {
    return []; // ps exits 1 when there are none
  }
}

async function healthy(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2_000) });
    return res.status === 200;
  } catch {
    return false;
  }
}

describe('the API in several processes (API_PROCESSES)', () => {
  let api: WorkerProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    // No sync targets: this test is about the processes, and the committed targets need legacy credentials.
    api = startProcess(API_MAIN, { PORT: String(port), API_PROCESSES: '2', SYNC_TARGETS_DIR: mkdtempSync(join(tmpdir(), 'linli-no-targets-')), LOG_LEVEL: 'info' });
    await eventually(() => healthy(port), 30_000, 'the API answering /health');
  }, 40_000);
  afterAll(() => {
    if (api.child.exitCode === null) api.child.kill('SIGKILL');
  });

  it('serves one port from two worker processes and replaces a worker that dies', async () => {
    await eventually(async () => childrenOf(api.child.pid!).length === 2, 20_000, 'two workers');
    for (const pid of childrenOf(api.child.pid!)) {
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toEqual(expect.arrayContaining(API_WORKER_V8_FLAGS));
    }
    const [victim] = childrenOf(api.child.pid!);
    process.kill(victim, 'SIGKILL');
    await eventually(async () => {
      const now = childrenOf(api.child.pid!);
      return now.length === 2 && !now.includes(victim);
    }, 20_000, 'a new worker in place of the killed one');
    await eventually(() => healthy(port), 20_000, 'the API answering after the replacement');
    const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ codeList(name: SEX) { code } }' }),
    });
    expect(res.status).toBeLessThan(500);
    expect(api.output()).toMatch(/API worker exited unexpectedly; starting another/);
  }, 60_000);

  it('stops every worker and exits 0 on SIGTERM', async () => {
    const workers = childrenOf(api.child.pid!);
    expect(workers).toHaveLength(2);
    api.child.kill('SIGTERM');
    const { code } = await api.exited;
    expect(code).toBe(0);
    for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow(); // gone
    expect(await healthy(port)).toBe(false);
  }, 40_000);
});
