import { Client } from 'pg';
import pino from 'pino';
import { PgListener } from '../database/pg-listener';

const URL = process.env.DATABASE_URL!;
const CHANNEL = 'linli_listener_test';
const logger = pino({ level: 'silent' });

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The listener against the test database's real PostgreSQL: announcements, a killed backend, an unreachable server. */
describe('PgListener', () => {
  let admin: Client;
  const name = `linli-listener-test-${process.pid}`;
  const backends = async (): Promise<number[]> =>
    (await admin.query(`SELECT pid FROM pg_stat_activity WHERE application_name = $1`, [name])).rows.map((r: { pid: number }) => r.pid);

  beforeAll(async () => {
    admin = new Client({ connectionString: URL });
    await admin.connect();
  });
  afterAll(() => admin.end());

  it('hears announcements, reports each gap, and listens again after its backend is terminated', async () => {
    const heard: string[] = [];
    let gaps = 0;
    const listener = new PgListener({ url: URL, channel: CHANNEL, applicationName: name, what: 'test listener', logger, onNotify: (p) => heard.push(p), onGap: () => gaps++, reconnectMs: 100 });
    await listener.start();
    try {
      expect(listener.listening).toBe(true);
      expect(gaps).toBe(1); // LISTEN took effect: what was announced before is unknown
      await admin.query(`SELECT pg_notify($1, 'first')`, [CHANNEL]);
      await admin.query(`SELECT pg_notify('some_other_channel', 'not for it')`);
      await until(() => heard.length === 1, 'the first announcement');
      expect(heard).toEqual(['first']);

      const [old] = await backends();
      await admin.query(`SELECT pg_terminate_backend($1)`, [old]);
      await until(async () => listener.listening && (await backends()).some((pid) => pid !== old), 'a new listening connection');
      expect(await backends()).toHaveLength(1);
      expect(gaps).toBe(3); // the loss, and LISTEN in effect again
      await admin.query(`SELECT pg_notify($1, 'after')`, [CHANNEL]);
      await until(() => heard.length === 2, 'an announcement after reconnecting');
      expect(heard).toEqual(['first', 'after']);
    } finally {
      await listener.stop();
    }
    expect(listener.listening).toBe(false);
    await until(async () => (await backends()).length === 0, 'the connection closed');
  });

  it('starts without a reachable database and keeps trying until stopped', async () => {
    let gaps = 0;
    const listener = new PgListener({ url: 'postgres://postgres@127.0.0.1:1/none', channel: CHANNEL, applicationName: name, what: 'test listener', logger, onNotify: () => undefined, onGap: () => gaps++, reconnectMs: 50 });
    await listener.start();
    expect(listener.listening).toBe(false);
    await until(() => gaps >= 2, 'a second attempt');
    await listener.stop();
    const after = gaps;
    await new Promise((r) => setTimeout(r, 200));
    expect(gaps).toBe(after);
  });

  it('refuses a channel name it would have to quote', () => {
    expect(() => new PgListener({ url: URL, channel: 'x; DROP TABLE y', applicationName: name, what: 'test', logger, onNotify: () => undefined, onGap: () => undefined })).toThrow(/channel/);
  });
});
