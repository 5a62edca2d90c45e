/**
 * Writes batches on several database connections at once while the caller keeps reading, and reports them strictly
 * in submission (file) order. A batch sharing a key (an ID number) with an earlier batch still being written waits
 * for it, so the earlier row always wins. At most one batch per connection is held, plus the one being filled.
 * A failed batch stops the pipeline: the next submit (or finish) throws its error; batches already written are still
 * reported, so what was committed is also counted.
 */
export class BatchPipeline<Connection, Batch, Result> {
  private readonly idle: Connection[];
  private slots: { done: Promise<void>; connection: Connection; keys: ReadonlySet<string> }[] = [];
  private reported: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | null = null;

  constructor(
    connections: readonly Connection[],
    private readonly keysOf: (batch: Batch) => ReadonlySet<string>,
    private readonly write: (connection: Connection, batch: Batch) => Promise<Result>,
    private readonly report: (batch: Batch, result: Result) => Promise<void>,
  ) {
    if (connections.length === 0) throw new RangeError('BatchPipeline needs at least one connection');
    this.idle = [...connections];
  }

  /** Starts writing `batch` as soon as a connection is free; resolves once it has started, not once it is written. */
  async submit(batch: Batch): Promise<void> {
    this.throwIfFailed();
    const keys = this.keysOf(batch);
    for (const slot of [...this.slots]) {
      if ([...keys].some((k) => slot.keys.has(k))) await this.retire(slot);
    }
    while (this.idle.length === 0) await this.retire(this.slots[0]!);
    this.throwIfFailed();
    const connection = this.idle.pop()!;
    const previous = this.reported;
    const reportedHere = this.write(connection, batch).then(async (result) => {
      await previous;
      await this.report(batch, result);
    });
    this.reported = reportedHere.catch(() => undefined);
    const done = reportedHere.catch((error: unknown) => {
      this.failure ??= { error };
    });
    this.slots.push({ done, connection, keys });
  }

  /** Waits for every batch; throws the first failure. */
  async finish(): Promise<void> {
    await this.settle();
    this.throwIfFailed();
  }

  /** Waits for every batch without throwing (when the run is already failing for another reason). */
  async settle(): Promise<void> {
    while (this.slots.length) await this.retire(this.slots[0]!);
  }

  private async retire(slot: (typeof this.slots)[number]): Promise<void> {
    await slot.done;
    const i = this.slots.indexOf(slot);
    if (i >= 0) {
      this.slots.splice(i, 1);
      this.idle.push(slot.connection);
    }
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}
