import { createHash } from 'crypto';
import { OutboundRecord, RealtimeAdapter } from '../../../../libs/sync/src/adapters/adapter';
import { restAdapterFactory } from '../../../../libs/sync/src/adapters/rest.adapter';
import { maskPersonalData } from '../../../../libs/sync/src/adapters/adapter-helpers';
import { RestInboxSimulator } from '../sims/rest-inbox.sim';

/** A generic departmental REST/JSON system over real HTTP, against the simulator on a free port. */

const KEY = '330203198505052345';

function record(fields: OutboundRecord['fields'], operation: OutboundRecord['operation'] = 'UPSERT', key = KEY): OutboundRecord {
  return { target: 'rest-inbox', aggregateType: 'RESIDENT', aggregateId: `uid-${key}`, version: 1, key, operation, fields };
}

const signal = (): AbortSignal => AbortSignal.timeout(5000);

function adapterFor(url: string, auth: 'bearer' | 'basic' | 'none', credentials: Record<string, string>): RealtimeAdapter {
  const adapter = restAdapterFactory.create({ name: 'rest-inbox', endpoint: { url, auth }, credentials });
  if (adapter.kind !== 'realtime') throw new Error('expected a realtime adapter');
  return adapter;
}

describe('rest-inbox simulator and REST adapter', () => {
  const sim = new RestInboxSimulator({ port: 0, name: 'civil-inbox', token: 'secret-token', basic: { user: 'dept', password: 'pa:ss' } });
  let adapter: RealtimeAdapter;

  beforeAll(async () => {
    await sim.start();
    adapter = adapterFor(sim.url, 'bearer', { token: 'secret-token' });
  });
  afterEach(async () => {
    sim.chaos.reset();
    await sim.reset();
  });
  afterAll(async () => {
    await adapter.close();
    await sim.stop();
  });

  it('delivers, updates in place, and answers an identical resend as a duplicate', async () => {
    expect(sim.name).toBe('civil-inbox');
    await expect(adapter.deliver(record({ XM: '欧阳娜娜', MZ: '22', CSRQ: '1985-05-05' }), signal())).resolves.toEqual({ kind: 'DELIVERED', targetRef: 'RI-00000001' });
    await expect(adapter.deliver(record({ XM: '欧阳娜娜', MZ: '22', CSRQ: '1985-05-05', LXDH: '13800000000' }), signal())).resolves.toEqual({
      kind: 'DELIVERED',
      targetRef: 'RI-00000001',
    });
    await expect(adapter.deliver(record({ LXDH: '13800000000', CSRQ: '1985-05-05', MZ: '22', XM: '欧阳娜娜' }), signal())).resolves.toEqual({
      kind: 'DELIVERED',
      targetRef: 'RI-00000001',
      duplicate: true,
    });
    const held = await sim.records();
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ key: KEY, fields: { XM: '欧阳娜娜', MZ: '22', CSRQ: '1985-05-05', LXDH: '13800000000' }, writeCount: 2, ackCount: 3 });
    await expect(adapter.readBack?.(KEY, signal())).resolves.toEqual({ XM: '欧阳娜娜', MZ: '22', CSRQ: '1985-05-05', LXDH: '13800000000' });
    await expect(adapter.readBack?.('nope', signal())).resolves.toBeNull();
  });

  it('lists keys with a content hash of the sorted fields', async () => {
    await adapter.deliver(record({ b: 2, a: '1' }), signal());
    await adapter.deliver(record({ c: true }, 'UPSERT', 'k/2'), signal());
    const keys = await adapter.listKeys?.(signal());
    expect(keys).toEqual(
      new Map([
        [KEY, createHash('sha256').update('{"a":"1","b":2}').digest('hex')],
        ['k/2', createHash('sha256').update('{"c":true}').digest('hex')],
      ]),
    );
  });

  it('deletes per key, and a key already gone counts as done', async () => {
    await adapter.deliver(record({ XM: '张三' }), signal());
    await expect(adapter.deliver(record({}, 'DELETE'), signal())).resolves.toEqual({ kind: 'DELIVERED', targetRef: 'RI-00000001' });
    expect(await sim.records()).toHaveLength(0);
    await expect(adapter.deliver(record({}, 'DELETE'), signal())).resolves.toEqual({ kind: 'DELIVERED', targetRef: null });
  });

  it('rejects a record the system refuses, with its answer', async () => {
    await expect(adapter.deliver(record({ XM: '张三', invalid: true }), signal())).resolves.toEqual({
      kind: 'REJECTED',
      answer: 'HTTP 422 {"error":"record marked invalid"}',
    });
    const raw = await fetch(`${sim.url}/x`, { method: 'PUT', headers: { authorization: 'Bearer secret-token' }, body: '{not json' });
    expect(raw.status).toBe(422);
    expect(await sim.records()).toHaveLength(0);
  });

  it('stores a twice-acknowledged record once', async () => {
    sim.chaos.set({ duplicateAckRate: 1 });
    await expect(adapter.deliver(record({ XM: '张三' }), signal())).resolves.toEqual({ kind: 'DELIVERED', targetRef: 'RI-00000001' });
    await expect(adapter.deliver(record({ XM: '张三' }), signal())).resolves.toMatchObject({ kind: 'DELIVERED', duplicate: true });
    const held = await sim.records();
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ writeCount: 1, ackCount: 3 });
  });

  it('authenticates by bearer token or basic credentials, and refuses others', async () => {
    const basic = adapterFor(sim.url, 'basic', { username: 'dept', password: 'pa:ss' });
    await expect(basic.deliver(record({ XM: '张三' }), signal())).resolves.toMatchObject({ kind: 'DELIVERED' });
    const wrong = adapterFor(sim.url, 'bearer', { token: 'guess' });
    await expect(wrong.deliver(record({ XM: '李四' }), signal())).resolves.toEqual({ kind: 'RETRY', reason: 'HTTP 401 authentication refused', countsAsAttempt: true });
    const none = adapterFor(sim.url, 'none', {});
    await expect(none.deliver(record({ XM: '李四' }), signal())).resolves.toMatchObject({ kind: 'RETRY', countsAsAttempt: true });
    expect(() => adapterFor(sim.url, 'bearer', {})).toThrow(/credentials\.token/);
    expect((await sim.records())[0]?.fields).toEqual({ XM: '张三' });
  });

  it('backs off without using attempts on 429, 503 and downtime', async () => {
    sim.chaos.set({ rate429: 1 });
    await expect(adapter.deliver(record({ XM: '张三' }), signal())).resolves.toEqual({ kind: 'RETRY', reason: 'HTTP 429', delayMs: 1000, countsAsAttempt: false });
    sim.chaos.set({ rate429: 0, rate503: 1 });
    await expect(adapter.deliver(record({ XM: '张三' }), signal())).resolves.toEqual({ kind: 'RETRY', reason: 'HTTP 503', countsAsAttempt: false });
    sim.chaos.set({ rate503: 0, downUntil: Date.now() + 10_000 });
    const down = await adapter.deliver(record({ XM: '张三' }), signal());
    expect(down).toMatchObject({ kind: 'RETRY', reason: 'HTTP 503', countsAsAttempt: false });
    expect(down.kind === 'RETRY' && down.delayMs).toBeGreaterThan(5000);
    expect(await sim.records()).toHaveLength(0);
  });

  it('retries using attempts on server errors, timeouts and refused connections', async () => {
    sim.chaos.set({ failRate: 1 });
    await expect(adapter.deliver(record({ XM: '张三' }), signal())).resolves.toEqual({ kind: 'RETRY', reason: 'HTTP 500', countsAsAttempt: true });
    sim.chaos.set({ failRate: 0, timeoutRate: 1 });
    await expect(adapter.deliver(record({ XM: '张三' }), AbortSignal.timeout(300))).resolves.toEqual({ kind: 'RETRY', reason: 'timed out', countsAsAttempt: true });

    const closed = new RestInboxSimulator({ port: 0 });
    await closed.start();
    const url = closed.url;
    await closed.stop();
    const refused = adapterFor(url, 'none', {});
    await expect(refused.deliver(record({ XM: '张三' }), signal())).resolves.toEqual({ kind: 'RETRY', reason: 'connection failed (ECONNREFUSED)', countsAsAttempt: true });
  });

  it('masks ID and phone numbers in answer texts', () => {
    expect(maskPersonalData('身份证 33020319850505234X 电话 13800001234 已存在')).toBe('身份证 330203********234X 电话 138****1234 已存在');
  });

  it('validates the endpoint block, naming the wrong key', () => {
    expect(() => restAdapterFactory.validateEndpoint({ url: 'http://127.0.0.1:4105/records', auth: 'token' })).toThrow(/endpoint\.auth/);
    expect(() => restAdapterFactory.validateEndpoint({ url: 'not a url', auth: 'none' })).toThrow(/endpoint\.url/);
    expect(() => restAdapterFactory.validateEndpoint({ url: 'http://127.0.0.1:4105/records', auth: 'none' })).not.toThrow();
  });
});
