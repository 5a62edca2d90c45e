import { GraphQLSchemaHost } from '@nestjs/graphql';
import { GraphQLObjectType, GraphQLResolveInfo } from 'graphql';
import { QueryCounter, systemContext } from '@linli/core';
import { ResidentsService } from '@linli/registry';
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

  it("answers a page's households and tags from the page's own statement, without a promise per row", async () => {
    const fields = (api.app.get(GraphQLSchemaHost).schema.getType('Resident') as GraphQLObjectType).getFields();
    const ctx = systemContext('query-count-test');
    const page = await api.app.get(ResidentsService).list(ctx, { divisionCode: code }, 50, null, { prefetch: { household: true, tags: true } });
    expect(page.edges).toHaveLength(50);
    const before = QueryCounter.shared.total;
    const answered = page.edges.map(({ node }) => {
      // The schema's resolvers as GraphQL execution calls them (with the access wrappers around them).
      const household = fields.household!.resolve!(node, {}, { linli: ctx }, {} as GraphQLResolveInfo) as { id: string; householdNumber: string };
      const tags = fields.tags!.resolve!(node, {}, { linli: ctx }, {} as GraphQLResolveInfo) as { code: string }[];
      expect(household).not.toBeInstanceOf(Promise);
      expect(tags).not.toBeInstanceOf(Promise);
      return { node, household, tags };
    });
    expect(QueryCounter.shared.total).toBe(before);
    // The same answers as loading them afresh, and the households still recorded for the audit trail.
    const fresh = systemContext('query-count-fresh');
    const service = api.app.get(ResidentsService);
    for (const { node, household, tags } of answered) {
      const membership = await service.membershipOf(fresh, node.id);
      expect(household.id).toBe(membership!.householdId);
      expect(household.householdNumber).toMatch(/^Q/);
      expect(tags.map((t) => t.code).sort()).toEqual((await service.tagsOf(fresh, node)).map((t) => t.code).sort());
    }
    expect(answered.filter(({ tags }) => tags.some((t) => t.code === 'PARTY_MEMBER'))).toHaveLength(10); // one per household
    expect([...ctx.audit.householdIds].sort()).toEqual([...new Set(answered.map((a) => a.household.id))].sort());
  });
});

/** A register change is a handful of statements, whatever it touches: its row, history and outbox in one transaction. */
describe('statements per register change', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await TestApi.start();
  });
  afterAll(() => api.stop());

  it('writes updateResident, its history row and its outbox event in a fixed, small number of statements', async () => {
    const c = await api.community('写入计数社区');
    const r = await c.resident({ phone: '13800000000' });
    const update = (phone: string, version: number) => api.ok(
      `mutation($id: ID!, $v: Int!, $p: String!) { updateResident(id: $id, expectedVersion: $v, patch: {phone: $p}) { id version phone } }`,
      { id: r.id, v: version, p: phone },
    );
    const before = QueryCounter.shared.total;
    const data = await update('13900000001', r.version);
    const statements = QueryCounter.shared.total - before;
    expect(data.updateResident).toEqual({ id: r.id, version: r.version + 1, phone: '13900000001' });
    // BEGIN, the locking read, UPDATE … RETURNING, history + outbox + NOTIFY, COMMIT, and the audit append.
    expect(statements).toBeGreaterThanOrEqual(5);
    expect(statements).toBeLessThanOrEqual(7);
    // What those statements wrote: the change's history row and an outbox event carrying the new version.
    const [history] = await api.db.query(`SELECT operation, changes FROM change_history WHERE resident_id = $1 ORDER BY id DESC LIMIT 1`, [r.id]);
    expect(history.operation).toBe('updateResident');
    expect(history.changes).toEqual([{ field: 'phone', old: '13800000000', new: '13900000001' }]);
    const [event] = await api.db.query(`SELECT version, event_type, changed_fields FROM outbox_event WHERE aggregate_id = $1 ORDER BY id DESC LIMIT 1`, [r.id]);
    expect(event).toEqual({ version: r.version + 1, event_type: 'updateResident', changed_fields: ['phone'] });
    // A stale version still gets VERSION_CONFLICT with the current version, and writes nothing.
    const stale = await api.gql(
      `mutation($id: ID!) { updateResident(id: $id, expectedVersion: 1, patch: {phone: "13900000002"}) { id } }`, { id: r.id },
    );
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: 'VERSION_CONFLICT' });
    const [{ n }] = await api.db.query(`SELECT count(*)::int AS n FROM outbox_event WHERE aggregate_id = $1`, [r.id]);
    expect(n).toBe(2); // addResident's and this update's
  });
});
