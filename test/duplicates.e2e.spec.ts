import { TestApi, TestCommunity, newIdNumber } from './support/api';

describe('possible duplicates, merging and redirects', () => {
  let api: TestApi;
  let c: TestCommunity;

  beforeAll(async () => {
    api = await TestApi.start();
    c = await api.community('查重测试社区');
  });
  afterAll(() => api.stop());

  const CANDIDATES = `query($id: ID!) { possibleDuplicates(residentId: $id) { residentId score reasons resident { id name } } }`;

  it('finds a record with the same name and birth date but a passport instead of an ID card', async () => {
    const a = await c.resident({ name: '林晓红', sex: '2', birthDate: '1977-04-05' });
    const b = await api.ok(`mutation($i: AddResidentInput!) { addResident(input: $i) { id } }`, {
      i: { resident: { idType: 'PASSPORT', idNumber: `E${Date.now() % 100000000}`, name: '林晓红', sex: '2', birthDate: '1977-04-05' }, communityCode: c.code },
    });
    const data = await api.ok(CANDIDATES, { id: a.id });
    const found = data.possibleDuplicates.find((d: { residentId: string }) => d.residentId === b.addResident.id);
    expect(found).toMatchObject({ reasons: ['SAME_NAME_AND_BIRTH_DATE'], resident: { name: '林晓红' } });
    expect(found.score).toBeGreaterThanOrEqual(0.8);
  });

  it('scores a pinyin-similar name in the same household above one elsewhere, and finds former names', async () => {
    const h = await api.ok(`mutation($i: RegisterHouseholdInput!) { registerHousehold(input: $i) { members { residentId } } }`, {
      i: { householdNumber: `D${Date.now()}`, registeredAddress: '中山西路8号', communityCode: c.code, members: [
        { relationship: '02', resident: { idNumber: newIdNumber('1', '1955-02-03'), name: '张伟' } },
        { relationship: '20', resident: { idType: 'NONE', name: '张玮', sex: '1', birthDate: '1955-02-03' } },
      ] },
    });
    const [headId, similarId] = h.registerHousehold.members.map((m: { residentId: string }) => m.residentId);
    const elsewhere = await c.resident({ name: '章伟', birthDate: '1955-02-03' });
    const renamed = await c.resident({ name: '王建国', formerName: '张伟', birthDate: '1955-02-03' });
    const data = await api.ok(CANDIDATES, { id: headId });
    const byId = Object.fromEntries(data.possibleDuplicates.map((d: { residentId: string }) => [d.residentId, d]));
    expect(byId[similarId].reasons).toEqual(expect.arrayContaining(['SIMILAR_PINYIN_SAME_BIRTH_DATE', 'SAME_HOUSEHOLD']));
    expect(byId[renamed.id].reasons).toContain('FORMER_NAME');
    if (byId[elsewhere.id]) expect(byId[elsewhere.id].score).toBeLessThan(byId[similarId].score);
  });

  it('remembers "not a duplicate" and stops suggesting the pair', async () => {
    const a = await c.resident({ name: '赵敏', sex: '2', birthDate: '1988-08-08' });
    const b = await c.resident({ name: '赵敏', sex: '2', birthDate: '1988-08-08' });
    const before = await api.ok(CANDIDATES, { id: a.id });
    expect(before.possibleDuplicates.map((d: { residentId: string }) => d.residentId)).toContain(b.id);
    // Two valid, different ID numbers: suggested, but with a lowered score and the reason stated.
    expect(before.possibleDuplicates.find((d: { residentId: string }) => d.residentId === b.id).reasons).toContain('DIFFERENT_VALID_ID_NUMBERS');
    await api.ok(`mutation($a: ID!, $b: ID!) { markNotDuplicate(residentId: $a, otherResidentId: $b, reason: "双胞胎姐妹同名不同人") }`, { a: a.id, b: b.id });
    for (const id of [a.id, b.id]) {
      const after = await api.ok(CANDIDATES, { id });
      expect(after.possibleDuplicates.map((d: { residentId: string }) => d.residentId)).not.toContain(id === a.id ? b.id : a.id);
    }
  });

  it('merges a duplicate into the survivor: tags and household move over, the old uid redirects, history on both', async () => {
    const survivor = await c.resident({ name: '孙丽', sex: '2', birthDate: '1970-03-03', phone: null });
    const dupData = await api.ok(`mutation($i: RegisterHouseholdInput!) { registerHousehold(input: $i) { id members { residentId } } }`, {
      i: { householdNumber: `M${Date.now()}`, registeredAddress: '望京路3号', communityCode: c.code, members: [
        { relationship: '02', resident: { idType: 'NONE', name: '孙丽', sex: '2', birthDate: '1970-03-03', phone: '13511112222' } },
      ] },
    });
    const dupId = dupData.registerHousehold.members[0].residentId;
    await api.ok(`mutation($id: ID!) { assignTag(input: {residentId: $id, tagCode: "VETERAN", attributes: {category: "退役士兵"}}) { residentId } }`, { id: dupId });
    const merged = await api.ok(`mutation($d: ID!, $s: ID!) { mergeResidents(input: {duplicateId: $d, survivorId: $s, reason: "同一人重复登记"}) {
      id version phone tags { code } household { id } } }`, { d: dupId, s: survivor.id });
    expect(merged.mergeResidents).toMatchObject({ id: survivor.id, phone: '13511112222', tags: [{ code: 'VETERAN' }], household: { id: dupData.registerHousehold.id } });
    const redirect = await api.ok(`query($id: ID!) { resident(id: $id) { id redirectedFromId } }`, { id: dupId });
    expect(redirect.resident).toEqual({ id: survivor.id, redirectedFromId: dupId });
    const household = await api.ok(`query($id: ID!) { household(id: $id) { members { residentId isHead } } }`, { id: dupData.registerHousehold.id });
    expect(household.household.members).toEqual([{ residentId: survivor.id, isHead: true }]);
    const hist = await api.ok(`query($a: ID!, $b: ID!) { a: residentHistory(residentId: $a) { operation } b: residentHistory(residentId: $b) { operation } }`, { a: dupId, b: survivor.id });
    expect(hist.a.map((x: { operation: string }) => x.operation)).toContain('mergeResidents');
    expect(hist.b.map((x: { operation: string }) => x.operation)).toContain('mergeResidents');
    const writeMerged = await api.fails(`mutation($id: ID!) { updateResident(id: $id, expectedVersion: 1, patch: {phone: "13500000000"}) { id } }`, { id: dupId });
    expect(writeMerged.extensions).toMatchObject({ code: 'INVALID_STATE', mergedIntoId: survivor.id });
    const self = await api.fails(`mutation($s: ID!) { mergeResidents(input: {duplicateId: $s, survivorId: $s, reason: "x"}) { id } }`, { s: survivor.id });
    expect(self.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.survivorId' });
  });

  it('a merged record no longer holds its ID number, so the survivor can take it', async () => {
    const withId = await c.resident({ name: '钱进', birthDate: '1966-06-06' });
    const noId = await api.ok(`mutation($i: AddResidentInput!) { addResident(input: $i) { id } }`, {
      i: { resident: { idType: 'NONE', name: '钱进', sex: '1', birthDate: '1966-06-06' }, communityCode: c.code },
    });
    const merged = await api.ok(`mutation($d: ID!, $s: ID!) { mergeResidents(input: {duplicateId: $d, survivorId: $s, reason: "补录证件"}) { idNumber idNumberStatus } }`,
      { d: withId.id, s: noId.addResident.id });
    expect(merged.mergeResidents).toEqual({ idNumber: withId.idNumber, idNumberStatus: 'VALID' });
    const lookup = await api.ok(`query($n: String!) { residentByIdNumber(idNumber: $n) { id } }`, { n: withId.idNumber });
    expect(lookup.residentByIdNumber.id).toBe(noId.addResident.id);
  });
});
