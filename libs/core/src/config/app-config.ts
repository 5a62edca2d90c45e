import { z } from 'zod';

/**
 * The one place where the environment is read. Every variable is validated at boot; a bad value stops the
 * process with a message naming the variable and the reason. Defaults work on a developer machine with
 * PostgreSQL and Redis on localhost.
 */
const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  /** API worker processes sharing PORT under a supervising primary (node:cluster); one per spare core. */
  API_PROCESSES: z.coerce.number().int().min(1).max(64).default(1),
  DATABASE_URL: z.string().url().default('postgres://postgres@localhost:5432/linli'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  REDIS_URL: z.string().url().default('redis://localhost:6379'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Largest page a list query may ask for. */
  MAX_PAGE_SIZE: z.coerce.number().int().min(1).max(1000).default(200),
  /** Directory where import reports are written. */
  IMPORT_REPORT_DIR: z.string().default('reports'),
  /** HMAC key of access tokens; required (32+ characters) in production. */
  AUTH_TOKEN_SECRET: z.string().min(32).optional(),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(900),
  REFRESH_TOKEN_TTL_SECONDS: z.coerce.number().int().min(300).max(7 * 86400).default(8 * 3600),
  /** Failed logins before an account is locked, and for how long. */
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(3).max(20).default(5),
  LOGIN_LOCKOUT_MINUTES: z.coerce.number().int().min(1).max(1440).default(15),
  /** How long audit records are kept; never below six months (Cybersecurity Law Art. 21). */
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(183, 'audit records must be kept at least 183 days (six months)').default(365),
  /** How long an audit row may wait for others to share its database call (group commit); 0 = at once. */
  AUDIT_FLUSH_DELAY_MS: z.coerce.number().int().min(0).max(50).default(5),
  /** GraphQL limits, checked before any resolver runs. */
  QUERY_MAX_DEPTH: z.coerce.number().int().min(3).max(30).default(10),
  QUERY_MAX_ALIASES: z.coerce.number().int().min(1).max(500).default(30),
  QUERY_MAX_COST: z.coerce.number().int().min(100).default(25000),
  /** Where the sync targets are declared (one YAML/JSON file per legacy system). */
  SYNC_TARGETS_DIR: z.string().default('deploy/targets'),
  /** How often the relay looks at the outbox when no notification arrives. */
  SYNC_RELAY_INTERVAL_MS: z.coerce.number().int().min(20).max(60_000).default(500),
  /** How often the reconciler re-enqueues records whose target is behind the register. */
  SYNC_RECONCILE_INTERVAL_MS: z.coerce.number().int().min(1000).default(60_000),
  /** Port of the worker's Prometheus metrics endpoint (0: off). */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** Query cost a principal may spend per minute. */
  QUERY_COST_PER_MINUTE: z.coerce.number().int().min(100).default(600000),
}).superRefine((v, ctx) => {
  if (v.NODE_ENV === 'production' && !v.AUTH_TOKEN_SECRET) {
    ctx.addIssue({ code: 'custom', path: ['AUTH_TOKEN_SECRET'], message: 'required in production (32+ random characters)' });
  }
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

  /** The development actor header is honoured by the test suite only; everyone else signs in. */
  get devActorAllowed(): boolean {
    return this.values.NODE_ENV === 'test';
  }

  /** The token key: configured, or in development and test a fixed key that production refuses. */
  get tokenSecret(): string {
    return this.values.AUTH_TOKEN_SECRET ?? 'linli-development-only-token-secret-not-for-production';
  }

  toLoggable(): Record<string, unknown> {
    const mask = (url: string) => url.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@');
    return {
      ...this.values, DATABASE_URL: mask(this.values.DATABASE_URL), REDIS_URL: mask(this.values.REDIS_URL),
      AUTH_TOKEN_SECRET: this.values.AUTH_TOKEN_SECRET ? '***' : undefined,
    };
  }
}
