import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import { Simulator } from './chaos';

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(value));
}

/**
 * The simulators' control API (tests and people drive it with curl):
 *   GET  /sims                       names and addresses
 *   GET  /sims/:name/records         what the simulated system holds
 *   POST /sims/:name/chaos           {latencyMs, failRate, rate429, rate503, timeoutRate, downUntil, duplicateAckRate}
 *   POST /sims/:name/down?ms=5000    down for a while
 *   POST /sims/:name/reset           forget records and chaos
 */
export function controlServer(sims: Simulator[]): Server {
  const byName = new Map(sims.map((s) => [s.name, s]));
  return createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://sim');
      const parts = url.pathname.split('/').filter(Boolean);
      if (parts[0] !== 'sims') return send(res, 404, { error: 'not found' });
      if (parts.length === 1) return send(res, 200, sims.map((s) => ({ name: s.name, at: s.describe(), chaos: s.chaos.current() })));
      const sim = byName.get(parts[1]);
      if (!sim) return send(res, 404, { error: `no simulator ${parts[1]}` });
      const action = parts[2];
      if (req.method === 'GET' && action === 'records') return send(res, 200, await sim.records());
      if (req.method === 'POST' && action === 'chaos') return send(res, 200, sim.chaos.set(JSON.parse((await body(req)) || '{}')));
      if (req.method === 'POST' && action === 'down') {
        const ms = Number(url.searchParams.get('ms') ?? '5000');
        return send(res, 200, sim.chaos.set({ downUntil: Date.now() + ms }));
      }
      if (req.method === 'POST' && action === 'reset') {
        sim.chaos.reset();
        await sim.reset();
        return send(res, 200, { ok: true });
      }
      return send(res, 404, { error: 'unknown action' });
    } catch (err) {
      return send(res, 400, { error: err instanceof Error ? err.message : String(err) });
    }
  });
}
