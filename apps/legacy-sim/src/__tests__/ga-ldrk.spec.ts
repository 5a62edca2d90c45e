import { readFileSync } from 'fs';
import { join } from 'path';
import * as iconv from 'iconv-lite';
import { parse } from 'yaml';
import { OutboundRecord, RealtimeAdapter } from '../../../../libs/sync/src/adapters/adapter';
import { chinaDate, soapAdapterFactory } from '../../../../libs/sync/src/adapters/soap.adapter';
import { GaLdrkSimulator } from '../sims/ga-ldrk.sim';

/** P1 over its real protocol: SOAP 1.1 with GBK bodies, against the simulator on a free port. */

const ID = '330203199001011234';
const NAMESPACE = 'http://ldrk.ga.sim/ws';

function record(fields: OutboundRecord['fields'], operation: OutboundRecord['operation'] = 'UPSERT'): OutboundRecord {
  const key = String(fields['GMSFHM'] ?? ID);
  return { target: 'ga-ldrk', aggregateType: 'RESIDENT', aggregateId: `uid-${key}`, version: 1, key, operation, fields };
}

function floating(overrides: OutboundRecord['fields'] = {}): OutboundRecord {
  return record({
    GMSFHM: ID,
    XM: '欧阳娜娜',
    XB: '2',
    MZ: '22',
    CSRQ: '19900101',
    ZZDZ_MLXZ: '浙江省宁波市海曙区南门街道柳汀街1号',
    PCS: '330203000000',
    DJRQ: '20240301',
    LXDH: null,
    ...overrides,
  });
}

function adapterFor(sim: GaLdrkSimulator, credentials: Record<string, string> = {}): RealtimeAdapter {
  const adapter = soapAdapterFactory.create({
    name: 'ga-ldrk',
    endpoint: { url: sim.url, operation: 'uploadLdrk', namespace: NAMESPACE, encoding: 'GBK', deleteOperation: 'logout', queryOperation: 'queryByGmsfhm' },
    credentials,
  });
  if (adapter.kind !== 'realtime') throw new Error('expected a realtime adapter');
  return adapter;
}

const signal = (): AbortSignal => AbortSignal.timeout(5000);

describe('ga-ldrk (P1) simulator and SOAP adapter', () => {
  const sim = new GaLdrkSimulator({ port: 0, serviceHours: null });
  let adapter: RealtimeAdapter;

  beforeAll(async () => {
    await sim.start();
    adapter = adapterFor(sim);
  });
  afterEach(async () => {
    sim.chaos.reset();
    await sim.reset();
  });
  afterAll(async () => {
    await adapter.close();
    await sim.stop();
  });

  it('delivers a record over GBK SOAP with the P1 field names and codes, and reads it back', async () => {
    const result = await adapter.deliver(floating(), signal());
    expect(result).toEqual({ kind: 'DELIVERED', targetRef: 'LD0000000001' });
    const [held] = await sim.records();
    expect(held).toMatchObject({ GMSFHM: ID, XM: '欧阳娜娜', XB: '2', MZ: '22', CSRQ: '19900101', DJRQ: '20240301', ZXBZ: '0', ackCount: 1, writeCount: 1 });
    expect(held).not.toHaveProperty('LXDH');
    await expect(adapter.readBack?.(ID, signal())).resolves.toMatchObject({ GMSFHM: ID, XM: '欧阳娜娜', MZ: '22', DJBH: 'LD0000000001' });
    await expect(adapter.readBack?.('330203199001019999', signal())).resolves.toBeNull();
  });

  it('speaks GBK on the wire both ways', async () => {
    const xml =
      '<?xml version="1.0" encoding="GBK"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">' +
      `<soapenv:Body><uploadLdrk><record><GMSFHM>${ID}</GMSFHM><XM>欧阳娜娜</XM><XB>2</XB><MZ>22</MZ><CSRQ>19900101</CSRQ>` +
      '<ZZDZ_MLXZ>畲族村</ZZDZ_MLXZ></record></uploadLdrk></soapenv:Body></soapenv:Envelope>';
    const body = iconv.encode(xml, 'gbk');
    expect(body.includes(Buffer.from('欧阳娜娜', 'utf8'))).toBe(false);
    const response = await fetch(sim.url, { method: 'POST', headers: { 'content-type': 'text/xml; charset=GBK', soapaction: '""' }, body });
    expect(response.headers.get('content-type')).toBe('text/xml; charset=GBK');
    const answer = iconv.decode(Buffer.from(await response.arrayBuffer()), 'gbk');
    expect(answer).toContain('<FHDM>0000</FHDM><FHXX>成功</FHXX>');
    expect((await sim.records())[0]).toMatchObject({ XM: '欧阳娜娜', ZZDZ_MLXZ: '畲族村' });
  });

  it('carries a rare character outside GBK as a character reference and XML markup escaped', async () => {
    await adapter.deliver(floating({ XM: '吉𠮷', ZZDZ_MLXZ: '柳汀街 <1> & "A" 座' }), signal());
    expect((await sim.records())[0]).toMatchObject({ XM: '吉𠮷', ZZDZ_MLXZ: '柳汀街 <1> & "A" 座' });
    await expect(adapter.readBack?.(ID, signal())).resolves.toMatchObject({ XM: '吉𠮷' });
  });

  it('replaces the record on update and answers an identical resend as a duplicate', async () => {
    await adapter.deliver(floating(), signal());
    const updated = await adapter.deliver(floating({ ZZDZ_MLXZ: '浙江省宁波市海曙区月湖街道2号', LXDH: '13800000000' }), signal());
    expect(updated).toEqual({ kind: 'DELIVERED', targetRef: 'LD0000000001' });
    const again = await adapter.deliver(floating({ ZZDZ_MLXZ: '浙江省宁波市海曙区月湖街道2号', LXDH: '13800000000' }), signal());
    expect(again).toEqual({ kind: 'DELIVERED', targetRef: 'LD0000000001', duplicate: true });
    const held = await sim.records();
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ ZZDZ_MLXZ: '浙江省宁波市海曙区月湖街道2号', LXDH: '13800000000', writeCount: 2, ackCount: 3 });
  });

  it('logs a record out on DELETE, with today and the default or given reason', async () => {
    await adapter.deliver(floating(), signal());
    await expect(adapter.deliver(record({}, 'DELETE'), signal())).resolves.toEqual({ kind: 'DELIVERED', targetRef: 'LD0000000001' });
    expect((await sim.records())[0]).toMatchObject({ ZXBZ: '1', ZXRQ: chinaDate(), ZXYY: '迁出' });
    await expect(adapter.deliver(record({}, 'DELETE'), signal())).resolves.toMatchObject({ kind: 'DELIVERED', duplicate: true });

    const other = '33020319900101567X';
    await adapter.deliver(floating({ GMSFHM: other }), signal());
    await adapter.deliver(record({ GMSFHM: other, ZXYY: '死亡' }, 'DELETE'), signal());
    expect((await sim.records()).find((r) => r.GMSFHM === other)).toMatchObject({ ZXBZ: '1', ZXYY: '死亡' });
    // Nothing held: the record is as gone as it can be.
    await expect(adapter.deliver(record({ GMSFHM: '330203199001019999' }, 'DELETE'), signal())).resolves.toEqual({ kind: 'DELIVERED', targetRef: null });
  });

  it('rejects invalid records with the answer code and text', async () => {
    await expect(adapter.deliver(floating({ GMSFHM: '33020319900101567x' }), signal())).resolves.toEqual({ kind: 'REJECTED', answer: '1001 身份证号码校验失败' });
    await expect(adapter.deliver(floating({ GMSFHM: '3302031990010156' }), signal())).resolves.toEqual({ kind: 'REJECTED', answer: '1001 身份证号码校验失败' });
    await expect(adapter.deliver(floating({ XM: null }), signal())).resolves.toEqual({ kind: 'REJECTED', answer: '1002 必填项缺失' });
    await expect(adapter.deliver(floating({ CSRQ: '1990-01-01' }), signal())).resolves.toEqual({ kind: 'REJECTED', answer: '1003 日期格式错误' });
    await expect(adapter.deliver(floating({ PCS: '310101000000' }), signal())).resolves.toEqual({ kind: 'REJECTED', answer: '2001 不在本辖区' });
    expect(await sim.records()).toHaveLength(0);
  });

  it('stores a twice-acknowledged record once', async () => {
    sim.chaos.set({ duplicateAckRate: 1 });
    await expect(adapter.deliver(floating(), signal())).resolves.toEqual({ kind: 'DELIVERED', targetRef: 'LD0000000001' });
    await expect(adapter.deliver(floating(), signal())).resolves.toMatchObject({ kind: 'DELIVERED', duplicate: true });
    const held = await sim.records();
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ writeCount: 1, ackCount: 3 });
  });

  it('backs off without using attempts on 429, 503 and downtime', async () => {
    sim.chaos.set({ rate429: 1 });
    await expect(adapter.deliver(floating(), signal())).resolves.toEqual({ kind: 'RETRY', reason: 'HTTP 429 RATE_LIMITED', delayMs: 1000, countsAsAttempt: false });
    sim.chaos.set({ rate429: 0, rate503: 1 });
    await expect(adapter.deliver(floating(), signal())).resolves.toEqual({ kind: 'RETRY', reason: 'HTTP 503 SERVICE_UNAVAILABLE', countsAsAttempt: false });
    sim.chaos.set({ rate503: 0, downUntil: Date.now() + 60_000 });
    const down = await adapter.deliver(floating(), signal());
    expect(down).toMatchObject({ kind: 'RETRY', reason: 'HTTP 503 SERVICE_DOWN', countsAsAttempt: false });
    expect(down.kind === 'RETRY' && down.delayMs).toBeGreaterThan(50_000);
    expect(await sim.records()).toHaveLength(0);
  });

  it('retries using attempts on faults, timeouts and refused connections', async () => {
    sim.chaos.set({ failRate: 1 });
    await expect(adapter.deliver(floating(), signal())).resolves.toEqual({ kind: 'RETRY', reason: 'HTTP 500 fault INTERNAL_ERROR', countsAsAttempt: true });
    sim.chaos.set({ failRate: 0, timeoutRate: 1 });
    const started = Date.now();
    await expect(adapter.deliver(floating(), AbortSignal.timeout(300))).resolves.toEqual({ kind: 'RETRY', reason: 'timed out', countsAsAttempt: true });
    expect(Date.now() - started).toBeLessThan(5000);

    const closed = new GaLdrkSimulator({ port: 0, serviceHours: null });
    await closed.start();
    const refused = adapterFor(closed);
    await closed.stop();
    await expect(refused.deliver(floating(), signal())).resolves.toEqual({ kind: 'RETRY', reason: 'connection failed (ECONNREFUSED)', countsAsAttempt: true });
  });

  it('refuses a wrong WS-Security UsernameToken and accepts the right one', async () => {
    const guarded = new GaLdrkSimulator({ port: 0, serviceHours: null, credentials: { username: 'ldrk', password: 'p&ss<word>' } });
    await guarded.start();
    try {
      const wrong = adapterFor(guarded, { username: 'ldrk', password: 'nope' });
      await expect(wrong.deliver(floating(), signal())).resolves.toEqual({ kind: 'RETRY', reason: 'HTTP 401 fault AUTH_FAILED', countsAsAttempt: true });
      const right = adapterFor(guarded, { username: 'ldrk', password: 'p&ss<word>' });
      await expect(right.deliver(floating(), signal())).resolves.toMatchObject({ kind: 'DELIVERED' });
    } finally {
      await guarded.stop();
    }
  });

  it('closes outside the service hours and says when it opens', async () => {
    // A one-hour window starting two hours from now (China time), so the service is closed now.
    const china = new Date(Date.now() + 8 * 3600 * 1000);
    const at = (hours: number): string => `${String((china.getUTCHours() + hours) % 24).padStart(2, '0')}:00`;
    const office = new GaLdrkSimulator({ port: 0, serviceHours: { from: at(2), to: at(3) } });
    await office.start();
    try {
      const result = await adapterFor(office).deliver(floating(), signal());
      expect(result).toMatchObject({ kind: 'RETRY', reason: 'HTTP 503 SERVICE_CLOSED', countsAsAttempt: false });
      const delayMs = result.kind === 'RETRY' ? result.delayMs ?? 0 : 0;
      expect(delayMs).toBeGreaterThan(3600 * 1000);
      expect(delayMs).toBeLessThanOrEqual(2 * 3600 * 1000);
      expect(await office.records()).toHaveLength(0);
    } finally {
      await office.stop();
    }
  });

  it('rate limits per second with Retry-After: 1', async () => {
    const slow = new GaLdrkSimulator({ port: 0, serviceHours: null, ratePerSecond: 2 });
    await slow.start();
    try {
      const limited = adapterFor(slow);
      const results = await Promise.all([0, 1, 2].map((i) => limited.deliver(floating({ GMSFHM: `33020319900101${1000 + i}` }), signal())));
      expect(results.filter((r) => r.kind === 'DELIVERED')).toHaveLength(2);
      expect(results.filter((r) => r.kind === 'RETRY')).toEqual([{ kind: 'RETRY', reason: 'HTTP 429 RATE_LIMITED', delayMs: 1000, countsAsAttempt: false }]);
    } finally {
      await slow.stop();
    }
  });

  it('validates the endpoint block, naming the wrong key', () => {
    expect(() => soapAdapterFactory.validateEndpoint({ url: 'http://127.0.0.1:4101/ldrk', operation: 'uploadLdrk', encoding: 'GB2312' })).toThrow(/endpoint\.encoding/);
    expect(() => soapAdapterFactory.validateEndpoint({ url: 'ftp://x', operation: 'uploadLdrk', encoding: 'GBK' })).toThrow(/endpoint\.url/);
    expect(() => soapAdapterFactory.validateEndpoint({ url: 'http://x/', operation: 'a b', encoding: 'GBK' })).toThrow(/endpoint\.operation/);
    expect(() => soapAdapterFactory.validateEndpoint({ url: 'http://x/', operation: 'up', encoding: 'GBK', operaton: 'x' })).toThrow(/operaton/);
  });

  it('accepts the endpoint block of deploy/targets/ga-ldrk.yaml', () => {
    const target = parse(readFileSync(join(__dirname, '../../../../deploy/targets/ga-ldrk.yaml'), 'utf8')) as {
      protocol: string;
      endpoint: unknown;
      codes: { ethnicity: Record<string, string> };
    };
    expect(target.protocol).toBe(soapAdapterFactory.protocol);
    expect(() => soapAdapterFactory.validateEndpoint(target.endpoint)).not.toThrow();
    expect(target.codes.ethnicity['22']).toBe('22');
  });
});
