import { AppConfig, ConfigError, contextFromHeaders, DomainError, ErrorCode, parseConfig } from '..';
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

  it('masks passwords when the configuration is logged', () => {
    const c = AppConfig.of({ DATABASE_URL: 'postgres://linli:s3cret@db:5432/linli' });
    expect(JSON.stringify(c.toLoggable())).not.toContain('s3cret');
  });
});

describe('request actor', () => {
  it('accepts the development actor only in development and test', () => {
    expect(contextFromHeaders({ 'x-linli-dev-actor': 'wang.fang' }, true).actor).toEqual({ id: 'dev:wang.fang', kind: 'DEVELOPMENT' });
    expect(() => contextFromHeaders({ 'x-linli-dev-actor': 'wang.fang' }, false)).toThrow(DomainError);
    expect(AppConfig.of({ NODE_ENV: 'production' }).devActorAllowed).toBe(false);
    expect(AppConfig.of({ NODE_ENV: 'test' }).devActorAllowed).toBe(true);
  });

  it('refuses a missing or malformed actor', () => {
    expect(() => contextFromHeaders({}, true)).toThrow(expect.objectContaining({ code: ErrorCode.UNAUTHENTICATED }));
    expect(() => contextFromHeaders({ 'x-linli-dev-actor': 'a b;drop' }, true)).toThrow(expect.objectContaining({ code: ErrorCode.UNAUTHENTICATED }));
  });

  it('keeps a well-formed request id and invents one otherwise', () => {
    expect(contextFromHeaders({ 'x-linli-dev-actor': 'a', 'x-request-id': 'req-1' }, true).requestId).toBe('req-1');
    expect(contextFromHeaders({ 'x-linli-dev-actor': 'a', 'x-request-id': 'bad id!' }, true).requestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('error codes', () => {
  it('maps every code to a category', () => {
    for (const code of Object.values(ErrorCode)) expect(categoryOf(code)).toMatch(/input|conflict|not_found|auth|internal/);
  });
});
