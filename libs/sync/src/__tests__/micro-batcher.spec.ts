import { MicroBatcher, Settled } from '../micro-batcher';

describe('MicroBatcher', () => {
  const recorder = () => {
    const batches: { key: string; items: number[] }[] = [];
    const flush = async (key: string, items: number[]): Promise<Settled<string>[]> => {
      batches.push({ key, items });
      return items.map((i) => (i < 0 ? { ok: false, error: new Error(`bad ${i}`) } : { ok: true, value: `${key}:${i}` }));
    };
    return { batches, flush };
  };

  it('starts a batch as soon as it holds maxSize items, and keeps the keys apart', async () => {
    const r = recorder();
    const b = new MicroBatcher<string, number, string>(r.flush, () => ({ maxSize: 3, maxWaitMs: 10_000 }));
    const results = await Promise.all([b.submit('a', 1), b.submit('b', 7), b.submit('a', 2), b.submit('a', 3), b.submit('b', 8), b.submit('b', 9)]);
    expect(results).toEqual(['a:1', 'b:7', 'a:2', 'a:3', 'b:8', 'b:9']);
    expect(r.batches).toEqual([{ key: 'a', items: [1, 2, 3] }, { key: 'b', items: [7, 8, 9] }]);
  });

  it('starts a partial batch after maxWaitMs', async () => {
    const r = recorder();
    const b = new MicroBatcher<string, number, string>(r.flush, () => ({ maxSize: 100, maxWaitMs: 5 }));
    const started = Date.now();
    expect(await Promise.all([b.submit('a', 1), b.submit('a', 2)])).toEqual(['a:1', 'a:2']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4);
    expect(r.batches).toEqual([{ key: 'a', items: [1, 2] }]);
  });

  it('settles every item on its own: one failing item does not fail the others', async () => {
    const r = recorder();
    const b = new MicroBatcher<string, number, string>(r.flush, () => ({ maxSize: 3, maxWaitMs: 5 }));
    const settled = await Promise.allSettled([b.submit('a', 1), b.submit('a', -1), b.submit('a', 2)]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason.message).toBe('bad -1');
  });

  it('fails every item of a batch whose flush throws, and goes on with the next batch', async () => {
    let calls = 0;
    const b = new MicroBatcher<string, number, number>(async (_key, items) => {
      calls += 1;
      if (calls === 1) throw new Error('database gone');
      return items.map((i) => ({ ok: true, value: i * 2 }));
    }, () => ({ maxSize: 2, maxWaitMs: 5 }));
    const first = await Promise.allSettled([b.submit('a', 1), b.submit('a', 2)]);
    expect(first.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    expect(await Promise.all([b.submit('a', 3), b.submit('a', 4)])).toEqual([6, 8]);
  });

  it('lets a batch fill and start while an earlier batch of the same key is still running', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const running: number[][] = [];
    const b = new MicroBatcher<string, number, number>(async (_key, items) => {
      running.push(items);
      if (items[0] === 1) await gate;
      return items.map((i) => ({ ok: true, value: i }));
    }, () => ({ maxSize: 2, maxWaitMs: 5 }));
    const slow = Promise.all([b.submit('a', 1), b.submit('a', 2)]);
    expect(await Promise.all([b.submit('a', 3), b.submit('a', 4)])).toEqual([3, 4]);
    expect(running).toEqual([[1, 2], [3, 4]]);
    release();
    expect(await slow).toEqual([1, 2]);
  });
});
