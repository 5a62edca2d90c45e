/**
 * Coalesces reads of one kind made by different requests at about the same time into one statement. While
 * `maxInFlight` loads are running, further keys wait and go together in the next load, started as soon as one of
 * the running loads settles; an idle process loads every key at once, so a quiet API adds no latency. Under load the
 * batches grow by themselves: one round trip, one wake-up of a PostgreSQL backend and one statement for many keys,
 * which on a small machine costs far more than the index probes themselves.
 *
 * Only for reads whose SQL does not depend on who asks: each caller applies its own row scope to what it gets back.
 */
interface Waiter<V> {
  resolve: (value: V | undefined) => void;
  reject: (error: unknown) => void;
}

export class CoalescingLoader<K, V> {
  private readonly waiting = new Map<K, Waiter<V>[]>();
  private inFlight = 0;

  constructor(
    /** Loads a batch of distinct keys; a key missing from the map answers `undefined`. */
    private readonly load: (keys: K[]) => Promise<Map<K, V>>,
    private readonly maxInFlight = 2,
    private readonly maxBatch = 200,
  ) {}

  get(key: K): Promise<V | undefined> {
    return new Promise<V | undefined>((resolve, reject) => {
      const waiters = this.waiting.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.waiting.set(key, [{ resolve, reject }]);
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.size > 0) {
      const batch = new Map<K, Waiter<V>[]>();
      for (const [key, waiters] of this.waiting) {
        if (batch.size >= this.maxBatch) break;
        batch.set(key, waiters);
      }
      for (const key of batch.keys()) this.waiting.delete(key);
      this.inFlight++;
      this.load([...batch.keys()])
        .then(
          (found) => batch.forEach((waiters, key) => waiters.forEach((w) => w.resolve(found.get(key)))),
          (error: unknown) => batch.forEach((waiters) => waiters.forEach((w) => w.reject(error))),
        )
        .finally(() => {
          this.inFlight--;
          this.dispatch();
        });
    }
  }
}
