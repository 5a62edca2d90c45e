import { z } from 'zod';

/**
 * The one place where the environment is read. Every variable is validated at boot; a bad value stops the
 * process with a message naming the variable and the reason. Defaults work on a developer machine with
 * PostgreSQL and Redis on localhost.
 */
const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  DATABASE_URL: z.string().url().default('postgres://postgres@localhost:5432/linli'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  REDIS_URL: z.string().url().default('redis://localhost:6379'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Largest page a list query may ask for. */
  MAX_PAGE_SIZE: z.coerce.number().int().min(1).max(1000).default(200),
  /** Directory where import reports are written. */
  IMPORT_REPORT_DIR: z.string().default('reports'),
});

export type AppConfigValues = z.infer<typeof schema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration / 配置错误:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export function parseConfig(env: Record<string, string | undefined>): AppConfigValues {
  const picked: Record<string, string | undefined> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    picked[key] = value === '' ? undefined : value;
  }
  const result = schema.safeParse(picked);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  return result.data;
}

/** Typed, read-only access to the validated configuration. Secrets are masked when the config is logged. */
export class AppConfig {
  private constructor(private readonly values: AppConfigValues) {}

  static fromEnv(env: Record<string, string | undefined> = process.env): AppConfig {
    return new AppConfig(parseConfig(env));
  }

  static of(values: Partial<AppConfigValues>): AppConfig {
    return new AppConfig({ ...parseConfig({}), ...values });
  }

  get<K extends keyof AppConfigValues>(key: K): AppConfigValues[K] {
    return this.values[key];
  }

  /** The development actor header is honoured only outside production. */
  get devActorAllowed(): boolean {
    return this.values.NODE_ENV === 'development' || this.values.NODE_ENV === 'test';
  }

  toLoggable(): Record<string, unknown> {
    const mask = (url: string) => url.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@');
    return { ...this.values, DATABASE_URL: mask(this.values.DATABASE_URL), REDIS_URL: mask(this.values.REDIS_URL) };
  }
}
