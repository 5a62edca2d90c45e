import JSZip from 'jszip';
import { BatchAdapter, OutboundRecord } from '../../../../libs/sync/src/adapters/adapter';
import { readFeedbackPackage, xmlPackageAdapterFactory } from '../../../../libs/sync/src/adapters/xml-package.adapter';
import { JsWisSimulator } from '../sims/js-wis.sim';

/**
 * P4 family planning over real HTTP with real zip files: the xml-package adapter renders the package, posts it, and
 * reads the feedback package (协查反馈) the simulator answers with.
 */

// Synthetic ID numbers (wife / husband pairs).
const WIFE_A = '33020319900501002X';
const HUSBAND_A = '330203198811110012';
const WIFE_B = '330203199203030027';
const NOW = new Date('2025-03-01T02:00:00Z');

function record(key: string, fields: OutboundRecord['fields'], version = 1, operation: OutboundRecord['operation'] = 'UPSERT'): OutboundRecord {
  return { target: 'js-wis', aggregateType: 'RESIDENT', aggregateId: `uid-${key}`, version, key, operation, fields };
}

/** The wife as the hub maps her with deploy/targets/js-wis.yaml (spouse.ethnicity '01' unpadded to '1'). */
function wifeA(extra: OutboundRecord['fields'] = {}): OutboundRecord {
  return record(WIFE_A, {
    womanIdcardNo: WIFE_A,
    womanName: '陈晓梅',
    manIdcardNo: HUSBAND_A,
    manName: '王强',
    manNation: '1',
    boyNumber: 1,
    girlNumber: 0,
    ...extra,
  });
}

const wifeB = record(WIFE_B, { womanIdcardNo: WIFE_B, womanName: '蓝彩霞', manIdcardNo: null, manName: null, manNation: '22', boyNumber: 0, girlNumber: 2 });

async function packageXml(content: Buffer): Promise<string> {
  const zip = await JSZip.loadAsync(content);
  const [entry] = Object.values(zip.files);
  return entry.async('string');
}

const signal = (): AbortSignal => AbortSignal.timeout(5000);

describe('js-wis simulator + xml-package adapter (zipped XML over HTTP)', () => {
  const sim = new JsWisSimulator({ port: 0 });
  let adapter: BatchAdapter;
  let run = 0;
  const nextRun = (): string => `r${String(++run).padStart(3, '0')}`;

  beforeAll(async () => {
    await sim.start();
    const created = xmlPackageAdapterFactory.create({
      name: 'js-wis',
      endpoint: { url: `http://127.0.0.1:${sim.port}`, messageType: '通报', recordElement: 'record', packageIdPrefix: 'LINLI-JSWIS-', keyField: 'womanIdcardNo' },
      credentials: {},
    });
    if (created.kind !== 'batch') throw new Error('xml-package must be a batch adapter');
    adapter = created;
  });

  afterEach(async () => {
    sim.chaos.reset();
    await sim.syncChaos();
  });

  afterAll(async () => {
    await adapter?.close();
    await sim.stop();
  });

  it('validates the endpoint and names the wrong key', () => {
    const ok = { url: 'http://127.0.0.1:7404', messageType: '协查', recordElement: 'record', packageIdPrefix: 'P4-' };
    expect(() => xmlPackageAdapterFactory.validateEndpoint(ok)).not.toThrow();
    expect(() => xmlPackageAdapterFactory.validateEndpoint({ ...ok, messageType: '反馈' })).toThrow(/endpoint\.messageType/);
    expect(() => xmlPackageAdapterFactory.validateEndpoint({ ...ok, url: 'ftp://x' })).toThrow(/endpoint\.url/);
    expect(() => xmlPackageAdapterFactory.validateEndpoint({ ...ok, recordElement: '1 bad' })).toThrow(/endpoint\.recordElement/);
  });

  it('renders a deterministic zip of one UTF-8 XML message with unpadded ethnicity', async () => {
    const first = await adapter.render([wifeB, wifeA()], 'fixed1', NOW);
    const again = await adapter.render([wifeA(), wifeB], 'fixed1', NOW);
    expect(first.fileName).toBe('LINLI-JSWIS-fixed1.zip');
    expect(again.content.equals(first.content)).toBe(true);
    const xml = await packageXml(first.content);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    expect(xml).toContain('<packageId>LINLI-JSWIS-fixed1</packageId>');
    expect(xml).toContain('<messageType>通报</messageType>');
    expect(xml).toContain('<sendTime>2025-03-01 10:00:00</sendTime>');
    expect(xml).toContain('<manNation>1</manNation>');
    expect(xml).not.toContain('<manNation>01</manNation>');
    expect(xml).toContain('<manName></manName>');
    // Sorted by key: wife A before wife B.
    expect(xml.indexOf(WIFE_A)).toBeLessThan(xml.indexOf(WIFE_B));
  });

  it('delivers a package: records stored under the wife ID with the target fields, feedback parsed', async () => {
    const file = await adapter.render([wifeA(), wifeB], nextRun(), NOW);
    const packageId = file.fileName.replace(/\.zip$/, '');
    await expect(adapter.upload(file, signal())).resolves.toEqual({ kind: 'DELIVERED', targetRef: packageId });
    const stored = await sim.records();
    const a = stored.find((r) => r.womanIdcardNo === WIFE_A);
    expect(a?.fields).toEqual({ womanIdcardNo: WIFE_A, womanName: '陈晓梅', manIdcardNo: HUSBAND_A, manName: '王强', manNation: '1', boyNumber: '1', girlNumber: '0' });
    expect(a).toMatchObject({ packageId, messageType: '通报', writeCount: 1 });
    expect(stored.find((r) => r.womanIdcardNo === WIFE_B)?.fields).toMatchObject({ manNation: '22', manName: '', girlNumber: '2' });
    const rows = await adapter.fetchResult(file.fileName, signal());
    expect(rows).toEqual([
      { key: WIFE_A, ok: true, answer: '0 接收成功' },
      { key: WIFE_B, ok: true, answer: '0 接收成功' },
    ]);
  });

  it('keeps the feedback retrievable later and reads it through a fresh adapter', async () => {
    const file = await adapter.render([wifeB], nextRun(), NOW);
    const packageId = file.fileName.replace(/\.zip$/, '');
    await adapter.upload(file, signal());
    const response = await fetch(`http://127.0.0.1:${sim.port}/feedback/${packageId}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/zip');
    const results = await readFeedbackPackage(Buffer.from(await response.arrayBuffer()));
    expect(results).toEqual([{ seq: 1, key: WIFE_B, code: '0', msg: '接收成功' }]);
    const fresh = xmlPackageAdapterFactory.create({
      name: 'js-wis',
      endpoint: { url: `http://127.0.0.1:${sim.port}`, messageType: '通报', packageIdPrefix: 'LINLI-JSWIS-' },
      credentials: {},
    }) as BatchAdapter;
    await expect(fresh.fetchResult(file.fileName, signal())).resolves.toEqual([{ key: WIFE_B, ok: true, answer: '0 接收成功' }]);
    await expect(fresh.fetchResult('LINLI-JSWIS-never.zip', signal())).resolves.toBeNull();
    await fresh.close();
  });

  it('replaces a record on update (same wife ID)', async () => {
    await adapter.upload(await adapter.render([wifeA({ boyNumber: 2, girlNumber: 1 })], nextRun(), NOW), signal());
    const held = (await sim.records()).filter((r) => r.womanIdcardNo === WIFE_A);
    expect(held).toHaveLength(1);
    expect(held[0].fields).toMatchObject({ boyNumber: '2', girlNumber: '1' });
    expect(held[0].writeCount).toBe(2);
  });

  it('answers the same package twice with the same feedback and stores it once', async () => {
    const file = await adapter.render([wifeA({ girlNumber: 2 })], nextRun(), NOW);
    const packageId = file.fileName.replace(/\.zip$/, '');
    await expect(adapter.upload(file, signal())).resolves.toEqual({ kind: 'DELIVERED', targetRef: packageId });
    const writes = (await sim.records()).find((r) => r.womanIdcardNo === WIFE_A)?.writeCount;
    const firstFeedback = sim.receivedPackages().find((p) => p.packageId === packageId)?.feedback;
    await expect(adapter.upload(file, signal())).resolves.toEqual({ kind: 'DELIVERED', targetRef: packageId, duplicate: true });
    expect((await sim.records()).find((r) => r.womanIdcardNo === WIFE_A)?.writeCount).toBe(writes);
    const pkg = sim.receivedPackages().find((p) => p.packageId === packageId);
    expect(pkg).toMatchObject({ uploads: 2, recordCount: 1 });
    const later = Buffer.from(await (await fetch(`http://127.0.0.1:${sim.port}/feedback/${packageId}`)).arrayBuffer());
    expect(firstFeedback && later.equals(firstFeedback)).toBe(true);
  });

  it('reports a record without womanIdcardNo as its own failed row, the others ok', async () => {
    const keyless = record('NO-WIFE-ID-1', { womanName: '无名', boyNumber: 0, girlNumber: 0 });
    const badCount = record('330203199404040018', { womanIdcardNo: '330203199404040018', boyNumber: 'two' });
    const file = await adapter.render([wifeB, keyless, badCount], nextRun(), NOW);
    await expect(adapter.upload(file, signal())).resolves.toMatchObject({ kind: 'DELIVERED' });
    const rows = await adapter.fetchResult(file.fileName, signal());
    expect(rows).toHaveLength(3);
    expect(rows).toContainEqual({ key: WIFE_B, ok: true, answer: '0 接收成功' });
    expect(rows).toContainEqual({ key: 'NO-WIFE-ID-1', ok: false, answer: expect.stringContaining('womanIdcardNo missing') });
    expect(rows).toContainEqual({ key: '330203199404040018', ok: false, answer: expect.stringContaining('boyNumber not a whole number') });
    expect((await sim.records()).some((r) => r.fields['womanName'] === '无名')).toBe(false);
  });

  it('does not validate ID checksums (a quirk of P4): a bad checksum is stored as sent', async () => {
    const badChecksum = '330203199005010021';
    const file = await adapter.render([record(badChecksum, { womanIdcardNo: badChecksum, boyNumber: 0, girlNumber: 1 })], nextRun(), NOW);
    await adapter.upload(file, signal());
    expect(await adapter.fetchResult(file.fileName, signal())).toEqual([{ key: badChecksum, ok: true, answer: '0 接收成功' }]);
  });

  it('acknowledges twice under chaos but the hub sees one row and the record is written once', async () => {
    sim.chaos.set({ duplicateAckRate: 1 });
    const file = await adapter.render([wifeB], nextRun(), NOW);
    await adapter.upload(file, signal());
    const feedback = sim.receivedPackages().find((p) => `${p.packageId}.zip` === file.fileName)!.feedback;
    expect(await readFeedbackPackage(feedback)).toHaveLength(2);
    expect(await adapter.fetchResult(file.fileName, signal())).toEqual([{ key: WIFE_B, ok: true, answer: '0 接收成功' }]);
    const held = (await sim.records()).find((r) => r.womanIdcardNo === WIFE_B)!;
    expect(held.ackCount - held.writeCount).toBeGreaterThanOrEqual(1);
  });

  it('removes a record on a DELETE (op D)', async () => {
    const file = await adapter.render([record(WIFE_B, { womanIdcardNo: WIFE_B }, 9, 'DELETE')], nextRun(), NOW);
    expect(await packageXml(file.content)).toContain('op="D"');
    await adapter.upload(file, signal());
    expect(await adapter.fetchResult(file.fileName, signal())).toEqual([{ key: WIFE_B, ok: true, answer: '0 已注销' }]);
    expect((await sim.records()).some((r) => r.womanIdcardNo === WIFE_B)).toBe(false);
  });

  it('answers 429 and 503 as RETRY without using an attempt, with the Retry-After delay', async () => {
    const file = await adapter.render([wifeA()], nextRun(), NOW);
    sim.chaos.set({ rate429: 1 });
    await expect(adapter.upload(file, signal())).resolves.toEqual({ kind: 'RETRY', reason: 'HTTP 429', delayMs: 1000, countsAsAttempt: false });
    sim.chaos.set({ rate429: 0, rate503: 1 });
    await expect(adapter.upload(file, signal())).resolves.toEqual({ kind: 'RETRY', reason: 'HTTP 503', delayMs: 2000, countsAsAttempt: false });
    expect(sim.receivedPackages().some((p) => `${p.packageId}.zip` === file.fileName)).toBe(false);
  });

  it('answers a 500 and a timeout as RETRY using an attempt', async () => {
    const file = await adapter.render([wifeA()], nextRun(), NOW);
    sim.chaos.set({ failRate: 1 });
    await expect(adapter.upload(file, signal())).resolves.toEqual({ kind: 'RETRY', reason: 'HTTP 500', countsAsAttempt: true });
    sim.chaos.set({ failRate: 0, timeoutRate: 1 });
    await expect(adapter.upload(file, AbortSignal.timeout(300))).resolves.toEqual({ kind: 'RETRY', reason: 'timed out', countsAsAttempt: true });
  });

  it('answers RETRY using an attempt while down (connection refused), then delivers on the same port', async () => {
    const file = await adapter.render([wifeA()], nextRun(), NOW);
    sim.chaos.set({ downUntil: Date.now() + 60_000 });
    await sim.syncChaos();
    // Refused, or reset when the client reuses a kept-alive socket the closing dropped (UND_ERR_SOCKET).
    await expect(adapter.upload(file, signal())).resolves.toEqual({ kind: 'RETRY', reason: expect.stringMatching(/^connection failed/), countsAsAttempt: true });
    await expect(adapter.upload(file, signal())).resolves.toEqual({ kind: 'RETRY', reason: 'connection failed (ECONNREFUSED)', countsAsAttempt: true });
    sim.chaos.reset();
    await sim.syncChaos();
    await expect(adapter.upload(file, signal())).resolves.toMatchObject({ kind: 'DELIVERED' });
  });

  it('answers an unreadable package as REJECTED with the reason', async () => {
    const result = await adapter.upload({ fileName: 'LINLI-JSWIS-garbage.zip', content: Buffer.from('not a zip at all') }, signal());
    expect(result).toEqual({ kind: 'REJECTED', answer: expect.stringMatching(/^HTTP 400 .*not a zip file/) });
  });
});
