import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DomainError, ErrorCode } from '@linli/core';
import { divisionLevelOf } from '@linli/codes';
import { AuthService } from './auth.service';
import { Role } from './roles';
import { randomSecret } from './tokens';

export interface NewUser {
  username: string;
  displayName: string;
  password: string;
  role: Role;
  departmentCode?: string | null;
  /** Division codes (12 digits) the person works in; required for register roles. */
  jurisdiction?: string[];
  demo?: boolean;
}

const USERNAME = /^[a-z0-9._-]{3,64}$/;

/** Creates and manages people and departments' API clients (administrators, and the `npm run admin` CLI). */
@Injectable()
export class IdentitiesService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  static checkPassword(password: string): void {
    if (password.length < 12 || !/[A-Za-z]/.test(password) || !/\d/.test(password)) {
      throw DomainError.badInput('password', '密码至少 12 位，且须包含字母和数字', 'Password needs at least 12 characters with letters and digits');
    }
  }

  async createUser(u: NewUser): Promise<string> {
    const username = u.username.trim().toLowerCase();
    if (!USERNAME.test(username)) throw DomainError.badInput('username', '用户名须为 3–64 位小写字母、数字或 . _ -', 'Username must be 3–64 lower-case letters, digits, . _ or -');
    if (!Object.values(Role).includes(u.role)) throw DomainError.badInput('role', `角色 ${u.role} 不存在`, `Role ${u.role} does not exist`);
    IdentitiesService.checkPassword(u.password);
    const jurisdiction = u.jurisdiction ?? [];
    for (const code of jurisdiction) {
      try {
        divisionLevelOf(code);
      } catch {
        throw DomainError.badInput('jurisdiction', `区划代码 ${code} 无效`, `Division code ${code} is not valid`);
      }
    }
    if ([Role.COMMUNITY_WORKER, Role.STREET_STAFF, Role.DISTRICT_STAFF].includes(u.role) && jurisdiction.length === 0) {
      throw DomainError.badInput('jurisdiction', '该角色须指定辖区', 'This role needs a jurisdiction');
    }
    if (u.role === Role.DEPARTMENT && !u.departmentCode) throw DomainError.badInput('department', '部门人员须指定部门', 'Department staff need a department');
    const [row] = await this.dataSource.query(
      `INSERT INTO app_user (username, display_name, password_hash, role, department_code, jurisdiction, demo)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (username) DO NOTHING RETURNING id`,
      [username, u.displayName, await AuthService.hashSecret(u.password), u.role, u.departmentCode ?? null, jurisdiction, u.demo ?? false],
    );
    if (!row) throw new DomainError(ErrorCode.INVALID_STATE, `用户名 ${username} 已存在`, `Username ${username} already exists`, { field: 'username' });
    return row.id;
  }

  /** Creates a client and returns its secret (shown once; only its hash is kept). */
  async createClient(clientId: string, name: string, departmentCode: string, opts: { secret?: string; demo?: boolean } = {}): Promise<string> {
    if (!USERNAME.test(clientId)) throw DomainError.badInput('clientId', '客户端标识格式无效', 'The client id must be 3–64 lower-case letters, digits, . _ or -');
    const [dept] = await this.dataSource.query(`SELECT code FROM department WHERE code = $1`, [departmentCode]);
    if (!dept) throw DomainError.badInput('department', `部门 ${departmentCode} 不存在`, `Department ${departmentCode} does not exist`);
    const secret = opts.secret ?? randomSecret();
    const [row] = await this.dataSource.query(
      `INSERT INTO api_client (client_id, name, department_code, secret_hash, demo) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (client_id) DO NOTHING RETURNING id`,
      [clientId, name, departmentCode, await AuthService.hashSecret(secret), opts.demo ?? false],
    );
    if (!row) throw new DomainError(ErrorCode.INVALID_STATE, `客户端 ${clientId} 已存在`, `Client ${clientId} already exists`, { field: 'clientId' });
    return secret;
  }

  async unlockUser(username: string): Promise<void> {
    await this.dataSource.query(`UPDATE app_user SET failed_logins = 0, locked_until = NULL WHERE username = $1`, [username]);
  }

  async disableUser(username: string): Promise<void> {
    // UPDATE … RETURNING answers [rows, count] through TypeORM.
    const [rows]: [{ id: string }[]] = await this.dataSource.query(`UPDATE app_user SET disabled_at = now() WHERE username = $1 AND disabled_at IS NULL RETURNING id`, [username]);
    if (rows.length) await this.dataSource.query(`UPDATE auth_session SET revoked_at = now() WHERE principal_kind = 'USER' AND principal_id = $1 AND revoked_at IS NULL`, [rows[0].id]);
  }
}
