/**
 * Gathers items that arrive at about the same time into batches, one queue of items per key (per target), and hands
 * each batch to `flush` once it holds `maxSize` items or the first item has waited `maxWaitMs`. Every caller gets
 * its own item's result (or error) back, so the caller keeps its own per-item semantics; a batch never mixes keys.
 *
 * Batches of one key may run at the same time (the caller bounds how many items are in flight, e.g. BullMQ's
 * concurrency): a slow batch does not stop the next one from filling and starting.
 */
export type BatchFlush<K, I, R> = (key: K, items: I[]) => Promise<Settled<R>[]>;

/** One item's result: the batch function settles every item on its own. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

interface Pending<I, R> {
  item: I;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

interface Forming<I, R> {
  items: Pending<I, R>[];
  timer: NodeJS.Timeout;
}

export class MicroBatcher<K, I, R> {
  private readonly forming = new Map<K, Forming<I, R>>();

  constructor(
    private readonly flush: BatchFlush<K, I, R>,
    private readonly limits: (key: K) => { maxSize: number; maxWaitMs: number },
  ) {}

  submit(key: K, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const { maxSize, maxWaitMs } = this.limits(key);
      let batch = this.forming.get(key);
      if (!batch) {
        batch = { items: [], timer: setTimeout(() => this.release(key), maxWaitMs) };
        this.forming.set(key, batch);
      }
      batch.items.push({ item, resolve, reject });
      if (batch.items.length >= Math.max(1, maxSize)) this.release(key);
    });
  }

  /** Starts the forming batch of `key` now. */
  private release(key: K): void {
    const batch = this.forming.get(key);
    if (!batch) return;
    this.forming.delete(key);
    clearTimeout(batch.timer);
    void this.run(key, batch.items);
  }

  private async run(key: K, pending: Pending<I, R>[]): Promise<void> {
    let results: Settled<R>[];
    try {
      results = await this.flush(key, pending.map((p) => p.item));
      if (results.length !== pending.length) throw new Error(`batch of ${pending.length} settled ${results.length} items`);
    } catch (error) {
      // The batch as a whole failed (e.g. the database went away): every item fails with that error.
      for (const p of pending) p.reject(error);
      return;
    }
    pending.forEach((p, i) => {
      const r = results[i]!;
      if (r.ok) p.resolve(r.value);
      else p.reject(r.error);
    });
  }
}
