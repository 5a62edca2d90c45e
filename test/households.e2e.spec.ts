import { TestApi, TestCommunity, newIdNumber } from './support/api';

const REGISTER = `mutation($i: RegisterHouseholdInput!, $k: String) { registerHousehold(input: $i, idempotencyKey: $k) {
  id householdNumber version status dwellingId members { residentId relationship isHead resident { id name residence { dwellingId kind } } } } }`;

describe('households and life events over GraphQL', () => {
  let api: TestApi;
  let c: TestCommunity;
  let n = 0;
  const number = () => `T${Date.now()}-${++n}`;

  beforeAll(async () => {
    api = await TestApi.start();
    c = await api.community('户籍测试社区');
  });
  afterAll(() => api.stop());

  async function family(dwellingId?: string) {
    const data = await api.ok(REGISTER, {
      i: {
        householdNumber: number(), registeredAddress: '解放南路1号', communityCode: c.code, dwellingId, fromDate: '2020-01-01',
        members: [
          { relationship: '02', resident: { idNumber: newIdNumber('1', '1960-05-01'), name: '户主甲' } },
          { relationship: '10', resident: { idNumber: newIdNumber('2', '1962-07-01'), name: '配偶乙' } },
          { relationship: '20', resident: { idNumber: newIdNumber('1', '1990-09-01'), name: '儿子丙' } },
        ],
      },
    });
    return data.registerHousehold;
  }

  it('registers a household with new members, their residences and history, in one step', async () => {
    const dwellingId = await c.dwelling();
    const h = await family(dwellingId);
    expect(h.members).toHaveLength(3);
    expect(h.members.filter((m: { isHead: boolean }) => m.isHead)).toHaveLength(1);
    for (const m of h.members) expect(m.resident.residence).toEqual({ dwellingId, kind: 'OWNER' });
    const history = await api.ok(`query($id: ID!) { householdHistory(householdId: $id) { operation } residentHistory(residentId: "${h.members[0].residentId}") { operation } }`, { id: h.id });
    expect(history.householdHistory.map((x: { operation: string }) => x.operation)).toEqual(['registerHousehold']);
    expect(history.residentHistory.map((x: { operation: string }) => x.operation)).toEqual(['registerHousehold']);
  });

  it('refuses a household without exactly one head, and one whose member is already elsewhere, writing nothing', async () => {
    const residents = Number((await api.db.query('SELECT count(*) AS n FROM resident'))[0].n);
    const noHead = await api.fails(REGISTER, { i: { householdNumber: number(), registeredAddress: 'x', communityCode: c.code, members: [{ relationship: '10', resident: { idNumber: newIdNumber(), name: '甲' } }] } });
    expect(noHead.extensions).toMatchObject({ code: 'HOUSEHOLD_HEAD_REQUIRED', field: 'input.members' });
    const twoHeads = await api.fails(REGISTER, { i: { householdNumber: number(), registeredAddress: 'x', communityCode: c.code, members: [
      { relationship: '02', resident: { idNumber: newIdNumber(), name: '甲' } }, { relationship: '02', resident: { idNumber: newIdNumber(), name: '乙' } }] } });
    expect(twoHeads.extensions.code).toBe('HOUSEHOLD_HEAD_REQUIRED');
    const h = await family();
    const taken = await api.fails(REGISTER, { i: { householdNumber: number(), registeredAddress: 'x', communityCode: c.code, members: [
      { relationship: '02', resident: { idNumber: newIdNumber(), name: '新户主' } }, { relationship: '10', residentId: h.members[1].residentId }] } });
    expect(taken.extensions).toMatchObject({ code: 'INVALID_STATE', field: 'input.members.1.residentId' });
    const badMember = await api.fails(REGISTER, { i: { householdNumber: number(), registeredAddress: 'x', communityCode: c.code, members: [
      { relationship: '02', resident: { idNumber: newIdNumber(), name: '新户主' } }, { relationship: '10', resident: { idNumber: '330203198503120041', name: '错号' } }] } });
    expect(badMember.extensions).toMatchObject({ code: 'INVALID_ID_NUMBER', field: 'input.members.1.resident.idNumber' });
    const dupNumber = await api.fails(REGISTER, { i: { householdNumber: h.householdNumber, registeredAddress: 'x', communityCode: c.code, members: [
      { relationship: '02', resident: { idNumber: newIdNumber(), name: '甲' } }] } });
    expect(dupNumber.extensions).toMatchObject({ code: 'HOUSEHOLD_NUMBER_TAKEN', field: 'input.householdNumber' });
    expect(Number((await api.db.query('SELECT count(*) AS n FROM resident'))[0].n)).toBe(residents + 3);
  });

  it('changes the head: the former head is re-labelled and the household version moves on', async () => {
    const h = await family();
    const [head, spouse, son] = h.members.map((m: { residentId: string }) => m.residentId);
    const q = `mutation($i: ChangeHouseholdHeadInput!) { changeHouseholdHead(input: $i) { version members { residentId relationship isHead } } }`;
    const data = await api.ok(q, { i: { householdId: h.id, expectedVersion: h.version, newHeadResidentId: son, formerHeadRelationship: '51', relationships: [{ residentId: spouse, relationship: '52' }], reason: '户主变更' } });
    expect(data.changeHouseholdHead.version).toBe(h.version + 1);
    const byId = Object.fromEntries(data.changeHouseholdHead.members.map((m: { residentId: string; relationship: string }) => [m.residentId, m.relationship]));
    expect(byId).toEqual({ [son]: '02', [head]: '51', [spouse]: '52' });
    const stale = await api.fails(q, { i: { householdId: h.id, expectedVersion: h.version, newHeadResidentId: head, formerHeadRelationship: '20', reason: 'x' } });
    expect(stale.extensions).toMatchObject({ code: 'VERSION_CONFLICT', currentVersion: h.version + 1 });
    const outsider = await c.resident();
    const notMember = await api.fails(q, { i: { householdId: h.id, newHeadResidentId: outsider.id, formerHeadRelationship: '20', reason: 'x' } });
    expect(notMember.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.newHeadResidentId' });
  });

  it('moves a resident to another dwelling; the old residence is closed, the new one open', async () => {
    const r = await c.resident();
    const d1 = await c.dwelling();
    const d2 = await c.dwelling();
    const q = `mutation($i: MoveResidentInput!) { moveResident(input: $i) { version residence { dwellingId movedInOn kind } } }`;
    await api.ok(q, { i: { residentId: r.id, residence: { dwellingId: d1, kind: 'OWNER', movedInOn: '2021-01-01' } } });
    const moved = await api.ok(q, { i: { residentId: r.id, residence: { dwellingId: d2, kind: 'TENANT', movedInOn: '2023-05-01' }, reason: '搬家' } });
    expect(moved.moveResident.residence).toEqual({ dwellingId: d2, movedInOn: '2023-05-01', kind: 'TENANT' });
    const rows = await api.db.query(`SELECT dwelling_id, to_char(moved_out_on, 'YYYY-MM-DD') AS out FROM residence WHERE resident_id = $1 ORDER BY moved_in_on`, [r.id]);
    expect(rows).toEqual([{ dwelling_id: d1, out: '2023-05-01' }, { dwelling_id: d2, out: null }]);
    const back = await api.fails(q, { i: { residentId: r.id, residence: { dwellingId: d1, kind: 'OWNER', movedInOn: '2022-01-01' } } });
    expect(back.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.residence.movedInOn' });
    const unknown = await api.fails(q, { i: { residentId: r.id, residence: { dwellingId: '00000000-0000-4000-8000-000000000000', kind: 'OWNER', movedInOn: '2024-01-01' } } });
    expect(unknown.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'input.residence.dwellingId' });
  });

  it('records a move-out: a head with members left needs a successor; the last member dissolves the household', async () => {
    const h = await family();
    const [head, spouse, son] = h.members.map((m: { residentId: string }) => m.residentId);
    const q = `mutation($i: RecordMoveOutInput!) { recordMoveOut(input: $i) { status movedOutOn household { id } } }`;
    const err = await api.fails(q, { i: { residentId: head, movedOutOn: '2024-03-01', reason: '迁往外地' } });
    expect(err.extensions).toMatchObject({ code: 'HOUSEHOLD_HEAD_REQUIRED', field: 'input.newHeadResidentId' });
    const out = await api.ok(q, { i: { residentId: head, movedOutOn: '2024-03-01', reason: '迁往外地', destination: '杭州市', newHeadResidentId: spouse } });
    expect(out.recordMoveOut).toEqual({ status: 'MOVED_OUT', movedOutOn: '2024-03-01', household: null });
    const hh = await api.ok(`query($id: ID!) { household(id: $id) { status members { residentId isHead } } }`, { id: h.id });
    expect(hh.household.members).toEqual(expect.arrayContaining([{ residentId: spouse, isHead: true }, { residentId: son, isHead: false }]));
    await api.ok(q, { i: { residentId: son, movedOutOn: '2024-04-01', reason: '就学' } });
    await api.ok(q, { i: { residentId: spouse, movedOutOn: '2024-05-01', reason: '迁出' } });
    const gone = await api.ok(`query($id: ID!) { household(id: $id) { status members { residentId } } }`, { id: h.id });
    expect(gone.household).toEqual({ status: 'DISSOLVED', members: [] });
    const again = await api.fails(q, { i: { residentId: son, movedOutOn: '2024-06-01', reason: 'x' } });
    expect(again.extensions.code).toBe('INVALID_STATE');
    const listed = await api.ok(`query($c: String!) { residents(filter: {divisionCode: $c, statuses: [MOVED_OUT], namePrefix: "户主甲"}, first: 50) { edges { node { id } } } }`, { c: c.code });
    expect(listed.residents.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(head);
  });

  it('records a death: residence, membership and tags end on that date', async () => {
    const dwellingId = await c.dwelling();
    const h = await family(dwellingId);
    const son = h.members[2].residentId;
    await api.ok(`mutation($id: ID!) { assignTag(input: {residentId: $id, tagCode: "PARTY_MEMBER", validFrom: "2020-01-01", attributes: {branch: "第一支部", joinDate: "2010-07-01"}}) { residentId } }`, { id: son });
    const data = await api.ok(`mutation($id: ID!) { recordDeath(input: {residentId: $id, deceasedOn: "2025-01-02"}) { status deceasedOn age tags { code } household { id } residence { id } } }`, { id: son });
    expect(data.recordDeath).toMatchObject({ status: 'DECEASED', deceasedOn: '2025-01-02', tags: [], household: null, residence: null });
    const tag = await api.db.query(`SELECT to_char(valid_to, 'YYYY-MM-DD') AS v FROM resident_tag WHERE resident_id = $1`, [son]);
    expect(tag).toEqual([{ v: '2025-01-02' }]);
    const early = await api.fails(`mutation($id: ID!) { recordDeath(input: {residentId: $id, deceasedOn: "1900-01-01"}) { status } }`, { id: h.members[1].residentId });
    expect(early.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.deceasedOn' });
  });

  it('assigns and removes tags with attributes checked against the tag schema; derived tags cannot be typed in', async () => {
    const r = await c.resident();
    const q = `mutation($i: AssignTagInput!) { assignTag(input: $i) { resident { version tags { code attributes } } } }`;
    const bad = await api.fails(q, { i: { residentId: r.id, tagCode: 'PARTY_MEMBER', attributes: { branch: '支部' } } });
    expect(bad.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.attributes.joinDate' });
    const wrongType = await api.fails(q, { i: { residentId: r.id, tagCode: 'PARTY_MEMBER', attributes: { branch: '支部', joinDate: 'yesterday' } } });
    expect(wrongType.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.attributes.joinDate' });
    const derived = await api.fails(q, { i: { residentId: r.id, tagCode: 'AGED_80_PLUS' } });
    expect(derived.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.tagCode' });
    const cert = await api.fails(q, { i: { residentId: r.id, tagCode: 'DISABLED', attributes: { certificateNo: `${newIdNumber()}41` } } });
    expect(cert.extensions).toMatchObject({ field: 'input.attributes.certificateNo' });
    const ok = await api.ok(q, { i: { residentId: r.id, tagCode: 'DISABLED', attributes: { certificateNo: `${r.idNumber}41` } } });
    expect(ok.assignTag.resident.tags).toContainEqual({ code: 'DISABLED', attributes: { certificateNo: `${r.idNumber}41` } });
    expect(ok.assignTag.resident.version).toBe(r.version + 1);
    const filtered = await api.ok(`query($c: String!) { residents(filter: {divisionCode: $c, tags: ["DISABLED"]}, first: 10) { edges { node { id } } } }`, { c: c.code });
    expect(filtered.residents.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([r.id]);
    const removed = await api.ok(`mutation($id: ID!) { removeTag(input: {residentId: $id, tagCode: "DISABLED", reason: "证件注销"}) { resident { tags { code } } } }`, { id: r.id });
    expect(removed.removeTag.resident.tags).toEqual([]);
    const again = await api.fails(`mutation($id: ID!) { removeTag(input: {residentId: $id, tagCode: "DISABLED", reason: "x"}) { residentId } }`, { id: r.id });
    expect(again.extensions.code).toBe('INVALID_STATE');
  });

  it('tags households (low-income) and finds their members through the tag', async () => {
    const h = await family();
    const q = `mutation($i: AssignTagInput!) { assignTag(input: $i) { household { tags { code attributes } } } }`;
    const attrs = { caseNo: 'DB-2024-001', category: 'URBAN_DIBAO', coveredMembers: 3, monthlyAmount: 1234.5, startDate: '2024-01-01' };
    const wrongSubject = await api.fails(q, { i: { residentId: h.members[0].residentId, tagCode: 'LOW_INCOME', attributes: attrs } });
    expect(wrongSubject.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.householdId' });
    const data = await api.ok(q, { i: { householdId: h.id, tagCode: 'LOW_INCOME', attributes: attrs } });
    expect(data.assignTag.household.tags).toEqual([{ code: 'LOW_INCOME', attributes: attrs }]);
    const members = await api.ok(`query($c: String!) { residents(filter: {divisionCode: $c, tags: ["LOW_INCOME"]}, first: 10) { totalCount } households(filter: {divisionCode: $c, tags: ["LOW_INCOME"]}, first: 5) { totalCount edges { node { id } } } }`, { c: c.code });
    expect(members.residents.totalCount).toBe(3);
    expect(members.households.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([h.id]);
  });
});
