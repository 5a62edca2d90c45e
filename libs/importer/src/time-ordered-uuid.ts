import { randomFillSync } from 'crypto';

/**
 * Time-ordered UUIDs (RFC 9562 version 7: 48-bit Unix milliseconds, then random bits) for the residents an import
 * creates. gen_random_uuid() scatters a million new keys over the whole of three B-trees (resident's primary key,
 * change_history_resident, outbox_event_aggregate): once a checkpoint passes, nearly every insert dirties a page not
 * yet written since, and each such page costs a full-page image in the WAL. Keys that grow with time are appended at
 * the right edge of those indexes instead, a few pages per batch. The ids stay unguessable (74 random bits) and are
 * UUIDs like any other; they only reveal the creation time, which `created_at` states anyway.
 *
 * Within one millisecond the 12-bit `rand_a` field counts up (RFC 9562 method 1), so ids of one process never go
 * backwards; several processes or writers interleave, which still keeps the indexes' inserts near the right edge.
 */
export class TimeOrderedUuids {
  private lastMs = 0;
  private counter = 0;
  private readonly pool = Buffer.alloc(16 * 256);
  private poolUsed = this.pool.length;

  next(): string {
    let ms = Date.now();
    if (ms <= this.lastMs) {
      ms = this.lastMs;
      this.counter += 1;
      if (this.counter > 0xfff) {
        // 4,096 ids in one millisecond: borrow the next millisecond rather than lose the order.
        ms += 1;
        this.counter = 0;
      }
    } else {
      this.counter = 0;
    }
    this.lastMs = ms;
    if (this.poolUsed === this.pool.length) {
      randomFillSync(this.pool);
      this.poolUsed = 0;
    }
    const b = this.pool.subarray(this.poolUsed, this.poolUsed + 16);
    this.poolUsed += 16;
    b.writeUIntBE(ms, 0, 6);
    b[6] = 0x70 | (this.counter >> 8);
    b[7] = this.counter & 0xff;
    b[8] = 0x80 | (b[8]! & 0x3f);
    const h = b.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
}
