import { AppConfig, ConfigError, ErrorCode, parseConfig } from '..';
import { categoryOf } from '../errors/graphql-errors';

describe('configuration', () => {
  it('has working defaults for this machine', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({ NODE_ENV: 'development', PORT: 3000, DATABASE_URL: 'postgres://postgres@localhost:5432/linli', REDIS_URL: 'redis://localhost:6379' });
  });

  it('fails fast naming each bad variable', () => {
    let error: unknown;
    try {
      parseConfig({ PORT: 'eighty', NODE_ENV: 'prod', DATABASE_URL: 'not a url' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/PORT/);
    expect(message).toMatch(/NODE_ENV/);
    expect(message).toMatch(/DATABASE_URL/);
  });

  it('refuses production without a token secret, and audit retention under six months', () => {
    expect(() => parseConfig({ NODE_ENV: 'production' })).toThrow(/AUTH_TOKEN_SECRET/);
    expect(() => parseConfig({ AUDIT_RETENTION_DAYS: '90' })).toThrow(/AUDIT_RETENTION_DAYS/);
    expect(AppConfig.of({ NODE_ENV: 'production' }).devActorAllowed).toBe(false);
    expect(AppConfig.of({ NODE_ENV: 'development' }).devActorAllowed).toBe(false);
    expect(AppConfig.of({ NODE_ENV: 'test' }).devActorAllowed).toBe(true);
  });

  it('masks passwords when the configuration is logged', () => {
    const c = AppConfig.of({ DATABASE_URL: 'postgres://linli:s3cret@db:5432/linli' });
    expect(JSON.stringify(c.toLoggable())).not.toContain('s3cret');
  });
});

describe('error codes', () => {
  it('maps every code to a category', () => {
    for (const code of Object.values(ErrorCode)) expect(categoryOf(code)).toMatch(/^(input|conflict|not_found|auth|limit|internal)$/);
  });
});
