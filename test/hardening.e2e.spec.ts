import { QueryCounter } from '@linli/core';
import { Role } from '@linli/access';
import { TestApi } from './support/api';

/** Runs `body` with environment overrides for an API started inside it. */
async function withEnv<T>(env: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await body();
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

describe('a hardened GraphQL endpoint', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await TestApi.start();
  });
  afterAll(() => api.stop());

  /** Sends a query bomb and checks it was refused without touching the database. */
  async function refusedBeforeWork(query: string, code: string) {
    const before = QueryCounter.shared.total;
    const res = await api.gql(query);
    expect(res.data ?? null).toBeNull();
    expect(res.errors?.[0].extensions.code).toBe(code);
    expect(QueryCounter.shared.total).toBe(before);
    return res.errors![0];
  }

  it('tells browsers and proxies not to keep any response', async () => {
    const res = await fetch(`${api.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-linli-dev-actor': 'test.worker' },
      body: JSON.stringify({ query: '{ residents(first: 1) { totalCount } }' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('etag')).toBeNull();
  });

  it('refuses deep nesting', async () => {
    let inner = 'id';
    for (let i = 0; i < 8; i++) inner = `household { members { resident { ${inner} } } }`;
    const err = await refusedBeforeWork(`{ residents(first: 1) { edges { node { ${inner} } } } }`, 'QUERY_TOO_COMPLEX');
    expect(err.extensions).toMatchObject({ maxDepth: 10 });
  });

  it('refuses thousands of aliases', async () => {
    const aliases = Array.from({ length: 2000 }, (_, i) => `a${i}: codeList(name: SEX) { code }`).join(' ');
    await refusedBeforeWork(`{ ${aliases} }`, 'QUERY_TOO_COMPLEX');
  });

  it('refuses fragment cycles', async () => {
    await refusedBeforeWork(`{ residents(first: 1) { edges { node { ...A } } } } fragment A on Resident { household { members { resident { ...B } } } } fragment B on Resident { ...A }`, 'GRAPHQL_VALIDATION_FAILED');
  });

  it('refuses huge lists and costly nesting by their cost, page size included', async () => {
    const huge = await refusedBeforeWork(`{ residents(first: 100000) { edges { node { id name } } } }`, 'QUERY_TOO_COMPLEX');
    expect(huge.extensions).toMatchObject({ maxCost: 25000 });
    await refusedBeforeWork(`{ residents(first: 200) { edges { node { household { members { resident { tags { code attributes } household { tags { code } } } } } } } } }`, 'QUERY_TOO_COMPLEX');
    await refusedBeforeWork(`query($n: Int!) { households(first: $n) { edges { node { members { resident { id name } } } } } }`.replace('$n: Int!', '$n: Int! = 5000'), 'QUERY_TOO_COMPLEX');
  });

  it('limits the request body size', async () => {
    const res = await fetch(`${api.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-linli-dev-actor': 'big' },
      body: JSON.stringify({ query: `{ me { actor } }`, variables: { pad: 'x'.repeat(2 * 1024 * 1024) } }),
    });
    expect(res.status).toBe(413);
  });

  it('rate-limits each principal by query cost per minute, with a clear error', async () => {
    const limited = await withEnv({ QUERY_COST_PER_MINUTE: '300' }, () => TestApi.start());
    try {
      const { token } = await limited.user(Role.AUDITOR);
      const q = `{ codeList(name: ETHNICITY) { code nameZh nameEn } }`;
      let res = await limited.as(token, q);
      for (let i = 0; i < 20 && !res.errors; i++) res = await limited.as(token, q);
      expect(res.status).toBe(429);
      expect(res.errors![0].extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number), budgetPerMinute: 300 });
      expect(res.errors![0].extensions.messageZh).toMatch(/配额/);
      const other = await limited.user(Role.AUDITOR);
      expect((await limited.as(other.token, q)).errors).toBeUndefined();
    } finally {
      await limited.stop();
    }
  });

  describe('in production', () => {
    let prod: TestApi;
    let token: string;
    beforeAll(async () => {
      prod = await withEnv({ NODE_ENV: 'production', AUTH_TOKEN_SECRET: 'p'.repeat(48) }, () => TestApi.start());
      const c = await api.community('生产模式社区');
      token = (await prod.user(Role.COMMUNITY_WORKER, { jurisdiction: [c.code] })).token;
    });
    afterAll(() => prod.stop());

    it('refuses the development actor', async () => {
      const res = await prod.gql(`{ me { actor } }`);
      expect(res.errors![0].extensions.code).toBe('UNAUTHENTICATED');
    });

    it('has no introspection and no field suggestions', async () => {
      const intro = await prod.as(token, `{ __schema { types { name } } }`);
      expect(intro.errors?.[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      const typo = await prod.as(token, `{ residentz(first: 1) { totalCount } }`);
      expect(typo.errors?.[0].message).not.toMatch(/Did you mean/);
    });

    it('answers an internal failure with a generic error and the request id: no stack, no SQL', async () => {
      await prod.db.query(`ALTER TABLE household RENAME TO household_offline`);
      try {
        const res = await prod.as(token, `{ households(first: 1) { totalCount } }`, {}, { purpose: 'RESIDENT_SERVICE', requestId: 'req-internal-1' });
        const text = JSON.stringify(res);
        expect(res.errors?.[0].extensions.code).toBe('INTERNAL');
        expect(res.errors?.[0].extensions.requestId).toBe('req-internal-1');
        expect(text).not.toMatch(/household_offline|relation|SELECT|stack|at \w+ \(/i);
      } finally {
        await prod.db.query(`ALTER TABLE household_offline RENAME TO household`);
      }
    });
  });
});
