import { Role } from '@linli/access';
import { newIdNumber, TestApi, TestCommunity } from './support/api';

/** 网格 grids: created by the community, compounds put into them, residents listed by grid. */
describe('grids', () => {
  let api: TestApi;
  let place: TestCommunity;
  let other: TestCommunity;
  beforeAll(async () => {
    api = await TestApi.start();
    place = await api.community('网格测试社区', '330203002000');
    other = await api.community('网格邻居社区', '330203002000');
  });
  afterAll(() => api.stop());

  const household = async (c: TestCommunity, dwellingId: string) => {
    const data = await api.ok(`mutation($i: RegisterHouseholdInput!) { registerHousehold(input: $i) { members { resident { id } } } }`, {
      i: { householdNumber: `WG-${Date.now()}-${Math.random()}`, registeredAddress: '解放南路1号', communityCode: c.code, dwellingId, members: [
        { relationship: '02', resident: { idNumber: newIdNumber('1'), name: '网格户主' } },
      ] },
    });
    return data.registerHousehold.members[0].resident.id as string;
  };

  it('creates grids, refuses a repeated code, and lists them for the community only', async () => {
    const created = await api.ok(`mutation($c: String!) { createGrid(input: {communityCode: $c, code: "01", name: "第一网格"}) { id code name communityCode } }`, { c: place.code });
    expect(created.createGrid).toMatchObject({ code: '01', name: '第一网格', communityCode: place.code });
    const again = await api.fails(`mutation($c: String!) { createGrid(input: {communityCode: $c, code: "01", name: "重复"}) { id } }`, { c: place.code });
    expect(again.extensions).toMatchObject({ code: 'INVALID_STATE', field: 'input.code' });
    const bad = await api.fails(`mutation($c: String!) { createGrid(input: {communityCode: $c, code: "第二", name: "x"}) { id } }`, { c: place.code });
    expect(bad.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.code' });
    await api.ok(`mutation($c: String!) { createGrid(input: {communityCode: $c, code: "02", name: "第二网格"}) { id } }`, { c: place.code });
    const listed = await api.ok(`query($c: String!) { grids(communityCode: $c) { code } }`, { c: place.code });
    expect(listed.grids.map((g: { code: string }) => g.code)).toEqual(['01', '02']);
  });

  it('puts a compound into a grid of its own community, and lists the residents of the grid', async () => {
    const [g1] = (await api.ok(`query($c: String!) { grids(communityCode: $c) { id code } }`, { c: place.code })).grids;
    const inGrid = await household(place, await place.dwelling());
    const second = await api.ok(`mutation($c: String!) { createCompound(input: {communityCode: $c, name: "网格外小区"}) { id } }`, { c: place.code });
    const b = await api.ok(`mutation($c: ID!) { createBuilding(input: {compoundId: $c, name: "2幢"}) { id } }`, { c: second.createCompound.id });
    const d = await api.ok(`mutation($b: ID!) { createDwelling(input: {buildingId: $b, room: "101"}) { id } }`, { b: b.createBuilding.id });
    const outside = await household(place, d.createDwelling.id);

    const set = await api.ok(`mutation($c: ID!, $g: ID) { setCompoundGrid(compoundId: $c, gridId: $g) { id gridId } }`, { c: place.compoundId, g: g1.id });
    expect(set.setCompoundGrid.gridId).toBe(g1.id);
    const residents = async () => (await api.ok(`query($g: ID!) { residents(filter: {gridId: $g}) { totalCount edges { node { id } } } }`, { g: g1.id })).residents;
    expect(await residents()).toEqual({ totalCount: 1, edges: [{ node: { id: inGrid } }] });
    expect((await residents()).edges.map((e: { node: { id: string } }) => e.node.id)).not.toContain(outside);

    const foreign = await api.ok(`mutation($c: String!) { createGrid(input: {communityCode: $c, code: "01", name: "邻居网格"}) { id } }`, { c: other.code });
    const wrong = await api.fails(`mutation($c: ID!, $g: ID) { setCompoundGrid(compoundId: $c, gridId: $g) { id } }`, { c: place.compoundId, g: foreign.createGrid.id });
    expect(wrong.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'gridId' });

    const cleared = await api.ok(`mutation($c: ID!) { setCompoundGrid(compoundId: $c, gridId: null) { gridId } }`, { c: place.compoundId });
    expect(cleared.setCompoundGrid.gridId).toBeNull();
    expect((await residents()).totalCount).toBe(0);
  });

  it('a community worker manages the grids of their own community only', async () => {
    const { token } = await api.user(Role.COMMUNITY_WORKER, { jurisdiction: [place.code] });
    const own = await api.as(token, `mutation($c: String!) { createGrid(input: {communityCode: $c, code: "03", name: "第三网格"}) { id } }`, { c: place.code });
    expect(own.errors).toBeUndefined();
    const foreign = await api.as(token, `mutation($c: String!) { createGrid(input: {communityCode: $c, code: "09", name: "越权"}) { id } }`, { c: other.code });
    expect(foreign.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'input.communityCode' });
    const seen = await api.as(token, `query($c: String!) { grids(communityCode: $c) { id } }`, { c: other.code }, { purpose: 'RESIDENT_SERVICE' });
    expect(seen.data?.grids).toEqual([]);
  });
});
