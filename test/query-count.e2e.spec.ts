import { QueryCounter } from '@linli/core';
import { TestApi, newIdNumber } from './support/api';

/** A page of 50 residents with their household, members and tags costs a fixed number of SQL statements. */
describe('no N+1 in the residents page', () => {
  let api: TestApi;
  let code: string;

  beforeAll(async () => {
    api = await TestApi.start();
    const c = await api.community('计数测试社区');
    code = c.code;
    for (let h = 0; h < 10; h++) {
      const dwellingId = await c.dwelling();
      const data = await api.ok(`mutation($i: RegisterHouseholdInput!) { registerHousehold(input: $i) { members { residentId } } }`, {
        i: {
          householdNumber: `Q${Date.now()}-${h}`, registeredAddress: '苍松路1号', communityCode: code, dwellingId,
          members: [0, 1, 2, 3, 4].map((i) => ({ relationship: i === 0 ? '02' : '20', resident: { idNumber: newIdNumber(i % 2 ? '2' : '1'), name: `计数${h}${i}` } })),
        },
      });
      const first = data.registerHousehold.members[0].residentId;
      await api.ok(`mutation($id: ID!) { assignTag(input: {residentId: $id, tagCode: "PARTY_MEMBER", attributes: {branch: "支部", joinDate: "2001-07-01"}}) { residentId } }`, { id: first });
    }
  });
  afterAll(() => api.stop());

  async function statementsFor(first: number): Promise<number> {
    const before = QueryCounter.shared.total;
    const data = await api.ok(`query($c: String!, $n: Int!) { residents(filter: {divisionCode: $c}, first: $n) { totalCount edges { node {
      id name age tags { code derived } household { id householdNumber tags { code } members { relationship resident { id name } } }
      residence { kind dwelling { room } } membership { relationship } } } } }`, { c: code, n: first });
    expect(data.residents.edges).toHaveLength(first);
    expect(data.residents.edges.every((e: { node: { household: unknown } }) => e.node.household)).toBe(true);
    return QueryCounter.shared.total - before;
  }

  it('costs the same number of statements for 5 rows as for 50', async () => {
    const small = await statementsFor(5);
    const large = await statementsFor(50);
    expect(large).toBe(small);
    expect(large).toBeGreaterThanOrEqual(5); // the counter really counts: ids, total, rows, households, members, …
    expect(large).toBeLessThanOrEqual(18); // including the five statements of the audit append
  });
});
