import Redis, { RedisOptions } from 'ioredis';

/** BullMQ wants its own connections, with no per-request retry limit on the blocking ones. */
export function bullConnection(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...extra });
}

/** The queue must never lose jobs to eviction: anything but `noeviction` is refused at start. */
export async function requireNoEviction(redis: Redis): Promise<void> {
  const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as [string, string];
  if (policy !== 'noeviction') {
    throw new Error(`Redis maxmemory-policy is "${policy}"; the sync queue needs "noeviction" (CONFIG SET maxmemory-policy noeviction) / Redis 淘汰策略须为 noeviction`);
  }
}
