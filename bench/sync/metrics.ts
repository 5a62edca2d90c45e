/**
 * BENCH ONLY: reads the worker's Prometheus endpoint (METRICS_PORT, /metrics) and works with its figures.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export type Scrape = Sample[];

export async function scrape(port: number): Promise<Scrape> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) throw new Error(`metrics endpoint answered HTTP ${res.status}`);
  return parseMetrics(await res.text());
}

export function parseMetrics(text: string): Scrape {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of a metric's samples matching the labels given. */
export function total(s: Scrape, name: string, labels: Record<string, string> = {}): number {
  return s.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v)).reduce((a, x) => a + x.value, 0);
}

/** Cumulative bucket counts (le → count) of one histogram for one target, as the difference between two scrapes. */
export function bucketsBetween(before: Scrape, after: Scrape, name: string, target: string | null): { le: number; count: number }[] {
  const pick = (s: Scrape) => {
    const m = new Map<number, number>();
    for (const x of s) {
      if (x.name !== `${name}_bucket` || (target !== null && x.labels['target'] !== target)) continue;
      const le = x.labels['le'] === '+Inf' ? Infinity : Number(x.labels['le']);
      m.set(le, (m.get(le) ?? 0) + x.value);
    }
    return m;
  };
  const a = pick(before);
  const b = pick(after);
  return [...b.entries()].map(([le, count]) => ({ le, count: count - (a.get(le) ?? 0) })).sort((x, y) => x.le - y.le);
}

/**
 * A percentile from cumulative buckets, interpolated linearly inside the bucket it falls in (what Prometheus'
 * histogram_quantile does). Coarse: the buckets are 10, 25, 50, 100, 250, 500 ms, 1, 2.5, 5 s, …
 */
export function histogramQuantile(buckets: { le: number; count: number }[], q: number): number | null {
  const totalCount = buckets.find((b) => b.le === Infinity)?.count ?? buckets.at(-1)?.count ?? 0;
  if (totalCount <= 0) return null;
  const rank = q * totalCount;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe;
      const inBucket = b.count - prevCount;
      return inBucket <= 0 ? b.le : prevLe + (b.le - prevLe) * ((rank - prevCount) / inBucket);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

/** Share of observations at or under `le` seconds. */
export function shareAtOrUnder(buckets: { le: number; count: number }[], le: number): number | null {
  const totalCount = buckets.find((b) => b.le === Infinity)?.count ?? 0;
  const at = buckets.find((b) => b.le === le)?.count;
  return totalCount > 0 && at !== undefined ? at / totalCount : null;
}
