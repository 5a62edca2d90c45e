import { randomUUID } from 'crypto';
import Redis from 'ioredis';
import { AppConfig, ErrorCode } from '@linli/core';
import { BudgetExceededError, QueryBudget } from '../query-budget';

/** Against the real Redis: two QueryBudget instances stand for two API processes. */
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/7';

describe('QueryBudget: the per-principal query budget shared by API processes', () => {
  const config = AppConfig.of({ QUERY_COST_PER_MINUTE: 1000, LOG_LEVEL: 'silent' });
  const clients: Redis[] = [];
  const redis = () => {
    const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    clients.push(r);
    return r;
  };
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
  });

  /** A clock in the middle of a minute, so a test never straddles two windows by accident. */
  const midMinute = () => Math.floor(Date.now() / 60_000) * 60_000 + 30_000;

  it('holds across processes: what one process spent counts in the other once they have synced', async () => {
    const now = midMinute();
    const a = new QueryBudget(redis(), config, () => now);
    const b = new QueryBudget(redis(), config, () => now);
    const principal = `client:${randomUUID()}`;

    a.charge(principal, 600);
    await a.sync();
    b.charge(principal, 300);
    await b.sync(); // b now knows 900 have been spent
    let refused: unknown;
    try {
      b.charge(principal, 200);
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(BudgetExceededError);
    expect(refused).toMatchObject({ code: ErrorCode.RATE_LIMITED, retryAfterSeconds: 30, budgetPerMinute: 1000 });
    expect((refused as Error).message).toMatch(/配额.*Query budget exhausted/);

    // The refused charge cost nothing: 100 still fit.
    b.charge(principal, 100);
    await b.sync();
    const [key] = await clients[1].keys(`linli:query-budget:*:${principal}`);
    expect(Number(await clients[1].get(key))).toBe(1000);
    expect(await clients[1].pttl(key)).toBeGreaterThan(60_000);
    // Another principal has its own budget.
    expect(() => a.charge(`client:${randomUUID()}`, 1000)).not.toThrow();
  });

  it('starts every principal afresh in a new minute', async () => {
    let now = midMinute();
    const budget = new QueryBudget(redis(), config, () => now);
    const principal = `user:${randomUUID()}`;
    budget.charge(principal, 1000);
    expect(() => budget.charge(principal, 1)).toThrow(BudgetExceededError);
    await budget.sync();
    now += 60_000;
    expect(() => budget.charge(principal, 1000)).not.toThrow();
  });

  it('keeps enforcing the budget in each process while Redis is unreachable', async () => {
    const down = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, lazyConnect: true });
    clients.push(down);
    const budget = new QueryBudget(down, config, midMinute);
    const principal = `client:${randomUUID()}`;
    budget.charge(principal, 700);
    await expect(budget.sync()).resolves.toBeUndefined(); // the push fails; nothing is lost or thrown
    budget.charge(principal, 300);
    expect(() => budget.charge(principal, 1)).toThrow(BudgetExceededError);
  });
});
