import { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CodesService, generateIdNumber } from '@linli/codes';
import { IdentitiesService, Role } from '@linli/access';
import { createApiApp } from '../../apps/api/src/bootstrap';

export interface GqlResponse<T = Record<string, unknown>> {
  data?: T;
  errors?: { message: string; path?: string[]; extensions: Record<string, unknown> & { code: string; field?: string } }[];
}

/** The real API on a random port, spoken to over HTTP as a client would. */
export class TestApi {
  private constructor(readonly app: INestApplication, readonly url: string, readonly db: DataSource) {}

  static async start(): Promise<TestApi> {
    const app = await createApiApp();
    await app.listen(0, '127.0.0.1');
    const address = app.getHttpServer().address() as { port: number };
    return new TestApi(app, `http://127.0.0.1:${address.port}`, app.get(DataSource));
  }

  async stop(): Promise<void> {
    await this.app.close();
  }

  async gql<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, actor: string | null = 'test.worker'): Promise<GqlResponse<T>> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (actor) headers['x-linli-dev-actor'] = actor;
    const res = await fetch(`${this.url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    return (await res.json()) as GqlResponse<T>;
  }

  /** A request as a signed-in principal: bearer token, optional purpose and request id. */
  async as<T = Record<string, any>>(token: string, query: string, variables: Record<string, unknown> = {}, opts: { purpose?: string; requestId?: string } = {}): Promise<GqlResponse<T> & { status: number }> {
    const headers: Record<string, string> = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    if (opts.purpose) headers['x-linli-purpose'] = opts.purpose;
    if (opts.requestId) headers['x-request-id'] = opts.requestId;
    const res = await fetch(`${this.url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    return { ...((await res.json()) as GqlResponse<T>), status: res.status };
  }

  /** Creates a user (unique username per call) and signs in; returns the access token. */
  async user(role: string, opts: { jurisdiction?: string[]; department?: string } = {}): Promise<{ token: string; username: string; refreshToken: string }> {
    const username = `t${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`.toLowerCase();
    const password = 'Test-password-123';
    await this.app.get(IdentitiesService).createUser({ username, displayName: username, password, role: role as Role, jurisdiction: opts.jurisdiction ?? [], departmentCode: opts.department ?? null });
    const res = await this.gql(`mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken refreshToken } }`, { u: username, p: password }, null);
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return { token: res.data!.login.accessToken, refreshToken: res.data!.login.refreshToken, username };
  }

  /** Creates an API client of a department and exchanges its secret for a token. */
  async client(department: string): Promise<{ token: string; clientId: string; secret: string }> {
    const clientId = `c${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    const secret = await this.app.get(IdentitiesService).createClient(clientId, clientId, department);
    const res = await this.gql(`mutation($c: String!, $s: String!) { clientToken(clientId: $c, clientSecret: $s) { accessToken } }`, { c: clientId, s: secret }, null);
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return { token: res.data!.clientToken.accessToken, clientId, secret };
  }

  /** Runs a query that must succeed and returns its data. */
  async ok<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const res = await this.gql<T>(query, variables);
    if (res.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors, null, 2)}`);
    return res.data!;
  }

  /** Runs a query that must fail and returns its first error. */
  async fails(query: string, variables: Record<string, unknown> = {}) {
    const res = await this.gql(query, variables);
    if (!res.errors?.length) throw new Error(`expected an error, got ${JSON.stringify(res.data)}`);
    return res.errors[0];
  }

  /** A community of its own for one test file (isolation without wiping), with a compound, building and dwelling factory. */
  async community(name = '测试社区', township = '330203001000'): Promise<TestCommunity> {
    const code = `${township.slice(0, 9)}${String(Math.floor(Math.random() * 1000)).padStart(3, '0')}`;
    const [row] = await this.db.query(
      `INSERT INTO division (code, name, level, parent_code, synthetic, valid_from)
       SELECT $1, $2, 'COMMUNITY', $3, true, '2016-10-01' WHERE NOT EXISTS (SELECT 1 FROM division WHERE code = $1)
       RETURNING code`,
      [code, name, township],
    );
    if (!row) return this.community(name, township);
    await this.app.get(CodesService).reload();
    const compound = await this.ok(`mutation($c: String!) { createCompound(input: {communityCode: $c, name: "测试小区"}) { id } }`, { c: code });
    const building = await this.ok(`mutation($c: ID!) { createBuilding(input: {compoundId: $c, name: "1幢", street: "解放南路", doorNumber: "1号"}) { id } }`, { c: compound.createCompound.id });
    return new TestCommunity(this, code, compound.createCompound.id, building.createBuilding.id);
  }
}

/**
 * A fresh, valid ID number: a random address code (any 6 digits pass: retired codes are valid inside IDs), a random
 * birth date unless given, and a random sequence whose parity gives the sex. Test files share one database, so the
 * space is kept large enough (millions of numbers per birth date) that two files never draw the same number.
 */
export function newIdNumber(sex: '1' | '2' = '1', birthDate?: string): string {
  const year = 1950 + Math.floor(Math.random() * 50); // ages 26–76: no derived age tags unless a test asks for them
  const month = String(1 + Math.floor(Math.random() * 12)).padStart(2, '0');
  const day = String(1 + Math.floor(Math.random() * 28)).padStart(2, '0');
  const address = `33${String(Math.floor(Math.random() * 10000)).padStart(4, '0')}`;
  const seq = Math.floor(Math.random() * 500) * 2 + (sex === '1' ? 1 : 0);
  return generateIdNumber(address, birthDate ?? `${year}-${month}-${day}`, seq);
}

export class TestCommunity {
  private rooms = 0;
  constructor(readonly api: TestApi, readonly code: string, readonly compoundId: string, readonly buildingId: string) {}

  async dwelling(): Promise<string> {
    this.rooms += 1;
    const d = await this.api.ok(`mutation($b: ID!, $r: String!) { createDwelling(input: {buildingId: $b, unit: "1单元", room: $r, floor: 1}) { id } }`, {
      b: this.buildingId, r: String(100 + this.rooms),
    });
    return d.createDwelling.id;
  }

  /** Adds a resident through the API and returns {id, version, idNumber}. */
  async resident(fields: Record<string, unknown> = {}): Promise<{ id: string; version: number; idNumber: string; name: string }> {
    const sex = (fields.sex as '1' | '2' | undefined) ?? '1';
    const resident = { idNumber: newIdNumber(sex, fields.birthDate as string | undefined), name: '王小明', ...fields };
    const data = await this.api.ok(`mutation($input: AddResidentInput!) { addResident(input: $input) { id version idNumber name } }`, {
      input: { resident, communityCode: this.code },
    });
    return data.addResident;
  }
}
