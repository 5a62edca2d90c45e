import { maskValue, POLICY_SEEDS, ROLE_PERMISSIONS, Role, DEPARTMENT_SEEDS } from '@linli/access';
import { Permission } from '@linli/core';
import { TestApi, newIdNumber } from './support/api';

/**
 * The authorization matrix, generated from the seeded roles and policies: every role and department × a resident
 * inside and outside its jurisdiction × every sensitive resident field: clear, masked or refused, and nothing leaking
 * through lists, counts, households or errors.
 */
const SCALAR_FIELDS = ['idNumber', 'name', 'formerName', 'phone', 'birthDate', 'age', 'sex', 'ethnicity', 'politicalStatus', 'education', 'maritalStatus', 'employment', 'populationType', 'householdRelation'];

interface Principal { label: string; token: string; policy: string; permissions: Permission[]; sees: ('A' | 'B' | 'C')[] }

describe('authorization matrix', () => {
  let api: TestApi;
  const residents: Record<'A' | 'B' | 'C', Record<string, any>> = {} as never;
  const households: Record<string, string> = {};
  const codes: Record<string, string> = {};
  const principals: Principal[] = [];

  beforeAll(async () => {
    api = await TestApi.start();
    await api.db.query(`INSERT INTO division (code, name, level, parent_code, synthetic, valid_from) VALUES ('330204001000', '测试街道(原江东)', 'TOWNSHIP', '330204000000', true, '2010-01-01') ON CONFLICT DO NOTHING`);
    const places = { A: await api.community('矩阵甲社区', '330203002000'), B: await api.community('矩阵乙社区', '330203003000'), C: await api.community('矩阵丙社区', '330204001000') };
    for (const key of ['A', 'B', 'C'] as const) {
      const c = places[key];
      codes[key] = c.code;
      const data = await api.ok(`mutation($i: RegisterHouseholdInput!) { registerHousehold(input: $i) { id members { resident {
          id idNumber name formerName phone birthDate age sex ethnicity politicalStatus education maritalStatus employment populationType householdRelation } } } }`, {
        i: { householdNumber: `MX-${key}-${Date.now()}`, registeredAddress: '解放南路18号3幢201室', communityCode: c.code, dwellingId: await c.dwelling(), members: [
          { relationship: '02', resident: { idNumber: newIdNumber('1', '1950-03-04'), name: '欧阳建明', formerName: '欧阳小明', phone: '13812345678', ethnicity: '01', politicalStatus: '01',
            education: '20', maritalStatus: '20', employment: '80', householdRelation: 'TOGETHER' } },
        ] },
      });
      households[key] = data.registerHousehold.id;
      residents[key] = data.registerHousehold.members[0].resident;
    }
    const add = async (label: string, role: Role, policy: string, sees: ('A' | 'B' | 'C')[], jurisdiction: string[] = [], department?: string) => {
      const { token } = await api.user(role, { jurisdiction, department });
      principals.push({ label, token, policy, permissions: ROLE_PERMISSIONS[role], sees });
    };
    await add('community worker', Role.COMMUNITY_WORKER, 'role:COMMUNITY_WORKER', ['A'], [codes.A]);
    await add('street staff', Role.STREET_STAFF, 'role:STREET_STAFF', ['A'], ['330203002000']);
    await add('district staff', Role.DISTRICT_STAFF, 'role:DISTRICT_STAFF', ['A', 'B'], ['330203000000']);
    await add('admission office', Role.ADMISSION_OFFICE, 'role:ADMISSION_OFFICE', [], ['330203000000']);
    await add('auditor', Role.AUDITOR, 'none', []);
    await add('security officer', Role.SECURITY_OFFICER, 'none', []);
    await add('administrator', Role.ADMINISTRATOR, 'none', []);
    for (const d of DEPARTMENT_SEEDS) {
      const { token } = await api.client(d.code);
      principals.push({ label: `client of ${d.code}`, token, policy: `department:${d.code}`, permissions: ROLE_PERMISSIONS[Role.DEPARTMENT], sees: ['A', 'B'] });
    }
  });
  afterAll(() => api.stop());

  const policyOf = (p: Principal) => POLICY_SEEDS.find((s) => s.subject === p.policy);
  const purposeOf = (p: Principal) => policyOf(p)?.purposes[0];

  it('covers every role and every seeded department', () => {
    expect(new Set(principals.map((p) => p.label)).size).toBe(Object.values(Role).length - 1 + DEPARTMENT_SEEDS.length);
  });

  it('each sensitive field comes back clear, masked or refused as the policy says, inside the jurisdiction only', async () => {
    const failures: string[] = [];
    for (const p of principals) {
      const readsRegister = p.permissions.includes(Permission.READ_REGISTER);
      const fields = policyOf(p)?.fields ?? {};
      for (const field of SCALAR_FIELDS) {
        const key = `Resident.${field}`;
        for (const where of ['A', 'B', 'C'] as const) {
          const res = await api.as(p.token, `query($id: ID!) { resident(id: $id) { id ${field} } }`, { id: residents[where].id }, { purpose: purposeOf(p) });
          const code = res.errors?.[0]?.extensions.code;
          const label = `${p.label} / ${key} / ${where}`;
          if (!readsRegister || !fields[key]) {
            if (code !== 'FORBIDDEN') failures.push(`${label}: expected FORBIDDEN, got ${code ?? JSON.stringify(res.data)}`);
            else if (res.data?.resident) failures.push(`${label}: data leaked with the refusal`);
            continue;
          }
          if (!p.sees.includes(where)) {
            if (res.errors || res.data?.resident !== null) failures.push(`${label}: outside the jurisdiction should read as absent, got ${JSON.stringify(res)}`);
            continue;
          }
          const real = residents[where][field];
          const expected = fields[key] === 'CLEAR' ? real : maskValue(key, real);
          if (res.errors) failures.push(`${label}: unexpected error ${code}`);
          else if (res.data?.resident?.[field] !== expected) failures.push(`${label}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(res.data?.resident?.[field])}`);
          if (fields[key] === 'MASKED' && real !== null && res.data?.resident?.[field] === real) failures.push(`${label}: masked field came back in clear`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('lists and counts hold only what the jurisdiction allows; lookups outside read as absent', async () => {
    const failures: string[] = [];
    for (const p of principals.filter((x) => x.permissions.includes(Permission.READ_REGISTER))) {
      const purpose = purposeOf(p);
      for (const where of ['A', 'B', 'C'] as const) {
        const list = await api.as(p.token, `query($c: String!) { residents(filter: {divisionCode: $c}, first: 10) { totalCount edges { node { id } } } }`, { c: codes[where] }, { purpose });
        const visible = p.sees.includes(where);
        const ids = (list.data?.residents?.edges ?? []).map((e: { node: { id: string } }) => e.node.id);
        if (list.errors) failures.push(`${p.label} list ${where}: ${list.errors[0].extensions.code}`);
        else if (visible !== ids.includes(residents[where].id)) failures.push(`${p.label} list ${where}: visible=${visible} but ids=${ids}`);
        else if (!visible && list.data!.residents.totalCount !== 0) failures.push(`${p.label} count ${where}: ${list.data!.residents.totalCount}`);
        const hh = await api.as(p.token, `query($id: ID!) { household(id: $id) { id } }`, { id: households[where] }, { purpose });
        if (visible !== !!hh.data?.household) failures.push(`${p.label} household ${where}: ${JSON.stringify(hh.data ?? hh.errors)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('masking holds through aliases, fragments and nested household members', async () => {
    const street = principals.find((p) => p.label === 'street staff')!;
    const res = await api.as(street.token, `query($id: ID!, $h: ID!) {
        a: resident(id: $id) { n1: name ...F }
        household(id: $h) { members { resident { name idNumber } } }
      }
      fragment F on Resident { idNumber n2: name }`, { id: residents.A.id, h: households.A }, { purpose: 'SUPERVISION' });
    expect(res.errors).toBeUndefined();
    expect(res.data!.a).toEqual({ n1: '欧阳*明', n2: '欧阳*明', idNumber: maskValue('Resident.idNumber', residents.A.idNumber) });
    expect(res.data!.household.members[0].resident).toEqual({ name: '欧阳*明', idNumber: maskValue('Resident.idNumber', residents.A.idNumber) });
  });

  it('refuses a field not entitled even when hidden in a fragment on a nested type', async () => {
    const health = principals.find((p) => p.label === 'client of HEALTH')!;
    const res = await api.as(health.token, `query($h: ID!) { household(id: $h) { members { resident { ...P } } } } fragment P on Resident { phone }`, { h: households.A }, { purpose: 'PUBLIC_HEALTH' });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'Resident.phone' });
    expect(res.data).toBeFalsy();
  });

  it('refuses filtering and lookups on fields the principal cannot read in clear', async () => {
    const district = principals.find((p) => p.label === 'district staff')!;
    const byName = await api.as(district.token, `{ residents(filter: {namePrefix: "欧阳"}, first: 5) { totalCount } }`, {}, { purpose: 'PLANNING' });
    expect(byName.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'Resident.name' });
    const byId = await api.as(district.token, `query($n: String!) { residentByIdNumber(idNumber: $n) { id } }`, { n: residents.A.idNumber }, { purpose: 'PLANNING' });
    expect(byId.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'Resident.idNumber' });
    const civil = principals.find((p) => p.label === 'client of CIVIL_AFFAIRS')!;
    const hiddenTag = await api.as(civil.token, `{ residents(filter: {tags: ["PARTY_MEMBER"]}, first: 5) { totalCount } }`, {}, { purpose: 'SOCIAL_ASSISTANCE' });
    expect(hiddenTag.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'filter.tags' });
  });

  it('needs a stated, registered purpose for personal data', async () => {
    const civil = principals.find((p) => p.label === 'client of CIVIL_AFFAIRS')!;
    const q = `query($id: ID!) { resident(id: $id) { name } }`;
    const none = await api.as(civil.token, q, { id: residents.A.id });
    expect(none.errors?.[0].extensions).toMatchObject({ code: 'PURPOSE_REQUIRED' });
    const other = await api.as(civil.token, q, { id: residents.A.id }, { purpose: 'FLOATING_POPULATION_REGISTRATION' });
    expect(other.errors?.[0].extensions.code).toBe('PURPOSE_REQUIRED');
    const ok = await api.as(civil.token, q, { id: residents.A.id }, { purpose: 'SOCIAL_ASSISTANCE' });
    expect(ok.data?.resident.name).toBe('欧阳建明');
    const reference = await api.as(civil.token, `{ codeList(name: SEX) { code } }`);
    expect(reference.errors).toBeUndefined();
  });

  it('writes: workers only in their community; departments only the tags of their line', async () => {
    const worker = principals.find((p) => p.label === 'community worker')!;
    const update = (token: string, id: string, purpose?: string) =>
      api.as(token, `mutation($id: ID!) { updateResident(id: $id, expectedVersion: 1, patch: {education: "30"}) { version } }`, { id }, { purpose });
    expect((await update(worker.token, residents.B.id, 'DATA_MAINTENANCE')).errors?.[0].extensions.code).toBe('NOT_FOUND');
    const civil = principals.find((p) => p.label === 'client of CIVIL_AFFAIRS')!;
    expect((await update(civil.token, residents.A.id, 'SOCIAL_ASSISTANCE')).errors?.[0].extensions.code).toBe('FORBIDDEN');
    const assign = (token: string, tagCode: string, attributes: object, purpose: string) =>
      api.as(token, `mutation($id: ID!, $t: String!, $a: JSONObject) { assignTag(input: {residentId: $id, tagCode: $t, attributes: $a}) { residentId } }`, { id: residents.A.id, t: tagCode, a: attributes }, { purpose });
    const own = await assign(civil.token, 'LOW_INCOME_MEMBER', { caseNo: 'MZ-1', category: 'URBAN_DIBAO' }, 'SOCIAL_ASSISTANCE');
    expect(own.errors).toBeUndefined();
    const foreign = await assign(civil.token, 'PARTY_MEMBER', { branch: '支部', joinDate: '2000-01-01' }, 'SOCIAL_ASSISTANCE');
    expect(foreign.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'input.tagCode' });
    const history = await api.ok(`query($id: ID!) { residentHistory(residentId: $id) { operation actor } }`, { id: residents.A.id });
    expect(history.residentHistory.at(-1)).toMatchObject({ operation: 'assignTag', actor: expect.stringMatching(/^client:/) });
  });

  it('statistics stay inside the jurisdiction and suppress small cells for those not entitled to the records', async () => {
    const civil = principals.find((p) => p.label === 'client of CIVIL_AFFAIRS')!;
    const worker = principals.find((p) => p.label === 'community worker')!;
    const q = `query($c: String!) { statistics(groupBy: [COMMUNITY, SEX], filter: {divisionCode: $c}) { total suppressedBelow cells { keys count suppressed } } }`;
    const dept = await api.as(civil.token, q, { c: codes.A }, { purpose: 'SOCIAL_ASSISTANCE' });
    expect(dept.data!.statistics).toMatchObject({ total: null, suppressedBelow: 5, cells: [{ keys: [codes.A, '1'], count: null, suppressed: true }] });
    const mine = await api.as(worker.token, q, { c: codes.A }, { purpose: 'RESIDENT_SERVICE' });
    expect(mine.data!.statistics).toMatchObject({ total: 1, suppressedBelow: 0, cells: [{ keys: [codes.A, '1'], count: 1, suppressed: false }] });
    const outside = await api.as(worker.token, q, { c: codes.B }, { purpose: 'RESIDENT_SERVICE' });
    expect(outside.data!.statistics).toMatchObject({ total: 0, cells: [] });
  });

  it('a suppressed cell cannot be worked out from the total: the next smallest is withheld with it', async () => {
    const civil = principals.find((p) => p.label === 'client of CIVIL_AFFAIRS')!;
    const place = await api.community('抑制测试社区', '330203002000');
    for (let i = 0; i < 7; i++) await place.resident({ sex: '1' });
    for (let i = 0; i < 2; i++) await place.resident({ sex: '2' });
    const q = `query($c: String!) { statistics(groupBy: [SEX], filter: {divisionCode: $c}) { total cells { keys count suppressed } } }`;
    const dept = await api.as(civil.token, q, { c: place.code }, { purpose: 'SOCIAL_ASSISTANCE' });
    // total 9 is shown; 女 2 is small, and 男 would give it away (9 − 7), so both are withheld.
    expect(dept.data!.statistics).toEqual({ total: 9, cells: [{ keys: ['1'], count: null, suppressed: true }, { keys: ['2'], count: null, suppressed: true }] });
    const admin = await api.gql(q, { c: place.code });
    expect(admin.data!.statistics.cells).toEqual([{ keys: ['1'], count: 7, suppressed: false }, { keys: ['2'], count: 2, suppressed: false }]);
  });
});
