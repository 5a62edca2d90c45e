import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AppConfig, ConfigModule, DatabaseModule, DomainError } from '@linli/core';
import { AccessModule, AuditService, AuthService, IdentitiesService, Role } from '@linli/access';

@Module({ imports: [ConfigModule, DatabaseModule, AccessModule] })
class AdminModule {}

const HELP = `npm run admin -- <command> [options]

  create-admin      --username U --password P [--name N]        the first administrator
  create-user       --username U --password P --role R [--department D] [--jurisdiction CODE,CODE] [--name N]
  create-department --code C --name-zh N --name-en N --line L --jurisdiction CODE[,CODE]
  create-client     --client-id ID --name N --department D       prints the secret once
  rotate-secret     --client-id ID [--overlap-minutes 60]        prints the new secret once
  unlock            --username U
  disable           --username U                                  also ends the user's sessions
  purge-audit                                                     deletes audit records older than AUDIT_RETENTION_DAYS
  demo-accounts                                                   one person per role and one client per department (not in production)

Roles: ${Object.values(Role).join(', ')}`;

function parse(argv: string[]): { command: string; opts: Record<string, string> } {
  const [command = 'help', ...rest] = argv;
  const opts: Record<string, string> = {};
  for (let i = 0; i < rest.length; i++) {
    if (!rest[i].startsWith('--')) throw new Error(`unexpected argument ${rest[i]}`);
    opts[rest[i].slice(2)] = rest[i + 1] ?? '';
    i++;
  }
  return { command, opts };
}

function need(opts: Record<string, string>, key: string): string {
  if (!opts[key]) throw new Error(`--${key} is required / 缺少参数 --${key}`);
  return opts[key];
}

export const DEMO_PASSWORD = 'Linli-demo-2026';
const DEMO_COMMUNITY = '330203004001';
const DEMO_TOWNSHIP = '330203004000';

async function demoAccounts(identities: IdentitiesService, ds: DataSource, config: AppConfig): Promise<string[]> {
  if (config.get('NODE_ENV') === 'production') throw new Error('demo accounts are refused in production / 生产环境不允许演示账号');
  const people: [string, string, Role, string | null, string[]][] = [
    ['worker.taiyang', '太阳社区社工 王芳', Role.COMMUNITY_WORKER, null, [DEMO_COMMUNITY]],
    ['street.yuehu', '月湖街道 李强', Role.STREET_STAFF, null, [DEMO_TOWNSHIP]],
    ['district.haishu', '海曙区 张敏', Role.DISTRICT_STAFF, null, ['330203000000']],
    ['civil.affairs', '民政局 陈静', Role.DEPARTMENT, 'CIVIL_AFFAIRS', []],
    ['admission.office', '准入办 刘洋', Role.ADMISSION_OFFICE, null, ['330203000000']],
    ['auditor', '审计员 赵磊', Role.AUDITOR, null, []],
    ['security.officer', '安全管理员 孙丽', Role.SECURITY_OFFICER, null, []],
    ['admin', '系统管理员 周杰', Role.ADMINISTRATOR, null, []],
  ];
  const lines = ['People (password for all: ' + DEMO_PASSWORD + '):'];
  for (const [username, name, role, department, jurisdiction] of people) {
    const exists = (await ds.query(`SELECT 1 FROM app_user WHERE username = $1`, [username])).length > 0;
    if (!exists) await identities.createUser({ username, displayName: name, password: DEMO_PASSWORD, role, departmentCode: department, jurisdiction, demo: true });
    lines.push(`  ${username.padEnd(18)} ${role.padEnd(18)} ${name}`);
  }
  lines.push('Department clients (client id / secret):');
  const departments: { code: string }[] = await ds.query(`SELECT code FROM department ORDER BY code`);
  for (const { code } of departments) {
    const clientId = `demo-${code.toLowerCase().replace(/_/g, '-')}`;
    const secret = `${clientId}-secret-2026`;
    const exists = (await ds.query(`SELECT 1 FROM api_client WHERE client_id = $1`, [clientId])).length > 0;
    if (!exists) await identities.createClient(clientId, `${code} demo client`, code, { secret, demo: true });
    lines.push(`  ${clientId.padEnd(30)} ${secret}`);
  }
  return lines;
}

async function main(): Promise<void> {
  const { command, opts } = parse(process.argv.slice(2));
  if (command === 'help' || command === '--help') {
    console.log(HELP);
    return;
  }
  const app = await NestFactory.createApplicationContext(AdminModule, { logger: ['error'] });
  try {
    const identities = app.get(IdentitiesService);
    const config = app.get(AppConfig);
    switch (command) {
      case 'create-admin':
        await identities.createUser({ username: need(opts, 'username'), password: need(opts, 'password'), displayName: opts.name ?? need(opts, 'username'), role: Role.ADMINISTRATOR });
        console.log(`administrator ${opts.username} created`);
        break;
      case 'create-user':
        await identities.createUser({
          username: need(opts, 'username'), password: need(opts, 'password'), displayName: opts.name ?? opts.username, role: need(opts, 'role') as Role,
          departmentCode: opts.department ?? null, jurisdiction: opts.jurisdiction ? opts.jurisdiction.split(',') : [],
        });
        console.log(`user ${opts.username} created`);
        break;
      case 'create-department':
        await app.get(DataSource).query(
          `INSERT INTO department (code, name_zh, name_en, line, jurisdiction) VALUES ($1, $2, $3, $4, $5)`,
          [need(opts, 'code'), need(opts, 'name-zh'), need(opts, 'name-en'), need(opts, 'line'), need(opts, 'jurisdiction').split(',')],
        );
        console.log(`department ${opts.code} created; give it a policy 'department:${opts.code}' in access_policy`);
        break;
      case 'create-client': {
        const secret = await identities.createClient(need(opts, 'client-id'), need(opts, 'name'), need(opts, 'department'));
        console.log(`client ${opts['client-id']} created. Secret (shown once, store it safely):\n${secret}`);
        break;
      }
      case 'rotate-secret': {
        const secret = await app.get(AuthService).rotateClientSecret(need(opts, 'client-id'), Number(opts['overlap-minutes'] ?? 60));
        console.log(`new secret for ${opts['client-id']} (shown once):\n${secret}`);
        break;
      }
      case 'unlock':
        await identities.unlockUser(need(opts, 'username'));
        console.log(`user ${opts.username} unlocked`);
        break;
      case 'disable':
        await identities.disableUser(need(opts, 'username'));
        console.log(`user ${opts.username} disabled`);
        break;
      case 'purge-audit':
        console.log(`purged ${await app.get(AuditService).purgeExpired()} audit records older than ${config.get('AUDIT_RETENTION_DAYS')} days`);
        break;
      case 'demo-accounts':
        console.log((await demoAccounts(identities, app.get(DataSource), config)).join('\n'));
        console.log(`\nSign in: mutation { login(username: "worker.taiyang", password: "${DEMO_PASSWORD}") { accessToken } }`);
        console.log('Then send  Authorization: Bearer <accessToken>  and  x-linli-purpose: RESIDENT_SERVICE  with each request.');
        break;
      default:
        throw new Error(`unknown command ${command}\n\n${HELP}`);
    }
  } finally {
    await app.close();
  }
}

main().catch((err) => {
  console.error(err instanceof DomainError ? `${err.message} (${err.field ?? ''})` : err instanceof Error ? err.message : err);
  process.exit(1);
});
