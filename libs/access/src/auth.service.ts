import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import { DataSource } from 'typeorm';
import { AccessGrant, Actor, AppConfig, CodeRange, DomainError, ErrorCode, Permission } from '@linli/core';
import { subtreeRange } from '@linli/codes';
import { AccessPolicyEntity, ApiClientEntity, DepartmentEntity, SessionEntity, UserEntity } from './entities/identity.entities';
import { Role, ROLE_PERMISSIONS, WRITING_ROLES } from './roles';
import { AccessClaims, randomSecret, sha256, signAccessToken, verifyAccessToken } from './tokens';

export interface TokenPair {
  accessToken: string;
  expiresIn: number;
  refreshToken: string | null;
  sessionId: string;
}

export interface Principal {
  actor: Actor;
  access: AccessGrant;
}

const badCredentials = () => new DomainError(ErrorCode.UNAUTHENTICATED, '用户名或密码错误', 'Wrong username or password');
/**
 * How long a process trusts a principal it loaded. Revocations and access changes reach every process at once through
 * PrincipalChanges (LISTEN); this bound holds while that connection is down.
 */
const CACHE_MS = 5_000;

export function rangesOf(codes: string[]): CodeRange[] {
  return codes.map((c) => subtreeRange(c));
}

/**
 * Sign-in for people (password, argon2id) and departments' systems (client credentials), sessions with refresh
 * tokens, lockout after repeated failures, revocation, secret rotation; and the principal behind a token.
 */
@Injectable()
export class AuthService {
  private readonly principals = new Map<string, { at: number; principal: Principal | null }>();
  /** Tokens whose signature has been checked: a client sends the same token with every request until it expires. */
  private readonly verified = new Map<string, AccessClaims>();
  /** Counts `forget` calls: a principal loaded while one happened is not cached, as it may predate the change. */
  private forgets = 0;
  private readonly loading = new Map<string, Promise<Principal | null>>();
  private dummyHash: Promise<string> | null = null;

  constructor(@InjectDataSource() private readonly dataSource: DataSource, private readonly config: AppConfig) {}

  static hashSecret(secret: string): Promise<string> {
    return argonHash(secret, { algorithm: 2 /* argon2id */, memoryCost: 19456, timeCost: 2, parallelism: 1 });
  }

  private refuseDemoInProduction(demo: boolean): void {
    if (demo && this.config.get('NODE_ENV') === 'production') {
      throw new DomainError(ErrorCode.UNAUTHENTICATED, '演示账号在生产环境中不可用', 'Demo accounts are refused in production');
    }
  }

  async login(username: string, password: string, sourceAddress: string | null): Promise<TokenPair> {
    const repo = this.dataSource.getRepository(UserEntity);
    const user = await repo.findOneBy({ username: (username ?? '').trim().toLowerCase() });
    if (!user || user.disabledAt) {
      // Spend the same time as a real check, so a missing account cannot be told apart by timing.
      this.dummyHash ??= AuthService.hashSecret('linli-timing-equaliser');
      await argonVerify(await this.dummyHash, password ?? '').catch(() => false);
      throw badCredentials();
    }
    this.refuseDemoInProduction(user.demo);
    if (user.lockedUntil && user.lockedUntil > new Date()) {
      throw new DomainError(ErrorCode.ACCOUNT_LOCKED, '登录失败次数过多，账号已临时锁定', 'Too many failed sign-ins: the account is locked for a while', {
        details: { lockedUntil: user.lockedUntil.toISOString() },
      });
    }
    if (!(await argonVerify(user.passwordHash, password ?? '').catch(() => false))) {
      const max = this.config.get('LOGIN_MAX_FAILURES');
      await this.dataSource.query(
        `UPDATE app_user SET failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END,
                             locked_until = CASE WHEN failed_logins + 1 >= $2 THEN now() + make_interval(mins => $3::int) ELSE locked_until END
          WHERE id = $1`,
        [user.id, max, this.config.get('LOGIN_LOCKOUT_MINUTES')],
      );
      throw badCredentials();
    }
    await repo.update({ id: user.id }, { failedLogins: 0, lockedUntil: null });
    return this.openSession('USER', user.id, sourceAddress, true);
  }

  async clientToken(clientId: string, secret: string, sourceAddress: string | null): Promise<TokenPair> {
    const client = await this.dataSource.getRepository(ApiClientEntity).findOneBy({ clientId: (clientId ?? '').trim() });
    if (!client || client.disabledAt) throw new DomainError(ErrorCode.UNAUTHENTICATED, '客户端标识或密钥错误', 'Wrong client id or secret');
    this.refuseDemoInProduction(client.demo);
    const current = await argonVerify(client.secretHash, secret ?? '').catch(() => false);
    const previous = !current && client.previousSecretHash && client.previousValidUntil && client.previousValidUntil > new Date()
      ? await argonVerify(client.previousSecretHash, secret ?? '').catch(() => false) : false;
    if (!current && !previous) throw new DomainError(ErrorCode.UNAUTHENTICATED, '客户端标识或密钥错误', 'Wrong client id or secret');
    return this.openSession('CLIENT', client.id, sourceAddress, false);
  }

  private async openSession(kind: 'USER' | 'CLIENT', principalId: string, sourceAddress: string | null, withRefresh: boolean): Promise<TokenPair> {
    const refreshToken = withRefresh ? randomSecret() : null;
    const ttl = withRefresh ? this.config.get('REFRESH_TOKEN_TTL_SECONDS') : this.config.get('ACCESS_TOKEN_TTL_SECONDS');
    const [session] = await this.dataSource.query(
      `INSERT INTO auth_session (principal_kind, principal_id, refresh_hash, expires_at, source_address)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4::int), $5) RETURNING id`,
      [kind, principalId, refreshToken ? sha256(refreshToken) : null, ttl, sourceAddress],
    );
    return { ...this.accessToken(kind, principalId, session.id), refreshToken, sessionId: session.id };
  }

  private accessToken(kind: 'USER' | 'CLIENT', principalId: string, sessionId: string): { accessToken: string; expiresIn: number } {
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = this.config.get('ACCESS_TOKEN_TTL_SECONDS');
    const claims: AccessClaims = { sub: principalId, kind, sid: sessionId, iat: now, exp: now + expiresIn };
    return { accessToken: signAccessToken(claims, this.config.tokenSecret), expiresIn };
  }

  /** Exchanges a refresh token for a new pair; the old refresh token stops working (rotation). */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const next = randomSecret();
    // UPDATE … RETURNING answers [rows, count] through TypeORM.
    const [[row]]: [{ id: string; principal_kind: 'USER' | 'CLIENT'; principal_id: string }[]] = await this.dataSource.query(
      `UPDATE auth_session SET refresh_hash = $2
        WHERE refresh_hash = $1 AND revoked_at IS NULL AND expires_at > now()
        RETURNING id, principal_kind, principal_id`,
      [sha256(refreshToken ?? ''), sha256(next)],
    );
    if (!row) throw new DomainError(ErrorCode.UNAUTHENTICATED, '登录已过期，请重新登录', 'The session has ended; sign in again');
    return { ...this.accessToken(row.principal_kind, row.principal_id, row.id), refreshToken: next, sessionId: row.id };
  }

  async revokeSession(sessionId: string): Promise<void> {
    await this.dataSource.query(`UPDATE auth_session SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, [sessionId]);
    this.forget(sessionId);
  }

  /** Ends every session of a user or client (security officer), e.g. after a lost laptop or a leaked secret. */
  async revokeAllSessions(kind: 'USER' | 'CLIENT', principalId: string): Promise<number> {
    const [rows]: [{ id: string }[]] = await this.dataSource.query(
      `UPDATE auth_session SET revoked_at = now() WHERE principal_kind = $1 AND principal_id = $2 AND revoked_at IS NULL RETURNING id`,
      [kind, principalId],
    );
    for (const r of rows) this.forget(r.id);
    return rows.length;
  }

  /** A new secret for a client, shown once; the old one keeps working for `overlapMinutes` so the department can switch. */
  async rotateClientSecret(clientId: string, overlapMinutes: number): Promise<string> {
    if (!Number.isInteger(overlapMinutes) || overlapMinutes < 0 || overlapMinutes > 7 * 24 * 60) {
      throw DomainError.badInput('overlapMinutes', '过渡时间须在 0 到 10080 分钟之间', 'overlapMinutes must be between 0 and 10080');
    }
    const client = await this.dataSource.getRepository(ApiClientEntity).findOneBy({ clientId });
    if (!client) throw DomainError.notFound('ApiClient', clientId, 'clientId');
    const secret = randomSecret();
    await this.dataSource.query(
      `UPDATE api_client SET previous_secret_hash = secret_hash, previous_valid_until = now() + make_interval(mins => $3::int),
                             secret_hash = $2, rotated_at = now() WHERE id = $1`,
      [client.id, await AuthService.hashSecret(secret), overlapMinutes],
    );
    if (overlapMinutes === 0) await this.revokeAllSessions('CLIENT', client.id);
    return secret;
  }

  /**
   * The principal behind a bearer token, or null when the token is invalid, expired or its session revoked. Answers
   * synchronously while the token and its session are cached (nearly every request of a signed-in client), so the
   * request path takes no promise for it; otherwise with the (shared) load.
   */
  principalFor(token: string): Principal | null | Promise<Principal | null> {
    const nowMs = Date.now();
    let claims = this.verified.get(token) ?? null;
    if (claims && claims.exp * 1000 <= nowMs) {
      this.verified.delete(token);
      return null;
    }
    if (!claims) {
      claims = verifyAccessToken(token, this.config.tokenSecret);
      if (!claims) return null;
      if (this.verified.size >= 10_000) this.verified.clear();
      this.verified.set(token, claims);
    }
    const cached = this.principals.get(claims.sid);
    if (cached && nowMs - cached.at < CACHE_MS) return cached.principal;
    // Concurrent requests of one session share one load (a client's requests all miss together when it expires).
    let loading = this.loading.get(claims.sid);
    if (!loading) {
      const forgetsBefore = this.forgets;
      const sid = claims.sid;
      loading = this.loadPrincipal(claims).then((principal) => {
        if (this.forgets === forgetsBefore) {
          this.principals.set(sid, { at: Date.now(), principal });
          if (this.principals.size > 10_000) this.principals.clear();
        }
        return principal;
      }).finally(() => {
        if (this.loading.get(sid) === loading) this.loading.delete(sid);
      });
      this.loading.set(sid, loading);
    }
    return loading;
  }

  /** Drops what this process cached of one session (`sessionId`) or of every session (null): it is reloaded on use. */
  forget(sessionId: string | null): void {
    this.forgets += 1;
    // A load in flight may have read the session before the change: later requests start their own.
    if (sessionId === null) {
      this.principals.clear();
      this.loading.clear();
    } else {
      this.principals.delete(sessionId);
      this.loading.delete(sessionId);
    }
  }

  private async loadPrincipal(claims: AccessClaims): Promise<Principal | null> {
    const session = await this.dataSource.getRepository(SessionEntity).findOneBy({ id: claims.sid });
    if (!session || session.revokedAt || session.expiresAt < new Date() || session.principalId !== claims.sub) return null;
    if (claims.kind === 'USER') {
      const user = await this.dataSource.getRepository(UserEntity).findOneBy({ id: claims.sub });
      if (!user || user.disabledAt) return null;
      const department = user.departmentCode ? await this.dataSource.getRepository(DepartmentEntity).findOneBy({ code: user.departmentCode }) : null;
      const role = user.role as Role;
      const jurisdiction = role === Role.DEPARTMENT && department ? department.jurisdiction : user.jurisdiction;
      return this.grant({ id: `user:${user.username}`, kind: 'USER', role, departmentCode: user.departmentCode, sessionId: session.id }, role, jurisdiction, department);
    }
    const client = await this.dataSource.getRepository(ApiClientEntity).findOneBy({ id: claims.sub });
    if (!client || client.disabledAt) return null;
    const department = await this.dataSource.getRepository(DepartmentEntity).findOneBy({ code: client.departmentCode });
    if (!department) return null;
    return this.grant({ id: `client:${client.clientId}`, kind: 'CLIENT', role: Role.DEPARTMENT, departmentCode: department.code, sessionId: session.id }, Role.DEPARTMENT, department.jurisdiction, department);
  }

  private async grant(actor: Actor, role: Role, jurisdictionCodes: string[], department: DepartmentEntity | null): Promise<Principal> {
    const permissions = new Set<Permission>(ROLE_PERMISSIONS[role] ?? []);
    const subject = role === Role.DEPARTMENT && department ? `department:${department.code}` : `role:${role}`;
    const policy = await this.dataSource.getRepository(AccessPolicyEntity).findOneBy({ subject });
    const reads = permissions.has(Permission.READ_REGISTER) || permissions.has(Permission.READ_STATISTICS);
    const jurisdiction = reads ? rangesOf(jurisdictionCodes) : [];
    const tagLines = role === Role.DEPARTMENT && department ? new Set([department.line])
      : role === Role.COMMUNITY_WORKER ? new Set(['CIVIL_AFFAIRS', 'DISABILITY_FEDERATION', 'ELDERLY_AFFAIRS', 'PARTY_ORGANISATION', 'VETERANS_AFFAIRS', 'PUBLIC_SECURITY', 'HEALTH', 'HUMAN_RESOURCES'])
        : new Set<string>();
    return {
      actor,
      access: {
        permissions,
        jurisdiction,
        writeJurisdiction: WRITING_ROLES.has(role) ? jurisdiction : [],
        fields: policy?.fields ?? {},
        tags: policy ? (policy.tags === null ? null : new Set(policy.tags)) : new Set<string>(),
        tagLines,
        purposes: new Set(policy?.purposes ?? []),
        minStatisticsCell: policy?.minStatisticsCell ?? 5,
      },
    };
  }
}
