import { Client } from 'pg';
import { AppConfig } from '@linli/core';
import { AuthService, IdentitiesService, PrincipalChanges, PRINCIPALS_CHANNEL, Role } from '@linli/access';
import { signAccessToken } from '../libs/access/src/tokens';
import { TestApi } from './support/api';

const ME = `{ me { actor role permissions } }`;
/** The claims of an access token (its middle part), read without checking the signature. */
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());

describe('identities: sign-in, lockout, expiry, revocation, rotation', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await TestApi.start();
  });
  afterAll(() => api.stop());

  const login = (u: string, p: string) => api.gql(`mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken refreshToken expiresIn sessionId } }`, { u, p }, null);

  it('signs a person in and answers who they are; a wrong password gets the same answer as an unknown user', async () => {
    const { token, username } = await api.user(Role.AUDITOR);
    const me = await api.as(token, ME);
    expect(me.data!.me).toEqual({ actor: `user:${username}`, role: 'AUDITOR', permissions: ['READ_AUDIT', 'READ_REFERENCE'] });
    const wrong = await login(username, 'Wrong-password-1');
    const unknown = await login('nobody.here', 'Wrong-password-1');
    expect(wrong.errors![0].extensions.code).toBe('UNAUTHENTICATED');
    expect(unknown.errors![0].message).toBe(wrong.errors![0].message);
  });

  it('locks the account after repeated failures, even for the right password, until the lock expires', async () => {
    const { username } = await api.user(Role.AUDITOR);
    const max = api.app.get(AppConfig).get('LOGIN_MAX_FAILURES');
    for (let i = 0; i < max; i++) expect((await login(username, `Wrong-password-${i}`)).errors![0].extensions.code).toBe('UNAUTHENTICATED');
    const locked = await login(username, 'Test-password-123');
    expect(locked.errors![0].extensions).toMatchObject({ code: 'ACCOUNT_LOCKED', lockedUntil: expect.any(String) });
    await api.db.query(`UPDATE app_user SET locked_until = now() - interval '1 second' WHERE username = $1`, [username]);
    expect((await login(username, 'Test-password-123')).data!.login.accessToken).toBeTruthy();
  });

  it('refuses expired, forged and revoked tokens; logout ends the session at once', async () => {
    const { token } = await api.user(Role.AUDITOR);
    const me = await api.as(token, ME);
    expect(me.errors).toBeUndefined();
    const payload = claimsOf(token);
    const secret = api.app.get(AppConfig).tokenSecret;
    const expired = signAccessToken({ ...payload, exp: Math.floor(Date.now() / 1000) - 1 }, secret);
    expect((await api.as(expired, ME)).errors![0].extensions.code).toBe('UNAUTHENTICATED');
    const forged = signAccessToken({ ...payload, exp: payload.exp + 3600 }, 'not-the-secret-not-the-secret-not-the-secret');
    expect((await api.as(forged, ME)).errors![0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await api.as(token, `mutation { logout }`)).data!.logout).toBe(true);
    expect((await api.as(token, ME)).errors![0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('rotates refresh tokens: the new one works once, the old one never again', async () => {
    const { refreshToken } = await api.user(Role.AUDITOR);
    const q = `mutation($r: String!) { refreshToken(refreshToken: $r) { accessToken refreshToken } }`;
    const first = await api.gql(q, { r: refreshToken }, null);
    expect(first.data!.refreshToken.accessToken).toBeTruthy();
    expect((await api.gql(q, { r: refreshToken }, null)).errors![0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await api.as(first.data!.refreshToken.accessToken, ME)).errors).toBeUndefined();
  });

  it('rotates client secrets with an overlap; without overlap the old secret and its sessions end', async () => {
    const { clientId, secret, token } = await api.client('HEALTH');
    const exchange = (s: string) => api.gql(`mutation($c: String!, $s: String!) { clientToken(clientId: $c, clientSecret: $s) { accessToken } }`, { c: clientId, s }, null);
    const admin = await api.user(Role.ADMINISTRATOR);
    const rotated = await api.as(admin.token, `mutation($c: String!) { rotateClientSecret(clientId: $c, overlapMinutes: 30) { secret } }`, { c: clientId });
    const newSecret = rotated.data!.rotateClientSecret.secret;
    expect((await exchange(secret)).data?.clientToken.accessToken).toBeTruthy();
    expect((await exchange(newSecret)).data?.clientToken.accessToken).toBeTruthy();
    const hard = await api.app.get(AuthService).rotateClientSecret(clientId, 0);
    expect((await exchange(newSecret)).errors![0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await exchange(hard)).data?.clientToken.accessToken).toBeTruthy();
    expect((await api.as(token, ME)).errors![0].extensions.code).toBe('UNAUTHENTICATED');
    const stored = await api.db.query(`SELECT secret_hash FROM api_client WHERE client_id = $1`, [clientId]);
    expect(stored[0].secret_hash).toMatch(/^\$argon2id\$/);
    expect(stored[0].secret_hash).not.toContain(hard);
  });

  it('only administrators rotate secrets; security officers end sessions; roles do not overlap', async () => {
    const { clientId } = await api.client('HEALTH');
    const officer = await api.user(Role.SECURITY_OFFICER);
    const refused = await api.as(officer.token, `mutation($c: String!) { rotateClientSecret(clientId: $c) { secret } }`, { c: clientId });
    expect(refused.errors![0].extensions.code).toBe('FORBIDDEN');
    const victim = await api.user(Role.AUDITOR);
    const [row] = await api.db.query(`SELECT id FROM app_user WHERE username = $1`, [victim.username]);
    const ended = await api.as(officer.token, `mutation($id: ID!) { revokeSessions(principalKind: "USER", principalId: $id) }`, { id: row.id });
    expect(ended.data!.revokeSessions).toBe(1);
    expect((await api.as(victim.token, ME)).errors![0].extensions.code).toBe('UNAUTHENTICATED');
    const auditorReadsRegister = await api.as(victim.token, `{ residents(first: 1) { totalCount } }`);
    expect(auditorReadsRegister.errors![0].extensions.code).toBe('UNAUTHENTICATED');
  });

  describe('changes made elsewhere (another API process, the admin CLI, SQL) take effect at once', () => {
    // Each process caches a principal for CACHE_MS (5 s). The changes below bypass this process's AuthService, as a
    // change made in another process would; they must take effect well before that cache would expire.
    const WITHIN_MS = 2_000;
    async function refusedWithin(token: string): Promise<number> {
      const start = Date.now();
      while (Date.now() - start < WITHIN_MS) {
        const res = await api.as(token, ME);
        if (res.errors?.[0]?.extensions.code === 'UNAUTHENTICATED') return Date.now() - start;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`still accepted ${WITHIN_MS} ms after the change`);
    }

    it('concurrent requests of one session share one load of its principal', async () => {
      const auth = api.app.get(AuthService);
      const { token, username } = await api.user(Role.AUDITOR);
      auth.forget(null);
      const spy = jest.spyOn(auth as unknown as { loadPrincipal: (...args: unknown[]) => Promise<unknown> }, 'loadPrincipal');
      try {
        const principals = await Promise.all(Array.from({ length: 10 }, () => auth.principalFor(token)));
        expect(principals.map((p) => p?.actor.id)).toEqual(Array(10).fill(`user:${username}`));
        expect(spy).toHaveBeenCalledTimes(1);
      } finally {
        spy.mockRestore();
      }
    });

    it('listens for changes', () => {
      expect(api.app.get(PrincipalChanges).listening).toBe(true);
    });

    it('a session revoked outside this process is refused here at once', async () => {
      const { token } = await api.user(Role.AUDITOR);
      expect((await api.as(token, ME)).errors).toBeUndefined(); // cached from here on
      await api.db.query(`UPDATE auth_session SET revoked_at = now() WHERE id = $1`, [claimsOf(token).sid]);
      expect(await refusedWithin(token)).toBeLessThan(WITHIN_MS);
    });

    it('an account disabled outside this process is refused here at once; logins and lockout counters announce nothing', async () => {
      const { token, username } = await api.user(Role.AUDITOR);
      const other = await api.user(Role.AUDITOR);
      expect((await api.as(token, ME)).errors).toBeUndefined();
      const heard: string[] = [];
      const listener = new Client({ connectionString: api.app.get(AppConfig).get('DATABASE_URL') });
      await listener.connect();
      try {
        listener.on('notification', (n) => heard.push(n.payload ?? ''));
        await listener.query(`LISTEN ${PRINCIPALS_CHANNEL}`);
        await login(other.username, 'Wrong-password-0');
        expect((await login(other.username, 'Test-password-123')).data!.login.accessToken).toBeTruthy();
        await api.db.query(`UPDATE app_user SET disabled_at = now() WHERE username = $1`, [username]);
        expect(await refusedWithin(token)).toBeLessThan(WITHIN_MS);
        expect(heard).toContain('*');
        // Other suites share the database and may announce their own changes; none of these come from the logins.
        const [row] = await api.db.query(`SELECT id FROM app_user WHERE username = $1`, [other.username]);
        const sessions: { id: string }[] = await api.db.query(`SELECT id FROM auth_session WHERE principal_id = $1`, [row.id]);
        expect(heard.filter((h) => sessions.some((x) => x.id === h))).toEqual([]);
      } finally {
        await listener.end();
      }
      expect((await api.as(other.token, ME)).errors).toBeUndefined();
    });

    it('listens again after losing its connection', async () => {
      const name = `linli-principals-${process.pid}`;
      const backends = async (): Promise<number[]> =>
        (await api.db.query(`SELECT pid FROM pg_stat_activity WHERE application_name = $1`, [name])).map((r: { pid: number }) => r.pid);
      const [old] = await backends();
      expect(old).toBeDefined();
      await api.db.query(`SELECT pg_terminate_backend($1)`, [old]);
      const start = Date.now();
      let now: number[] = [];
      while (Date.now() - start < 5_000) {
        now = await backends();
        if (now.length === 1 && now[0] !== old) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(now).toEqual([expect.any(Number)]);
      expect(now[0]).not.toBe(old);
      const { token } = await api.user(Role.AUDITOR);
      expect((await api.as(token, ME)).errors).toBeUndefined();
      await api.db.query(`UPDATE auth_session SET revoked_at = now() WHERE id = $1`, [claimsOf(token).sid]);
      expect(await refusedWithin(token)).toBeLessThan(WITHIN_MS);
    });
  });

  it('stores passwords as argon2id and refuses weak ones', async () => {
    const { username } = await api.user(Role.AUDITOR);
    const [row] = await api.db.query(`SELECT password_hash FROM app_user WHERE username = $1`, [username]);
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    await expect(api.app.get(IdentitiesService).createUser({ username: 'weak.one', displayName: 'x', password: 'short', role: Role.AUDITOR }))
      .rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'password' });
  });

  it('refuses demo accounts in production', async () => {
    const auth = new AuthService(api.db, AppConfig.of({ NODE_ENV: 'production', AUTH_TOKEN_SECRET: 'x'.repeat(40) }));
    const identities = api.app.get(IdentitiesService);
    const username = `demo${Date.now().toString(36)}`;
    await identities.createUser({ username, displayName: 'demo', password: 'Demo-password-123', role: Role.AUDITOR, demo: true });
    await expect(auth.login(username, 'Demo-password-123', null)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', messageEn: expect.stringMatching(/production/) });
  });
});
