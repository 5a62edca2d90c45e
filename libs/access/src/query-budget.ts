import { Inject, Injectable, OnApplicationShutdown, Optional } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig, createLogger, DomainError, ErrorCode, REDIS } from '@linli/core';

/** How often a process pushes its charges to Redis and learns what the other processes spent. */
const BUDGET_SYNC_MS = 100;
const WINDOW_MS = 60_000;
/** The Redis keys outlive their minute a little, so a late push still lands in the right window. */
const KEY_TTL_MS = 2 * WINDOW_MS;
const MAX_TRACKED = 50_000;
/** Optional provider of the clock (milliseconds), for tests that cross a minute. */
export const BUDGET_CLOCK = Symbol('BUDGET_CLOCK');

interface Account {
  window: number;
  /** Spent in this window by every process, as Redis last answered (includes what this process has pushed). */
  shared: number;
  /** Charged here and not yet pushed. */
  local: number;
}

/** Thrown by `charge` when a principal's query budget for the current minute is spent. */
export class BudgetExceededError extends DomainError {
  constructor(readonly retryAfterSeconds: number, readonly budgetPerMinute: number) {
    super(ErrorCode.RATE_LIMITED, `查询配额已用完，请 ${retryAfterSeconds} 秒后重试`, `Query budget exhausted; retry in ${retryAfterSeconds} s`, {
      details: { retryAfterSeconds, budgetPerMinute },
    });
  }
}

/**
 * The per-principal query budget (QUERY_COST_PER_MINUTE), shared by every API process through Redis.
 *
 * A request is charged synchronously against what this process knows: the principal's spend in the current minute
 * as Redis last reported it, plus what this process has charged since. Every 100 ms the process pushes its new
 * charges (`INCRBY` per principal and minute, one pipeline) and gets back the totals, which include the other
 * processes' spend. So the budget holds across processes with no Redis call on the request path; a principal can
 * overspend by at most what the other processes let through in one sync interval. Minutes are fixed windows
 * (`linli:query-budget:<minute>:<principal>`). When Redis is unreachable each process keeps enforcing the budget on
 * its own charges and pushes them once Redis is back.
 */
@Injectable()
export class QueryBudget implements OnApplicationShutdown {
  private readonly accounts = new Map<string, Account>();
  private readonly perMinute: number;
  private timer: NodeJS.Timeout | null = null;
  private syncing: Promise<void> | null = null;
  private redisFailing = false;
  private readonly logger;
  private readonly now: () => number;

  /** Without Redis (a command-line tool that never serves GraphQL) the budget is this process's own. */
  constructor(@Optional() @Inject(REDIS) private readonly redis: Redis | null, config: AppConfig, @Optional() @Inject(BUDGET_CLOCK) clock?: () => number) {
    this.now = clock ?? Date.now;
    this.perMinute = config.get('QUERY_COST_PER_MINUTE');
    this.logger = createLogger(config.get('LOG_LEVEL'), 'query-budget');
  }

  /** Charges `cost` to `principalId`, or throws BudgetExceededError (and charges nothing) when it would overspend. */
  charge(principalId: string, cost: number): void {
    const now = this.now();
    const window = Math.floor(now / WINDOW_MS);
    let account = this.accounts.get(principalId);
    if (!account || account.window !== window) {
      if (!account && this.accounts.size >= MAX_TRACKED) this.dropOldWindows(window);
      account = { window, shared: 0, local: 0 };
      this.accounts.set(principalId, account);
    }
    if (account.shared + account.local + cost > this.perMinute) {
      throw new BudgetExceededError(Math.max(1, Math.ceil(((window + 1) * WINDOW_MS - now) / 1000)), this.perMinute);
    }
    account.local += cost;
    this.timer ??= setTimeout(() => void this.sync(), BUDGET_SYNC_MS).unref();
  }

  /** Pushes the charges made here to Redis and takes in the totals; resolves when done (never rejects). */
  sync(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.syncing ??= this.push().finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sync();
  }

  private async push(): Promise<void> {
    const pushed: [string, Account, number][] = [];
    for (const [principalId, account] of this.accounts) if (account.local > 0) pushed.push([principalId, account, account.local]);
    if (pushed.length === 0 || !this.redis || this.redis.status === 'end') {
      for (const [, account, amount] of pushed) {
        account.local -= amount;
        account.shared += amount;
      }
      return;
    }
    const pipeline = this.redis.pipeline();
    for (const [principalId, account, amount] of pushed) {
      const key = `linli:query-budget:${account.window}:${principalId}`;
      pipeline.incrby(key, amount).pexpire(key, KEY_TTL_MS);
    }
    try {
      const results = (await pipeline.exec()) ?? [];
      pushed.forEach(([, account, amount], i) => {
        const [err, total] = results[2 * i] ?? [new Error('no reply'), null];
        if (err) return;
        account.local -= amount;
        account.shared = Math.max(account.shared, Number(total));
      });
      if (this.redisFailing) this.logger.info('query budget: Redis reachable again; budgets are shared across processes');
      this.redisFailing = false;
    } catch (err) {
      if (!this.redisFailing) this.logger.warn({ err: (err as Error).message }, 'query budget: Redis unreachable; each process enforces the budget on its own charges until it is back');
      this.redisFailing = true;
      this.timer ??= setTimeout(() => void this.sync(), 10 * BUDGET_SYNC_MS).unref();
    }
  }

  private dropOldWindows(window: number): void {
    for (const [id, a] of this.accounts) if (a.window !== window && a.local === 0) this.accounts.delete(id);
    if (this.accounts.size >= MAX_TRACKED) this.accounts.clear();
  }
}
