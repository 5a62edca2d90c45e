import { createHash } from 'node:crypto';

/**
 * Deterministic pseudo-random numbers for synthetic demo data (演示数据), never for secrets.
 *
 * Generator: SFC32 (small fast counter) with a 128-bit state, so streams seeded from different labels do not
 * overlap in practice. The state is derived from the SHA-256 of a seed label; the same label always yields the
 * same sequence on every platform (only 32-bit integer arithmetic is used).
 */
export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly label: string) {
    const digest = createHash('sha256').update(label, 'utf8').digest();
    this.a = digest.readUInt32LE(0);
    this.b = digest.readUInt32LE(4);
    this.c = digest.readUInt32LE(8);
    this.d = digest.readUInt32LE(12) | 1;
    // Discard the first outputs so that similar labels diverge fully.
    for (let i = 0; i < 16; i++) this.uint32();
  }

  /** An independent stream for a sub-task, e.g. `rng.fork('uuid')`. */
  fork(subLabel: string): SeededRandom {
    return new SeededRandom(`${this.label}/${subLabel}`);
  }

  /** Uniform integer in [0, 2^32). */
  uint32(): number {
    const t0 = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    const t = (t0 + this.d) | 0;
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Roughly normal (sum of three uniforms), clipped to [min, max]. */
  around(mean: number, spread: number, min: number, max: number): number {
    const z = (this.next() + this.next() + this.next() - 1.5) * 2; // -3..3, bell-shaped
    return Math.min(max, Math.max(min, Math.round(mean + z * spread)));
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }

  /** A random (version 4 layout) UUID drawn from this stream, so reruns produce the same keys. */
  uuid(): string {
    const hex = (n: number) => n.toString(16).padStart(8, '0');
    const w0 = hex(this.uint32());
    const w1 = hex(this.uint32());
    const w2 = hex(((this.uint32() & 0x3fffffff) | 0x80000000) >>> 0);
    const w3 = hex(this.uint32());
    return `${w0}-${w1.slice(0, 4)}-4${w1.slice(5, 8)}-${w2.slice(0, 4)}-${w2.slice(4)}${w3}`;
  }
}

/** Picks items by weight in O(log n); built once per list. */
export class WeightedTable<T> {
  private readonly items: T[] = [];
  private readonly cumulative: number[] = [];
  private readonly total: number;

  constructor(entries: ReadonlyArray<readonly [T, number]>) {
    let sum = 0;
    for (const [item, weight] of entries) {
      if (weight <= 0) continue;
      sum += weight;
      this.items.push(item);
      this.cumulative.push(sum);
    }
    if (sum <= 0) throw new RangeError('a weighted table needs at least one positive weight');
    this.total = sum;
  }

  pick(rng: SeededRandom): T {
    const x = rng.next() * this.total;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.cumulative[mid] as number) > x) hi = mid;
      else lo = mid + 1;
    }
    return this.items[lo] as T;
  }
}
