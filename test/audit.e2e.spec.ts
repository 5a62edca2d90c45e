import { createHash, randomUUID } from 'crypto';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { getNamedType, GraphQLInputType, GraphQLNamedType, GraphQLObjectType, isEnumType, isInputObjectType, isListType, isNonNullType, isObjectType, isScalarType } from 'graphql';
import { Role } from '@linli/access';
import { TestApi, TestCommunity, newIdNumber } from './support/api';

/** A syntactically valid value for a required argument, so every operation can be called generically. */
function sample(type: GraphQLInputType, depth = 0): unknown {
  if (isNonNullType(type)) return sample(type.ofType, depth);
  if (isListType(type)) return [sample(type.ofType, depth)];
  if (isEnumType(type)) return type.getValues()[0].value;
  if (isInputObjectType(type)) {
    if (depth > 4) return {};
    return Object.fromEntries(Object.values(type.getFields()).filter((f) => isNonNullType(f.type)).map((f) => [f.name, sample(f.type, depth + 1)]));
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case 'ID': return randomUUID();
      case 'Int': return 1;
      case 'Float': return 1;
      case 'Boolean': return false;
      case 'JSONObject': return {};
      case 'DateTime': return new Date().toISOString();
      default: return 'x';
    }
  }
  return null;
}

/** The smallest selection of a return type: `id` when it has one, else its first scalar field. */
function selection(type: GraphQLNamedType): string {
  if (!isObjectType(type)) return '';
  const fields = (type as GraphQLObjectType).getFields();
  if (fields.id) return '{ id }';
  const scalar = Object.values(fields).find((f) => !isObjectType(getNamedType(f.type)));
  if (scalar) return `{ ${scalar.name} }`;
  const first = Object.values(fields)[0];
  return `{ ${first.name} ${selection(getNamedType(first.type))} }`;
}

const PERSONAL = new Set(['Resident', 'Household', 'HouseholdMember', 'Residence', 'HistoryEntry', 'DuplicateCandidate', 'Tag', 'StatisticsResult', 'TagChangePayload', 'ResidentsConnection', 'HouseholdsConnection']);
const NO_SESSION_NEEDED = new Set(['login', 'clientToken', 'refreshToken']);

describe('audit trail', () => {
  let api: TestApi;
  let c: TestCommunity;
  let worker: { token: string; username: string };
  let auditor: { token: string };

  beforeAll(async () => {
    api = await TestApi.start();
    c = await api.community('审计测试社区');
    worker = await api.user(Role.COMMUNITY_WORKER, { jurisdiction: [c.code] });
    auditor = await api.user(Role.AUDITOR);
  });
  afterAll(() => api.stop());

  const recordFor = async (requestId: string) => (await api.db.query(`SELECT * FROM audit_log WHERE request_id = $1`, [requestId]))[0];

  it('every personal-data operation and every write in the schema leaves an audit record when called', async () => {
    const schema = api.app.get(GraphQLSchemaHost).schema;
    const operations: { kind: 'query' | 'mutation'; name: string; field: ReturnType<GraphQLObjectType['getFields']>[string] }[] = [];
    for (const [kind, root] of [['query', schema.getQueryType()], ['mutation', schema.getMutationType()]] as const) {
      for (const field of Object.values(root!.getFields())) {
        const personal = PERSONAL.has(getNamedType(field.type).name);
        if ((kind === 'mutation' && !NO_SESSION_NEEDED.has(field.name)) || personal) operations.push({ kind, name: field.name, field });
      }
    }
    expect(operations.length).toBeGreaterThan(20);
    // logout ends the worker's session: call it last.
    operations.sort((a, b) => Number(a.name === 'logout') - Number(b.name === 'logout'));
    const missing: string[] = [];
    const caller = await api.user(Role.COMMUNITY_WORKER, { jurisdiction: [c.code] });
    for (const op of operations) {
      const args = op.field.args.filter((a) => isNonNullType(a.type));
      const vars = Object.fromEntries(args.map((a) => [a.name, sample(a.type)]));
      const decl = args.length ? `(${args.map((a) => `$${a.name}: ${a.type.toString()}`).join(', ')})` : '';
      const call = args.length ? `(${args.map((a) => `${a.name}: $${a.name}`).join(', ')})` : '';
      const requestId = `audit-${op.name}-${Date.now()}`;
      await api.as(caller.token, `${op.kind}${decl} { ${op.name}${call} ${selection(getNamedType(op.field.type))} }`, vars, { purpose: 'RESIDENT_SERVICE', requestId });
      if (!(await recordFor(requestId))) missing.push(`${op.kind} ${op.name}`);
    }
    expect(missing).toEqual([]);
  });

  it('records who, role, purpose, which residents and which fields in clear', async () => {
    const r = await c.resident({ name: '审计对象', phone: '13600001111' });
    const requestId = `audit-read-${Date.now()}`;
    const res = await api.as(worker.token, `query($id: ID!) { resident(id: $id) { id name phone } }`, { id: r.id }, { purpose: 'VISIT', requestId });
    expect(res.data!.resident.name).toBe('审计对象');
    const rec = await recordFor(requestId);
    expect(rec).toMatchObject({ actor: `user:${worker.username}`, actor_kind: 'USER', role: 'COMMUNITY_WORKER', purpose: 'VISIT', outcome: 'OK', resident_ids: [r.id] });
    expect(rec.fields_clear).toEqual(['Resident.name', 'Resident.phone']);
    expect(rec.source_address).toBeTruthy();
    const report = await api.as(auditor.token, `query($id: ID!) { residentAccessReport(residentId: $id) { actor purpose fieldsClear } }`, { id: r.id });
    expect(report.data!.residentAccessReport).toContainEqual({ actor: `user:${worker.username}`, purpose: 'VISIT', fieldsClear: ['Resident.name', 'Resident.phone'] });
    const byActor = await api.as(auditor.token, `query($a: String!) { auditTrail(filter: {actor: $a, clearOnly: true, purpose: "VISIT"}, first: 10) { totalCount records { requestId } } }`, { a: `user:${worker.username}` });
    expect(byActor.data!.auditTrail.records.map((x: { requestId: string }) => x.requestId)).toContain(requestId);
    const workerCannot = await api.as(worker.token, `{ auditTrail(first: 1) { totalCount } }`);
    expect(workerCannot.errors![0].extensions.code).toBe('FORBIDDEN');
  });

  it('records refusals too', async () => {
    const requestId = `audit-denied-${Date.now()}`;
    await api.as(worker.token, `{ residents(first: 1) { totalCount } }`, {}, { purpose: 'NOT_REGISTERED', requestId });
    expect(await recordFor(requestId)).toMatchObject({ outcome: 'DENIED' });
  });

  it('concurrent reads are appended together (group commit) and still form one unbroken chain, one row each', async () => {
    const r = await c.resident({ name: '并发审计' });
    const ids = Array.from({ length: 30 }, (_, i) => `audit-burst-${Date.now()}-${i}`);
    await Promise.all(ids.map((requestId) => api.as(worker.token, `query($id: ID!) { resident(id: $id) { name } }`, { id: r.id }, { purpose: 'VISIT', requestId })));
    const rows: { request_id: string; prev_hash: string; hash: string; id: string }[] = await api.db.query(
      `SELECT id::text, request_id, prev_hash, hash FROM audit_log WHERE request_id = ANY($1) ORDER BY id`, [ids]);
    expect(rows.map((x) => x.request_id).sort()).toEqual([...ids].sort());
    // Rows of one group commit share a transaction: fewer transactions than rows.
    const [{ transactions }] = await api.db.query(`SELECT count(DISTINCT xmin::text)::int AS transactions FROM audit_log WHERE request_id = ANY($1)`, [ids]);
    expect(transactions).toBeLessThan(ids.length);
    for (let i = 1; i < rows.length; i++) if (rows[i].id === String(Number(rows[i - 1].id) + 1)) expect(rows[i].prev_hash).toBe(rows[i - 1].hash);
    const verify = (await api.as(auditor.token, `{ verifyAuditChain { ok firstBrokenId } }`)).data!.verifyAuditChain;
    expect(verify).toEqual({ ok: true, firstBrokenId: null });
  });

  it('cannot be changed or removed by the application; the chain verifies, and a tampered row is found', async () => {
    await expect(api.db.query(`UPDATE audit_log SET purpose = 'X' WHERE id = (SELECT max(id) FROM audit_log)`)).rejects.toThrow(/append-only/);
    await expect(api.db.query(`DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)`)).rejects.toThrow(/append-only/);
    const verify = async () => (await api.as(auditor.token, `{ verifyAuditChain { ok checked firstBrokenId reason } }`)).data!.verifyAuditChain;
    expect(await verify()).toMatchObject({ ok: true, firstBrokenId: null });
    // Tamper as a database superuser would, then put the row back exactly as it was.
    const [victim] = await api.db.query(`SELECT id, purpose FROM audit_log ORDER BY id DESC OFFSET 2 LIMIT 1`);
    await api.db.query(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change`);
    try {
      await api.db.query(`UPDATE audit_log SET purpose = 'TAMPERED' WHERE id = $1`, [victim.id]);
      expect(await verify()).toMatchObject({ ok: false, firstBrokenId: victim.id, reason: expect.stringMatching(/CONTENT/) });
      await api.db.query(`UPDATE audit_log SET purpose = $2 WHERE id = $1`, [victim.id, victim.purpose]);
      const [row] = await api.db.query(`SELECT * FROM audit_log WHERE id = $1`, [victim.id]);
      await api.db.query(`DELETE FROM audit_log WHERE id = $1`, [victim.id]);
      const broken = await verify();
      expect(broken.ok).toBe(false);
      expect(broken.reason).toMatch(/LINK/);
      const cols = Object.keys(row);
      await api.db.query(`INSERT INTO audit_log (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`, cols.map((k) => row[k]));
    } finally {
      await api.db.query(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change`);
    }
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('links rows whose digest the database computed with rows whose digest the API computed, non-ASCII text included', async () => {
    const verify = async () => (await api.as(auditor.token, `{ verifyAuditChain { ok firstBrokenId reason } }`)).data!.verifyAuditChain;
    const content = (purpose: string, requestId: string) =>
      JSON.stringify([new Date().toISOString(), 'user:审计员甲', 'USER', 'AUDITOR', null, purpose, 'query residents', [], [], ['Resident.name'], [], 'OK', requestId, '127.0.0.1']);
    // A row as API processes before migration 1765400000000 appended it: the digest computed in Node.
    const oldRequest = `digest-old-${Date.now()}`;
    const oldContent = content('走访 VISIT', oldRequest);
    const keys = ['occurred_at', 'actor', 'actor_kind', 'role', 'department', 'purpose', 'operation', 'resident_ids', 'household_ids', 'fields_clear', 'fields_masked', 'outcome', 'request_id', 'source_address'];
    const oldRow = Object.fromEntries(keys.map((k, i) => [k, (JSON.parse(oldContent) as unknown[])[i]]));
    await api.db.query(`SELECT audit_append_many($1::jsonb)`, [JSON.stringify([{ ...oldRow, content_digest: createHash('sha256').update(oldContent).digest('hex') }])]);
    // Rows as the API appends them now: the content's text only, the digest computed by PostgreSQL.
    const newRequests = [`digest-new-${Date.now()}-a`, `digest-new-${Date.now()}-b`];
    await api.db.query(`SELECT audit_append_rows($1::json)`, [`[${newRequests.map((id) => content('核查 "引号" \\ 反斜杠', id)).join(',')}]`]);
    const rows: { request_id: string; purpose: string; actor: string }[] = await api.db.query(
      `SELECT request_id, purpose, actor FROM audit_log WHERE request_id = ANY($1) ORDER BY id`, [[oldRequest, ...newRequests]]);
    expect(rows).toEqual([
      { request_id: oldRequest, purpose: '走访 VISIT', actor: 'user:审计员甲' },
      ...newRequests.map((id) => ({ request_id: id, purpose: '核查 "引号" \\ 反斜杠', actor: 'user:审计员甲' })),
    ]);
    expect(await verify()).toEqual({ ok: true, firstBrokenId: null, reason: null });
  });

  it('returns no data when the audit record cannot be written', async () => {
    const r = await c.resident({ name: '不可泄露' });
    await api.db.query(`ALTER TABLE audit_log RENAME TO audit_log_offline`);
    try {
      const res = await api.as(worker.token, `query($id: ID!) { resident(id: $id) { name } }`, { id: r.id }, { purpose: 'VISIT' });
      expect(res.status).toBe(503);
      expect(res.data ?? null).toBeNull();
      expect(res.errors![0].extensions.code).toBe('AUDIT_UNAVAILABLE');
      expect(JSON.stringify(res)).not.toContain('不可泄露');
    } finally {
      await api.db.query(`ALTER TABLE audit_log_offline RENAME TO audit_log`);
    }
  });

  it('keeps records at least six months: the purge refuses younger rows even when asked', async () => {
    await expect(api.db.transaction(async (m) => {
      await m.query(`SET LOCAL linli.audit_purge = 'on'`);
      await m.query(`DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)`);
    })).rejects.toThrow(/append-only/);
  });

  it('a resident added by a worker is recorded as written by that worker', async () => {
    const requestId = `audit-write-${Date.now()}`;
    const res = await api.as(worker.token, `mutation($i: AddResidentInput!) { addResident(input: $i) { id } }`, {
      i: { resident: { idNumber: newIdNumber(), name: '新登记' }, communityCode: c.code },
    }, { purpose: 'DATA_MAINTENANCE', requestId });
    const rec = await recordFor(requestId);
    expect(rec).toMatchObject({ operation: 'mutation addResident', outcome: 'OK', resident_ids: [res.data!.addResident.id] });
  });
});
