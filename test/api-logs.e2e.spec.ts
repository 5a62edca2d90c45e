import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { DataSource } from 'typeorm';
import { AppConfig, postgresOptions } from '@linli/core';
import { eventually } from './support/sync-harness';
import { API_MAIN, freePort, startProcess, WorkerProcess } from './support/processes';

interface LogLine {
  level: number;
  msg?: string;
  requestId?: string;
  [key: string]: unknown;
}

/** The API's log as an operator reads it: one JSON object per line (pino); anything else is kept as a message. */
function logLines(output: string): LogLine[] {
  return output.split('\n').filter((l) => l.trim()).map((l) => {
    try {
      return JSON.parse(l) as LogLine;
    } catch {
      return { level: 0, msg: l };
    }
  });
}

/**
 * What the API's log says about failed requests: an operator is alerted by error-level lines, so a refusal or a bad
 * input (expected outcomes) must not write one, and a fault must write exactly one, carrying the request id the
 * client was given.
 */
describe('the API log on refusals and faults', () => {
  let api: WorkerProcess;
  let url: string;
  let db: DataSource;
  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    api = startProcess(API_MAIN, { PORT: String(port), API_PROCESSES: '1', LOG_LEVEL: 'info', SYNC_TARGETS_DIR: mkdtempSync(join(tmpdir(), 'linli-no-targets-')) });
    await eventually(async () => (await fetch(`${url}/health`)).status === 200, 30_000, 'the API answering /health');
    db = await new DataSource(postgresOptions(AppConfig.fromEnv())).initialize();
  }, 40_000);
  afterAll(async () => {
    await db?.destroy();
    if (api?.child.exitCode === null) api.child.kill('SIGKILL');
  });

  async function post(query: string, headers: Record<string, string>): Promise<{ errors?: { extensions: Record<string, unknown> }[] }> {
    const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });
    return (await res.json()) as { errors?: { extensions: Record<string, unknown> }[] };
  }

  it('logs no error for refusals and bad input, and one error with the request id for a fault', async () => {
    const q = `{ households(first: 1) { totalCount } }`;
    expect((await post(q, { authorization: 'Bearer not-a-token' })).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await post(q, {})).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    const bad = await post(`{ residentByIdNumber(idNumber: "  ") { id } }`, { 'x-linli-dev-actor': 'log.test' });
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'idNumber' });

    await db.query(`ALTER TABLE household RENAME TO household_offline_logs`);
    try {
      const fault = await post(q, { 'x-linli-dev-actor': 'log.test', 'x-request-id': 'req-log-fault-1' });
      expect(fault.errors?.[0].extensions).toMatchObject({ code: 'INTERNAL', requestId: 'req-log-fault-1' });
    } finally {
      await db.query(`ALTER TABLE household_offline_logs RENAME TO household`);
    }

    // The fault's line comes last (the process writes its lines in order), so once it is here every earlier one is.
    await eventually(async () => logLines(api.output()).some((l) => l.requestId === 'req-log-fault-1'), 10_000, 'the fault logged');
    const errors = logLines(api.output()).filter((l) => l.level >= 50);
    expect(errors).toEqual([expect.objectContaining({ msg: 'internal error', requestId: 'req-log-fault-1' })]);
    expect(JSON.stringify(errors[0])).toMatch(/household/); // what failed, for the operator (the client saw none of it)
  }, 30_000);
});
