import { ChildProcess, spawn } from 'child_process';
import { createServer } from 'net';
import { join } from 'path';

/** The built worker and API (`npm test` builds before the suite runs). */
export const WORKER_MAIN = join(__dirname, '..', '..', 'dist', 'apps', 'worker', 'src', 'main.js');
export const API_MAIN = join(__dirname, '..', '..', 'dist', 'apps', 'api', 'src', 'main.js');

export interface WorkerProcess {
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** The worker as its own process, with this environment on top of the test's: started, killed, restarted. */
export function startWorker(env: Record<string, string>): WorkerProcess {
  return startProcess(WORKER_MAIN, env);
}

/** A built entry point (WORKER_MAIN, API_MAIN) as its own process, with this environment on top of the test's. */
export function startProcess(main: string, env: Record<string, string>): WorkerProcess {
  let out = '';
  const child = spawn(process.execPath, [main], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out, exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() }))) };
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
