import { AdapterFactory } from '../adapters/adapter';
import { parseTarget, TargetConfigError } from '../targets/target-config';
import { formatDate, mapRecord, subscribes } from '../mapping/mapper';
import { HubView } from '../mapping/record-view';

const fakeFactory: AdapterFactory = {
  protocol: 'rest',
  validateEndpoint: (e) => {
    if (typeof (e as { url?: unknown }).url !== 'string') throw new Error('endpoint.url is required');
  },
  create: () => { throw new Error('not used'); },
};
const factories = new Map([['rest', fakeFactory]]);

const GOOD = `name: demo-rest
title: 演示系统
line: CIVIL_AFFAIRS
protocol: rest
endpoint:
  url: http://127.0.0.1:1/records
credentials:
  token: DEMO_TOKEN
subscribe:
  tags: [LOW_INCOME_MEMBER]
key: SFZH
fields:
  SFZH: { from: idNumber }
  XM: { from: name }
  XB: { from: sex, codes: sex }
  CSRQ: { from: birthDate, format: YYYYMMDD }
  MZ: { from: ethnicity, unpad: true }
  JE: { from: tag.LOW_INCOME_MEMBER.category, optional: true }
  DZ: { join: { fields: [residence.street, residence.doorNumber], separator: ' ' } }
  LY: { constant: LINLI }
codes:
  sex: { '1': 男, '2': 女 }
schedule: { mode: realtime }
`;

describe('target files', () => {
  it('parses a good file and resolves credentials from the environment', () => {
    const t = parseTarget('demo.yaml', GOOD, factories, { DEMO_TOKEN: 't0k' });
    expect(t).toMatchObject({ name: 'demo-rest', resolvedCredentials: { token: 't0k' }, limits: { concurrency: 2 }, retry: { attempts: 8 } });
  });

  it('names the file, the line and the problem', () => {
    const bad = GOOD.replace('  CSRQ: { from: birthDate, format: YYYYMMDD }', '  CSRQ: { from: birthDay, format: YYYYMMDD }');
    let error: unknown;
    try {
      parseTarget('demo.yaml', bad, factories, { DEMO_TOKEN: 'x' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TargetConfigError);
    expect((error as Error).message).toMatch(/demo\.yaml:16: fields\.CSRQ\.from: "birthDay" is not a hub field/);
  });

  it('reports unknown keys, bad enums, missing code tables, missing env and unknown protocols with their lines', () => {
    const bad = GOOD
      .replace('schedule: { mode: realtime }', 'schedule: { mode: sometimes }')
      .replace('line: CIVIL_AFFAIRS', 'line: CIVIL_AFFAIRS\ncolour: blue');
    expect(() => parseTarget('x.yaml', bad, factories, {})).toThrow(/x\.yaml:\d+: (colour|schedule)/);
    const noTable = GOOD.replace('codes: sex }', 'codes: gender }');
    expect(() => parseTarget('x.yaml', noTable, factories, { DEMO_TOKEN: 'x' })).toThrow(/x\.yaml:15: fields\.XB\.codes: no code table "gender"/);
    expect(() => parseTarget('x.yaml', GOOD, factories, {})).toThrow(/credentials\.token: environment variable DEMO_TOKEN is not set/);
    expect(() => parseTarget('x.yaml', GOOD.replace('protocol: rest', 'protocol: carrier-pigeon'), factories, { DEMO_TOKEN: 'x' })).toThrow(/x\.yaml:4: protocol: unknown protocol/);
    expect(() => parseTarget('x.yaml', 'name: [unclosed', factories, {})).toThrow(/x\.yaml:1/);
  });

  it('never lets L4 data of another line into a target', () => {
    const leak = GOOD.replace('  LY: { constant: LINLI }', '  ZD: { from: tag.GRID_KEY_PERSON.category }');
    expect(() => parseTarget('x.yaml', leak, factories, { DEMO_TOKEN: 'x' })).toThrow(/GRID_KEY_PERSON is L4 data of the GRID_GOVERNANCE line/);
  });
});

describe('mapping', () => {
  const t = parseTarget('demo.yaml', GOOD, factories, { DEMO_TOKEN: 'x' });
  const view: HubView = {
    id: 'r1', version: 3, status: 'ACTIVE', idNumber: '330203198503120040', name: '陈静', sex: '2', birthDate: '1985-03-12', ethnicity: '01',
    phone: '13800000000', 'residence.street': '解放南路', 'residence.doorNumber': '12号', 'tag.LOW_INCOME_MEMBER': true, 'tag.LOW_INCOME_MEMBER.category': 'URBAN_DIBAO',
  };

  it('sends only the allowed fields, renamed, coded and formatted', () => {
    const r = mapRecord(t, view, 'r1');
    expect(r).toEqual({
      target: 'demo-rest', aggregateType: 'RESIDENT', aggregateId: 'r1', version: 3, key: '330203198503120040', operation: 'UPSERT',
      fields: { SFZH: '330203198503120040', XM: '陈静', XB: '女', CSRQ: '19850312', MZ: '1', JE: 'URBAN_DIBAO', DZ: '解放南路 12号', LY: 'LINLI' },
    });
    expect(JSON.stringify(r)).not.toContain('13800000000');
  });

  it('turns a record that left the group into a DELETE carrying only the key', () => {
    const gone = mapRecord(t, { ...view, 'tag.LOW_INCOME_MEMBER': null, status: 'ACTIVE' }, 'r1');
    expect(gone).toMatchObject({ operation: 'DELETE', fields: { SFZH: '330203198503120040' } });
    expect(subscribes(t, { ...view, status: 'DECEASED' })).toBe(false);
  });

  it('formats dates the ways legacy systems want them', () => {
    expect(formatDate('2012-03-05', 'YYYYMMDD')).toBe('20120305');
    expect(formatDate('2012-03-05', 'YYYY年M月')).toBe('2012年3月');
    expect(formatDate('2012-03-05', 'YYYY年M月D日')).toBe('2012年3月5日');
  });
});
